"""A low fd limit (``ulimit -n 64``) leaves pins and kills working, with real numbers.

The fixed reserve of 64 fds left a budget of 0 under ``ulimit -n 64``: Space said "unpin
something" with nothing pinned and ``k`` was refused. The script runs in a subprocess whose
RLIMIT_NOFILE (soft and hard, as ``ulimit -n 64`` sets them) is really 64, with real children.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

from procs import pidtop_env

SCRIPT = r"""
import asyncio, json, os, resource, signal, subprocess, sys
from pidtop.actions.eventlog import EventLog
from pidtop.kernel.errors import FdLimit, raise_fd_limit
from pidtop.actions.pins import PinSet
from test_pins import info_for

resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))  # ulimit -n 64
out = {"raised": raise_fd_limit()}  # what the TUI does first: the hard limit is 64 too
quiet = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
sleepers = [subprocess.Popen(["sleep", "1000"], **quiet) for _ in range(int(sys.argv[1]))]
infos = [info_for(p.pid) for p in sleepers]

async def ui() -> None:
    from pidtop.sampling.sampler import ProcSampler
    from pidtop.ui.app import PidtopApp
    app = PidtopApp(ProcSampler(), delay=0.2, pids=frozenset([infos[0].pid]))
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        for _ in range(500):
            if app.table.rows and app.samples_merged >= 2:
                break
            await pilot.pause(0.02)
        await pilot.press("space")
        out["ui_pins"] = len(app.pins)
        await pilot.press("space")  # unpin again
        await pilot.press("k")
        for _ in range(500):  # bounded waits (10 s), never a fixed sleep
            if type(app.screen).__name__ == "SignalScreen":
                break
            await pilot.pause(0.02)
        await pilot.press("enter")  # SIGTERM to the cursor's process
        for _ in range(500):
            if any(e.kind == "signal" for e in app.events.entries) and app._notifications:
                break
            await pilot.pause(0.02)
        out["ui_notes"] = [str(n.message) for n in app._notifications]

async def core() -> None:
    pins = PinSet(EventLog())
    out["budget"] = pins.budget.limit
    out["reserve"] = pins.budget.reserve
    refused = None
    for info in infos[1:]:
        try:
            pins.pin(info)
        except FdLimit as e:
            refused = str(e)
            break
    out["pinned"] = len(pins)
    out["refused"] = refused
    out["fds_open"] = len(os.listdir("/proc/self/fd"))
    pinned = {p.key for p in pins}
    cursor = next(i for i in infos[1:] if i.key not in pinned)
    other = PinSet(EventLog(), budget=pins.budget)
    [t] = other.targets(cursor)
    out["cursor_kill"] = [r.outcome for r in other.send([t], signal.SIGKILL)]
    other.release([t])
    pins.close()

try:
    asyncio.run(ui())
    asyncio.run(core())
finally:
    for p in sleepers:
        p.kill()
        p.wait()
print(json.dumps(out))
"""


def run(n: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(n)],
        capture_output=True,
        text=True,
        timeout=120,
        env=pidtop_env(),
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_ulimit_64_still_pins_and_kills_with_real_numbers() -> None:
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[1] > 64
    r = run(60)
    assert r["raised"] == 64
    assert (r["budget"], r["reserve"]) == (48, 16)  # a quarter kept, not all 64
    assert r["ui_pins"] == 1, r["ui_notes"]  # Space pinned
    notes = r["ui_notes"]
    assert isinstance(notes, list)
    assert any("SIGTERM delivered" in n for n in notes), notes  # k + Enter signalled
    assert r["pinned"] == 48  # the whole budget, then a refusal with the real numbers
    assert "fd budget exhausted (48 pins; limit 48 = RLIMIT_NOFILE 64 minus 16 kept" in str(
        r["refused"]
    )
    assert isinstance(r["fds_open"], int) and r["fds_open"] < 64  # no EMFILE was hit
    assert r["cursor_kill"] == ["delivered"]  # budget full: the cursor's process still works


JOURNAL_SCRIPT = r"""
import json, os, resource, signal, subprocess, sys, time
from pidtop.actions.eventlog import EventLog
from pidtop.actions.pins import PinSet
from pidtop.journal.service import ExitRecord, Journal
from pidtop.kernel.errors import raise_fd_limit
from test_pins import info_for

resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))  # ulimit -n 64
raise_fd_limit()
quiet = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
sleepers = [subprocess.Popen(["sleep", "1000"], **quiet) for _ in range(60)]
out = {}
try:
    pins = PinSet(EventLog())
    budget = pins.budget
    j = Journal(budget=budget, interval=0.05)
    j.start(use_connector=False)  # the fallback, as in a container
    j.pump(0.1)
    out["journal_held"] = budget.held["journal"]
    out["spare"] = budget.free
    pinned = 0
    for p in sleepers:
        if pinned < budget.limit:
            pins.pin(info_for(p.pid))  # FdLimit here: the journal did not give way
            pinned += 1
    out["pinned"] = pinned
    out["journal_after"] = budget.held["journal"]
    j.pump(0.1)  # the next listing finds the budget full
    out["note"] = j.note
    out["describe"] = budget.describe()
    out["fds_open"] = len(os.listdir("/proc/self/fd"))
    j.close()
    out["journal_closed"] = budget.held["journal"]
    pins.close()
finally:
    for p in sleepers:
        p.kill()
        p.wait()
print(json.dumps(out))
"""


def test_ulimit_64_the_journal_fallback_shares_the_budget_and_gives_way_to_pins() -> None:
    """The journal's pidfd fallback takes its fds from the pins' budget (holder "journal"),
    leaves the spare reserve, and gives every fd back when pins need
    the whole budget; the processes it then cannot watch are said in its note."""
    out = subprocess.run(
        [sys.executable, "-c", JOURNAL_SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        env=pidtop_env(),
    )
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["journal_held"] == 48 - 8 and r["spare"] == 8  # budget 48, spare reserve 8
    assert r["pinned"] == 48 and r["journal_after"] == 0  # pins come first
    assert "processes not watched" in r["note"] and "let go for pins" in r["note"], r["note"]
    assert r["describe"].startswith("48 pins"), r["describe"]
    assert r["fds_open"] < 64
    assert r["journal_closed"] == 0


#: the part both out-of-fds scripts share (prepended to them): keys pressed with every fd taken
FDS_HELD = r"""
import os

async def with_every_fd_held(app, pilot, keys, out, again, opened):
    # Press `keys` with every fd taken (as `ulimit -n 8` leaves it: a screen's import needs one)
    # and note the screen, pins, budget, whether the app runs and its notifications; then, with
    # fds again, press `again` and note the screen it opens (`opened`, waited for, bounded).
    held = []
    try:
        while True:
            held.append(os.open("/dev/null", os.O_RDONLY))
    except OSError:
        pass
    try:
        for key in keys:
            await pilot.press(key)
            await pilot.pause(0.05)
        out["screen"] = type(app.screen).__name__
        out["pins_after"] = len(app.pins)
        out["held_after"] = dict(app.pins.budget.held)
        out["running"] = app.is_running and app.return_code is None
        out["notes"] = [str(n.message) for n in app._notifications]
    finally:
        for fd in held:
            os.close(fd)
    await pilot.press(again)  # fds again: the screen opens (nothing half-imported is left)
    for _ in range(500):
        if type(app.screen).__name__ == opened:
            break
        await pilot.pause(0.02)
    out["after"] = type(app.screen).__name__
"""


SCREENS_SCRIPT = (
    FDS_HELD
    + r"""
import asyncio, json, os, sys
from pidtop.sampling.sampler import ProcSampler
from pidtop.ui.app import PidtopApp

out = {}

async def ui() -> None:
    app = PidtopApp(ProcSampler(), delay=60.0, pids=frozenset([os.getpid()]))
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        for _ in range(500):  # bounded (10 s)
            if app.table.rows:
                break
            await pilot.pause(0.02)
        keys = sys.argv[1:]
        if keys[0] == "--pin":  # pin the row first: its pidfd is held before the fds run out
            keys = keys[1:]
            await pilot.press("space")
            out["pinned"] = len(app.pins)
        out["imported_before"] = [m for m in sys.modules if m.startswith("pidtop.ui.screens.")]
        await with_every_fd_held(app, pilot, keys, out, "L", "EventLogScreen")

asyncio.run(ui())
print(json.dumps(out))
"""
)


def test_out_of_fds_a_screen_that_cannot_be_imported_is_said_not_a_crash() -> None:
    """Every fd held (as ``ulimit -n 8`` leaves it): E (exits), Enter (details), e
    (environment), l (open files), L (event log), S (setup), ? (help) each import their screen
    when first pressed; each import fails with EMFILE. Each is a notification; the monitor runs
    on, and once fds are free L opens the event log."""
    keys = ["E", "enter", "e", "l", "L", "S", "question_mark"]
    out = subprocess.run(
        [sys.executable, "-c", SCREENS_SCRIPT, *keys],
        capture_output=True,
        text=True,
        timeout=120,
        env=pidtop_env(),
    )
    assert out.returncode == 0, out.stderr[-3000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["imported_before"] == []  # else the test proves nothing
    assert r["running"] and r["screen"] == "Screen", r  # still the table
    said = [n for n in r["notes"] if "out of file descriptors" in n]
    for what in ("Exits screen", "details", "environment", "open files", "event log", "setup"):
        assert any(f"Cannot open the {what}" in n for n in said), (what, r["notes"])
    assert any("Cannot open the help" in n for n in said), r["notes"]
    assert r["after"] == "EventLogScreen"


def test_out_of_fds_the_pickers_of_a_pinned_row_are_said_and_its_targets_let_go() -> None:
    """A pinned row, then every fd held: ``k`` (signal picker), ``i`` (I/O priority), ``a``
    (CPUs) import their picker when first pressed; each import fails with EMFILE. Each is a
    notification (was: the monitor ended), the pin stays, and the action's hold on it is let go."""
    out = subprocess.run(
        [sys.executable, "-c", SCREENS_SCRIPT, "--pin", "k", "i", "a"],
        capture_output=True,
        text=True,
        timeout=120,
        env=pidtop_env(),
    )
    assert out.returncode == 0, out.stderr[-3000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["imported_before"] == [] and r["pinned"] == 1  # else the test proves nothing
    assert r["running"] and r["screen"] == "Screen", r
    said = [n for n in r["notes"] if "out of file descriptors" in n]
    for what in ("signal picker", "I/O priority picker", "CPU picker"):
        assert any(f"Cannot open the {what}" in n for n in said), (what, r["notes"])
    assert r["pins_after"] == 1
    assert r["held_after"]["action"] == 0, r["held_after"]  # no action holds the pin any more
    assert r["after"] == "EventLogScreen"


REPLAY_SCRIPT = (
    FDS_HELD
    + r"""
import asyncio, json, os, sys
from pathlib import Path
from pidtop.demo.journal import scripted_records
from pidtop.demo.source import ScriptedSource
from pidtop.record import store
from pidtop.record.reader import Reader
from pidtop.record.replay import ReplayJournal, ReplaySource
from pidtop.record.writer import Writer
from pidtop.ui.app import PidtopApp

path = Path(sys.argv[1])
src = ScriptedSource()
w = Writer(store.connect(path, write=True))
snap = src.sample()
w.begin_run(snap, pid=1, host="demo", boot_id="b", interval=1.5, exits_complete=True, note="")
w.write_sample(snap, exits_complete=False)
w.write_sample(src.sample(), exits_complete=True)
w.write_exits(scripted_records())
w.db.close()
out = {}

async def ui() -> None:
    source = ReplaySource(Reader(path), None)
    app = PidtopApp(source, journal=ReplayJournal(source))
    app.replay = source
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        for _ in range(500):  # bounded (10 s)
            if app.samples_merged:
                break
            await pilot.pause(0.02)
        out["imported_before"] = [
            m for m in ("pidtop.ui.screens.replay_time",) if m in sys.modules
        ]
        await with_every_fd_held(app, pilot, ["g"], out, "g", "TimeScreen")

asyncio.run(ui())
print(json.dumps(out))
"""
)


def test_out_of_fds_the_replay_time_prompt_is_said_not_a_crash(tmp_path: Path) -> None:
    """``g`` in a replay imports the time prompt when first pressed; out of fds that import
    fails: a notification (was: the monitor ended), and with fds again ``g`` opens it."""
    out = subprocess.run(
        [sys.executable, "-c", REPLAY_SCRIPT, str(tmp_path / "r.db")],
        capture_output=True,
        text=True,
        timeout=120,
        env=pidtop_env(),
    )
    assert out.returncode == 0, out.stderr[-3000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["imported_before"] == []  # else the test proves nothing
    assert r["running"] and r["screen"] == "Screen", r
    assert any("Cannot open the time prompt: out of file descriptors" in n for n in r["notes"]), r
    assert r["after"] == "TimeScreen"
