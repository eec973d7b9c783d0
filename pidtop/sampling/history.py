"""A bounded CPU% and RSS history per process, from the samples the monitor already takes.

No Textual, no /proc: the app feeds it the table's rows after each merge. Per process it keeps
the last ``points`` values in two ``array('f')`` (1.1 KB per process at 100 points, 3.2 MB for
3,000 processes; ``record`` costs 0.6 ms per tick at 3,000: ``benchmarks/history.py``); a
process that leaves the table leaves the history. A process whose CPU% and RSS have not changed
since it was first seen (an idle one: most of them) is kept as that pair (the row's own objects)
and the record it began at, one tuple (~0.1 KB, not rebuilt while the pair repeats; one for
all the processes first seen in a record with the same pair), until a value changes;
:meth:`History.series` gives the same lists either way.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable

from pidtop.sampling.snapshot import ProcKey

#: values kept per process (100 samples: 2.5 minutes at the default 1.5 s delay)
POINTS = 100

SPARKS = "▁▂▃▄▅▆▇█"

#: a process's CPU% values, RSS KiB values (float32) and when it was first seen
_Series = tuple["array[float]", "array[float]", float]
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
        points = self.points
        self._records = now = self._records + 1
        #: this record's new runs by pair: processes first seen with equal values (a
        #: program's idle workers) share one tuple
        fresh: dict[tuple[float, int], _Run] = {}
        for key, cpu, rss in rows:
            entry = old.get(key)
            if entry is None:
                run = fresh.get((cpu, rss))
                if run is None:
                    run = fresh[cpu, rss] = (cpu, rss, now, when)
                new[key] = run
                continue
            if len(entry) == 4:  # one pair, repeated
                run_cpu, run_rss, since, first = entry
                if run_cpu == cpu and run_rss == rss:
                    new[key] = entry
                    continue
                n = min(now - since, points)  # the records the pair spans
                entry = (array("f", (run_cpu,)) * n, array("f", (run_rss / 1024.0,)) * n, first)
            cpus, rsss, _ = entry
            cpus.append(cpu)
            rsss.append(rss / 1024.0)
            if len(cpus) > points:
                del cpus[0]
                del rsss[0]
            new[key] = entry
        self._data = new

    def series(self, key: ProcKey) -> tuple[list[float], list[float], float | None]:
        """(CPU% values, RSS bytes values, time first seen) of one process; empty if unknown."""
        entry = self._data.get(key)
        if entry is None:
            return [], [], None
        if len(entry) == 4:
            run_cpu, run_rss, since, first = entry
            n = min(self._records - since + 1, self.points)
            cpus, rsss = array("f", (run_cpu,)) * n, array("f", (run_rss / 1024.0,)) * n
            return list(cpus), [v * 1024.0 for v in rsss], first
        return list(entry[0]), [v * 1024.0 for v in entry[1]], entry[2]


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
