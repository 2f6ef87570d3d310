"""Opening a Realtime session for a door: the persona's assistant session, the defaults, and the
config a client secret was minted with. Shared by the WebSocket and WebRTC doors."""

from collections.abc import Mapping

from ovos_realtime.ids import new_id
from ovos_realtime.server.client_secrets import ClientSecret
from ovos_realtime.server.deps import ServerDeps
from ovos_realtime.session.realtime_session import Emit, RealtimeSession
from ovos_realtime.session.settings import SessionDefaults


async def open_session(
    deps: ServerDeps,
    *,
    model: str | None,
    query: Mapping[str, str],
    emit: Emit,
    secret: ClientSecret | None = None,
    session_id: str | None = None,
) -> RealtimeSession:
    """A new session, not yet announced (call `.open()` to send session.created). A client
    secret's session config applies first; `?intent=transcription` makes a transcription
    session, as on OpenAI. ProtocolError when that config cannot apply here."""
    minted = dict(secret.session) if secret is not None else {}
    model = model or minted.get("model")
    session_id = session_id or new_id("sess")
    # The persona, its brain and tools, and the extensions' parts (e.g. the OVOS bus).
    assistant = deps.assistant.open(session_id, model, query)
    session = RealtimeSession(
        session_id=session_id,
        assistant=assistant,
        defaults=SessionDefaults.for_conversation(assistant, deps.settings, model),
        emit=emit,
    )
    try:
        if query.get("intent") == "transcription" and minted.get("type") != "realtime":
            minted.setdefault("type", "transcription")
        minted.pop("model", None)  # named the persona above; the session reports it
        if minted:
            session.configure(minted)
    except Exception:
        await session.close()
        raise
    return session
