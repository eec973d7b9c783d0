"""``pidtop journal`` as a user runs it: a real process, real exits, pipes and signals."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

CMD = [sys.executable, "-m", "pidtop", "journal"]


class Running:
    """A ``pidtop journal`` process whose stdout lines are collected by a thread."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [*CMD, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.all: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_line(self, pred: object, timeout: float = 15.0, poke: bool = False) -> str:
        """The first new line with ``pred(line)``; with ``poke``, make an exit every 0.1 s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if poke:
                exit_child(0)
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            self.all.append(line)
            if pred(line):  # type: ignore[operator]
                return line
        raise AssertionError(f"no such line in {timeout} s; got {self.all[-5:]}")

    def rest(self, timeout: float = 10.0) -> tuple[list[str], int, str]:
        rc = self.proc.wait(timeout)
        time.sleep(0.05)
        out = []
        while not self.lines.empty():
            out.append(self.lines.get())
        assert self.proc.stderr is not None
        return out, rc, self.proc.stderr.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def journal_run() -> Iterator[list[Running]]:
    runs: list[Running] = []
    yield runs
    for r in runs:
        r.stop()


def exit_child(code: int) -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(code)
    os.waitpid(pid, 0)
    return pid


def mine(line: str) -> bool:
    return json.loads(line)["ppid"] == os.getpid()


def test_json_into_head_1_quietly() -> None:
    """``pidtop journal --json | head -1``: one JSON record, then pidtop ends with status 0 and
    nothing on stderr at its next write (a closed pipe is the reader's choice)."""
    journal = subprocess.Popen([*CMD, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    head = subprocess.Popen(["head", "-1"], stdin=journal.stdout, stdout=subprocess.PIPE)
    assert journal.stdout is not None
    journal.stdout.close()
    deadline = time.monotonic() + 20
    while journal.poll() is None and time.monotonic() < deadline:
        exit_child(1)  # exits to report (and, after head is gone, to make pidtop write again)
        time.sleep(0.05)
    assert journal.poll() is not None, "pidtop journal kept running into a closed pipe"
    out, _ = head.communicate(timeout=5)
    lines = out.decode().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert set(record) == {
        "event", "time", "pid", "ppid", "uid", "comm", "cmdline", "exit_code", "signal",
        "core_dumped", "coredump", "lifetime_s", "lifetime_resolution_s", "inode",
    }  # fmt: skip
    assert journal.returncode == 0
    assert journal.stderr is not None and journal.stderr.read() == b""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_flushes_and_exits_0(journal_run: list[Running], sig: int) -> None:
    run = Running("--json", "--ppid", str(os.getpid()))
    journal_run.append(run)
    run.wait_line(mine, poke=True)  # it is listening
    pid = exit_child(42)  # reported by the kernel before waitpid returns... or right after
    time.sleep(0.01)
    run.proc.send_signal(sig)
    lines, rc, err = run.rest()
    records = [json.loads(x) for x in run.all + lines]
    assert any(r["pid"] == pid and r["exit_code"] == 42 for r in records), records[-3:]
    assert rc == 0 and err == ""


def test_text_mode_sanitised_json_real(journal_run: list[Running]) -> None:
    """A hostile argv: text mode shows caret notation and no escape code at all (no terminal
    here, so no colours either); JSON carries the real text."""
    text = Running("--ppid", str(os.getpid()))
    js = Running("--json", "--ppid", str(os.getpid()))
    journal_run += [text, js]
    text.wait_line(lambda line: True, poke=True)
    js.wait_line(mine, poke=True)
    evil = "\x1b[31mred\x1b]0;title\x07"
    p = subprocess.Popen(["/bin/sh", "-c", "sleep 0.3; exit 3", evil])
    p.wait()
    line = text.wait_line(lambda line: f" {p.pid} " in line)
    assert "\x1b" not in line and "\x07" not in line
    assert "^[[31mred^[]0;title^G" in line and " exit 3 " in line
    record = json.loads(js.wait_line(lambda line: json.loads(line)["pid"] == p.pid))
    assert record["cmdline"] == f"/bin/sh -c sleep 0.3; exit 3 {evil}"
    assert (record["comm"], record["exit_code"]) == ("sh", 3)
    assert 0.29 < record["lifetime_s"] < 5
    for r in (text, js):
        r.proc.send_signal(signal.SIGINT)
        _, rc, err = r.rest()
        assert rc == 0 and err == ""
    assert not any("\x1b" in x for x in text.all)


def test_failed_filter(journal_run: list[Running]) -> None:
    run = Running("--json", "--failed", "--ppid", str(os.getpid()))
    journal_run.append(run)
    # listening once a failing child is reported; successes in between must not appear
    deadline = time.monotonic() + 15
    first = None
    while first is None and time.monotonic() < deadline:
        exit_child(0)
        exit_child(9)
        try:
            first = json.loads(run.lines.get(timeout=0.2))
        except queue.Empty:
            continue
    assert first is not None and first["exit_code"] == 9
    ok, bad = exit_child(0), exit_child(5)
    line = json.loads(run.wait_line(lambda x: json.loads(x)["pid"] == bad))
    assert line["exit_code"] == 5
    run.proc.send_signal(signal.SIGINT)
    lines, rc, _ = run.rest()
    seen = {json.loads(x)["pid"] for x in run.all + lines}
    assert ok not in seen and rc == 0
    assert all(json.loads(x)["exit_code"] != 0 for x in run.all + lines)


def test_usage_errors_and_fallback_warning() -> None:
    bad = subprocess.run([*CMD, "--command", "("], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "bad regular expression" in bad.stderr
    bad = subprocess.run([*CMD, "--user", "nosuchuser"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown user" in bad.stderr
    # SIMULATED: the connector is forced off; the fallback must say it is incomplete
    proc = subprocess.Popen(
        [*CMD, "--no-connector", "--interval", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    warning = proc.stderr.readline()
    assert "exits between refreshes may be missed" in warning
    proc.send_signal(signal.SIGINT)
    assert proc.wait(60) == 0  # the first listing opens a pidfd per process: slow under load


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat", "rb") as f:
        return f.read().rpartition(b")")[2].split()[0].decode()


def test_sigint_writes_what_the_kernel_already_sent(journal_run: list[Running]) -> None:
    """Deterministic flush check: the journal is stopped (SIGSTOP) while five children exit,
    so their events wait in its socket; SIGINT arrives before it runs again. On SIGCONT it
    must write all five, then exit 0."""
    run = Running("--json", "--ppid", str(os.getpid()))
    journal_run.append(run)
    run.wait_line(mine, poke=True)
    os.kill(run.proc.pid, signal.SIGSTOP)
    deadline = time.monotonic() + 10
    while _state(run.proc.pid) != "T":
        assert time.monotonic() < deadline, "the journal did not stop"
        time.sleep(0.01)
    pids = {exit_child(code): code for code in range(11, 16)}
    time.sleep(0.1)  # the exit events are sent right after the parent is woken
    os.kill(run.proc.pid, signal.SIGINT)
    os.kill(run.proc.pid, signal.SIGCONT)
    lines, rc, err = run.rest()
    got = {r["pid"]: r["exit_code"] for r in map(json.loads, run.all + lines)}
    assert {pid: got.get(pid) for pid in pids} == pids
    assert rc == 0 and err == ""


@pytest.mark.parametrize("json_mode", [False, True], ids=["text", "json"])
def test_a_full_disk_ends_with_one_line_and_exit_1(json_mode: bool) -> None:
    """stdout is /dev/full (every write fails with ENOSPC): one clear line on stderr, exit 1,
    no traceback; it ends at the first record it cannot write."""
    with open("/dev/full", "w") as full:
        proc = subprocess.Popen(
            [*CMD, *(["--json"] if json_mode else [])],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
        )
    try:
        deadline = time.monotonic() + 20
        while proc.poll() is None:  # a record is written once the journal listens: poke
            assert time.monotonic() < deadline, "still running with a full stdout"
            exit_child(0)
            time.sleep(0.1)
        err = proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert proc.returncode == 1
    assert "Traceback" not in err and "Exception" not in err, err
    lines = [ln for ln in err.splitlines() if "warning" not in ln]
    assert lines == ["pidtop journal: cannot write to stdout: No space left on device"], err
