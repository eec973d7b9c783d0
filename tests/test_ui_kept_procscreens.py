"""The details, environment and open-files screens are kept and refilled for the next process
they open for (issue 18): opened for A, closed, opened for B, not one frame shows anything of A
(title, body, environment, fds), the scroll, cursor and search start afresh, a read of A that
lands late is dropped, and ``p`` from a refilled details screen still walks to the parent. On
the scripted source, with environment and fd names that say whose they are."""

from __future__ import annotations

import threading
from functools import partial
from typing import Any
from unittest.mock import patch

from textual.coordinate import Coordinate
from textual.widgets import Input, Label
from uitools import wait_for as wait_for_condition

from pidtop.demo.script import NEW_AT
from pidtop.demo.source import ScriptedSource
from pidtop.details.model import DetailsSource, Unavailable
from pidtop.details.openfiles import FdEntry
from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.details import DetailsScreen
from pidtop.ui.screens.files import FdTable, FilesScreen
from pidtop.ui.screens.procinfo import EnvironScreen

wait_for = partial(wait_for_condition, timeout=10.0, step=0.01)
A, B = 1400, 700  # python3 train.py (bob, under bash and sshd); postgres (under systemd)
A_ONLY = ("train.py", "sshd", "marker-1400")


class Marked:
    """The scripted details source, whose environment and fds name their process
    (``marker-PID``), and whose reads of a PID in ``slow`` wait for ``release``."""

    def __init__(self, inner: DetailsSource) -> None:
        self.inner = inner
        self.slow: set[int] = set()
        self.release = threading.Event()
        self.waiting = threading.Event()  # a slow read is waiting
        self.late_done = threading.Event()  # a slow read finished

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _maybe_wait(self, pid: int) -> None:
        if pid in self.slow:
            self.waiting.set()
            assert self.release.wait(10)
            self.late_done.set()

    def read(self, handle: Any, *args: Any, **kwargs: Any) -> Any:
        self._maybe_wait(handle.pid)
        return self.inner.read(handle, *args, **kwargs)

    def environ(self, handle: Any) -> dict[str, str]:
        self._maybe_wait(handle.pid)
        return {f"V{i:03}": f"marker-{handle.pid}" for i in range(80)}

    def files(self, handle: Any, first: int | None = None) -> list[FdEntry]:
        self._maybe_wait(handle.pid)
        n = 200 if handle.pid == A else 3
        return [FdEntry(i, "REG", "r", f"/srv/marker-{handle.pid}/f{i}") for i in range(n)]


def record_frames(app: PidtopApp) -> list[str]:
    """The text of every frame the app writes from now on, after "WHOLE" or "PART"."""
    frames: list[str] = []
    display = app._display

    def recording(screen: Any, update: Any) -> None:
        whole = hasattr(update, "strips")
        if whole:
            lines = update.strips
        else:  # a partial one: the changed parts of lines
            lines = [s for chop in getattr(update, "chops", ()) for s in chop.values() if s]
        text = "\n".join("".join(seg.text for seg in line) for line in lines)
        frames.append(("WHOLE\n" if whole else "PART\n") + text)
        display(screen, update)

    app._display = recording  # type: ignore[method-assign]
    return frames


async def started(pilot: Any, app: PidtopApp) -> tuple[ScriptedSource, Marked]:
    await wait_for(pilot, lambda: app.samples_merged >= NEW_AT + 1)
    source = app.source
    assert isinstance(source, ScriptedSource)
    marked = Marked(app.details_source)
    app._details_source = marked  # type: ignore[assignment]
    return source, marked


def scripted_app() -> PidtopApp:
    return PidtopApp(ScriptedSource(), delay=0.05, sample_limit=NEW_AT + 1)


def nothing_of_a(frames: list[str]) -> None:
    for frame in frames:
        for text in A_ONLY:
            assert text not in frame


async def details_of(pilot: Any, app: PidtopApp, pid: int, command: str) -> DetailsScreen:
    """The details screen opened for ``pid`` (of the scripted source)."""
    source = app.source
    assert isinstance(source, ScriptedSource)
    app.show_details(pid, source.key_of(pid)[1], command)
    await wait_for(pilot, lambda: isinstance(app.screen, DetailsScreen))
    kept = app.screen
    assert isinstance(kept, DetailsScreen)
    return kept


async def closed(pilot: Any, app: PidtopApp, kept: Any) -> None:
    await pilot.press("escape")
    await wait_for(pilot, lambda: app.screen is not kept)


async def reopened_for_b_as_a_lands(
    pilot: Any, app: PidtopApp, kept: DetailsScreen, marked: Marked
) -> None:
    """Details opened again for B, then A's held read lands: no frame shows anything of A."""
    source = app.source
    assert isinstance(source, ScriptedSource)
    frames = record_frames(app)
    app.show_details(B, source.key_of(B)[1], "postgres")
    await wait_for(pilot, lambda: app.screen is kept and kept.reads >= 1)
    marked.release.set()  # A's read lands now
    assert marked.late_done.wait(5)
    await pilot.pause(0.2)
    nothing_of_a(frames)


async def test_details_reopened_for_another_process_show_only_that_one() -> None:
    app = scripted_app()
    async with app.run_test(size=(120, 24)) as pilot:
        source, _ = await started(pilot, app)
        kept = await details_of(pilot, app, A, "python3 train.py")
        await wait_for(pilot, lambda: kept.reads >= 1)
        box = kept.query_one("#details-box")
        box.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert box.scroll_y > 0
        handle_of_a = kept.handle
        assert handle_of_a is not None and not handle_of_a.closed
        await closed(pilot, app, kept)
        await wait_for(pilot, lambda: handle_of_a.closed)  # closed at Esc (the screen is kept)

        frames = record_frames(app)
        app.show_details(B, source.key_of(B)[1], "postgres")
        await wait_for(pilot, lambda: app.screen is kept and kept.is_current and kept.reads >= 1)
        await pilot.pause(0.1)
        assert frames[0].startswith("WHOLE") and "postgresql" in frames[0] and "700:" in frames[0]
        nothing_of_a(frames)
        assert box.scroll_y == 0 and kept.focused is box
        assert kept.pid == B and kept.handle is not None and kept.handle.pid == B
        assert kept.details is not None and kept.details.pid == B


async def test_details_of_a_process_gone_meanwhile_show_nothing_of_the_last() -> None:
    app = scripted_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot, app)
        kept = await details_of(pilot, app, A, "python3 train.py")
        await wait_for(pilot, lambda: kept.reads >= 1)
        await closed(pilot, app, kept)

        frames = record_frames(app)
        app.show_details(4242, None, "gone")  # no such process: the open is refused
        await wait_for(pilot, lambda: app.screen is kept and kept.error is not None)
        await pilot.pause(0.1)
        assert frames and any("Refused" in f and "4242" in f for f in frames)
        nothing_of_a(frames)
        assert kept.details is None and kept.handle is None


async def test_a_late_read_of_the_last_process_is_dropped() -> None:
    app = scripted_app()
    async with app.run_test(size=(120, 40)) as pilot:
        source, marked = await started(pilot, app)
        marked.slow = {A}
        app.show_details(A, source.key_of(A)[1], "python3 train.py")  # its read waits
        await wait_for(pilot, lambda: isinstance(app.screen, DetailsScreen))
        kept = app.screen
        assert isinstance(kept, DetailsScreen) and kept.reads == 0
        await closed(pilot, app, kept)

        await reopened_for_b_as_a_lands(pilot, app, kept, marked)
        assert kept.reads == 1 and kept.details is not None and kept.details.pid == B
        assert kept.handle is not None and kept.handle.pid == B


async def test_a_late_refresh_of_the_last_process_is_dropped() -> None:
    app = scripted_app()
    async with app.run_test(size=(120, 40)) as pilot:
        _, marked = await started(pilot, app)
        kept = await details_of(pilot, app, A, "python3 train.py")
        await wait_for(pilot, lambda: kept.reads >= 1)
        marked.slow = {A}
        kept.refresh_now()  # a read of A (a worker) that lands after B is shown
        await wait_for(pilot, marked.waiting.is_set)  # (or the timer's next read, if one ran)
        await closed(pilot, app, kept)

        await reopened_for_b_as_a_lands(pilot, app, kept, marked)
        assert kept.details is not None and kept.details.pid == B


async def test_p_from_a_refilled_details_screen_shows_the_parent() -> None:
    app = scripted_app()
    async with app.run_test(size=(120, 40)) as pilot:
        source, _ = await started(pilot, app)
        kept = await details_of(pilot, app, B, "postgres")
        await closed(pilot, app, kept)
        app.show_details(A, source.key_of(A)[1], "python3 train.py")
        await wait_for(pilot, lambda: app.screen is kept and kept.reads >= 1)
        await pilot.press("p")
        await wait_for(
            pilot, lambda: isinstance(app.screen, DetailsScreen) and app.screen.pid == 1306
        )
        assert app.screen is not kept
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is kept)
        await pilot.pause()
        assert kept.pid == A and kept.handle is not None and kept.handle.pid == A


async def test_environment_reopened_for_another_process() -> None:
    app = scripted_app()
    async with app.run_test(size=(120, 30)) as pilot:
        source, _ = await started(pilot, app)
        app.show_environ(A, source.key_of(A)[1], "python3 train.py")
        await wait_for(pilot, lambda: isinstance(app.screen, EnvironScreen) and app.screen.loaded)
        kept = app.screen
        assert isinstance(kept, EnvironScreen)
        await pilot.press("V", "0", "7")
        await wait_for(pilot, lambda: len(kept.lines(kept.query_one(Input).value)) == 10)
        await closed(pilot, app, kept)

        frames = record_frames(app)
        app.show_environ(B, source.key_of(B)[1], "postgres")
        await wait_for(pilot, lambda: app.screen is kept and kept.loaded and kept.is_current)
        await pilot.pause(0.1)
        assert (
            frames[0].startswith("WHOLE") and "marker-700" in frames[0] and "of 700:" in frames[0]
        )
        nothing_of_a(frames)
        search = kept.query_one(Input)
        assert search.value == "" and kept.focused is search
        assert len(kept.lines()) == 80 and all("marker-700" in line for line in kept.lines())


async def test_open_files_reopened_for_another_process() -> None:
    app = scripted_app()
    async with app.run_test(size=(120, 30)) as pilot:
        source, marked = await started(pilot, app)
        app.show_files(A, source.key_of(A)[1], "python3 train.py")
        await wait_for(pilot, lambda: isinstance(app.screen, FilesScreen) and app.screen.loaded)
        kept = app.screen
        assert isinstance(kept, FilesScreen)
        table = kept.query_one(FdTable)
        await pilot.press("pagedown", "pagedown")
        await pilot.pause()
        assert table.cursor_row > 0 and table.scroll_y > 0
        marked.slow = {A}
        await pilot.press("r")  # a reload of A that lands after B is shown
        await closed(pilot, app, kept)
        await wait_for(pilot, lambda: table.row_count == 0 and kept.rows is None)  # let go

        frames = record_frames(app)
        app.show_files(B, source.key_of(B)[1], "postgres")
        await wait_for(pilot, lambda: app.screen is kept and kept.loaded and kept.is_current)
        marked.release.set()
        assert marked.late_done.wait(5)
        await pilot.pause(0.2)
        assert frames[0].startswith("WHOLE") and "marker-700" in frames[0] and "700:" in frames[0]
        nothing_of_a(frames)
        assert table.row_count == 3 and table.cursor_row == 0 and table.scroll_y == 0
        assert kept.focused is table and isinstance(kept.rows, list) and len(kept.rows) == 3
        assert "3 open" in str(kept.query_one(".proc-title", Label).render())


async def test_open_files_of_a_long_command_line_say_how_many_at_80_columns() -> None:
    """The count comes before the command line in the title: a long command line is cut at the
    screen's edge, the "N open" is not cut with it."""
    app = scripted_app()
    async with app.run_test(size=(80, 24)) as pilot:
        source, _ = await started(pilot, app)
        app.show_files(B, source.key_of(B)[1], "postgres " + "-c x=y " * 40)
        await wait_for(pilot, lambda: isinstance(app.screen, FilesScreen) and app.screen.loaded)
        await pilot.pause()
        frames = record_frames(app)
        app.screen.refresh()
        await wait_for(pilot, lambda: bool(frames))
        assert "3 open" in frames[-1] and "postgres -c x=y" in frames[-1]


async def test_end_and_home_go_to_the_last_and_first_fd() -> None:
    app = scripted_app()
    async with app.run_test(size=(120, 24)) as pilot:
        source, _ = await started(pilot, app)
        app.show_files(A, source.key_of(A)[1], "python3 train.py")  # 200 fds
        await wait_for(pilot, lambda: isinstance(app.screen, FilesScreen) and app.screen.loaded)
        table = app.screen.query_one(FdTable)
        await pilot.press("end")
        await wait_for(pilot, lambda: table.cursor_row == 199 and table.scroll_y > 0)
        await pilot.press("home")
        await wait_for(pilot, lambda: table.cursor_row == 0 and table.scroll_y == 0)


class TwoPass(Marked):
    """Marked, read as /proc is: the fds after ``first`` pending (no type, no mode) until
    ``complete_files``, which waits for ``go``."""

    def __init__(self, inner: DetailsSource) -> None:
        super().__init__(inner)
        self.go = threading.Event()
        self.completing = threading.Event()  # a complete_files is waiting for go
        self.completed = threading.Event()

    def files(self, handle: Any, first: int | None = None) -> list[FdEntry]:
        rows = super().files(handle)
        return [
            e if first is None or i < first else FdEntry(e.fd, None, None, "")
            for i, e in enumerate(rows)
        ]

    gone = False  # the process exits before complete_files

    def complete_files(self, handle: Any, rows: list[FdEntry]) -> list[FdEntry] | Unavailable:
        self.completing.set()
        assert self.go.wait(10)
        self.completed.set()
        if self.gone:
            return Unavailable("exited")
        late = [FdEntry(e.fd, "REG", "rw", f"/srv/late-{handle.pid}/f{e.fd}") for e in rows]
        return [e if e.mode is not None else new for e, new in zip(rows, late, strict=True)]


def cell(table: FdTable, row: int, column: int) -> str:
    return str(getattr(table.get_cell_at(Coordinate(row, column)), "plain", ""))


async def opened_two_pass(pilot: Any, app: Any, *, gone: bool = False) -> tuple[Any, TwoPass]:
    """A's open files (200 fds) through a :class:`TwoPass` source, the first 50 read first
    (``gone``: A has exited by its second pass, which may then go on); (the scripted source, the
    two-pass source)."""
    source, _ = await started(pilot, app)
    two = TwoPass(app.details_source)
    if gone:
        two.gone = True
        two.go.set()
    app._details_source = two
    with patch("pidtop.ui.screens.files.FIRST_FDS", 50):
        app.show_files(A, source.key_of(A)[1], "python3 train.py")  # 200 fds
        await wait_for(pilot, lambda: isinstance(app.screen, FilesScreen) and app.screen.loaded)
    return source, two


async def test_open_files_pending_after_the_first_page_are_filled_in_place() -> None:
    """The fds after the first page are shown (count, fd, name) before their type and mode are
    read; those land in their cells later, the cursor and scroll where they were."""
    app = scripted_app()
    async with app.run_test(size=(120, 24)) as pilot:
        _, two = await opened_two_pass(pilot, app)
        kept = app.screen
        assert isinstance(kept, FilesScreen)
        table = kept.query_one(FdTable)
        assert "200 open" in str(kept.query_one(".proc-title", Label).render())
        assert (cell(table, 49, 1), cell(table, 49, 2)) == ("REG", "r")
        # pending: its fd, not yet what it is
        assert [cell(table, 50, c) for c in range(4)] == ["50", "", "", ""]
        assert cell(table, 199, 0) == "199"
        await pilot.press("end")
        await wait_for(pilot, lambda: table.cursor_row == 199 and table.scroll_y > 0)
        scrolled = table.scroll_y
        await wait_for(pilot, two.completing.is_set)
        two.go.set()
        await wait_for(pilot, lambda: cell(table, 199, 1) == "REG")
        assert [[cell(table, r, c) for c in range(1, 4)] for r in (0, 49, 50, 199)] == [
            ["REG", "r", "/srv/marker-1400/f0"],
            ["REG", "r", "/srv/marker-1400/f49"],
            ["REG", "rw", "/srv/late-1400/f50"],
            ["REG", "rw", "/srv/late-1400/f199"],
        ]
        assert table.row_count == 200 and table.cursor_row == 199 and table.scroll_y == scrolled
        assert isinstance(kept.rows, list) and all(e.mode is not None for e in kept.rows)


async def test_open_files_pending_of_the_last_process_are_dropped() -> None:
    """A's pending fds land after the screen was opened again for B: B's table is untouched."""
    app = scripted_app()
    async with app.run_test(size=(120, 24)) as pilot:
        source, two = await opened_two_pass(pilot, app)
        kept = app.screen
        table = kept.query_one(FdTable)
        await wait_for(pilot, two.completing.is_set)  # A's second pass is under way
        await closed(pilot, app, kept)
        frames = record_frames(app)
        app.show_files(B, source.key_of(B)[1], "postgres")  # 3 fds, none pending
        await wait_for(pilot, lambda: app.screen is kept and kept.loaded and kept.is_current)
        two.go.set()
        assert two.completed.wait(5)
        await pilot.pause(0.3)
        nothing_of_a(frames)
        assert table.row_count == 3 and [cell(table, r, 3) for r in range(3)] == [
            f"/srv/marker-700/f{i}" for i in range(3)
        ]
        assert isinstance(kept.rows, list) and len(kept.rows) == 3


async def test_open_files_pending_of_a_process_that_exited_say_so() -> None:
    """The process exits before its pending fds are read: their rows say why they are empty;
    the rows read first stay."""
    app = scripted_app()
    async with app.run_test(size=(120, 24)) as pilot:
        await opened_two_pass(pilot, app, gone=True)
        table = app.screen.query_one(FdTable)
        await wait_for(pilot, lambda: cell(table, 50, 3) == "cannot read: exited")
        assert cell(table, 199, 3) == "cannot read: exited" and cell(table, 199, 0) == "199"
        assert cell(table, 49, 3) == "/srv/marker-1400/f49" and table.row_count == 200
