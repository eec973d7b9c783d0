"""Type-ahead: every key goes to the screen and widget that the keys before it left focused.

Why this exists. Textual's ``App.on_event`` routes a key the moment it takes it from its queue:
priority bindings, then ``_forward_event`` to *whatever is focused now*. The binding that key
triggers (``/`` -> open the search prompt, ``k`` -> push the signal picker) runs only later,
when the key has travelled through the focused widget's own message queue and bubbled back up
to the app (``App._on_key``), and its effect later still: ``Widget.focus()`` is itself a
``call_later`` on the app, and a pushed screen composes, mounts and takes focus in its own
task. Keys that arrive in one read from the terminal (a paste, a slow ssh link, htop habit
``F9 9 Enter``) are all routed before any of that has happened, so they land on the screen
*underneath*: ``/ k Enter`` ran ``k`` (kill picker) and Enter (send SIGTERM) on the table.

The fix, in one place for every opener. :class:`TypeaheadApp` holds keys (and pastes) in a
FIFO while the previous one is *in flight*, and routes the next one only once the previous
one has *settled*:

1. its trip is over: a barrier (``call_later``) is passed along the path the key bubbles, from
   the widget it was forwarded to up to the app, each posted once the node before has handled
   the key, so it runs after the node has handled (or stopped) it and after any binding action;
2. its effects have landed: rounds of barriers on the app, the current screen (which runs only
   after a newly pushed screen has composed and mounted) and the focused widget, repeated until
   one round changes neither the screen nor the focus (a ``focus()`` call, a screen pushed or
   dismissed, a dialog opened from another's result callback).

So a screen, prompt or dialog opened by a key receives the keys typed after it, however fast
they arrive, with no per-opener code: new screens get it for free. A key is held at most
:data:`SETTLE_TIMEOUT` (a safety valve against a widget that never answers, counted in
``keys_overdue``): nothing is ever dropped or stuck. Settling takes a few milliseconds for
an ordinary key; a key that opens a screen is held as long as the screen takes to mount.
Mouse events are not held (they carry their own position).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from textual import events
from textual.app import App
from textual.message_pump import MessagePump

#: the longest a key is held back waiting for the one before it to settle (seconds)
SETTLE_TIMEOUT = 10.0
#: barrier rounds looking for a stable screen and focus before giving up waiting
SETTLE_ROUNDS = 20

HeldEvent = events.Key | events.Paste


class TypeaheadApp(App[Any]):
    """An ``App`` that routes each key only after the previous key has settled (module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held: deque[HeldEvent] = deque()
        self._in_flight = False
        self._settler: asyncio.Task[None] | None = None
        #: keys routed before the one ahead of them settled (SETTLE_TIMEOUT): should stay 0
        self.keys_overdue = 0

    @property
    def keys_held(self) -> int:
        """Keys (and pastes) waiting for the one before them to settle."""
        return len(self._held)

    async def on_event(self, event: events.Event) -> None:
        """Hold a key or paste from the terminal while another is in flight."""
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            if self._in_flight or self._held:
                self._held.append(event)
                return
            await self._route(event)
            return
        await super().on_event(event)

    async def _route(self, event: HeldEvent) -> None:
        """Textual's routing of ``event`` (priority bindings, then the focused widget), then
        hold everything after it until it has settled."""
        self._in_flight = True
        try:
            target: MessagePump = self.focused or self.screen
        except Exception:  # no screen yet / any more: nothing to wait for
            target = self
        try:
            await super().on_event(event)
        finally:
            self._settler = asyncio.create_task(self._settle(target))

    async def _settle(self, target: MessagePump) -> None:
        """Wait (bounded) until the routed key has settled, then route the next held one."""
        try:
            await asyncio.wait_for(self._settled(target), SETTLE_TIMEOUT)
        except Exception:  # route the next key anyway: late beats never
            self.keys_overdue += 1
        finally:
            self._in_flight = False
            self._settler = None
            if self._held and self.is_running:
                self.call_later(self._route_next)
            else:
                self._held.clear()

    async def _route_next(self) -> None:
        """Route the oldest held key, on the app's own loop (where bindings run)."""
        if self._held and not self._in_flight:
            await self._route(self._held.popleft())

    async def _settled(self, target: MessagePump) -> None:
        # 1. the key's trip: target -> its ancestors -> screen -> app, each after the one before
        node: MessagePump | None = target
        while node is not None:
            await _barrier(node)
            node = node._parent
        # 2. its effects: focus() calls, screens pushed (mounted only then) or dismissed. The
        # app comes last: a screen's mount and a focused widget post their focus() there.
        for _ in range(SETTLE_ROUNDS):
            screen, focused = self.screen, self.focused
            await _barrier(screen)
            if focused is not None:
                await _barrier(focused)
            await _barrier(self)
            if self.screen is screen and self.focused is focused:
                return


async def _barrier(pump: MessagePump) -> None:
    """Return once ``pump`` has handled every message posted to it before this call."""
    done = asyncio.get_running_loop().create_future()

    def passed() -> None:
        if not done.done():
            done.set_result(None)

    if not pump.call_later(passed):
        return  # closed: it will handle nothing more
    while not done.done():
        # a pump closed with the barrier still queued (a dismissed screen) never runs it
        await asyncio.wait([done], timeout=0.05)
        if pump._closing or pump._closed:
            return
