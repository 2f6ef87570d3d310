"""ovos-skill-realtime-tools: timers and the device's time and date, for people and for agents.

Every feature is both an intent (for spoken requests through the OVOS pipeline) and a
`@skill_api_method` (for the ovos-realtime bridge, which offers skill APIs to its LLM as tools).
The API docstrings follow the Google style (`Args:` with types): the bridge builds each tool's
JSON schema from them.
"""

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ovos_bus_client.message import Message, dig_for_message
from ovos_utils import classproperty
from ovos_utils.process_utils import RuntimeRequirements
from ovos_workshop.decorators import intent_handler, skill_api_method
from ovos_workshop.skills import OVOSSkill

from ovos_skill_realtime_tools.durations import describe_duration, parse_duration

SKILL_ID = "ovos-skill-realtime-tools.openvoiceos"
# Bus events this skill emits about timers (data: name, duration_seconds, remaining_seconds).
TIMER_STARTED = f"{SKILL_ID}.timer.started"
TIMER_CANCELLED = f"{SKILL_ID}.timer.cancelled"
TIMER_EXPIRED = f"{SKILL_ID}.timer.expired"


@dataclass
class Timer:
    name: str
    duration_s: int
    ends_at: float
    origin: Message  # the request that started it: expiry is told to the same session
    thread: threading.Timer | None = field(default=None, repr=False)

    def remaining_s(self) -> int:
        return max(0, int(round(self.ends_at - time.monotonic())))

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "duration_seconds": self.duration_s,
            "remaining_seconds": self.remaining_s(),
        }


class RealtimeToolsSkill(OVOSSkill):
    """Timers and the device's clock, as intents and as skill API methods."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.timers: dict[str, Timer] = {}
        self._lock = threading.Lock()
        super().__init__(*args, **kwargs)

    @classproperty
    def runtime_requirements(self) -> RuntimeRequirements:
        # Fully offline: load at boot without waiting for network or internet.
        return RuntimeRequirements(
            internet_before_load=False,
            network_before_load=False,
            requires_internet=False,
            requires_network=False,
            no_internet_fallback=True,
            no_network_fallback=True,
        )

    # ---- skill API: what an agent calls ----

    @skill_api_method
    def get_time(self) -> str:
        """The device's local time now, as HH:MM (24-hour clock) with the timezone."""
        now = datetime.now().astimezone()
        return f"{now:%H:%M} {now.tzname()}"

    @skill_api_method
    def get_date(self) -> str:
        """Today's date on the device, e.g. 'Monday, 5 May 2025'."""
        now = datetime.now().astimezone()
        return f"{now:%A}, {now.day} {now:%B %Y}"

    @skill_api_method
    def start_timer(self, duration_seconds: int, name: str = "") -> str:
        """Start a countdown timer; the device announces when it is done.

        Args:
            duration_seconds (int): How long the timer runs, in seconds (1 to 86400).
            name (str, optional): A name, to tell several timers apart (e.g. "pasta").
        """
        timer = self._start(int(duration_seconds), name, dig_for_message())
        return f"Timer '{timer.name}' started for {describe_duration(timer.duration_s)}."

    @skill_api_method
    def cancel_timer(self, name: str = "") -> str:
        """Cancel a running timer.

        Args:
            name (str, optional): The timer's name; none cancels every running timer.
        """
        cancelled = self._cancel(name)
        if not cancelled:
            return "There is no such timer running."
        return f"Cancelled {len(cancelled)} timer(s): " + ", ".join(t.name for t in cancelled)

    @skill_api_method
    def list_timers(self) -> list[dict[str, Any]]:
        """The running timers, each with name, duration_seconds and remaining_seconds."""
        with self._lock:
            return [timer.describe() for timer in self.timers.values()]

    # ---- intents: what a person says ----

    @intent_handler("time.now.intent")
    def handle_time(self, message: Message) -> None:
        self.speak_dialog("time.now", {"time": datetime.now().astimezone().strftime("%H:%M")})

    @intent_handler("date.today.intent")
    def handle_date(self, message: Message) -> None:
        self.speak_dialog("date.today", {"date": self.get_date()})

    @intent_handler("timer.start.intent")
    def handle_start_timer(self, message: Message) -> None:
        seconds = parse_duration(message.data.get("duration") or message.data.get("utterance", ""))
        if not seconds:
            self.speak_dialog("timer.no.duration")
            return
        self._start_and_confirm(seconds, message.data.get("name") or "", message)

    @intent_handler("timer.start.ask.intent")
    def handle_start_timer_ask(self, message: Message) -> None:
        # get_response speaks with expect_response=True: the next utterance comes back here.
        answer = self.get_response("timer.ask.duration", num_retries=0)
        seconds = parse_duration(answer or "")
        if not seconds:
            self.speak_dialog("timer.no.duration")
            return
        self._start_and_confirm(seconds, "", message)

    @intent_handler("timer.cancel.intent")
    def handle_cancel_timer(self, message: Message) -> None:
        if not self._cancel(message.data.get("name") or ""):
            self.speak_dialog("timer.none")
        else:
            self.speak_dialog("timer.cancelled")

    @intent_handler("timer.list.intent")
    def handle_list_timers(self, message: Message) -> None:
        timers = self.list_timers()
        if not timers:
            self.speak_dialog("timer.none")
            return
        listed = ", ".join(
            f"{t['name']} with {describe_duration(t['remaining_seconds'])} left" for t in timers
        )
        self.speak_dialog("timer.list", {"count": len(timers), "timers": listed})

    # ---- timers ----

    def _start_and_confirm(self, seconds: int, name: str, message: Message) -> None:
        timer = self._start(seconds, name, message)
        data = {"duration": describe_duration(timer.duration_s), "name": timer.name}
        self.speak_dialog("timer.started.named" if name else "timer.started", data)

    def _start(self, seconds: int, name: str, origin: Message | None) -> Timer:
        if not 1 <= seconds <= 86400:
            raise ValueError("duration_seconds must be between 1 and 86400")
        origin = origin or Message("", context={"skill_id": self.skill_id})
        with self._lock:
            name = name.strip() or self._free_name()
            old = self.timers.pop(name, None)
            if old and old.thread:
                old.thread.cancel()
            timer = Timer(name, seconds, time.monotonic() + seconds, origin)
            timer.thread = threading.Timer(seconds, self._expire, args=(timer,))
            timer.thread.daemon = True
            self.timers[name] = timer
            timer.thread.start()
        self.bus.emit(origin.forward(TIMER_STARTED, timer.describe()))
        return timer

    def _free_name(self) -> str:
        number = 1
        while f"timer {number}" in self.timers:
            number += 1
        return f"timer {number}"

    def _cancel(self, name: str) -> list[Timer]:
        with self._lock:
            names = (
                [name] if name and name in self.timers else list(self.timers) if not name else []
            )
            cancelled = [self.timers.pop(n) for n in names]
        for timer in cancelled:
            if timer.thread:
                timer.thread.cancel()
            self.bus.emit(timer.origin.forward(TIMER_CANCELLED, timer.describe()))
        return cancelled

    def _expire(self, timer: Timer) -> None:
        with self._lock:
            if self.timers.get(timer.name) is not timer:
                return  # cancelled or replaced meanwhile
            del self.timers[timer.name]
        self.bus.emit(timer.origin.forward(TIMER_EXPIRED, timer.describe()))
        # Told to the session that started the timer, like any answer of this skill.
        dialog = "timer.expired.named" if not timer.name.startswith("timer ") else "timer.expired"
        data = {"name": timer.name, "duration": describe_duration(timer.duration_s)}
        utterance = self.dialog_renderer.render(dialog, data) if self.dialog_renderer else ""
        speak = timer.origin.forward(
            "speak", {"utterance": utterance, "expect_response": False, "lang": self.lang}
        )
        speak.context["skill_id"] = self.skill_id
        self.bus.emit(speak)

    def shutdown(self) -> None:
        with self._lock:
            for timer in self.timers.values():
                if timer.thread:
                    timer.thread.cancel()
            self.timers.clear()
