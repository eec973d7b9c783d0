"""``python -m pidtop kill|wait|id`` run for real in subprocesses, against real processes."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time

import pytest
from procs import (
    HAS_INFO_EXIT,
    nonexistent_pid,
    pidtop_cmd,
    pidtop_env,
    spawn,
    wait_fd,
    wait_pidfd_held,
)

from pidtop.cli.main import build_tui_parser, main
from pidtop.exitcodes import (
    EXIT_FAILURE,
    EXIT_MISMATCH,
    EXIT_NO_PROCESS,
    EXIT_OK,
    EXIT_TIMEOUT,
    EXIT_USAGE,
)
from pidtop.kernel.handle import ProcessHandle
from pidtop.kernel.probes import features


def pidtop(*args: str, timeout: float = 15) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        pidtop_cmd(*args), capture_output=True, text=True, timeout=timeout, env=pidtop_env()
    )


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        pidtop_cmd(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=pidtop_env(),
    )


def test_id_prints_pid_inode() -> None:
    with spawn("nonchild") as t, ProcessHandle.open(t.pid) as h:
        out = pidtop("id", str(t.pid))
        assert (out.returncode, out.stdout) == (EXIT_OK, f"{t.pid}:{h.inode}\n")


def test_bad_input_one_line_each() -> None:
    missing = nonexistent_pid()
    cases = [
        (("id", "12x"), EXIT_USAGE, "expected a positive whole number"),
        (("kill", "12:x"), EXIT_USAGE, "malformed target"),
        (("kill", "-s", "FOO", "1"), EXIT_USAGE, "unknown signal 'FOO'"),
        (("kill", "--timeout", "-5", "KILL", "1"), EXIT_USAGE, "timeout must be a finite number"),
        (("kill", "--timeout", "x", "KILL", "1"), EXIT_USAGE, "timeout must be a finite number"),
        (("kill", "--timeout", "inf", "KILL", "1"), EXIT_USAGE, "timeout must be a finite number"),
        (("kill", "--timeout", "1e999", "KILL", "1"), EXIT_USAGE, "timeout must be a finite"),
        (("kill", "--timeout", "nan", "KILL", "1"), EXIT_USAGE, "timeout must be a finite number"),
        (("wait", "--timeout", "nan", "1"), EXIT_USAGE, "timeout must be a finite number >= 0"),
        (("wait", "--timeout", "infinity", "1"), EXIT_USAGE, "timeout must be a finite number"),
        (("wait", "--timeout", "1_0", "1"), EXIT_USAGE, "timeout must be a finite number"),
        # beyond pid_t: a usage error, not an OverflowError traceback
        (("kill", "2147483648"), EXIT_USAGE, "malformed target '2147483648'"),
        (("wait", "99999999999"), EXIT_USAGE, "malformed target '99999999999'"),
        (("id", "99999999999999999999"), EXIT_USAGE, "expected a positive whole number"),
        # int() accepts these, a PID must not: "1_0" once signalled PID 10
        (("kill", "-s", "0", "1_0"), EXIT_USAGE, "malformed target '1_0'"),
        (("kill", "-s", "0", "+1"), EXIT_USAGE, "malformed target '+1'"),
        (("kill", "-s", "0", " 1"), EXIT_USAGE, "malformed target ' 1'"),
        (("kill", "-s", "0", "\u0661"), EXIT_USAGE, "malformed target"),
        (("id", "1_0"), EXIT_USAGE, "expected a positive whole number"),
        (("kill", "-s", "\u0669", "1"), EXIT_USAGE, "unknown signal"),
        (("wait", "--timeout", "-1", "1"), EXIT_USAGE, "timeout must be a finite number >= 0"),
        # -p ,, would show every process (an empty filter): a usage error
        (("-p", ",,"), EXIT_USAGE, "expected PIDs separated by commas, not ',,'"),
        (("-p", ""), EXIT_USAGE, "expected PIDs separated by commas"),
        (("kill", str(missing)), EXIT_NO_PROCESS, f"{missing}: no such process"),
        (("wait", str(missing)), EXIT_NO_PROCESS, "no such process"),
        (("id", str(missing)), EXIT_NO_PROCESS, "no such process"),
    ]
    for args, code, text in cases:
        out = pidtop(*args)
        assert out.returncode == code, (args, out.stderr)
        assert text in out.stderr and out.stderr.count("\n") == 1, (args, out.stderr)
        assert "Traceback" not in out.stderr and "could not convert" not in out.stderr


def test_kill_a_thread_id_is_one_clean_line() -> None:
    code = (
        "import threading, time\n"
        "t = threading.Thread(target=time.sleep, args=(60,), daemon=True)\n"
        "t.start()\n"
        "print(t.native_id, flush=True)\n"
        "input()\n"
    )
    proc = subprocess.Popen(
        [*pidtop_cmd()[:1], "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        tid = int(proc.stdout.readline())
        out = pidtop("kill", str(tid))
        assert out.returncode == EXIT_NO_PROCESS
        assert out.stderr == f"{tid}: is a thread of process {proc.pid}, not a process\n"
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()


def test_closed_pipe_is_no_traceback() -> None:
    """`pidtop id ... | true`: the reader went away. No traceback, exit status 1."""
    with spawn("child") as a, spawn("child") as b:
        r, w = os.pipe()
        os.close(r)
        try:
            out = subprocess.run(
                pidtop_cmd("id", *[str(t.pid) for t in (a, b)] * 50),
                stdout=w, stderr=subprocess.PIPE, text=True, timeout=15, env=pidtop_env(),
            )  # fmt: skip
        finally:
            os.close(w)
        assert (out.returncode, out.stderr) == (EXIT_FAILURE, "")


def test_closed_stdout_fails() -> None:
    """`pidtop id PID >&-` printed nothing and said 0."""
    with spawn("child") as t:
        out = subprocess.run(
            ["sh", "-c", 'exec "$@" >&-', "sh", *pidtop_cmd("id", str(t.pid))],
            capture_output=True, text=True, timeout=15, env=pidtop_env(),
        )  # fmt: skip
        assert out.returncode == EXIT_FAILURE
        assert out.stderr == "pidtop: cannot write to stdout: it is closed\n"


def test_a_process_named_twice_is_acted_on_once() -> None:
    with spawn("child") as t, ProcessHandle.open(t.pid) as h:
        out = pidtop("id", str(t.pid), str(t.pid))
        assert (out.returncode, out.stdout) == (EXIT_OK, f"{t.pid}:{h.inode}\n")
        out = pidtop("kill", "-s", "0", str(t.pid), f"{t.pid}:{h.inode}", str(t.pid))
        assert (out.returncode, out.stdout) == (EXIT_OK, f"{t.pid}:{h.inode}: signal 0 delivered\n")


def test_id_refuses_a_zombie() -> None:
    """`pidtop id` is for live processes (see its --help): a zombie is refused, status 3."""
    with spawn("child") as t:
        fd = t.pidfd()
        t.exit(0)
        assert wait_fd(fd) & select.POLLIN
        os.close(fd)
        out = pidtop("id", str(t.pid))
        assert out.returncode == EXIT_NO_PROCESS
        assert out.stderr == f"{t.pid}: has already exited (zombie, not yet reaped)\n"
        assert "zombie" in pidtop("id", "--help").stdout


def test_help_lists_commands_and_exit_codes() -> None:
    out = pidtop("--help")
    assert out.returncode == 0
    for word in ("pidtop kill", "pidtop wait", "pidtop id", "exit status", "-d TENTHS"):
        assert word in out.stdout
    assert "exit status" in pidtop("wait", "--help").stdout
    # kill on a zombie exits 0 (test below): the help must say so, not "every signal delivered"
    kill_help = " ".join(pidtop("kill", "--help").stdout.split())
    assert "a zombie (exited, not yet reaped) accepts signals" in kill_help
    assert "every signal delivered" not in kill_help


def test_tui_options_parse_without_starting_the_tui() -> None:
    args = build_tui_parser().parse_args(
        ["-d", "10", "-p", "1,2", "-t", "--pin", "5:6", "-u", "root"]
    )
    assert (args.delay, args.pid, args.tree, args.user) == (10, [1, 2], True, "root")
    assert [str(p) for p in args.pin] == ["5:6"]
    assert build_tui_parser().parse_args([]).delay is None  # the config file's, else 1.5 s
    assert main(["-d", "0"]) == EXIT_USAGE  # rejected before any TUI import


def test_kill_mismatch_leaves_process_alone() -> None:
    with spawn("child") as t, ProcessHandle.open(t.pid) as h:
        out = pidtop("kill", "-s", "KILL", f"{t.pid}:{h.inode + 1}")
        assert out.returncode == EXIT_MISMATCH
        assert f"PID {t.pid} is now another process" in out.stderr
        assert h.state() == "running"


def test_kill_default_term_and_zombie() -> None:
    with spawn("nonchild") as t, ProcessHandle.open(t.pid) as h:
        out = pidtop("kill", f"{t.pid}:{h.inode}")
        assert (out.returncode, out.stdout) == (EXIT_OK, f"{t.pid}:{h.inode}: SIGTERM delivered\n")
        fd = h.fileno()
        assert fd is not None and wait_fd(fd) & select.POLLIN
        again = pidtop("kill", str(t.pid))  # a zombie accepts signals: say so, still success
        assert again.returncode == EXIT_OK and "already exited (not yet reaped)" in again.stdout


def test_kill_timeout_escalates_to_kill_and_reclaims() -> None:
    with spawn("child", ignore_term=True) as t, ProcessHandle.open(t.pid) as h:
        start_t = time.monotonic()
        out = pidtop("kill", "--timeout", "200", "KILL", "--reclaim", str(t.pid))
        assert out.returncode == EXIT_OK, out.stderr
        lines = out.stdout.splitlines()
        assert lines[:2] == [
            f"{t.pid}:{h.inode}: SIGTERM delivered",
            f"{t.pid}:{h.inode}: SIGKILL delivered",
        ]
        assert "memory" in lines[2]
        assert time.monotonic() - start_t >= 0.2
        assert h.exit_status().signal == signal.SIGKILL


@pytest.mark.parametrize("ms", ["10000", "1e30"])  # any finite number: 1e30 was a usage error
def test_kill_timeout_stops_when_the_process_exits(ms: str) -> None:
    with spawn("child") as t, ProcessHandle.open(t.pid) as h:
        start_t = time.monotonic()
        out = pidtop("kill", "--timeout", ms, "KILL", str(t.pid))
        assert out.returncode == EXIT_OK
        # pidtop is not its parent and the test has not reaped it: the status is honestly unknown
        assert out.stdout.splitlines()[1:] == [
            f"{t.pid}:{h.inode}: exited (exit status unknown: not yet reaped by its parent)"
        ]
        assert time.monotonic() - start_t < 5, "waited on readiness, not for the whole timeout"
        assert h.exit_status().signal == signal.SIGTERM


@pytest.mark.skipif(not HAS_INFO_EXIT, reason="kernel < 6.15: no PIDFD_INFO_EXIT")
def test_wait_reports_a_nonchild_exit_code() -> None:
    with spawn("nonchild") as t:
        proc = start("wait", "--timeout", "10", str(t.pid))
        wait_pidfd_held(proc.pid, t.pid, watched=True)
        t.exit(7)
        t.reap()
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == EXIT_OK, err
        assert out.startswith(f"{t.pid}:") and "exited with code 7 (lived " in out


def test_wait_timeout_any_and_quiet() -> None:
    with spawn("child") as a, spawn("nonchild") as b:
        out = pidtop("wait", "--timeout", "0.2", str(a.pid), str(b.pid))
        assert out.returncode == EXIT_TIMEOUT
        assert out.stderr.count("still running (timeout)") == 2
        proc = start("wait", "--any", "--quiet", "--timeout", "10", str(a.pid), str(b.pid))
        wait_pidfd_held(proc.pid, b.pid, watched=True)
        b.exit(4)
        b.reap()  # its parent reaps it: the status is known at once
        assert proc.communicate(timeout=10) == ("", "")
        assert proc.returncode == EXIT_OK
        a.exit(5)  # our zombie child: pidtop is not its parent, so the status stays unknown
        out = pidtop("wait", "--timeout", "0.5", str(a.pid))
        assert out.returncode == EXIT_OK
        assert (
            out.stdout
            == f"{a.pid}:{a.pidfd_inode()}: exit status unknown: not yet reaped by its parent\n"
        )


def test_kill_without_pidfd_warns_that_the_guarantee_is_weaker(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Simulated sandbox without pidfd_open (ENOSYS): this machine has pidfds, so it can only be
    mocked. The kill still works, and says plainly that it is weaker."""
    import errno
    import os

    import pidtop.kernel.handle as handle_mod

    def enosys(pid: int, flags: int = 0) -> int:
        raise OSError(errno.ENOSYS, os.strerror(errno.ENOSYS))

    features.cache_clear()
    monkeypatch.setattr(handle_mod.os, "pidfd_open", enosys)
    try:
        with spawn("child") as t:
            assert main(["kill", "-s", "KILL", str(t.pid)]) == EXIT_OK
            err = capsys.readouterr().err
            assert "no pidfd support" in err and "small race" in err
    finally:
        monkeypatch.undo()
        features.cache_clear()
