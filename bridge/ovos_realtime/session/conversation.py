"""The conversation: an ordered list of items, addressable by id."""

from typing import Any

from ovos_realtime.ids import new_id
from ovos_realtime.protocol.errors import ProtocolError


class Conversation:
    def __init__(self) -> None:
        self.id = new_id("conv")
        self._items: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[dict[str, Any]]:
        return list(self._items)

    def _index(self, item_id: str, param: str = "item_id") -> int:
        for index, item in enumerate(self._items):
            if item["id"] == item_id:
                return index
        raise ProtocolError(
            f"Item with item_id '{item_id}' not found in the conversation.",
            code="item_not_found",
            param=param,
        )

    def get(self, item_id: str, param: str = "item_id") -> dict[str, Any]:
        return self._items[self._index(item_id, param)]

    def last_id(self) -> str | None:
        return self._items[-1]["id"] if self._items else None

    def add(self, item: dict[str, Any], previous_item_id: str | None = None) -> str | None:
        """Insert `item` after `previous_item_id` (`root` = first; None = last).

        Returns the id of the item it now follows (None when first)."""
        if any(existing["id"] == item["id"] for existing in self._items):
            raise ProtocolError(
                f"Item with id '{item['id']}' already exists.",
                code="item_already_exists",
                param="item.id",
            )
        if previous_item_id is None:
            position = len(self._items)
        elif previous_item_id == "root":
            position = 0
        else:
            position = self._index(previous_item_id, "previous_item_id") + 1
        self._items.insert(position, item)
        return self._items[position - 1]["id"] if position > 0 else None

    def delete(self, item_id: str) -> None:
        del self._items[self._index(item_id)]

    def truncate(self, item_id: str, content_index: int, audio_end_ms: int) -> dict[str, Any]:
        """Cut an assistant audio item's transcript to what the user heard."""
        item = self.get(item_id)
        if item.get("type") != "message" or item.get("role") != "assistant":
            raise ProtocolError("Only assistant message items can be truncated.", param="item_id")
        content = item.get("content") or []
        if not 0 <= content_index < len(content):
            raise ProtocolError(
                f"content_index {content_index} is out of range.", param="content_index"
            )
        part = content[content_index]
        if part.get("type") != "output_audio":
            raise ProtocolError("Only audio content parts can be truncated.", param="content_index")
        duration_ms = part.get("_duration_ms", 0)
        if audio_end_ms < 0 or audio_end_ms > duration_ms:
            raise ProtocolError(
                f"audio_end_ms {audio_end_ms} is outside the item's audio (0..{duration_ms} ms).",
                param="audio_end_ms",
            )
        part["transcript"] = heard_text(part, audio_end_ms)
        part["_duration_ms"] = audio_end_ms
        part.pop("_text", None)  # the model's own text said more than was heard
        return item


def heard_text(part: dict[str, Any], audio_end_ms: int) -> str:
    """The transcript up to `audio_end_ms`, from the voice loop's record of how much transcript
    had gone out with the audio up to each point: `_word_times` = [(end_ms, transcript_chars)]."""
    cut = 0
    for end_ms, end_index in part.get("_word_times") or []:
        if end_ms <= audio_end_ms:
            cut = end_index
    return (part.get("transcript") or "")[:cut].rstrip()


def public_item(item: dict[str, Any]) -> dict[str, Any]:
    """An item as clients see it: without our bookkeeping keys (those start with `_`)."""
    out = {k: v for k, v in item.items() if not k.startswith("_")}
    if "content" in out:
        out["content"] = [
            {k: v for k, v in part.items() if not k.startswith("_")} for part in out["content"]
        ]
    return out
