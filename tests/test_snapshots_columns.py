"""Snapshots of issue 8's optional columns and issue 7's deleted-executable mark, on the scripted
source (fixed processes, fixed clock; the start times are shown in UTC)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from test_snapshots import SnapCompare, make_app, settle

from pidtop.sampling.columns import DEFAULT_COLUMNS

EXTRA = ["pid", "ppid", "user", "tty", "start", "nlwp", "io_read", "io_write", "oom", "vcsw"]
EXTRA += ["icsw", "unit", "cpu", "mem", "time", "cgroup", "command"]


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _app(columns: list[str]):
    app = make_app(sort_column="pid")
    app.table.set_columns(columns)
    app.source.delete_exe(850)  # type: ignore[attr-defined]  # php-fpm: an upgraded daemon
    return app


def test_every_new_column_200x40(snap_compare: SnapCompare) -> None:
    """PPID TTY START NLWP RD/s WR/s ("no perm" for postgres' processes) OOM VCSW ICSW UNIT
    CGROUP (cut at the left), and php-fpm's '(deleted)' executable."""
    assert snap_compare(_app(EXTRA), terminal_size=(200, 40), run_before=settle())


def test_deleted_exe_default_columns_120x40(snap_compare: SnapCompare) -> None:
    assert snap_compare(_app(list(DEFAULT_COLUMNS)), terminal_size=(120, 40), run_before=settle())


def test_new_columns_at_80x24(snap_compare: SnapCompare) -> None:
    """Narrow: PRI, NI, SHR, VIRT and the widest new columns go first; CPU%, MEM%, TIME+ stay."""
    assert snap_compare(_app(EXTRA), terminal_size=(80, 24), run_before=settle())
