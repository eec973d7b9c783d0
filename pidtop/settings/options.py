"""The monitor's options: one typed object built from defaults <- config file <- command line.

No Textual here: the command line builds ``Options`` before deciding whether the UI runs.
Fields above the marker line are *settings* (saved in the config file, see
:mod:`pidtop.settings.config`); the others belong to one run only (command-line options).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_COLUMNS",
    "DEFAULT_METERS",
    "METERS",
    "Options",
    "from_args",
    "parse_pids",
    "resolve_sort_key",
]

from pidtop.actions import CONFIRM_OVER
from pidtop.kernel.identity import Identity
from pidtop.sampling.columns import DEFAULT_COLUMNS, resolve_sort_key

#: the refresh delay's bounds and the steps of ``,``/``.`` (seconds)
DELAY_STEPS: tuple[float, ...] = (0.1, 0.2, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0)
MIN_DELAY, MAX_DELAY = DELAY_STEPS[0], DELAY_STEPS[-1]

#: the header meters: name -> what it shows. Bars (cpu, memory, swap) are drawn in the left
#: half, figures (tasks, load, uptime) in the right half, each half in the configured order.
METERS: dict[str, str] = {
    "cpu": "CPU bars, one per CPU",
    "memory": "Memory bar (used/total)",
    "swap": "Swap bar (used/total)",
    "tasks": "Tasks: processes, threads, running, sleeping",
    "load": "Load average (1, 5, 15 min)",
    "uptime": "Uptime",
}
#: the meters shown by default, in order (htop's)
DEFAULT_METERS: tuple[str, ...] = tuple(METERS)


@dataclass(slots=True)
class Options:
    """Everything the monitor is started with."""

    # ---- settings: saved in the config file
    delay: float = 1.5  # seconds, MIN_DELAY..MAX_DELAY
    columns: tuple[str, ...] = DEFAULT_COLUMNS  # visible columns, in order
    meters: tuple[str, ...] = DEFAULT_METERS  # header meters shown, in order
    sort_column: str = "cpu"
    sort_reverse: bool | None = None  # None: the column's default direction
    tree: bool = False
    show_threads: bool = False  # userland threads (htop H)
    show_kernel_threads: bool = False  # kernel threads (htop K): hidden, as in htop
    theme: str = "textual-dark"
    bell: bool = True  # ring when a waited process exits
    confirm_over: int = CONFIRM_OVER  # ask before signalling more processes than this
    escalate_after: float = 5.0  # seconds between SIGTERM and SIGKILL in the signal picker
    keymap: dict[str, str] = field(default_factory=dict)  # action id -> keys ("f9,k")

    # ---- this run only: command line
    user: str | None = None
    pids: frozenset[int] | None = None
    demo: bool = False
    pin: tuple[Identity, ...] = ()
    watch_all: bool = False
    exit_when_gone: bool = False
    log: str | None = None
    journal: bool = True  # the exit journal (``E``, header); False: --no-journal
    exits_keep: int = 10_000  # exits the journal keeps in memory (--exits-keep)
    config_path: Path | None = None  # None: no config file is read or written

    def __post_init__(self) -> None:
        self.delay = clamp_delay(self.delay)
        self.columns = tuple(self.columns)
        self.meters = tuple(self.meters)
        self.pin = tuple(self.pin)

    def replace(self, **changes: Any) -> Options:
        """A copy with ``changes`` (field names as keywords)."""
        return dataclasses.replace(self, **changes)


#: the names of the fields saved in the config file
SETTINGS: tuple[str, ...] = (
    "delay", "columns", "meters", "sort_column", "sort_reverse", "tree", "show_threads",
    "show_kernel_threads", "theme", "bell", "confirm_over", "escalate_after", "keymap",
)  # fmt: skip


def clamp_delay(seconds: float) -> float:
    """The refresh delay kept within MIN_DELAY..MAX_DELAY."""
    return min(MAX_DELAY, max(MIN_DELAY, float(seconds)))


def parse_pids(value: object) -> frozenset[int] | None:
    """``"1, 700"``, ``"1 700"`` or a list of ints (or ``PID:INODE`` texts) as a PID set."""
    if value is None or value == "":
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        items: Iterable[object] = value
    else:
        items = str(value).replace(" ", ",").split(",")
    pids = set()
    for item in items:
        text = str(item).strip()
        if text:
            pids.add(int(text.split(":", 1)[0]))
    return frozenset(pids) or None


def from_args(args: Any, base: Options | None = None) -> Options:
    """Overlay the command line (an ``argparse.Namespace`` of the TUI parser) on ``base``.

    Options left at their argparse default (None / False) keep the value of ``base`` (the
    defaults and the config file), so ``-d`` overrides the file's delay but its absence
    does not.
    """
    opts = base if base is not None else Options()
    changes: dict[str, Any] = {
        "user": args.user or None,
        "pids": parse_pids(args.pid),
        "demo": bool(args.demo),
        "pin": tuple(args.pin or ()),
        "watch_all": bool(args.watch_all),
        "exit_when_gone": bool(args.exit_when_gone),
        "log": args.log,
        "journal": not getattr(args, "no_journal", False),
    }
    if getattr(args, "exits_keep", None) is not None:
        changes["exits_keep"] = args.exits_keep
    if args.delay is not None:
        changes["delay"] = max(1, int(args.delay)) / 10.0
    if args.sort_key:
        column = resolve_sort_key(args.sort_key)
        if column is not None:
            changes["sort_column"] = column
            changes["sort_reverse"] = None
    if args.tree:
        changes["tree"] = True
    if args.no_bell:
        changes["bell"] = False
    return opts.replace(**changes)


def settings_of(opts: Options) -> dict[str, Any]:
    """The saved part of ``opts`` (see SETTINGS), as plain values."""
    return {name: getattr(opts, name) for name in SETTINGS}


def with_settings(opts: Options, values: Mapping[str, Any]) -> Options:
    """``opts`` with the settings in ``values`` (unknown names ignored)."""
    return opts.replace(**{k: v for k, v in values.items() if k in SETTINGS})
