"""Wire codec: JSON text ⇄ validated events, in the client's dialect.

Decoding turns one client frame into a GA-shaped event dict or raises ProtocolError naming the
offending param and the client's event_id. Encoding turns a GA-shaped server event into the
dialect's JSON after validating it against the SDK's model for that event type.
"""

import json
import logging
from typing import Any

from openai.types.realtime.conversation_item import ConversationItem
from openai.types.realtime.response_item_reference import ResponseItemReference
from pydantic import TypeAdapter, ValidationError

from ovos_realtime.ids import new_id
from ovos_realtime.protocol.dialect import Dialect, client_event_from_beta, server_event_to_beta
from ovos_realtime.protocol.errors import ProtocolError
from ovos_realtime.protocol.schema import client_event_models, server_event_models

log = logging.getLogger(__name__)


class ServerEventInvalid(RuntimeError):
    """We built an event the SDK rejects: a bug on our side, never sent to the client."""


# GA `response.create` input may mix items and references to items (the SDK's own
# ResponseCreateEventWithReferencesParam); its event model only knows items.
_GA_INPUT_ITEM = TypeAdapter(ConversationItem | ResponseItemReference)


def _is_field_name(part: Any) -> bool:
    # Union errors put branch names (class names, tags like `function-after[...]`) in the path.
    return isinstance(part, str) and part[:1].islower() and "[" not in part and "-" not in part


def _param_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if _is_field_name(part) or isinstance(part, int))


def first_error(exc: ValidationError) -> tuple[str, str, str]:
    """(param, code, message) for the most useful error of a validation failure."""
    errors = exc.errors(include_url=False)
    # A union reports errors for every branch it tried; the branch with the fewest errors is the
    # one the client meant. Within it, a missing field is the clearest thing to report.
    by_branch: dict[tuple, list[dict]] = {}
    for err in errors:
        branch = tuple(
            part for part in err["loc"] if not _is_field_name(part) and not isinstance(part, int)
        )
        by_branch.setdefault(branch, []).append(err)
    best = min(by_branch.values(), key=len)
    err = min(best, key=lambda e: 0 if e["type"] == "missing" else 1)
    param = _param_path(err["loc"])
    if err["type"] == "missing":
        return param, "missing_required_parameter", f"Missing required parameter: '{param}'."
    value = err.get("input")
    shown = json.dumps(value)[:80] if not isinstance(value, dict | list) else type(value).__name__
    return param, "invalid_value", f"Invalid value for '{param}': {shown}. {err['msg']}."


class EventCodec:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._client_models = client_event_models(dialect)
        self._server_models = server_event_models(dialect)

    # ---- client → server ----

    def decode(self, raw: str | bytes) -> dict[str, Any]:
        try:
            event = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ProtocolError(
                f"The event is not valid JSON: {exc}",
                code="invalid_json",
                type="invalid_request_error",
            ) from None
        if not isinstance(event, dict):
            raise ProtocolError("An event must be a JSON object.", code="invalid_json")
        event_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
        kind = event.get("type")
        if not isinstance(kind, str):
            raise ProtocolError(
                "Missing required parameter: 'type'.",
                code="missing_required_parameter",
                param="type",
                event_id=event_id,
            )
        model = self._client_models.get(kind)
        if model is None:
            raise ProtocolError(
                f"Invalid value: '{kind[:80]}'. Supported values are: "
                + ", ".join(f"'{name}'" for name in sorted(self._client_models))
                + ".",
                code="invalid_value",
                param="type",
                event_id=event_id,
            )
        try:
            self._validate(model, event)
        except ValidationError as exc:
            param, code, message = first_error(exc)
            raise ProtocolError(message, code=code, param=param, event_id=event_id) from None
        return client_event_from_beta(event) if self.dialect is Dialect.BETA else event

    def _validate(self, model: Any, event: dict[str, Any]) -> None:
        response = event.get("response")
        if (
            self.dialect is Dialect.GA
            and event["type"] == "response.create"
            and isinstance(response, dict)
            and isinstance(response.get("input"), list)
        ):
            for index, item in enumerate(response["input"]):
                try:
                    _GA_INPUT_ITEM.validate_python(item)
                except ValidationError as exc:
                    param, code, message = first_error(exc)
                    prefix = f"response.input.{index}"
                    raise ProtocolError(
                        message.replace(f"'{param}'", f"'{prefix}.{param}'"),
                        code=code,
                        param=f"{prefix}.{param}",
                        event_id=event.get("event_id"),
                    ) from None
            event = {**event, "response": {k: v for k, v in response.items() if k != "input"}}
        model.model_validate(event)

    # ---- server → client ----

    def encode(self, event: dict[str, Any]) -> str | None:
        """JSON for the client, or None when the event has no equivalent in this dialect."""
        event = {"event_id": new_id("event"), **event}
        if self.dialect is Dialect.BETA:
            converted = server_event_to_beta(event)
            if converted is None:
                return None
            event = converted
        model = self._server_models.get(event["type"])
        if model is None:
            raise ServerEventInvalid(f"no SDK type for server event {event['type']!r}")
        try:
            model.model_validate(event)
        except ValidationError as exc:
            raise ServerEventInvalid(f"{event['type']}: {exc}") from exc
        return json.dumps(event, separators=(",", ":"))
