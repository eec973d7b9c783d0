"""``python -m pidtop kill|wait|id`` run for real in subprocesses, against real processes."""

from __future__ import annotations

import select
import signal
import subprocess
import time

import pytest
from procs import nonexistent_pid, pidtop_cmd, pidtop_env, spawn, wait_fd, wait_pidfd_held

from pidtop.cli import (
    EXIT_MISMATCH,
    EXIT_NO_PROCESS,
    EXIT_OK,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    build_tui_parser,
    main,
)
from pidtop.process.handle import ProcessHandle, features


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
        (("kill", "--timeout", "-5", "KILL", "1"), EXIT_USAGE, "timeout must be a number >= 0"),
        (("wait", "--timeout", "-1", "1"), EXIT_USAGE, "timeout must be a number >= 0"),
        (("kill", str(missing)), EXIT_NO_PROCESS, f"{missing}: no such process"),
        (("wait", str(missing)), EXIT_NO_PROCESS, "no such process"),
        (("id", str(missing)), EXIT_NO_PROCESS, "no such process"),
    ]
    for args, code, text in cases:
        out = pidtop(*args)
        assert out.returncode == code, (args, out.stderr)
        assert text in out.stderr and out.stderr.count("\n") == 1, (args, out.stderr)


def test_help_lists_commands_and_exit_codes() -> None:
    out = pidtop("--help")
    assert out.returncode == 0
    for word in ("pidtop kill", "pidtop wait", "pidtop id", "exit status", "-d TENTHS"):
        assert word in out.stdout
    assert "exit status" in pidtop("wait", "--help").stdout


def test_tui_options_parse_without_starting_the_tui() -> None:
    args = build_tui_parser().parse_args(["-d", "10", "-p", "1,2", "-t", "--pin", "5:6", "-u", "x"])
    assert (args.delay, args.pid, args.tree, args.user) == (10, [1, 2], True, "x")
    assert [str(p) for p in args.pin] == ["5:6"]
    assert build_tui_parser().parse_args([]).delay == 15
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


def test_kill_timeout_stops_when_the_process_exits() -> None:
    with spawn("child") as t, ProcessHandle.open(t.pid) as h:
        start_t = time.monotonic()
        out = pidtop("kill", "--timeout", "10000", "KILL", str(t.pid))
        assert out.returncode == EXIT_OK
        # pidtop is not its parent and the test has not reaped it: the status is honestly unknown
        assert out.stdout.splitlines()[1:] == [
            f"{t.pid}:{h.inode}: exited (exit status unknown: not yet reaped by its parent)"
        ]
        assert time.monotonic() - start_t < 5, "waited on readiness, not for the whole timeout"
        assert h.exit_status().signal == signal.SIGTERM


@pytest.mark.skipif(not features().info_exit, reason="kernel lacks PIDFD_INFO_EXIT (< 6.15)")
def test_wait_reports_a_nonchild_exit_code() -> None:
    with spawn("nonchild") as t:
        proc = start("wait", "--timeout", "10", str(t.pid))
        wait_pidfd_held(proc.pid, t.pid)
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
        wait_pidfd_held(proc.pid, b.pid)
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

    import pidtop.process.handle as handle_mod

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
