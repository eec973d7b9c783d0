"""Pins, live exits, kill, wait and the event log in the UI, with REAL processes and the real
ProcSampler. Every wait is a bounded pump of the event loop until a condition holds; exits are
seen through the pidfd event, checked with sampling paused (``Z``) so no sample can explain it.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from procs import (
    HAS_PIDFS_INODES,
    Target,
    nonexistent_pid,
    pid_namespace_unavailable,
    run_in_pid_namespace,
    spawn,
)
from textual.pilot import Pilot
from uitools import notes, strip_text, wait_for

from pidtop.actions.eventlog import EventLog
from pidtop.actions.pins import PinSet
from pidtop.kernel.fdbudget import FdBudget
from pidtop.kernel.identity import Identity
from pidtop.sampling.sampler import ProcSampler
from pidtop.settings.options import Options
from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.eventlog import EventLogScreen, EventLogView
from pidtop.ui.screens.signals import ConfirmScreen, SignalScreen
from pidtop.ui.startup import StartupError, build_app, run_tui

SIZE = (160, 40)
TESTS = Path(__file__).resolve().parent


class BellApp(PidtopApp):
    """Counts bells instead of ringing."""

    bells = 0

    def bell(self) -> None:
        self.bells += 1


def make_app(targets: list[Target], **kwargs: object) -> BellApp:
    kwargs.setdefault("delay", 0.2)
    return BellApp(
        ProcSampler(),
        sort_column="pid",
        sort_reverse=False,
        pids=frozenset(t.pid for t in targets),
        **kwargs,  # type: ignore[arg-type]
    )


async def rows_for(pilot: Pilot, app: PidtopApp, n: int) -> None:
    await wait_for(pilot, lambda: len(app.table.rows) == n and app.samples_merged >= 2)
    await pilot.pause()


def running(pid: int) -> bool:
    """True while ``pid`` (ours, held by a pidfd) has not exited."""
    fd = os.pidfd_open(pid)
    try:
        p = select.poll()
        p.register(fd, select.POLLIN)
        return not p.poll(0)
    finally:
        os.close(fd)


@contextmanager
def targets(n: int = 1, **kwargs: object) -> Iterator[list[Target]]:
    made = [spawn(**kwargs) for _ in range(n)]  # type: ignore[arg-type]
    try:
        yield made
    finally:
        for t in made:
            t.close()


async def test_pinned_child_exit_shows_at_once_without_a_sample() -> None:
    with targets() as (t,):
        app = make_app([t])
        async with app.run_test(size=SIZE) as pilot:
            await rows_for(pilot, app, 1)
            assert not app.strip.display  # hidden while nothing is pinned
            await pilot.press("space")
            assert len(app.pins) == 1 and app.strip.display
            assert "alive" in strip_text(app)
            assert app.view._row_strip(0).text.startswith("●")
            await pilot.press("Z")  # frozen: only the pidfd can tell us now
            merged = app.samples_merged
            t.exit(3)
            await wait_for(pilot, lambda: "exit 3" in strip_text(app))
            assert app.samples_merged == merged
            text = strip_text(app)
            assert "exited" in text and f"{t.pid}:" in text and "lived" in text
            assert app.view._row_strip(0).text.startswith("✕")  # the table row, at once
            kinds = [e.kind for e in app.events.entries]
            assert kinds == ["pin", "exit"]
            # dismiss it with x (the table cursor is on it)
            await pilot.press("x")
            assert len(app.pins) == 0 and not app.strip.display


async def test_nonchild_killed_by_sigterm_exited_then_reaped() -> None:
    with targets(kind="nonchild", reaper="parent") as (t,):
        app = make_app([t])
        async with app.run_test(size=SIZE) as pilot:
            await rows_for(pilot, app, 1)
            await pilot.press("space", "Z")
            fd = t.pidfd()
            signal.pidfd_send_signal(fd, signal.SIGTERM)
            os.close(fd)
            await wait_for(pilot, lambda: "status unknown" in strip_text(app))
            assert "exited" in strip_text(app)  # a zombie: its parent has not reaped it
            t.reap()
            await wait_for(pilot, lambda: "killed by SIGTERM" in strip_text(app))
            assert "reaped" in strip_text(app)
            assert [e.kind for e in app.events.entries] == ["pin", "exit", "reaped"]


async def test_kill_via_picker_signals_the_cursor_process() -> None:
    with targets() as (t,):
        app = make_app([t])
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await rows_for(pilot, app, 1)
            await pilot.press("k")
            await wait_for(pilot, lambda: isinstance(app.screen, SignalScreen))
            await pilot.press("enter")  # SIGTERM is preselected
            await wait_for(pilot, lambda: any("SIGTERM delivered" in m for m in notes(app)))
            await wait_for(pilot, lambda: not running(t.pid))
            budget = app.pins.budget  # (the sampler keeps its stat files: counted apart)
            assert budget.used == budget.stat_files  # the temporary handle was released
            assert any(e.kind == "signal" and e.ok for e in app.events.entries)


async def test_escalation_kills_a_process_that_ignores_term() -> None:
    with targets(ignore_term=True) as (t,):
        app = make_app([t])
        app.escalate_after = 0.3
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await rows_for(pilot, app, 1)
            await pilot.press("space", "k")
            await wait_for(pilot, lambda: isinstance(app.screen, SignalScreen))
            await pilot.press(*"escalate", "enter")
            await wait_for(pilot, lambda: any("SIGKILL delivered" in m for m in notes(app)))
            msg = next(m for m in notes(app) if "SIGKILL delivered" in m)
            assert "SIGTERM delivered" in msg  # both steps, one process, one line
            await wait_for(pilot, lambda: "killed by SIGKILL" in strip_text(app))


async def test_quit_with_an_escalation_pending_asks_first() -> None:
    """q while "SIGTERM, then SIGKILL after 30 s" is pending: a confirmation (default No); the
    pin is unpinned meanwhile (Space) and the action goes on; Yes quits."""
    with targets(ignore_term=True) as (t,):
        app = make_app([t])
        app.escalate_after = 30
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await rows_for(pilot, app, 1)
            await pilot.press("space", "k")
            await wait_for(pilot, lambda: isinstance(app.screen, SignalScreen))
            await pilot.press(*"escalate", "enter")
            await wait_for(pilot, lambda: any(e.kind == "signal" for e in app.events.entries))
            assert len(app.pins.pending_actions) == 1
            await pilot.press("U")  # unpin: the escalation holds its own reference
            assert len(app.pins) == 0 and len(app.pins.pending_actions) == 1
            await pilot.press("q")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            text = " ".join(str(w.render()) for w in app.screen.query("Label, Static"))
            assert "SIGKILL to 1 process in" in text and "will not be sent" in text
            await pilot.press("n")
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
            assert app.is_running and len(app.pins.pending_actions) == 1
            await pilot.press("q", "y")
            await wait_for(pilot, lambda: not app.is_running)
        assert running(t.pid)  # the KILL was not sent: the user chose to quit


async def test_wait_goes_on_after_unpin_all() -> None:
    """Space, w, U typed as one burst: the wait holds its own references, so the exit after
    the unpin is still reported (it used to end the wait silently)."""
    with targets() as (t,):
        app = make_app([t])
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await rows_for(pilot, app, 1)
            await pilot.press("space", "w", "U")
            await wait_for(pilot, lambda: len(app.pins) == 0)
            assert len(app.waited) == 1
            t.exit(7)
            await wait_for(pilot, lambda: any("exited with code 7" in m for m in notes(app)))
            assert app.bells == 1 and not app.waited


async def test_wait_notifies_counts_down_and_rings() -> None:
    with targets(2) as (t1, t2):
        app = make_app([t1, t2])
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await rows_for(pilot, app, 2)
            await pilot.press("space", "space", "w")
            assert "waiting for 2 processes" in strip_text(app)
            assert "Waiting for 2 processes" in app.meters.status
            t1.exit(0)
            await wait_for(pilot, lambda: "waiting for 1 process " in strip_text(app))
            assert app.bells == 1
            assert any("exited with code 0" in m for m in notes(app))
            t2.exit(5)
            await wait_for(pilot, lambda: any("All 2 waited" in m for m in notes(app)))
            assert app.bells == 2 and "waiting" not in strip_text(app)
            assert any("exited with code 5" in m for m in notes(app))


async def test_wait_notifies_the_status_its_parent_reaps_not_unknown() -> None:
    """A waited non-child exits (a zombie: status unknown), then its parent reaps it: ONE
    notification (and bell), with the status the reap revealed, never "exit status unknown";
    the indicator keeps counting it until then."""
    with targets(kind="nonchild", reaper="parent") as (t,):
        app = make_app([t])
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await rows_for(pilot, app, 1)
            await pilot.press("space", "Z", "w")
            assert "waiting for 1 process " in strip_text(app)
            t.exit(3)
            await wait_for(pilot, lambda: "status unknown" in strip_text(app))  # the zombie
            assert "waiting for 1 process " in strip_text(app)  # its wait is not over
            assert app.bells == 0 and not any("exit" in m for m in notes(app))
            t.reap()
            await wait_for(pilot, lambda: any("All 1 waited" in m for m in notes(app)))
            waited = [m for m in notes(app) if "exited with code" in m or "unknown" in m]
            assert len(waited) == 1 and "exited with code 3" in waited[0], notes(app)
            assert app.bells == 1 and "waiting" not in strip_text(app)


async def test_wait_of_a_process_with_a_long_command_line_still_says_its_status() -> None:
    """A notification is cut to fit (400 cells): the command line is cut, not the status after
    it (a waited process run with a 600-character argument used to be notified without it)."""
    long_arg = "x" * 600
    proc = subprocess.Popen(["sh", "-c", "read line; exit 7", long_arg], stdin=subprocess.PIPE)
    t = Target(proc.pid, True, proc.stdin.fileno())  # type: ignore[union-attr]
    try:
        app = make_app([t])
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await rows_for(pilot, app, 1)
            await pilot.press("space", "w")
            os.write(t.cmd_w, b"\n")
            await wait_for(pilot, lambda: any("exited with code 7" in m for m in notes(app)))
            (note,) = [m for m in notes(app) if "exited with code 7" in m]
            assert f"{proc.pid}:" in note and "xxxx" in note and "…" in note
    finally:
        proc.kill()
        proc.wait()
        proc.stdin.close()  # type: ignore[union-attr]


async def test_wait_cancel_with_escape_and_no_bell() -> None:
    with targets() as (t,):
        app = make_app([t], bell=False)
        async with app.run_test(size=SIZE) as pilot:
            await rows_for(pilot, app, 1)
            await pilot.press("space", "w")
            assert app.waited
            await pilot.press("escape")
            assert not app.waited and "waiting" not in strip_text(app)
            await pilot.press("w")
            t.exit(0)
            await wait_for(pilot, lambda: not app.waited)
            assert app.bells == 0


async def test_confirmation_for_more_than_five_and_no_sends_nothing() -> None:
    with targets(6) as ts:
        app = make_app(ts)
        async with app.run_test(size=SIZE) as pilot:
            await rows_for(pilot, app, 6)
            await pilot.press(*["space"] * 6)
            assert len(app.pins) == 6
            await pilot.press("k")
            await wait_for(pilot, lambda: isinstance(app.screen, SignalScreen))
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("enter")  # the focused default is No
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
            await pilot.pause(0.1)
            assert all(running(t.pid) for t in ts)
            assert not any(e.kind == "signal" and e.ok for e in app.events.entries)
            assert "not confirmed" in app.events.entries[-1].message


async def test_kill_of_many_pins_is_one_short_notification() -> None:
    """Nine pins killed: one summary notification (one line, counts, a pointer to the log),
    not one per process; the per-process results are in the event log. ``}``/``{`` change
    the delay in the header without a notification each."""
    with targets(9) as ts:
        app = make_app(ts)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await rows_for(pilot, app, 9)
            await pilot.press(*["space"] * 9)
            before = len(notes(app))
            await pilot.press("k")
            await wait_for(pilot, lambda: isinstance(app.screen, SignalScreen))
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await wait_for(pilot, lambda: len(notes(app)) > before)
            await wait_for(pilot, lambda: not any(running(t.pid) for t in ts))
            new = notes(app)[before:]
            assert len(new) == 1, new
            assert new[0].startswith("SIGTERM: 9 delivered") and "L for details" in new[0]
            assert "\n" not in new[0] and len(new[0]) <= 80
            assert sum(e.kind == "signal" for e in app.events.entries) == 9
            before = len(notes(app))
            await pilot.press("right_curly_bracket", "left_curly_bracket", "left_curly_bracket")
            # keys typed while the confirm dialog's pop is pending are held and replayed in order:
            # wait for the last to land (0.2 -> 0.5 -> 0.2 -> 0.1: only the last gives 0.1)
            await wait_for(pilot, lambda: "Delay: 0.1s" in app.meters.status)
            assert len(notes(app)) == before


async def test_fd_budget_exhaustion_is_a_clear_refusal() -> None:
    with targets(2) as ts:
        pins = PinSet(EventLog(), budget=FdBudget(limit=1, reserve=0))
        app = make_app(ts, pins=pins)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await rows_for(pilot, app, 2)
            await pilot.press("space")
            assert len(app.pins) == 1
            await pilot.press("space")  # the cursor moved to the second process
            assert len(app.pins) == 1
            assert any("fd budget" in m for m in notes(app))
            assert app.events.entries[-1].kind == "pin_refused"
            merged = app.samples_merged
            await wait_for(pilot, lambda: app.samples_merged > merged)  # still sampling
            ts[0].exit(0)
            await wait_for(pilot, lambda: "exit 0" in strip_text(app))


async def test_watch_all_marks_any_row_on_exit() -> None:
    with targets() as (t,):
        app = make_app([t], watch_all=True)
        async with app.run_test(size=SIZE) as pilot:
            await rows_for(pilot, app, 1)
            assert app.watch_all is not None
            await wait_for(pilot, lambda: len(app.watch_all) >= 1)  # type: ignore[arg-type]
            assert any(p.startswith("Watch:") for p in app.meters.status)
            await pilot.press("Z")
            t.exit(0)
            await wait_for(pilot, lambda: app.view._row_strip(0).text.startswith("✕"))


async def test_event_log_screen_lists_entries() -> None:
    with targets() as (t,):
        app = make_app([t])
        async with app.run_test(size=SIZE) as pilot:
            await rows_for(pilot, app, 1)
            await pilot.press("space", "L")
            await wait_for(pilot, lambda: isinstance(app.screen, EventLogScreen))
            t.exit(7)
            view = app.screen.query_one(EventLogView)

            def shot() -> str:
                lines = (view.line_text(y, whole=True) for y in range(view.size.height))
                return " ".join(line.strip() for line in lines)

            # bounded wait on what is drawn (it failed once under load read right after a pause)
            await wait_for(pilot, lambda: "exited with code 7" in shot())
            assert f"pinned {t.pid}:" in shot()
            assert "Event log — 2 entries" in str(app.screen.query_one("#log-title").render())
            await pilot.press("escape")
            assert not isinstance(app.screen, EventLogScreen)


# ------------------------------------------------------------------ command line


def test_bad_pin_target_is_an_error_before_the_ui(capsys: pytest.CaptureFixture[str]) -> None:
    """Exit statuses as documented in --help: no such process 3, now another process 5,
    malformed 2 (--pin used to exit 2 for all of them)."""
    gone = nonexistent_pid()
    with pytest.raises(StartupError, match=f"--pin {gone}"):
        build_app(Options(pin=(Identity(gone),)))
    assert run_tui(Options(pin=(Identity(gone),))) == 3
    assert "no such process" in capsys.readouterr().err
    out = subprocess.run(
        [sys.executable, "-m", "pidtop", "--pin", "12ab"], capture_output=True, text=True
    )
    assert out.returncode == 2 and "malformed target" in out.stderr
    out = subprocess.run(
        [sys.executable, "-m", "pidtop", "--pin", str(gone)], capture_output=True, text=True
    )
    assert out.returncode == 3 and "no such process" in out.stderr


@pytest.mark.skipif(not HAS_PIDFS_INODES, reason="PID:INODE needs unique pidfs inodes")
def test_pin_of_a_recycled_identity_exits_5() -> None:
    with targets() as (t,):
        inode = os.fstat(fd := os.pidfd_open(t.pid)).st_ino
        os.close(fd)
        out = subprocess.run(
            [sys.executable, "-m", "pidtop", "--pin", f"{t.pid}:{inode + 1}"],
            capture_output=True,
            text=True,
        )
    assert out.returncode == 5, out.stderr
    assert "is now another process" in out.stderr


def test_exit_when_gone_needs_pins_and_log_must_be_writable(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="--exit-when-gone"):
        build_app(Options(exit_when_gone=True))
    with pytest.raises(StartupError, match="--log"):
        build_app(Options(log=str(tmp_path / "missing" / "log.jsonl")))


async def test_exit_when_gone_exits_with_status_0(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    with targets() as (t,):
        opts = Options(pin=(Identity(t.pid),), exit_when_gone=True, log=str(log), delay=0.2)
        app = build_app(opts)
        assert len(app.pins) == 1
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            t.exit(0)
            await wait_for(pilot, lambda: app.return_code == 0)
        app.events.close()
    kinds = [line.split('"kind": "')[1].split('"')[0] for line in log.read_text().splitlines()]
    assert kinds[:2] == ["pin", "exit"]


@pytest.mark.skipif(pid_namespace_unavailable() is not None, reason="no private PID namespace")
def test_stale_row_after_pid_reuse_is_never_pinned_or_signalled() -> None:
    """A shown row's PID is reused (private PID namespace): Space and k refuse, B lives."""
    out = run_in_pid_namespace((TESTS / "pidns_stale_pin.py").read_text(), timeout=60)
    assert out["reused"] is True, out
    assert out["pins"] == 0, out
    assert any("is now another process" in m for m in out["notes"]), out  # type: ignore[union-attr]
    assert out["picker_opened"] is False, out
    assert out["b_alive"] is True, out
    assert out["signals_sent"] == 0, out
