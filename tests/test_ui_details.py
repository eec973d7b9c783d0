"""The details screen and the per-process keys, driven through the UI (Pilot).

Real children for what must be real (cwd, exe, environment, open files, exit while open,
renice/ionice/affinity read back from the kernel); the scripted source where the identity is
fixed (the OSC 52 text) or nothing real may be touched."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from procs import wait_fd
from rich.console import Console
from uitools import notes
from uitools import wait_for as wait_for_condition

from pidtop.demo.script import NEW_AT
from pidtop.demo.source import ScriptedSource
from pidtop.sampling.sampler import ProcSampler
from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.details import DetailsScreen
from pidtop.ui.screens.files import FilesScreen
from pidtop.ui.screens.procinfo import EnvironScreen

wait_for = partial(wait_for_condition, timeout=15.0, step=0.02)
SIZE = (140, 50)

CHILD = """
import os, sys
f = open(sys.argv[1], "rb")
os.write(1, b"ready\\n")
sys.stdin.read()
"""


@pytest.fixture
def children(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    held = tmp_path / "held file.txt"
    held.write_text("x")
    env = {**os.environ, "PIDTOP_DETAILS_VAR": "[red]v[/]"}
    procs = []
    for _ in range(2):
        p = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(held)],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert p.stdout is not None and wait_fd(p.stdout.fileno()) and p.stdout.readline()
        procs.append(p)
    yield procs
    for p in procs:
        p.kill()
        p.wait()


def real_app(pids: list[int]) -> PidtopApp:
    return PidtopApp(ProcSampler(), delay=0.2, pids=frozenset(pids), sort_column="pid")


def body_text(screen: DetailsScreen) -> str:
    console = Console(width=400, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(screen.rendered)
    return console.export_text()


def proc_nice(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")[2].split()[16])


async def test_details_of_a_real_child_and_its_exit(children, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    child = children[0]
    app = real_app([child.pid])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: [r.info.pid for r in app.table.rows] == [child.pid])
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailsScreen))
        screen = app.screen
        assert isinstance(screen, DetailsScreen)
        await wait_for(pilot, lambda: screen.details is not None)
        text = body_text(screen)
        assert str(tmp_path) in text and os.path.realpath(sys.executable) in text
        assert f"{child.pid}:{screen.handle.inode}" in text  # type: ignore[union-attr]
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, EnvironScreen) and app.screen.loaded)
        env = app.screen
        assert isinstance(env, EnvironScreen)
        assert "PIDTOP_DETAILS_VAR=[red]v[/]" in env.lines("details_var")
        await pilot.press("escape", "l")
        await wait_for(pilot, lambda: isinstance(app.screen, FilesScreen) and app.screen.loaded)
        files = app.screen
        assert isinstance(files, FilesScreen) and isinstance(files.rows, list)
        assert str(tmp_path / "held file.txt") in [f.name for f in files.rows]
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        # it exits while the screen is open: shown at once (pidfd readiness), data kept
        child.kill()
        await wait_for(pilot, lambda: screen.exited is not None, timeout=5)
        child.wait()
        await pilot.pause()
        text = body_text(screen)
        assert "EXITED at" in text and "killed by SIGKILL" in text
        assert "the data below is its last read" in text and str(tmp_path) in text
        assert screen.has_class("-stale")


async def test_renice_the_cursor_then_all_pins(children) -> None:  # type: ignore[no-untyped-def]
    a, b = children
    app = real_app([a.pid, b.pid])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: len(app.table.rows) == 2)
        app.view.set_cursor(0)
        await pilot.press("left_square_bracket", "left_square_bracket")  # nice +1, twice
        await wait_for(pilot, lambda: proc_nice(a.pid) == 2)
        assert proc_nice(b.pid) == 0
        await wait_for(pilot, lambda: any("nice +1: done (1 -> 2)" in n for n in notes(app)))
        assert [e.kind for e in app.events.entries].count("tune") == 2
        # with pins: every running pin, like k
        await pilot.press("space", "space", "f8", "f7", "right_square_bracket")
        await wait_for(pilot, lambda: (proc_nice(a.pid), proc_nice(b.pid)) == (1, -1))
        await wait_for(pilot, lambda: any("nice -1: 2 done" in n for n in notes(app)))


@pytest.mark.skipif(shutil.which("ionice") is None, reason="util-linux ionice not installed")
async def test_ionice_and_affinity_pickers(children) -> None:  # type: ignore[no-untyped-def]
    child = children[0]
    app = real_app([child.pid])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: len(app.table.rows) == 1)
        # best-effort 4 is highlighted; four down is "idle"
        await pilot.press("i", "down", "down", "down", "down", "enter")

        def ionice() -> str:
            out = subprocess.run(["ionice", "-p", str(child.pid)], capture_output=True, text=True)
            return out.stdout.strip()

        await wait_for(pilot, lambda: ionice() == "idle")
        cpus = sorted(os.sched_getaffinity(child.pid))
        if len(cpus) >= 2:
            await pilot.press("a", "space", "enter")  # untick the first CPU
            await wait_for(pilot, lambda: sorted(os.sched_getaffinity(child.pid)) == cpus[1:])


def scripted_app() -> PidtopApp:
    return PidtopApp(ScriptedSource(), delay=0.05, sample_limit=NEW_AT + 1)


async def test_y_copies_pid_inode_with_osc52() -> None:
    app = scripted_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= NEW_AT + 1)
        written: list[str] = []
        driver = app._driver
        assert driver is not None
        original = driver.write
        driver.write = lambda data: (written.append(data), original(data))[1]  # type: ignore[method-assign]
        source = app.source
        assert isinstance(source, ScriptedSource) and app.view.set_cursor_key(source.key_of(1400))
        await pilot.press("y")
        want = "1400:1001400"  # scripted pidfs inode: 1_000_000 + PID
        await wait_for(pilot, lambda: any(want in n for n in notes(app)))
        osc = f"\x1b]52;c;{base64.b64encode(want.encode()).decode()}\a"
        assert osc in written
        assert app.clipboard == want
        # and from the details screen
        written.clear()
        await pilot.press("enter", "y")
        await wait_for(pilot, lambda: osc in written)


async def test_s_without_strace_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no strace on PATH
    app = scripted_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= NEW_AT + 1)
        await pilot.press("s")
        await wait_for(pilot, lambda: any("strace is not installed" in n for n in notes(app)))
        assert app.screen is app.screen_stack[0]  # nothing else happened


async def test_scripted_process_is_never_tuned_for_real() -> None:
    app = scripted_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= NEW_AT + 1)
        source = app.source
        assert isinstance(source, ScriptedSource) and app.view.set_cursor_key(source.key_of(1))
        await pilot.press("enter", "f8")
        await wait_for(pilot, lambda: any("a scripted process" in n for n in notes(app)))


async def test_hostile_names_are_shown_literally() -> None:
    app = scripted_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= NEW_AT + 1)
        source = app.source
        assert isinstance(source, ScriptedSource)
        for pid, literal in ((1420, "[bold red]pwned[/] [link=https://example.com]click"),
                             (1422, "printf ^[]0;title^G^[[2J")):  # fmt: skip
            assert app.view.set_cursor_key(source.key_of(pid))
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, DetailsScreen))
            screen = app.screen
            assert isinstance(screen, DetailsScreen)
            await wait_for(pilot, lambda: screen.details is not None)  # noqa: B023
            text = body_text(screen)
            assert literal in text and "\x1b" not in text
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, DetailsScreen))


async def test_enter_on_a_pin_in_the_strip(children) -> None:  # type: ignore[no-untyped-def]
    a, b = children
    app = real_app([a.pid, b.pid])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: len(app.table.rows) == 2)
        app.view.set_cursor(1)
        pinned = app.table.rows[1].info.pid
        await pilot.press("space", "home", "tab", "enter")  # pin the 2nd, cursor back to the 1st
        await wait_for(pilot, lambda: isinstance(app.screen, DetailsScreen))
        screen = app.screen
        assert isinstance(screen, DetailsScreen) and screen.pid == pinned
        await wait_for(pilot, lambda: screen.details is not None)
        pin = next(iter(app.pins))
        assert screen.details is not None and screen.details.target == pin.target


async def test_renice_pin_and_signal_from_the_details_screen(children) -> None:  # type: ignore[no-untyped-def]
    from pidtop.ui.screens.signals import SignalScreen

    child = children[0]
    app = real_app([child.pid])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: len(app.table.rows) == 1)
        await pilot.press("enter", "left_square_bracket")  # typed ahead: nice +1 in the screen
        await wait_for(pilot, lambda: isinstance(app.screen, DetailsScreen))
        screen = app.screen
        assert isinstance(screen, DetailsScreen)
        await wait_for(pilot, lambda: proc_nice(child.pid) == 1)
        await wait_for(pilot, lambda: screen.details is not None and screen.details.nice == 1)
        assert "nice 1, priority 21" in body_text(screen)
        await pilot.press("space")
        await wait_for(pilot, lambda: len(app.pins) == 1)
        assert next(iter(app.pins)).handle.pid == child.pid
        await pilot.press("k")
        await wait_for(pilot, lambda: isinstance(app.screen, SignalScreen))
        await pilot.press("enter")  # SIGTERM, preselected
        await wait_for(pilot, lambda: screen.exited is not None)
        assert child.wait(timeout=5) == -15
        assert "killed by SIGTERM" in body_text(screen)


async def test_details_of_a_recycled_pid_are_refused(children) -> None:  # type: ignore[no-untyped-def]
    child = children[0]
    app = real_app([child.pid])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: len(app.table.rows) == 1)
        # the row's identity says another start time: this PID is "now another process"
        screen = DetailsScreen(app.details_source, child.pid, 1, "old")
        app.push_screen(screen)
        await wait_for(pilot, lambda: screen.error is not None)
        assert screen.details is None and screen.handle is None
        text = body_text(screen)
        assert f"Refused: PID {child.pid} is now another process" in text


async def test_details_of_a_zombie_say_it_exited_before() -> None:
    from procs import spawn

    from pidtop.kernel.identity import read_starttime

    with spawn("child") as t:
        start = read_starttime(t.pid)
        t.exit(3)  # a zombie: our child, not reaped
        fd = t.pidfd()
        try:
            assert wait_fd(fd), "the child did not exit"
        finally:
            os.close(fd)
        app = real_app([t.pid])
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            screen = DetailsScreen(app.details_source, t.pid, start, "zombie")
            app.push_screen(screen)
            await wait_for(pilot, lambda: screen.exited is not None and screen.details is not None)
            text = body_text(screen)
            assert "EXITED before this screen opened" in text and "exited with code 3" in text
            assert "Z (zombie)" in text


async def test_open_files_of_a_process_with_many_fds_are_capped() -> None:
    from textual.widgets import DataTable

    from pidtop.ui.screens.files import MAX_ROWS

    code = "import os, sys\nfds = [os.open('/dev/null', 0) for _ in range(2100)]\n"
    code += "os.write(1, b'ready\\n')\nsys.stdin.read()\n"
    p = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert p.stdout is not None and wait_fd(p.stdout.fileno()) and p.stdout.readline()
        app = real_app([p.pid])
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: len(app.table.rows) == 1)
            await pilot.press("l")
            await wait_for(pilot, lambda: isinstance(app.screen, FilesScreen) and app.screen.loaded)
            screen = app.screen
            assert isinstance(screen, FilesScreen) and isinstance(screen.rows, list)
            assert len(screen.rows) >= 2100
            assert screen.query_one(DataTable).row_count == MAX_ROWS + 1  # + "… and N more"
    finally:
        p.kill()
        p.wait()


async def test_p_walks_up_the_parent_chain() -> None:
    app = scripted_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= NEW_AT + 1)
        source = app.source
        assert isinstance(source, ScriptedSource) and app.view.set_cursor_key(source.key_of(1400))
        await pilot.press("enter", "p", "p")  # typed ahead: each p reaches the screen it opened
        await wait_for(
            pilot, lambda: isinstance(app.screen, DetailsScreen) and app.screen.pid == 1305
        )
        assert [s.pid for s in app.screen_stack if isinstance(s, DetailsScreen)] == [
            1400,
            1306,
            1305,
        ]
        await pilot.press("escape")
        await wait_for(
            pilot, lambda: isinstance(app.screen, DetailsScreen) and app.screen.pid == 1306
        )


async def test_open_files_and_environment_read_the_process_once(children, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """One read per opening (Textual runs every class's on_mount: the files screen's own
    on_mount also calling its base's read the fds twice); ``r`` reads again."""
    from pidtop.details.reader import ProcDetails

    calls: list[str] = []
    for name in ("files", "environ"):
        real = getattr(ProcDetails, name)

        def counted(self, handle, _real=real, _name=name):  # type: ignore[no-untyped-def]
            calls.append(_name)
            return _real(self, handle)

        monkeypatch.setattr(ProcDetails, name, counted)
    app = real_app([children[0].pid])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.table.rows) == 1)
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, FilesScreen) and app.screen.loaded)
        await pilot.pause(0.2)
        assert calls == ["files"]
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, FilesScreen) and app.screen.loaded)
        await pilot.pause(0.2)
        assert calls == ["files", "files"]
        await pilot.press("escape", "e")
        await wait_for(pilot, lambda: isinstance(app.screen, EnvironScreen) and app.screen.loaded)
        await pilot.pause(0.2)
        assert calls == ["files", "files", "environ"]


async def test_fd_table_shows_what_a_data_table_shows() -> None:
    """FdTable fills its rows at once and measures them by their text: what it draws (every
    line, cursor, zebra, widths, scroll size) is what Textual's DataTable filled by add_row
    draws with the same texts, also after the cursor moves."""
    from rich.cells import cell_len
    from rich.text import Text
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from pidtop.details.openfiles import FdEntry
    from pidtop.ui.screens.files import FdCell, FdTable

    entries = [FdEntry(i, "REG", "r", f"/proc/{i}/stat") for i in range(300)]
    entries[3] = FdEntry(3, "REG", "rw", "/tmp/old [red]x[/] 中文.db", deleted=True)
    entries[7] = FdEntry(7, "IPv6", "", "UDP [::1]:53")
    entries[299] = FdEntry(12345, "FIFO", "w", "pipe:[31337]")

    def texts(e: FdEntry) -> tuple[Text, ...]:
        name = Text(e.name)
        if e.deleted:
            name.append(" (deleted)", style="bold red")
        return (Text(str(e.fd), justify="right"), Text(e.kind), Text(e.mode), name)

    class Two(App[None]):
        CSS = "DataTable { height: 1fr; }"

        def compose(self) -> ComposeResult:
            yield FdTable(cursor_type="row", zebra_stripes=True)
            yield DataTable(cursor_type="row", zebra_stripes=True)

    app = Two()
    async with app.run_test(size=(60, 40)) as pilot:
        ours, theirs = app.query_one(FdTable), app.query(DataTable).last()
        for table in (ours, theirs):
            table.add_columns("FD", "TYPE", "MODE", "NAME")
        await pilot.pause()  # laid out: the screen is up when the files are read
        ours.fill(
            [
                (
                    FdCell(str(e.fd), right=True),
                    FdCell(e.kind),
                    FdCell(e.mode),
                    FdCell(e.name, deleted=e.deleted),
                )
                for e in entries
            ]
            + [(Text(""), Text(""), Text(""), Text("… and 2 more", "red"))]
        )
        # widths and scrollbar at once, not when the table is next idle (after a paint)
        names = [cell_len(e.name) + (10 if e.deleted else 0) for e in entries]
        assert [c.content_width for c in ours.ordered_columns] == [5, 4, 4, max(names)]
        assert ours.show_vertical_scrollbar and ours.virtual_size.height == 302
        for e in entries:
            theirs.add_row(*texts(e))
        theirs.add_row(Text(""), Text(""), Text(""), Text("… and 2 more", "red"))
        await pilot.pause()

        shown: dict[object, tuple[list[str], list[str]]] = {}

        def drawn(table: DataTable[object]) -> list[str]:
            return [
                "".join(f"{s.text}{s.style}" for s in table.render_line(y))
                for y in range(table.size.height)
            ]

        for move in ("", "down", "down", "pagedown", "ctrl+end"):  # (End: ours goes down too)
            for table in (ours, theirs):
                table.focus()
                await pilot.pause()
                if move:
                    await pilot.press(move)
                await pilot.pause()
                lines = drawn(table)  # focused: its header and cursor colours
                app.set_focus(None)
                await pilot.pause()
                shown[table] = (lines, drawn(table))
            assert ours.row_count == theirs.row_count == 301
            assert ours.virtual_size == theirs.virtual_size
            assert [c.content_width for c in ours.ordered_columns] == [
                c.content_width for c in theirs.ordered_columns
            ]
            assert ours.cursor_row == theirs.cursor_row
            assert shown[ours] == shown[theirs]

        # the mouse: a click moves the cursor to the row under it, hovering marks a row, as
        # in a DataTable (FdTable makes its cells' segments, with the row and column in them)
        for table in (ours, theirs):
            table.scroll_home(animate=False, immediate=True)
            await pilot.click(table, offset=(2, 5))
            await pilot.hover(table, offset=(3, 8))
            await pilot.pause()
            shown[table] = (drawn(table), [])
        assert ours.cursor_row == theirs.cursor_row == 4
        assert ours.hover_coordinate.row == theirs.hover_coordinate.row == 7
        assert shown[ours] == shown[theirs]


async def test_a_refilled_fd_table_is_as_wide_as_its_new_rows() -> None:
    """A fill replaces the columns' widths (the app keeps the screen: the next process's
    names may be shorter than the last one's)."""
    from textual.app import App, ComposeResult

    from pidtop.ui.screens.files import FdCell, FdTable

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield FdTable(cursor_type="row")

    async with One().run_test(size=(100, 30)) as pilot:
        table = pilot.app.query_one(FdTable)
        table.add_columns("FD", "TYPE", "MODE", "NAME")
        table.fill([(FdCell("12345"), FdCell("FIFO"), FdCell("rw"), FdCell("x" * 80))])
        table.fill([(FdCell("1"), FdCell("REG"), FdCell("r"), FdCell("short"))])
        assert [c.content_width for c in table.ordered_columns] == [2, 4, 4, 5]
