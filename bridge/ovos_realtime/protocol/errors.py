"""Protocol errors: turned into an `error` server event, never into a dead session."""

from typing import Any


class ProtocolError(Exception):
    """A client event that cannot be honoured.

    `param` names the offending field (dotted path, as OpenAI does); `event_id` is the client's
    event_id so the client can match the error to what it sent.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid_value",
        param: str | None = None,
        event_id: str | None = None,
        type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.param = param
        self.event_id = event_id
        self.type = type

    def to_event(self) -> dict[str, Any]:
        return {
            "type": "error",
            "error": {
                "type": self.type,
                "code": self.code,
                "message": self.message,
                "param": self.param,
                "event_id": self.event_id,
            },
        }
