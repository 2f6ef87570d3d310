"""Holding back what a speculative response does until it is known to be wanted.

A response started during the silence window (the user may not be done) runs as usual, but
everything others could see — events, changes to the conversation, observer hooks — waits in
the gate. `release()` lets it all out in order and opens the gate; `discard()` drops it
without a trace. A response that is not speculative gets an open gate.
"""

import asyncio
from collections.abc import Callable


class SpeculationGate:
    def __init__(self, holding: bool = False) -> None:
        self._held: list[Callable[[], None]] | None = [] if holding else None
        self.released = asyncio.Event()  # set once nothing is held back any more
        if not holding:
            self.released.set()

    @property
    def holding(self) -> bool:
        return self._held is not None

    def run(self, action: Callable[[], None]) -> None:
        """Do what others can see now, or, while holding, when released."""
        if self._held is not None:
            self._held.append(action)
        else:
            action()

    def release(self) -> None:
        held, self._held = self._held or [], None
        for action in held:
            action()
        self.released.set()

    def discard(self) -> None:
        """Forget what was held; the gate stays shut for good."""
        self._held = []
