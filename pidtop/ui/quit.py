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
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.drivers.linux_driver import LinuxDriver

#: worker groups whose work a quit must not cut short (signals being sent, renices)
QUIT_WAITS_FOR = frozenset({"signal", "tune"})


class QuickExit(App[Any]):
    """The app's side: when a quick exit is safe, and what it does (module doc). The app
    gives :meth:`end_session` (what ``on_unmount`` does: settings, journal, pidfds)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: run once the session has ended (``run_tui``: flush the log, print the settings note)
        self.after_quit: Callable[[], None] | None = None
        self._quick_ok = False

    def end_session(self) -> None:
        """Save, stop and release what the session holds (the app's; idempotent)."""

    def get_driver_class(self) -> Any:
        """Textual's driver; :class:`QuickExitDriver` in place of its Linux driver."""
        driver_class = super().get_driver_class()
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


class QuickExitDriver(LinuxDriver):
    """Textual's Linux driver, ending the process once the terminal is restored (module doc)."""

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
