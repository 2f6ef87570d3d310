"""Client event handlers, one module per event family (the spec's table of contents)."""

from ovos_realtime.session.handlers import conversation, input_audio, response, session
from ovos_realtime.session.router import EventRouter

router = EventRouter()
for family in (session, conversation, response, input_audio):
    router.include(family.router)
