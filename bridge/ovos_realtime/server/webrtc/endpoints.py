"""HTTP side of the WebRTC door: `POST /v1/realtime/calls` (GA; `application/sdp` or multipart
with `sdp` and `session`), beta `POST /v1/realtime?model=…` (an SDP body), and
`POST /v1/realtime/calls/{call_id}/hangup`."""

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ovos_realtime.ids import new_id
from ovos_realtime.protocol.dialect import Dialect
from ovos_realtime.protocol.errors import ProtocolError
from ovos_realtime.server.deps import ServerDeps
from ovos_realtime.server.rest import openai_error
from ovos_realtime.server.webrtc.call import Call
from ovos_realtime.server.webrtc.ice import fix_host_addresses
from ovos_realtime.server.webrtc.sdp import read_offer

LOG = logging.getLogger(__name__)


def startup(deps: ServerDeps) -> None:
    fix_host_addresses(deps.settings.webrtc.host_addresses)


async def shutdown(deps: ServerDeps) -> None:
    for call in list(deps.calls.values()):
        await call.close("server stopping")


async def create_call(request: Request) -> Response:
    deps: ServerDeps = request.app.state.deps
    beta = request.url.path == "/v1/realtime" or "realtime=v1" in request.headers.get(
        "openai-beta", ""
    )
    if deps.assistant.voice is None:
        return openai_error(
            400,
            "WebRTC calls need audio engines, and this server runs without them (text only).",
            "audio_unavailable",
        )
    if (
        len(deps.calls) >= deps.settings.webrtc.max_calls
        or len(deps.sessions) >= deps.settings.server.max_sessions
    ):
        return openai_error(429, "Too many calls; retry later.", "session_limit")
    try:
        offer = await read_offer(request)
    except ProtocolError as error:
        return openai_error(400, error.message, error.code, error.param)
    except HTTPException as exc:  # a malformed multipart body
        return openai_error(400, f"The form cannot be read: {exc.detail}", "invalid_form")
    call = Call(deps, new_id("rtc"), Dialect.BETA if beta else Dialect.GA)
    try:
        await call.start(
            offer,
            secret=request.scope.get("state", {}).get("client_secret"),
            model=request.query_params.get("model"),
            query=request.query_params,
        )
    except ProtocolError as error:
        LOG.info("[%s] call refused: %s", call.id, error.message)
        await call.close("refused")
        return openai_error(400, error.message, error.code, error.param)
    except BaseException:
        LOG.exception("[%s] call failed to start", call.id)
        await call.close("failed to start")
        raise
    return Response(
        call.answer_sdp,
        status_code=201,
        media_type="application/sdp",
        headers={"Location": f"/v1/realtime/calls/{call.id}"},
    )


async def hangup(request: Request) -> Response:
    deps: ServerDeps = request.app.state.deps
    call_id = request.path_params["call_id"]
    call = deps.calls.get(call_id)
    if call is None:
        return openai_error(404, f"No call '{call_id[:64]}' is in progress.", "call_not_found")
    secret = request.scope.get("state", {}).get("client_secret")
    if secret is not None and (call.secret is None or secret.value != call.secret.value):
        # The API key may end any call; a client secret only the call it opened.
        LOG.warning("[%s] hangup refused: another client secret", call.id)
        return openai_error(
            403, "This call was opened with another client secret.", "call_not_yours"
        )
    await call.close("hangup")
    return Response(status_code=200)
