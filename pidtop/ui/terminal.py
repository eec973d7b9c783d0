"""The terminal always comes back (issue 7, items 9 and 10).

* SIGTERM, SIGHUP, SIGINT -- and SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, whose default action would
  leave the terminal in application mode -- quit like ``q``: Textual leaves application mode
  (alternate screen, hidden cursor, mouse tracking, raw mode) and pidtop exits 128+N without a
  traceback. The handler only asks the app's loop to exit; if the app has not gone within
  :data:`FORCE_AFTER` seconds (a stuck loop, a slow quit), or on a second signal, the terminal
  is restored by hand (:func:`restore_terminal`) and the process ends with the same status.
  Every way out, the forced one too, first continues what a tree kill in progress stopped
  (:func:`pidtop.actions.treefreeze.continue_stopped`); so does ctrl+z.
* Once pidtop is quitting, a SIGCONT (a hangup sends one; ``fg``) never re-enters application
  mode: Textual's driver would start its threads again on a terminal that is gone, and shutdown
  would wait on them forever. A terminal that goes away without a SIGHUP (the pane closed
  under a non-interactive shell) counts as one (:func:`watch_hangup`). After ctrl+z and ``fg``
  the whole screen is painted at once.
* ctrl+c is a key in raw mode (no SIGINT): it quits as in htop, status 130 like SIGINT, where
  Textual only says "press ctrl+q". A pending escalation asks first (as ``q`` does); ctrl+c
  again quits anyway.
* An unexpected exception: Textual restores the terminal, then pidtop prints ONE line with
  the path of a crash file (:func:`write_crash`: the traceback and versions) instead of a
  screenful of traceback. The same for an exception that escapes ``App.run``.
* The monitor needs a terminal on stdin, stdout AND stderr (Textual draws on stderr), so
  ``pidtop 2>/dev/null`` is refused like ``pidtop >/dev/null`` (:func:`tty_problem`).
"""

from __future__ import annotations

import contextlib
import os
import platform
import select
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from textual.app import App
from textual.binding import Binding

from pidtop.ui.display import apply_display_profile, display_profile


def continue_stopped() -> int:
    """:func:`pidtop.actions.treefreeze.continue_stopped` if a tree kill was ever started (its
    module imported), else 0: nothing can be stopped. Never imports (safe in a signal handler
    and out of fds), and the tree kill's modules stay off the start-up path."""
    treefreeze = sys.modules.get("pidtop.actions.treefreeze")
    return treefreeze.continue_stopped() if treefreeze is not None else 0


#: exit status when pidtop is ended by a signal: 128 + the signal number, as a shell reports it
EXIT_SIGNALS: dict[int, int] = {
    signal.SIGINT: 128 + signal.SIGINT,  # 130: documented in --help as "interrupted"
    signal.SIGTERM: 128 + signal.SIGTERM,  # 143
    signal.SIGHUP: 128 + signal.SIGHUP,  # 129
    # their default action ends pidtop without restoring the terminal: they quit like q too
    signal.SIGQUIT: 128 + signal.SIGQUIT,  # 131
    signal.SIGUSR1: 128 + signal.SIGUSR1,  # 138
    signal.SIGUSR2: 128 + signal.SIGUSR2,  # 140
    signal.SIGALRM: 128 + signal.SIGALRM,  # 142
}
EXIT_INTERRUPTED = EXIT_SIGNALS[signal.SIGINT]
#: seconds a signalled app gets to quit on its own before the terminal is restored by hand
FORCE_AFTER = 3.0
#: what undoes Textual's application mode: mouse tracking (all modes), focus events, bracketed
#: paste, the kitty keyboard protocol, the alternate screen; then the cursor is shown again
RESET_SEQUENCE = (
    "\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?1016l"
    "\x1b[?1004l\x1b[?2004l\x1b[<u\x1b[?1049l\x1b[?25h"
)


def tty_problem() -> str | None:
    """Why the monitor cannot run here (None: stdin, stdout and stderr are terminals)."""
    streams = (("stdin", sys.stdin), ("stdout", sys.stdout), ("stderr", sys.stderr))
    missing = [name for name, stream in streams if stream is None or not _isatty(stream)]
    if not missing:
        return None
    return (
        "the monitor needs a terminal (stdin, stdout and stderr must be a tty; "
        f"not a tty: {', '.join(missing)})"
    )


def print_problem(problem: str) -> None:
    """``pidtop: problem`` on stderr, or on stdout when only stdout is a terminal (``2>/dev/null``
    would swallow the reason)."""
    stream = sys.stdout if _isatty(sys.stdout) and not _isatty(sys.stderr) else sys.stderr
    print(f"pidtop: {problem}", file=stream)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def crash_dir() -> Path:
    """``$XDG_STATE_HOME/pidtop`` (default ``~/.local/state/pidtop``)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "pidtop"


def write_crash(error: BaseException) -> Path | None:
    """Write the traceback and versions to a new private file (0600); its path, or None if no
    file could be written (then the traceback goes to stderr instead)."""
    from pidtop import __version__

    try:
        import textual

        textual_version = getattr(textual, "__version__", "?")
    except ImportError:  # pragma: no cover - we are a Textual app
        textual_version = "?"
    text = "".join(
        [
            f"pidtop {__version__} crashed at {time.strftime('%Y-%m-%d %H:%M:%S %z')}\n",
            f"python {platform.python_version()}, textual {textual_version}, "
            f"{platform.system()} {platform.release()}\n",
            f"argv: {sys.argv!r}\n\n",
            *traceback.format_exception(error),
        ]
    )
    name = f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.txt"
    for folder in (crash_dir(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as f:
            f.write(text)
        return folder / name
    return None


def crash_line(error: BaseException, path: Path | None) -> str:
    """The one line printed after a crash."""
    what = f"{type(error).__name__}: {error}".splitlines()[0][:200]
    where = f"details in {path}" if path is not None else "no crash file could be written"
    return f"pidtop: internal error ({what}); the terminal was restored, {where}"


def restore_terminal(attrs: list[Any] | None = None) -> None:
    """Undo application mode by hand (a stuck app, or one that died before Textual could):
    the escape sequences to stderr's terminal and the saved termios settings of stdin."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.write(sys.__stderr__.fileno(), RESET_SEQUENCE.encode())  # type: ignore[union-attr]
    if attrs is not None:
        with contextlib.suppress(Exception):  # termios.error (not an OSError): gone
            import termios

            termios.tcsetattr(sys.__stdin__.fileno(), termios.TCSANOW, attrs)  # type: ignore[union-attr]


def _termios_attrs() -> list[Any] | None:
    try:
        import termios

        return termios.tcgetattr(sys.__stdin__.fileno())  # type: ignore[union-attr]
    except (OSError, ValueError, AttributeError, ImportError):
        return None


class TerminalApp(App[Any]):
    """ctrl+c quits (status 130); an unhandled exception leaves a crash file and one line."""

    BINDINGS = [
        Binding("ctrl+c", "interrupt", "Quit", show=False, priority=True),
        Binding("ctrl+z", "suspend_process", "Suspend", show=False),  # as in a shell; fg resumes
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._interrupts = 0
        self._crash: tuple[BaseException, Path | None] | None = None
        self.leaving = False  # exit asked: application mode is never entered again

    def exit(self, *args: Any, **kwargs: Any) -> None:
        self._leave()
        super().exit(*args, **kwargs)

    async def _shutdown(self) -> None:
        self._leave()
        await super()._shutdown()

    def _leave(self) -> None:
        """From now on a SIGCONT (``fg``, or the one a hangup sends) or SIGTSTP leaves the
        terminal alone: no new input and writer threads on a terminal that may be gone."""
        self.leaving = True
        driver = self._driver
        if driver is not None:
            driver._auto_restart = False  # Textual's driver: no resume_application_mode

    def _build_driver(self, *args: Any, **kwargs: Any) -> Any:
        """Textual's driver, with its SIGTSTP and SIGCONT handlers wrapped: ctrl+z first
        continues what a tree kill stopped; back from ``fg`` the whole screen is painted at
        once (the header and footer stayed blank until they next changed)."""
        driver = super()._build_driver(*args, **kwargs)
        if threading.current_thread() is not threading.main_thread():
            return driver
        on_tstp = signal.getsignal(signal.SIGTSTP)
        on_cont = signal.getsignal(signal.SIGCONT)

        def tstp(signum: int, frame: FrameType | None) -> None:
            continue_stopped()
            if callable(on_tstp):
                on_tstp(signum, frame)

        def cont(signum: int, frame: FrameType | None) -> None:
            if self.leaving:
                return
            if callable(on_cont):
                on_cont(signum, frame)
            loop = getattr(self, "_loop", None)
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self._repaint_all)

        if callable(on_tstp) and callable(on_cont):
            signal.signal(signal.SIGTSTP, tstp)
            signal.signal(signal.SIGCONT, cont)
        return driver

    def _repaint_all(self) -> None:
        if not self.leaving and self.is_running:
            self.refresh(layout=True)
            with contextlib.suppress(Exception):
                self.screen.refresh(layout=True)

    async def action_interrupt(self) -> None:
        """ctrl+c: quit with status 130, as htop quits on ctrl+c. When ``quit`` would ask
        first (a signal still to come), it asks; ctrl+c a second time quits anyway."""
        self._interrupts += 1
        if self._interrupts > 1 or not self.quit_needs_confirmation():
            self.exit(return_code=EXIT_INTERRUPTED)
            return
        await self.run_action("quit")

    def action_suspend_process(self) -> None:
        """ctrl+z: what a tree kill stopped runs again first; then pidtop stops (``fg``)."""
        continue_stopped()
        super().action_suspend_process()

    def quit_needs_confirmation(self) -> bool:
        """Whether ``quit`` asks before quitting (the app says; default: never)."""
        return False

    def _handle_exception(self, error: Exception) -> None:
        if self._crash is None and not self.is_headless:
            self._crash = (error, write_crash(error))
        super()._handle_exception(error)

    def _print_error_renderables(self) -> None:
        """After the terminal is restored: one line and the crash file, not the traceback."""
        if self._crash is None or self._crash[1] is None:
            super()._print_error_renderables()
            return
        self._exit_renderables.clear()
        error, path = self._crash
        with contextlib.suppress(OSError, ValueError):
            print(crash_line(error, path), file=sys.stderr, flush=True)


class _SignalExit:
    """Signal handlers that ask ``app`` to exit with 128+N, and force it if it does not."""

    def __init__(self, app: App[Any], attrs: list[Any] | None) -> None:
        self.app = app
        self.attrs = attrs
        self.status: int | None = None
        self.watchdog: threading.Timer | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        """A signal (or the terminal's hangup, from its watching thread)."""
        status = EXIT_SIGNALS.get(signum, 128 + signum)
        loop = getattr(self.app, "_loop", None)
        if self.status is not None or loop is None or loop.is_closed():
            self.force(status)  # a second signal, or no loop to ask
            return
        self.status = status
        if isinstance(self.app, TerminalApp):
            self.app._leave()  # a SIGCONT from now on must not re-enter application mode
        loop.call_soon_threadsafe(self.app.exit, None, status)
        self.watchdog = threading.Timer(FORCE_AFTER, self.force, (status,))
        self.watchdog.daemon = True
        self.watchdog.start()

    def force(self, status: int) -> None:
        """The app did not quit: continue what a tree kill stopped, restore the terminal by
        hand and end the process now."""
        try:
            with contextlib.suppress(Exception):
                continue_stopped()
            with contextlib.suppress(Exception):  # termios.error on a terminal that is gone
                restore_terminal(self.attrs)
        finally:
            os._exit(status)


def watch_hangup(fd: int, on_hangup: Callable[[], object]) -> threading.Event:
    """A daemon thread that calls ``on_hangup`` (in that thread) when the terminal on ``fd``
    hangs up (poll reports POLLHUP: the terminal closed). Nothing is read: the mask asks for no
    input. Not a signal to pidtop: Python runs handlers on the main thread only, which may be
    blocked for long (a slow quit). Setting the event returned ends the watch."""
    done = threading.Event()

    def run() -> None:
        poller = select.poll()
        poller.register(fd, 0)  # POLLHUP, POLLERR and POLLNVAL are always reported
        while True:
            try:
                events = poller.poll()
            except OSError:
                return
            if any(ev & select.POLLNVAL for _fd, ev in events):
                return  # not an fd (any more): nothing to watch
            if any(ev & (select.POLLHUP | select.POLLERR) for _fd, ev in events):
                if not done.is_set():
                    on_hangup()
                return

    threading.Thread(target=run, name="pidtop-hangup", daemon=True).start()
    return done


@contextlib.contextmanager
def signals_quit(app: App[Any]) -> Iterator[_SignalExit]:
    """While inside: SIGTERM/SIGHUP/SIGINT make ``app`` exit with 143/129/130."""
    handler = _SignalExit(app, _termios_attrs())
    previous = {sig: signal.signal(sig, handler) for sig in EXIT_SIGNALS}
    hangup = None
    with contextlib.suppress(OSError, ValueError, AttributeError):
        fd = sys.__stdin__.fileno()  # type: ignore[union-attr]
        hangup = watch_hangup(fd, lambda: handler(signal.SIGHUP, None))
    try:
        yield handler
    finally:
        if hangup is not None:
            hangup.set()
        if handler.watchdog is not None:
            handler.watchdog.cancel()  # the app quit in time
            # ...but the process must end too: a thread left behind would keep it alive
            handler.watchdog = threading.Timer(FORCE_AFTER, handler.force, (handler.status,))
            handler.watchdog.daemon = True
            handler.watchdog.start()
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_in_terminal(app: App[Any]) -> int:
    """Run ``app`` (a tty has been checked); its exit status. Signals quit it cleanly and an
    exception that escapes Textual restores the terminal, then prints one line."""
    attrs = _termios_attrs()
    apply_display_profile(app, display_profile())  # TERM, NO_COLOR, the locale
    try:
        with signals_quit(app) as signalled:
            result = app.run()
    except Exception as error:  # Textual handles the app's own errors; this is the rest
        continue_stopped()
        restore_terminal(attrs)
        print(crash_line(error, write_crash(error)), file=sys.stderr, flush=True)
        return 1
    if signalled.status is not None:
        return signalled.status
    return int(result or app.return_code or 0)
