"""The one failure a request handler raises: the client gets an `error` event, the connection
stays open."""


class BadRequest(Exception):
    """A request this door refuses; `code` goes into the `error` event."""

    def __init__(self, text: str, code: str = "bad_request") -> None:
        super().__init__(text)
        self.code = code
