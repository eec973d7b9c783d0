"""Quitting at once (issue 18): ``q`` to process gone in tens of milliseconds, not a second.

What a Textual quit waited for, profiled at 1,000 processes (cProfile on the loop from
``App.exit`` on, timestamps around each step): the input thread's join in
``LinuxDriver.disable_input`` (it polls ``select`` every 0.1 s, then sleeps another 0.1 s
with nothing registered: 100-200 ms every time), closing every screen and widget after the
terminal is restored (blur and style updates, timers: 30-120 ms), then the interpreter's own
finalisation (a full garbage collection of ~75,000 objects and every module: 100-600 ms on
this loaded machine). None of it is needed once the terminal is restored.

So, when the app says a quick exit is safe (:meth:`QuickExit.quick_exit_ready`: a plain quit,
no crash to report, no signal still being sent by a worker thread), :class:`QuickExitDriver`

1. lets the input thread stop at its next poll instead of joining it (a key typed in that
   window is discarded by the same ``tcflush`` Textual does after the join);
2. restores the terminal exactly as Textual does and waits for the writer thread to put the
   last bytes on the terminal;
3. calls the app's :meth:`QuickExit.finish_quick`: the same end-of-session work as the slow
   path (settings saved, journal stopped, pidfds released, the event log flushed and closed,
   the settings message printed), then ``os._exit`` with the exit status.

Anything else (a crash, ``exit(message=...)``, a mass kill still in a worker) takes Textual's
ordinary path, which ends the same work in ``on_unmount`` and ``run_tui``.

The driver's input thread also sleeps until there is something to do (:class:`WakeEvent`,
:meth:`QuickExitDriver.run_input_thread`): Textual's polls ``select`` every 0.1 s (10 wake-ups
a second, ~1 ms/s of CPU while idle); this one waits for a key, for the wake pipe (its stop
flag is set: a quit, Ctrl+Z) or for the parser's own deadline (a lone Esc is a key once
``ESCAPE_DELAY`` passed with nothing after it), whichever comes first.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import sys
import threading
from codecs import getincrementaldecoder
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from textual._loop import loop_last
from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

if TYPE_CHECKING:
    from textual.app import App

    from pidtop.actions.eventlog import EventLog
    from pidtop.actions.pins import Pin, PinSet
    from pidtop.actions.watch_all import WatchAll
    from pidtop.kernel.watch import ExitEvent
    from pidtop.sampling.snapshot import ProcessSource
    from pidtop.ui.tree_kill import TreeKillRun

#: worker groups whose work a quit must not cut short (signals being sent, renices)
QUIT_WAITS_FOR = frozenset({"signal", "tune"})


class SessionHost(Protocol):
    """What ending the session uses of the app besides Textual's own (PidtopApp has it)."""

    pins: PinSet
    events: EventLog
    source: ProcessSource  # the /proc sampler keeps files open
    watch_all: WatchAll | None
    tree_kills: list[TreeKillRun]
    settings_message: str | None

    def save_settings(self, *, quitting: bool = False) -> str | None: ...
    def stop_journal(self) -> None: ...
    def _on_pin_changed(self, pin: Pin, event: ExitEvent | None) -> None: ...
    def _on_wait_over(self, pin: Pin, event: ExitEvent) -> None: ...


if TYPE_CHECKING:

    class _Mixin(App[int], SessionHost):
        """What the mixin is mixed into, as mypy sees it: a Textual app with a SessionHost."""

else:
    _Mixin = object


class QuickExit(_Mixin):
    """The end of the session (:meth:`end_session`, also ``on_unmount``), and when a quick
    exit is safe (module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: run once the session has ended (``run_tui``: flush the log, print the settings note)
        self.after_quit: Callable[[], None] | None = None
        self._quick_ok = False
        self._ended = False

    def end_session(self) -> None:
        """Save changed settings; release every pidfd; a whole-tree escalation still waiting
        sends nothing more (its worker would keep pidtop alive until its last step). Once."""
        if self._ended:
            return
        self._ended = True
        for run in list(self.tree_kills):
            run.cancel.set()
        self.settings_message = self.save_settings(quitting=True)
        self.stop_journal()
        if self._on_pin_changed in self.pins.listeners:
            self.pins.listeners.remove(self._on_pin_changed)
        if self._on_wait_over in self.pins.wait_listeners:
            self.pins.wait_listeners.remove(self._on_wait_over)
        if self.watch_all is not None:
            self.watch_all.close()
        self.pins.close()
        self.source.drop_held_files()  # the sampler's held fds
        self.events.flush_later(None)  # flushed; entries from here on: at once

    def on_unmount(self) -> None:
        """Textual's end of the app: :meth:`end_session` (done already after a quick exit)."""
        self.end_session()

    def get_driver_class(self) -> Any:
        """Textual's driver; :class:`QuickExitDriver` in place of its Linux driver."""
        driver_class: Any = super().get_driver_class()
        return QuickExitDriver if driver_class is LinuxDriver else driver_class

    def exit(self, result: Any = None, return_code: int = 0, message: Any = None) -> None:
        """Textual's; a plain quit with no signal or renice still in a worker may then end
        the process as soon as the terminal is restored."""
        busy = any(w.group in QUIT_WAITS_FOR and not w.is_finished for w in self.workers)
        self._quick_ok = message is None and not busy
        super().exit(result, return_code, message)

    def quick_exit_ready(self) -> bool:
        """A plain quit, and nothing crashed meanwhile (``TerminalApp``'s crash record)."""
        return self._quick_ok and getattr(self, "_crash", None) is None

    def finish_quick(self) -> None:
        """The terminal is restored: end the session, run ``after_quit``, end the process."""
        self.end_session()
        if self.after_quit is not None:
            self.after_quit()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError, AttributeError):
                stream.flush()
        os._exit(self.return_code or 0)


class WakeEvent(threading.Event):
    """The input thread's stop flag (Textual's ``exit_event``) that also wakes the thread's
    ``select``: ``set`` writes a byte to a pipe the thread watches, ``clear`` drains it. The
    pipe lasts as long as the driver (a suspend closes the driver and starts it again)."""

    def __init__(self) -> None:
        super().__init__()
        self.read_fd, self.write_fd = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)

    def set(self) -> None:
        super().set()
        with contextlib.suppress(OSError):  # full (a wake-up is pending anyway) or closed
            os.write(self.write_fd, b"!")

    def clear(self) -> None:
        super().clear()
        with contextlib.suppress(OSError):  # empty
            while os.read(self.read_fd, 64):
                pass


class QuickExitDriver(LinuxDriver):
    """Textual's Linux driver, ending the process once the terminal is restored (module doc).
    It starts over the pre-frame (:mod:`pidtop.ui.preframe`) without entering the alternate
    screen again: xterm and VTE clear it when they do (a blank flash before the first frame)."""

    _over_preframe = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exit_event: WakeEvent = WakeEvent()

    def run_input_thread(self) -> None:
        """Textual 8.2's input loop (``LinuxDriver.run_input_thread``), asleep until a key,
        the wake pipe or the parser's deadline instead of polling every 0.1 s (module doc)."""
        selector = selectors.PollSelector()  # poll: the pipe's fd may be above select's 1024
        fileno, wake = self.fileno, self.exit_event.read_fd
        selector.register(fileno, selectors.EVENT_READ)
        selector.register(wake, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        feed, tick = parser.feed, parser.tick
        decode = getincrementaldecoder("utf-8")().decode

        def timeout() -> float | None:
            deadline = parser._timeout_time  # a sequence begun: a lone Esc is a key at this time
            return None if deadline is None else max(0.0, deadline - get_time())

        def process(ready: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
            keys = [key for key in ready if key[0].fd == fileno]
            for last, (_key, mask) in loop_last(keys):
                if mask & selectors.EVENT_READ:
                    data = decode(os.read(fileno, 1024 * 4), final=final and last)
                    if not data:  # stdin piped and at its end
                        break
                    for event in feed(data):
                        self.process_message(event)
            for event in tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process(selector.select(timeout()))
            selector.unregister(fileno)
            process(selector.select(0), final=True)
        finally:
            selector.close()
            with contextlib.suppress(EOFError, ParseError):
                for _event in feed(""):
                    pass

    def start_application_mode(self) -> None:
        """Textual's; first the pre-frame's terminal attributes handed back (the driver saves
        the original ones and restores them at exit)."""
        from pidtop.ui.preframe import hand_over

        self._over_preframe = hand_over()
        super().start_application_mode()

    def write(self, data: str) -> None:
        """Textual's, but its "enter the alternate screen" is dropped over the pre-frame."""
        if self._over_preframe and data == "\x1b[?1049h":
            self._over_preframe = False
            return
        super().write(data)

    def _quick(self) -> bool:
        app: Any = self._app
        return isinstance(app, QuickExit) and app.quick_exit_ready()

    def disable_input(self) -> None:
        """Textual's, without waiting up to 0.2 s for the input thread when quitting."""
        if not self._quick():
            super().disable_input()
            return
        thread, self._key_thread = self._key_thread, None
        try:
            super().disable_input()  # mouse off, SIGWINCH default, tcflush; no join
        finally:
            self._key_thread = thread
            self.exit_event.set()  # the thread ends at its next poll, or with the process

    def stop_application_mode(self) -> None:
        """Restore the terminal; when quitting, put it on screen and end the process."""
        super().stop_application_mode()
        if self._quick():
            self.close()  # joins the writer thread: every byte reached the terminal
            app: Any = self._app
            app.finish_quick()
