"""The SDP offer as it comes over HTTP: `application/sdp`, or multipart with `sdp` and a
`session` (JSON). Checked before aiortc sees it, so that junk gets a clear 400."""

import json
import re
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from ovos_realtime.protocol.client_secrets import parse_call_session
from ovos_realtime.protocol.errors import ProtocolError

MAX_SDP_BYTES = 64 * 1024
MAX_SESSION_BYTES = 256 * 1024
_MAX_MESSAGE_SIZE = re.compile(r"^a=max-message-size:\d+$", re.MULTILINE)


@dataclass(frozen=True)
class Offer:
    sdp: str
    session: dict[str, Any] | None  # a GA session update from the multipart form


def check_sdp(sdp: str) -> str:
    sdp = sdp.strip().replace("\r\n", "\n").replace("\n", "\r\n") + "\r\n"
    if len(sdp) > MAX_SDP_BYTES:
        raise ProtocolError(f"The SDP offer is over {MAX_SDP_BYTES} bytes.", param="sdp")
    if not sdp.startswith("v=0\r\n"):
        raise ProtocolError("The body is not an SDP offer (it must start with 'v=0').", param="sdp")
    if "\r\nm=audio " not in sdp:
        raise ProtocolError(
            "The SDP offer has no audio (m=audio) section: a call needs the microphone track.",
            code="sdp_no_audio",
            param="sdp",
        )
    return sdp


async def _text(value: str | UploadFile | None, limit: int, param: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    data = await value.read(limit + 1)
    if len(data) > limit:
        raise ProtocolError(f"'{param}' is over {limit} bytes.", param=param)
    return data.decode("utf-8", errors="replace")


async def read_offer(request: Request) -> Offer:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        async with request.form(max_files=2, max_fields=4, max_part_size=MAX_SESSION_BYTES) as form:
            sdp = await _text(form.get("sdp"), MAX_SDP_BYTES, "sdp")
            session_text = await _text(form.get("session"), MAX_SESSION_BYTES, "session")
        if sdp is None:
            raise ProtocolError("Missing required parameter: 'sdp'.", param="sdp")
        session = None
        if session_text:
            try:
                session = parse_call_session(json.loads(session_text))
            except ValueError as exc:
                raise ProtocolError(
                    f"'session' is not valid JSON: {exc}", code="invalid_json", param="session"
                ) from None
        return Offer(check_sdp(sdp), session)
    if content_type not in ("application/sdp", "text/plain", ""):
        raise ProtocolError(
            f"Unsupported content type '{content_type[:60]}': send the offer as "
            "application/sdp, or multipart/form-data with 'sdp' and 'session'.",
            code="unsupported_content_type",
        )
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_SDP_BYTES:
            raise ProtocolError(f"The SDP offer is over {MAX_SDP_BYTES} bytes.", param="sdp")
    return Offer(check_sdp(body.decode("utf-8", errors="replace")), None)


def with_max_message_size(sdp: str, size: int) -> str:
    """The answer, telling the peer the data-channel message size we accept (aiortc states its
    own constant, which it does not enforce on what it receives)."""
    return _MAX_MESSAGE_SIZE.sub(f"a=max-message-size:{size}", sdp.replace("\r\n", "\n")).replace(
        "\n", "\r\n"
    )
