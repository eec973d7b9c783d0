"""The table model's row types: ``Row`` (one visible line, updated in place on every merge) and
``TaskCounts`` (htop's "Tasks:" line).

Apart from the table (:mod:`pidtop.sampling.table`) so that the column registry
(:mod:`pidtop.sampling.columns`), whose cells are read from rows, and the table, which orders
rows by those columns, both import them without importing each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from pidtop.sampling.snapshot import ProcInfo, ProcKey

__all__ = ["Row", "RowStatus", "TaskCounts", "tally"]


RowStatus = Literal["new", "normal", "dying"]


@dataclass(slots=True)
class Row:
    """One visible line of the table. Mutable: the model updates rows in place on merge."""

    key: ProcKey
    info: ProcInfo
    cpu: float = 0.0  # % of one CPU over the last interval (htop semantics, may exceed 100)
    mem: float = 0.0  # % of total memory (RES / MemTotal)
    status: RowStatus = "normal"  # new: first seen in the latest sample; dying: gone in it
    first_seen: float = 0.0  # Snapshot.time of first sighting
    depth: int = 0  # tree depth (0 when not in tree mode)
    tree_prefix: str = ""  # e.g. "│  ├─ " (tree mode only)
    has_children: bool = False
    collapsed: bool = False
    context: bool = False  # tree mode + text filter: shown only because a descendant matches
    # storage I/O over the last interval, bytes/s; None before two readings (or unreadable)
    io_read_rate: float | None = None
    io_write_rate: float | None = None
    #: its place in the table's visible order when it was last ordered (the table checks it)
    pos: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class TaskCounts:
    """htop's "Tasks:" line, derived from the latest snapshot's processes."""

    total: int = 0  # userland processes (htop: kernel threads and userland threads excluded)
    running: int = 0  # the states count the same userland processes as ``total``
    sleeping: int = 0  # S, D, I
    stopped: int = 0  # T, t
    zombie: int = 0
    threads: int = 0  # userland threads other than each process's main thread (htop "thr")
    kernel_threads: int = 0

    @classmethod
    def from_processes(cls, procs: Iterable[ProcInfo]) -> TaskCounts:
        counts = [0] * 7
        for p in procs:
            tally(counts, p, 1)
        return cls(*counts)


def tally(counts: list[int], p: ProcInfo, n: int) -> None:
    """Add ``p`` ``n`` times (1, or -1 to take it out) to ``counts``, ``TaskCounts``' fields in
    their order: the table keeps its counts by the processes that came, went or changed."""
    if p.is_thread:
        return
    if p.is_kernel_thread:  # counted apart ("kthr"), so the states add up to the total
        counts[6] += n
        return
    counts[0] += n
    counts[5] += n * max(0, p.num_threads - 1)
    st = p.state
    if st == "R":
        counts[1] += n
    elif st in "SDI":
        counts[2] += n
    elif st in "Tt":
        counts[3] += n
    elif st == "Z":
        counts[4] += n
