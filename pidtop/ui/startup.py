"""Starting the monitor: the options, the pins of ``--pin``, building and running the app.

Importing this module is cheap (no Textual): the app itself is imported by :func:`build_app`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pidtop.actions.eventlog import EventLog
from pidtop.actions.pins import PinSet
from pidtop.kernel.errors import HandleError, raise_fd_limit
from pidtop.kernel.identity import parse_target
from pidtop.kernel.probes import features
from pidtop.sampling.changes import ChangeFeed
from pidtop.sampling.snapshot import ProcessSource
from pidtop.settings.options import Options, from_args
from pidtop.ui.gcpolicy import after_app, hold_collector, release_collector

if TYPE_CHECKING:
    from pidtop.journal.service import Journal
    from pidtop.record.replay import ReplaySource
    from pidtop.ui.app import PidtopApp
    from pidtop.ui.preframe import PreFrame


class StartupError(ValueError):
    """A command-line option that cannot be honoured (bad --pin, unwritable --log ...).

    ``status`` is the exit status (the table in ``pidtop --help``): 3 a --pin process that
    does not exist, 5 one whose PID is now another process, 2 a usage problem.
    """

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


def resolve_options(args: Any) -> tuple[Options, list[str]]:
    """Options from defaults <- the config file <- the command line (``argparse`` namespace
    of the TUI parser), and the config file's problems as lines for the user."""
    from pidtop.settings import config
    from pidtop.ui.actions import ACTIONS

    if args.no_config:
        return from_args(args, Options(config_path=None)), []
    path = Path(args.config).expanduser() if args.config else config.default_path()
    loaded = config.load(path, [a.id for a in ACTIONS if a.scope != "info"])
    base = config.apply(Options(config_path=path), loaded)
    return from_args(args, base), [str(p) for p in loaded.problems]


def make_source(options: Options, feed: ChangeFeed | None = None) -> ProcessSource:
    """The scripted demo source (``--demo``) or the real /proc sampler, which reads again what
    ``feed`` (the event spine, marked by the exit journal's connector) says changed."""
    if options.demo:
        from pidtop.demo.source import ScriptedSource

        return ScriptedSource()
    from pidtop.sampling.sampler import ProcSampler

    return ProcSampler(feed=feed)


def make_pins(source: ProcessSource, options: Options) -> PinSet:
    """The event log (``--log``) and the pins of ``--pin``, opened before the UI starts.

    Raises StartupError (exit status 2) for an unwritable log, a --pin target that cannot be
    pinned, or --exit-when-gone without --pin.
    """
    clock = getattr(source, "now", time.time)  # the scripted source has its own clock
    try:
        log = EventLog(clock=clock, path=options.log)
    except OSError as e:
        raise StartupError(f"--log {options.log}: cannot write it: {e.strerror or e}") from None
    opener = None
    if options.demo:  # --demo: pins and kills act on the script only
        from pidtop.demo.handles import SourceOpener
        from pidtop.demo.source import ScriptedSource

        if isinstance(source, ScriptedSource):
            opener = SourceOpener(source)
    pins = PinSet(log, clock=clock, opener=opener)
    for target in options.pin:
        try:
            ident = parse_target(target) if isinstance(target, str) else target
            pins.pin_target(ident)
        except (ValueError, HandleError) as e:
            pins.close()
            log.close()
            raise StartupError(f"--pin {target}: {e}", _pin_status(e)) from None
    if options.exit_when_gone and not len(pins):
        pins.close()
        log.close()
        raise StartupError("--exit-when-gone needs processes to watch: add --pin TARGET...")
    return pins


def _pin_status(error: Exception) -> int:
    """The documented exit status for a --pin that failed (see pidtop --help)."""
    from pidtop.exitcodes import status_for

    return status_for(error) if isinstance(error, HandleError) else 2


def build_app(
    options: Options,
    notes: Sequence[str] = (),
    replay: ReplaySource | None = None,
    pre: PreFrame | None = None,
) -> PidtopApp:
    """The app for ``options``; ``notes`` are start-up warnings it shows (config problems);
    ``replay``: show that recording instead of /proc (``pidtop --replay``); ``pre``: the
    pre-frame's sampler and first sample (:mod:`pidtop.ui.preframe`), used instead of new ones.

    The kernel feature probe runs here, before Textual starts any thread: it forks.
    """
    from pidtop.ui import keychars
    from pidtop.ui.app import PidtopApp

    keychars.install()  # Textual's key characters from a table: ~0.75 MiB of RSS less
    with contextlib.suppress(HandleError):  # out of fds: the app reports it at start
        features()

    # One event spine: the journal's connector marks what changed (UID, EXEC, COMM events) and
    # says while it runs (feed.live); the sampler reads those processes again at its next pass.
    feed = ChangeFeed() if pre is None else pre.feed
    if pre is not None:
        source: ProcessSource = pre.source
    else:
        source = make_source(options, feed) if replay is None else replay
    pins = make_pins(source, options)
    journal: Journal | None = None  # --no-journal
    if options.journal and replay is not None:
        from pidtop.record.replay import ReplayJournal

        journal = ReplayJournal(replay, options.exits_keep)
    elif options.journal and options.demo:
        from pidtop.demo.journal import ScriptedJournal

        journal = ScriptedJournal(options.exits_keep)
    elif options.journal:
        from pidtop.journal.service import Journal

        journal = Journal(options.exits_keep, feed=feed, budget=pins.budget)
    app = PidtopApp(source, options, pins=pins, notes=notes, journal=journal)
    app.replay = replay
    # before the event loop: the first frame shows the processes
    app.sample_first(None if pre is None else pre.snapshot)
    return app


#: glibc's ``M_MMAP_THRESHOLD`` (``mallopt``)
_M_MMAP_THRESHOLD = -3


def pin_mmap_threshold(size: int = 128 * 1024) -> None:
    """Blocks of ``size`` bytes or more come from their own ``mmap`` and go back to the system
    when freed, for good (glibc's default, which it raises to the largest block freed so far).
    Each tick builds and drops dicts of every process (~150 KB at +3,000): with the raised
    threshold they came from the heap and the heap kept their pages (~0.8 MiB of RSS at
    +3,000, measured with ``MALLOC_MMAP_THRESHOLD_``). No-op without glibc."""
    from pidtop.kernel.pidfdinfo import libc

    with contextlib.suppress(AttributeError, OSError):
        libc().mallopt(_M_MMAP_THRESHOLD, size)


#: ms a lone Esc waits for the rest of an escape sequence before it is the Esc key (htop's
#: ``set_escdelay(25)``; Textual's default is 100: every Esc that closes a screen waited for it)
ESCAPE_DELAY_MS = 25
#: Textual's frame rate cap (its ``TEXTUAL_FPS``, default 60). A frame asked for soon after the
#: last one waits for its screen's update timer, and Textual 8.2's timer then skips a slot: the
#: frame after a key came up to 33 ms late at 60 (a 40-key burst read in two parts; a key
#: just after the once-a-second status line), up to 17 ms at 120. Frames are still only drawn
#: when something changed: nothing more at idle.
MAX_FPS = 120


def textual_timing() -> None:
    """Textual's escape delay (``ESCDELAY``) at :data:`ESCAPE_DELAY_MS` and its frame rate cap
    (``TEXTUAL_FPS``) at :data:`MAX_FPS`, each unless the user set that variable. Textual reads
    them once, when ``textual.constants`` is imported: they are set only for that import (the
    processes pidtop starts do not inherit them). The CLI calls this before it imports Textual;
    once Textual is imported it changes nothing."""
    if "textual.constants" in sys.modules:
        return
    ours = {
        name: value
        for name, value in (("ESCDELAY", ESCAPE_DELAY_MS), ("TEXTUAL_FPS", MAX_FPS))
        if name not in os.environ
    }
    os.environ.update({name: str(value) for name, value in ours.items()})
    try:
        import textual.constants  # noqa: F401  (reads ESCDELAY and TEXTUAL_FPS)
    finally:
        for name in ours:
            del os.environ[name]


def run_tui(
    options: Options,
    notes: Sequence[str] = (),
    *,
    replay: ReplaySource | None = None,
    pre: PreFrame | None = None,
) -> int:
    """Run the monitor until the user quits (on ``replay``: a recording; ``pre``: over the
    pre-frame painted with this first sample); returns the exit status."""
    raise_fd_limit()  # once, before any pidfd: the fd budget is computed from it
    hold_collector()  # the CLI holds it from before the imports
    pin_mmap_threshold()
    try:
        return _run(options, notes, replay, pre)
    finally:
        after_app()


def _run(
    options: Options, notes: Sequence[str], replay: ReplaySource | None, pre: PreFrame | None
) -> int:
    """:func:`run_tui` with the collector held until the app is built."""
    try:
        app = build_app(options, notes, replay, pre)  # --pin/--log problems: before drawing
    except ValueError as exc:
        if pre is not None:
            pre.close()  # the message on the main screen
        print(f"pidtop: {exc}", file=sys.stderr)
        return exc.status if isinstance(exc, StartupError) else 2
    release_collector(freeze=True)
    from pidtop.ui.terminal import print_problem, run_in_terminal, tty_problem

    problem = tty_problem()
    if problem is not None:
        # Without a terminal Textual's input thread spins on EOF (a whole core, measured).
        app.pins.close()
        app.events.close()
        print_problem(problem)
        return 2
    done = False

    def after_quit() -> None:
        """The event log flushed and closed, the settings note printed: once, either way out
        (a quick quit ends the process from inside ``run_in_terminal``: pidtop.ui.quit)."""
        nonlocal done
        if done:
            return
        done = True
        app.events.close()
        message = getattr(app, "settings_message", None)
        if message:  # a new settings file, one moved aside, or one that could not be written
            print(f"pidtop: {message}", file=sys.stderr)

    app.after_quit = after_quit
    try:
        return run_in_terminal(app)  # signals and crashes restore the terminal
    finally:
        after_quit()
