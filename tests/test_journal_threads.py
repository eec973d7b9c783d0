"""Real processes whose leader thread ends before the process does (many trials each).

A small C program (built here with the system's C compiler): in ``exit`` mode the leader thread
calls ``SYS_exit`` (the kernel sends EXIT pid == tgid, status 0) and another thread later calls
``exit(3)``; in ``exec`` mode a non-leader thread calls ``execl("/bin/sh", "sh", "-c", "exit 4")``
(the kernel ends the old leader first). Each must give exactly one record with the real code.
Also: short shells are named (their own name, never their parent's).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pidtop.journal.service import ExitRecord, Journal, JournalReader, Record

PROGRAM = r"""
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
static void *run(void *arg) {
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    if (arg) execl("/bin/sh", "sh", "-c", "exit 4", (char *)0);
    exit(3); /* exit_group from a non-leader thread */
}
int main(int argc, char **argv) {
    pthread_t t;
    int exec_mode = argc > 1 && argv[1][0] == 'x';
    pthread_create(&t, NULL, run, exec_mode ? (void *)1 : NULL);
    if (exec_mode) { pthread_join(t, NULL); return 9; }
    syscall(SYS_exit, 0); /* the leader thread ends first; the process lives on */
    return 8;
}
"""
TRIALS = 20


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build the test program")
    where = tmp_path_factory.mktemp("leader")
    (where / "leader.c").write_text(PROGRAM)
    subprocess.run([cc, "-O2", "-pthread", "-o", str(where / "leader"), str(where / "leader.c")],
                   check=True)  # fmt: skip
    return where / "leader"


@pytest.fixture
def journal() -> Iterator[Journal]:
    j = Journal(keep=100_000)
    j.start()
    assert j.complete, j.note
    yield j
    j.close()


def pump_until(j: Journal, got: list[Record], pids: set[int], timeout: float = 15.0) -> None:
    """Pump until every PID has a record (bounded), then 0.3 s more: a late duplicate shows."""
    deadline = time.monotonic() + timeout
    while {r.pid for r in got if isinstance(r, ExitRecord)} < pids:
        assert time.monotonic() < deadline, "journal did not report in time"
        got.extend(j.pump(0.1))
    end = time.monotonic() + 0.3
    while time.monotonic() < end:
        got.extend(j.pump(0.05))


@pytest.mark.parametrize(("mode", "code", "comm"), [("exit", 3, "leader"), ("x", 4, "sh")],
                         ids=["leader-exits-first", "exec-from-a-thread"])  # fmt: skip
def test_one_record_with_the_real_code(
    journal: Journal, program: Path, mode: str, code: int, comm: str
) -> None:
    got: list[Record] = []
    pids = set()
    for _ in range(TRIALS):
        p = subprocess.Popen([str(program), mode])
        assert p.wait(10) == code
        pids.add(p.pid)
        got.extend(journal.pump(0))  # reads interleave with the trials: boundaries anywhere
    pump_until(journal, got, pids)
    mine = [r for r in got if isinstance(r, ExitRecord) and r.pid in pids]
    assert len(mine) == TRIALS, [(r.pid, r.exit_code) for r in mine]
    assert {(r.exit_code, r.signal) for r in mine} == {(code, None)}
    assert {r.comm for r in mine} <= {comm, None}
    assert all(r.lifetime_s is not None and r.lifetime_s >= 0.015 for r in mine)


def test_short_shells_are_named(journal: Journal) -> None:
    """100 shells living about 5 ms, the journal read by its thread as in the monitor: at
    least 95 named by their own name, none by another (their parent is python)."""
    got: list[Record] = []
    reader = JournalReader(journal, got.extend)
    reader.start()
    pids = set()
    try:
        for _ in range(100):
            p = subprocess.Popen(["sh", "-c", "sleep 0.005; exit 4"])
            pids.add(p.pid)
            assert p.wait(10) == 4
        deadline = time.monotonic() + 15
        while {r.pid for r in list(got) if isinstance(r, ExitRecord)} < pids:
            assert time.monotonic() < deadline, "journal did not report in time"
            time.sleep(0.05)
    finally:
        reader.stop()
    mine = [r for r in got if isinstance(r, ExitRecord) and r.pid in pids]
    assert len(mine) == 100 and {r.exit_code for r in mine} == {4}
    argv = "sh -c sleep 0.005; exit 4"
    wrong = [(r.comm, r.cmdline) for r in mine if r.comm not in ("sh", None)]
    wrong += [(r.comm, r.cmdline) for r in mine if r.cmdline not in (argv, None)]
    assert not wrong
    named = sum(r.comm == "sh" for r in mine)
    assert named >= 95, f"{named} of 100 named"
