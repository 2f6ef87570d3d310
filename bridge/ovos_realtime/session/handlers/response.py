"""response.create / response.cancel"""

from typing import Any

from ovos_realtime.protocol.errors import ProtocolError
from ovos_realtime.session.realtime_session import RealtimeSession
from ovos_realtime.session.router import EventRouter

router = EventRouter()


@router.on("response.create")
async def response_create(session: RealtimeSession, event: dict[str, Any]) -> None:
    await session.start_response(event.get("response"))


@router.on("response.cancel")
async def response_cancel(session: RealtimeSession, event: dict[str, Any]) -> None:
    if not await session.cancel_response(event.get("response_id"), reason="client_cancelled"):
        raise ProtocolError(
            "Cancellation failed: no active response found.",
            code="response_cancel_not_active",
            param="response_id" if event.get("response_id") else None,
        )
