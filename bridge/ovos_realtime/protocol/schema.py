"""The openai SDK's pydantic event models, indexed by event type, per dialect.

Every server event we send is validated against its SDK model, and every client event we accept
is parsed with its SDK model: protocol types are never hand-written here.
"""

import functools
import typing
from typing import Any

from openai.types.beta.realtime.realtime_client_event import (
    RealtimeClientEvent as BetaClientEvent,
)
from openai.types.beta.realtime.realtime_server_event import (
    RealtimeServerEvent as BetaServerEvent,
)
from openai.types.realtime.realtime_client_event import RealtimeClientEvent as GAClientEvent
from openai.types.realtime.realtime_server_event import RealtimeServerEvent as GAServerEvent
from pydantic import BaseModel

from ovos_realtime.protocol.dialect import Dialect


def _union_members(union: Any) -> list[type[BaseModel]]:
    # Both unions are Annotated[Union[...], PropertyInfo(discriminator="type")].
    inner = typing.get_args(union)[0] if typing.get_origin(union) is typing.Annotated else union
    return list(typing.get_args(inner))


def _by_type(union: Any) -> dict[str, type[BaseModel]]:
    models: dict[str, type[BaseModel]] = {}
    for model in _union_members(union):
        for name in typing.get_args(model.model_fields["type"].annotation):
            models[name] = model
    return models


@functools.cache
def server_event_models(dialect: Dialect) -> dict[str, type[BaseModel]]:
    return _by_type(GAServerEvent if dialect is Dialect.GA else BetaServerEvent)


@functools.cache
def client_event_models(dialect: Dialect) -> dict[str, type[BaseModel]]:
    return _by_type(GAClientEvent if dialect is Dialect.GA else BetaClientEvent)
