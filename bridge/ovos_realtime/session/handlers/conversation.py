"""conversation.item.create / retrieve / delete / truncate"""

from typing import Any

from ovos_realtime.ids import new_id
from ovos_realtime.protocol.errors import ProtocolError
from ovos_realtime.session.conversation import public_item
from ovos_realtime.session.realtime_session import RealtimeSession
from ovos_realtime.session.router import EventRouter

router = EventRouter()


def new_item(item: dict[str, Any]) -> dict[str, Any]:
    """A client-supplied item as we store it: with an id, object and status."""
    kind = item.get("type")
    if kind == "function_call_output" and not item.get("call_id"):
        raise ProtocolError("Missing required parameter: 'item.call_id'.", param="item.call_id")
    if kind == "message" and not item.get("content"):
        raise ProtocolError("A message item needs content.", param="item.content")
    stored = {k: v for k, v in item.items() if v is not None}
    stored["id"] = item.get("id") or new_id("item")
    stored["object"] = "realtime.item"
    stored["status"] = "completed"
    return stored


@router.on("conversation.item.create")
async def item_create(session: RealtimeSession, event: dict[str, Any]) -> None:
    item = new_item(event["item"])
    previous = session.conversation.add(item, event.get("previous_item_id"))
    session.emit_item_added(item, previous)


@router.on("conversation.item.retrieve")
async def item_retrieve(session: RealtimeSession, event: dict[str, Any]) -> None:
    item = session.conversation.get(event["item_id"])
    session.emit({"type": "conversation.item.retrieved", "item": public_item(item)})


@router.on("conversation.item.delete")
async def item_delete(session: RealtimeSession, event: dict[str, Any]) -> None:
    session.conversation.delete(event["item_id"])
    session.emit({"type": "conversation.item.deleted", "item_id": event["item_id"]})


@router.on("conversation.item.truncate")
async def item_truncate(session: RealtimeSession, event: dict[str, Any]) -> None:
    session.conversation.truncate(event["item_id"], event["content_index"], event["audio_end_ms"])
    session.emit(
        {
            "type": "conversation.item.truncated",
            "item_id": event["item_id"],
            "content_index": event["content_index"],
            "audio_end_ms": event["audio_end_ms"],
        }
    )
