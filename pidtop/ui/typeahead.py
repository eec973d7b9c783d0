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

The fix, in one place for every opener. :class:`TypeaheadApp` decides, as it routes a key,
whether that key *may* open a screen, a prompt or a dialog, or move the focus
(:meth:`TypeaheadApp.key_may_move`): any key while a pushed screen or a text input has the
focus (Enter and Esc there dismiss), and on the table a key bound to an action not known to
stay put (the app says which, :meth:`TypeaheadApp.action_stays_put`). Such a key is *in
flight*: the keys (and pastes) after it wait in a FIFO until it has *settled*:

1. its trip is over: a barrier (``call_later``) is passed along the path the key bubbles, from
   the widget it was forwarded to up to the app, each posted once the node before has handled
   the key, so it runs after the node has handled (or stopped) it and after any binding action;
2. its effects have landed: rounds of barriers on the app, the current screen (which runs only
   after a newly pushed screen has composed and mounted) and the focused widget, repeated until
   one round changes neither the screen nor the focus (a ``focus()`` call, a screen pushed or
   dismissed, a dialog opened from another's result callback).

Every other key (Down, ``P``, Space...) is routed at once and pays nothing: a burst of 40
Down keys goes as fast as without the queue. So a screen, prompt or dialog opened by a key
receives the keys typed after it, however fast they arrive, with no per-opener code: new
screens get it for free. A key is held at most :data:`SETTLE_TIMEOUT` (a safety valve
against a widget that never answers, counted in ``keys_overdue``): nothing is ever dropped
or stuck. Mouse events are not held (they carry their own position).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.message_pump import MessagePump
from textual.widgets import Input

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
        #: keys that were held behind one in flight (tests: plain keys are never held)
        self.keys_waited = 0
        self._bindings_for: tuple[object, object, object] | None = None
        self._bindings_cache: dict[str, Binding] = {}

    @property
    def keys_held(self) -> int:
        """Keys (and pastes) waiting for the one before them to settle."""
        return len(self._held)

    async def on_event(self, event: events.Event) -> None:
        """Hold a key or paste from the terminal while another is in flight."""
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            if self._in_flight or self._held:
                self._held.append(event)
                self.keys_waited += 1
                return
            await self._route(event)
            return
        await super().on_event(event)

    #: ids of the bindings whose actions never open a screen, prompt or dialog nor move the
    #: focus (apps say which; empty: every key holds the keys after it)
    STAYS_PUT: frozenset[str] = frozenset()

    def action_stays_put(self, binding: Binding) -> bool:
        """Whether ``binding``'s action is one of :attr:`STAYS_PUT`."""
        return binding.id is not None and binding.id in self.STAYS_PUT

    def key_may_move(self, event: HeldEvent) -> bool:
        """Whether ``event``, routed now, may change the screen or the focus (see the module)."""
        if len(self.screen_stack) > 1:  # a pushed screen: Enter/Esc/its keys dismiss it
            return True
        focused = self.focused
        if focused is None or isinstance(focused, Input):  # a prompt: Enter/Esc close it
            return True
        if isinstance(event, events.Paste):
            return False  # pasted into the table: no binding runs
        bindings = self._current_bindings()
        for key in (event.key, *event.aliases):
            binding = bindings.get(key)
            if binding is not None:
                return not self.action_stays_put(binding)
        return False  # bound to nothing: nothing happens

    def _current_bindings(self) -> dict[str, Binding]:
        """The active bindings (public ``App.active_bindings``), kept while the screen, the
        focused widget and the keymap stay the same (computing them checks every action)."""
        state = (self.screen, self.focused, self._keymap_seen)
        if state != self._bindings_for:
            self._bindings_cache = {k: b.binding for k, b in self.active_bindings.items()}
            self._bindings_for = state
        return self._bindings_cache

    _keymap_seen: object = None

    def set_keymap(self, keymap: Any) -> None:
        """Textual's, and the cached bindings are recomputed."""
        super().set_keymap(keymap)
        self._keymap_seen = object()

    def update_keymap(self, keymap: Any) -> None:
        """Textual's, and the cached bindings are recomputed."""
        super().update_keymap(keymap)
        self._keymap_seen = object()

    async def _route(self, event: HeldEvent) -> None:
        """Textual's routing of ``event`` (priority bindings, then the focused widget); when
        it may move the screen or focus, hold everything after it until it has settled."""
        try:
            target: MessagePump = self.focused or self.screen
            moves = self.key_may_move(event)
        except Exception:  # no screen yet / any more: nothing to wait for
            target, moves = self, True
        if not moves:
            await super().on_event(event)
            return
        self._in_flight = True
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
        """Route the held keys, oldest first, up to the next one that may move the screen or
        the focus; on the app's own loop (where bindings run)."""
        while self._held and not self._in_flight:
            await self._route(self._held.popleft())

    async def _settled(self, target: MessagePump) -> None:
        # 1. the key's trip: target -> its ancestors -> screen -> app, each after the one before
        node: MessagePump | None = target
        while node is not None:
            await _barrier(node)
            node = node.parent if isinstance(node, DOMNode) else None
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
        if pump._closing or pump._closed:  # no public API says "closing" (Textual 8.2)
            return
