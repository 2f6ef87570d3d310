"""Identifiers shaped like OpenAI's (`event_…`, `item_…`, `resp_…`)."""

import secrets


def new_id(prefix: str) -> str:
    # 20 hex chars: unique enough for one server, short enough to read in logs.
    return f"{prefix}_{secrets.token_hex(10)}"
