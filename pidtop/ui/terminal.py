"""The terminal always comes back (issue 7, items 9 and 10).

* SIGTERM, SIGHUP and SIGINT quit like ``q``: Textual leaves application mode (alternate
  screen, hidden cursor, mouse tracking, raw mode) and pidtop exits 143, 129 or 130 without a
  traceback. The handler only asks the app's loop to exit; if the app has not gone within
  :data:`FORCE_AFTER` seconds (a stuck loop), or on a second signal, the terminal is restored
  by hand (:func:`restore_terminal`) and the process ends with the same status.
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
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from textual.app import App
from textual.binding import Binding

from pidtop.ui.display import apply_display_profile, display_profile

#: exit status when pidtop is ended by a signal: 128 + the signal number, as a shell reports it
EXIT_SIGNALS: dict[int, int] = {
    signal.SIGINT: 128 + signal.SIGINT,  # 130: documented in --help as "interrupted"
    signal.SIGTERM: 128 + signal.SIGTERM,  # 143
    signal.SIGHUP: 128 + signal.SIGHUP,  # 129
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
        with contextlib.suppress(OSError, ValueError, AttributeError, ImportError):
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

    BINDINGS = [Binding("ctrl+c", "interrupt", "Quit", show=False, priority=True)]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._interrupts = 0
        self._crash: tuple[BaseException, Path | None] | None = None

    async def action_interrupt(self) -> None:
        """ctrl+c: quit with status 130, as htop quits on ctrl+c. When ``quit`` would ask
        first (a signal still to come), it asks; ctrl+c a second time quits anyway."""
        self._interrupts += 1
        if self._interrupts > 1 or not self.quit_needs_confirmation():
            self.exit(return_code=EXIT_INTERRUPTED)
            return
        await self.run_action("quit")

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
        status = EXIT_SIGNALS.get(signum, 128 + signum)
        loop = getattr(self.app, "_loop", None)
        if self.status is not None or loop is None or loop.is_closed():
            self.force(status)  # a second signal, or no loop to ask
            return
        self.status = status
        loop.call_soon_threadsafe(self.app.exit, None, status)
        self.watchdog = threading.Timer(FORCE_AFTER, self.force, (status,))
        self.watchdog.daemon = True
        self.watchdog.start()

    def force(self, status: int) -> None:
        """The app did not quit: restore the terminal by hand and end the process now."""
        restore_terminal(self.attrs)
        os._exit(status)


@contextlib.contextmanager
def signals_quit(app: App[Any]) -> Iterator[_SignalExit]:
    """While inside: SIGTERM/SIGHUP/SIGINT make ``app`` exit with 143/129/130."""
    handler = _SignalExit(app, _termios_attrs())
    previous = {sig: signal.signal(sig, handler) for sig in EXIT_SIGNALS}
    try:
        yield handler
    finally:
        if handler.watchdog is not None:
            handler.watchdog.cancel()  # the app quit in time
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
        restore_terminal(attrs)
        print(crash_line(error, write_crash(error)), file=sys.stderr, flush=True)
        return 1
    if signalled.status is not None:
        return signalled.status
    return int(result or app.return_code or 0)
