"""A bounded CPU% and RSS history per process, from the samples the monitor already takes.

No Textual, no /proc: the app feeds it the table's rows after each merge. Per process it keeps
the last ``points`` values in two ``array('f')`` (1.1 KB per process at 100 points, 3.2 MB for
3,000 processes; ``record`` costs 0.6 ms per tick at 3,000: ``benchmarks/history.py``); a
process that leaves the table leaves the history. A process whose CPU% and RSS have not changed
since it was first seen (an idle one: most of them) is kept as that pair (the row's own objects)
and the record it began at, one tuple (~0.1 KB, not rebuilt while the pair repeats; one for
all the processes first seen in a record with the same pair), until a value changes;
:meth:`History.series` gives the same lists either way.

The monitor calls :meth:`History.record_changes` with only the rows whose values can have
changed (``ProcessTable.changed``, ``gone``): a row not passed kept its values, so a pair is left
as it is and a series gets the repeats of its last values when it is next read or changed (its
``upto``). An idle process costs nothing per record (a pass over every row: ~0.4 ms a tick at
+1,000).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from typing import Any

from pidtop.sampling.snapshot import ProcKey

#: values kept per process (100 samples: 2.5 minutes at the default 1.5 s delay)
POINTS = 100

SPARKS = "▁▂▃▄▅▆▇█"

#: a process's CPU% values, RSS KiB values (float32), when it was first seen and the record its
#: last values were appended at (the records since repeat them: :meth:`History.record_changes`)
_Series = list[Any]
#: the same while every value so far was one pair: (CPU%, RSS bytes: the row's own objects,
#: the record it was first seen in, when). Kept as is while the pair repeats: no allocation
#: per idle process per record; how many records it spans comes from the record count.
_Run = tuple[float, int, int, float]


class History:
    """``record`` once per sample; ``series`` for one process."""

    def __init__(self, points: int = POINTS) -> None:
        self.points = points
        self._data: dict[ProcKey, _Series | _Run] = {}
        self._records = 0  # how many times ``record`` ran

    def __len__(self) -> int:
        return len(self._data)

    def record(self, rows: Iterable[tuple[ProcKey, float, int]], when: float) -> None:
        """Append (key, cpu %, rss bytes) for every process of one sample; forget the others."""
        old = self._data
        new: dict[ProcKey, _Series | _Run] = {}
        self._records = now = self._records + 1
        step = self._step
        #: this record's new runs by pair: processes first seen with equal values (a
        #: program's idle workers) share one tuple
        fresh: dict[tuple[float, int], _Run] = {}
        for key, cpu, rss in rows:
            entry = old.get(key)
            if entry is None:
                new[key] = _fresh(fresh, cpu, rss, now, when)
            elif type(entry) is tuple and entry[0] == cpu and entry[1] == rss:
                new[key] = entry  # one pair, repeated (most processes: no call)
            else:
                new[key] = step(entry, cpu, rss, now)
        self._data = new

    def record_changes(
        self, rows: Iterable[tuple[ProcKey, float, int]], gone: Iterable[ProcKey], when: float
    ) -> None:
        """One sample, given by what changed: forget the processes ``gone``, then append
        (key, cpu %, rss bytes) for ``rows``; every other process kept its values (the same as
        :meth:`record` with every process, at the cost of the changed ones only)."""
        data = self._data
        self._records = now = self._records + 1
        for key in gone:
            data.pop(key, None)
        step = self._step
        fresh: dict[tuple[float, int], _Run] = {}  # as in record
        for key, cpu, rss in rows:
            entry = data.get(key)
            if entry is None:
                data[key] = _fresh(fresh, cpu, rss, now, when)
            else:
                data[key] = step(entry, cpu, rss, now)

    def _step(self, entry: _Series | _Run, cpu: float, rss: int, now: int) -> _Series | _Run:
        """``entry`` (a known process's: a new one's is :func:`_fresh`) with the values of
        record ``now`` appended."""
        points = self.points
        if isinstance(entry, tuple):  # one pair, repeated
            run_cpu, run_rss, since, first = entry
            if run_cpu == cpu and run_rss == rss:
                return entry
            n = min(now - since, points)  # the records the pair spans
            entry = [array("f", (run_cpu,)) * n, array("f", (run_rss / 1024.0,)) * n, first, 0]
        else:
            _repeat(entry, now - 1, points)
        cpus, rsss = entry[0], entry[1]
        cpus.append(cpu)
        rsss.append(rss / 1024.0)
        if len(cpus) > points:
            del cpus[0]
            del rsss[0]
        entry[3] = now
        return entry

    def series(self, key: ProcKey) -> tuple[list[float], list[float], float | None]:
        """(CPU% values, RSS bytes values, time first seen) of one process; empty if unknown."""
        entry = self._data.get(key)
        if entry is None:
            return [], [], None
        if isinstance(entry, tuple):
            run_cpu, run_rss, since, first = entry
            n = min(self._records - since + 1, self.points)
            cpus, rsss = array("f", (run_cpu,)) * n, array("f", (run_rss / 1024.0,)) * n
            return list(cpus), [v * 1024.0 for v in rsss], first
        _repeat(entry, self._records, self.points)
        return list(entry[0]), [v * 1024.0 for v in entry[1]], entry[2]


def _fresh(
    fresh: dict[tuple[float, int], _Run], cpu: float, rss: int, now: int, when: float
) -> _Run:
    """A new process's run: the one made in this record for the same pair, if any."""
    run = fresh.get((cpu, rss))
    if run is None:
        run = fresh[cpu, rss] = (cpu, rss, now, when)
    return run


def _repeat(entry: _Series, upto: int, points: int) -> None:
    """A series' last values repeated for the records after its last append, up to ``upto``."""
    if (n := min(upto - entry[3], points)) > 0:
        cpus, rsss = entry[0], entry[1]
        cpus.extend(array("f", (cpus[-1],)) * n)
        rsss.extend(array("f", (rsss[-1],)) * n)
        if (extra := len(cpus) - points) > 0:
            del cpus[:extra]
            del rsss[:extra]
    entry[3] = upto


def sparkline(values: list[float], width: int, top: float | None = None) -> str:
    """The last ``width`` values as block characters scaled to ``top`` (default: their max)."""
    values = values[-width:] if width > 0 else []
    if not values:
        return ""
    peak = top if top is not None else max(values)
    if peak <= 0:
        return SPARKS[0] * len(values)
    n = len(SPARKS) - 1
    return "".join(SPARKS[max(0, min(n, round(v / peak * n)))] for v in values)
