"""session.update"""

from typing import Any

from ovos_realtime.session.realtime_session import RealtimeSession
from ovos_realtime.session.router import EventRouter

router = EventRouter()


@router.on("session.update")
async def session_update(session: RealtimeSession, event: dict[str, Any]) -> None:
    session.configure(event["session"])
    session.emit({"type": "session.updated", "session": session.public_config()})
