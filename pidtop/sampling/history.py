"""A bounded CPU% and RSS history per process, from the samples the monitor already takes.

No Textual, no /proc: the app feeds it the table's rows after each merge. Per process it keeps
the last ``points`` values in two ``array('f')`` (1.1 KB per process at 100 points, 3.2 MB for
3,000 processes; ``record`` costs 0.6 ms per tick at 3,000: ``benchmarks/history.py``); a
process that leaves the table leaves the history.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable

from pidtop.sampling.snapshot import ProcKey

#: values kept per process (100 samples: 2.5 minutes at the default 1.5 s delay)
POINTS = 100

SPARKS = "▁▂▃▄▅▆▇█"


class History:
    """``record`` once per sample; ``series`` for one process."""

    def __init__(self, points: int = POINTS) -> None:
        self.points = points
        self._data: dict[ProcKey, tuple[array[float], array[float], float]] = {}

    def __len__(self) -> int:
        return len(self._data)

    def record(self, rows: Iterable[tuple[ProcKey, float, int]], when: float) -> None:
        """Append (key, cpu %, rss bytes) for every process of one sample; forget the others."""
        old = self._data
        new: dict[ProcKey, tuple[array[float], array[float], float]] = {}
        points = self.points
        for key, cpu, rss in rows:
            entry = old.get(key)
            if entry is None:
                entry = (array("f"), array("f"), when)
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
