"""Pure texts of the monitor: the header's status words and a kill's one-line summary.

Plain functions of plain data (no app, no Textual), so tests call them directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pidtop.kernel.signals import signal_name
from pidtop.sampling.columns import COLUMN_BY_ID
from pidtop.sampling.fmt import sanitize

if TYPE_CHECKING:
    from pidtop.actions.targets import ActionResult

#: a command in a one-line notification is cut to this many characters (with an ellipsis)
NOTIFY_COMMAND = 40
#: how a signal outcome is counted in a kill's summary notification
_OUTCOME_WORDS = {
    "delivered": "delivered",
    "exited_not_reaped": "already exited",
    "gone": "already exited",
    "not_permitted": "not permitted",
    "error": "failed",
}
_WORD_ORDER = tuple(dict.fromkeys(_OUTCOME_WORDS.values()))

Severity = Literal["information", "warning", "error"]


def short_command(command: str, width: int = NOTIFY_COMMAND) -> str:
    """A command line for a one-line message: at most ``width`` characters, ``…`` if cut."""
    command = sanitize(command)
    return command if len(command) <= width else command[: width - 1] + "…"


def plural(n: int, word: str, suffix: str = "s") -> str:
    """``1 process``, ``2 processes``."""
    return f"{n} {word}{suffix if n != 1 else ''}"


@dataclass(frozen=True, slots=True)
class StatusState:
    """What the header's status words describe."""

    sort_column: str
    sort_reverse: bool
    delay: float | None  # None: no timer (a replay moves by key)
    tree: bool = False
    show_threads: bool = False
    show_kernel_threads: bool = True
    pinned: int = 0
    pinned_alive: int = 0
    waiting: int = 0
    watched: int | None = None  # --watch-all: processes watched (None: not watching)
    watch_skipped: int = 0
    proc_foreign: bool = False  # /proc belongs to another PID namespace: actions refused


def status_parts(state: StatusState) -> tuple[str, ...]:
    """The header's status words: ``Sort: CPU%▼``, ``Delay: 1.5s``, ``Tree``, ``Pinned: 2``..."""
    column = COLUMN_BY_ID.get(state.sort_column)
    title = column.title if column is not None else state.sort_column
    arrow = "▼" if state.sort_reverse else "▲"
    parts = [f"Sort: {title}{arrow}"]
    if state.delay is not None:
        parts.append(f"Delay: {state.delay:g}s")
    if state.tree:
        parts.append("Tree")
    if state.show_threads:
        parts.append("+threads")
    if not state.show_kernel_threads:
        parts.append("-kthreads")
    if state.pinned:
        alive = state.pinned_alive
        parts.append(f"Pinned: {state.pinned}" + (f" ({alive} alive)" if alive else ""))
    if state.waiting:
        parts.append(f"Waiting for {plural(state.waiting, 'process', 'es')}")
    if state.proc_foreign:
        parts.append("/proc: other PID namespace, actions refused")
    if state.watched is not None:
        skipped = f" ({state.watch_skipped} skipped: fd budget)" if state.watch_skipped else ""
        parts.append(f"Watch: {state.watched}{skipped}")
    return tuple(parts)


def kill_summary(results: Sequence[ActionResult]) -> tuple[str, Severity]:
    """ONE notification per kill (the per-process results are in the event log).

    A single target: ``PID:INODE command…: SIGTERM delivered``; several: counts per signal,
    ``SIGTERM: 8 delivered, 1 already exited — see L for details``.
    """
    severity: Severity = "information"
    for ar in results:
        outcomes = {r.outcome for r in ar.results}
        if outcomes & {"not_permitted", "error"} or (ar.reclaim and not ar.reclaim.ok):
            severity = "error"
        elif outcomes & {"gone", "exited_not_reaped"} and severity != "error":
            severity = "warning"
    if len(results) == 1:
        ar = results[0]
        parts = [r.describe().removeprefix(f"{r.target}: ") for r in ar.results]
        if ar.reclaim is not None:
            parts.append(ar.reclaim.describe().removeprefix(f"{ar.reclaim.target}: "))
        t = ar.target
        return f"{t.target} {short_command(t.command)}: " + "; ".join(parts), severity
    counts: dict[str, dict[str, int]] = {}  # signal -> outcome words -> n
    for ar in results:
        for r in ar.results:
            per = counts.setdefault(signal_name(r.signal), {})
            word = _OUTCOME_WORDS.get(r.outcome, "failed")
            per[word] = per.get(word, 0) + 1
    text = "; ".join(
        f"{name}: " + ", ".join(f"{per[w]} {w}" for w in _WORD_ORDER if w in per)
        for name, per in counts.items()
    )
    reclaims = [ar.reclaim for ar in results if ar.reclaim is not None]
    if reclaims:
        ok = sum(1 for r in reclaims if r.ok)
        text += f"; memory reclaimed: {ok} of {len(reclaims)}"
    return text + " — see L for details", severity
