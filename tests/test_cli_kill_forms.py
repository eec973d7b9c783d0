"""``pidtop kill`` as kill(1) users type it: ``-9``, ``-KILL``, ``-SIGKILL``, ``kill -l``, and
usage errors that name the command. Run for real in subprocesses, against real processes."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest
from procs import pidtop_cmd, pidtop_env, spawn

from pidtop.exitcodes import EXIT_OK, EXIT_USAGE
from pidtop.kernel.handle import ProcessHandle


def pidtop(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        pidtop_cmd(*args), capture_output=True, text=True, timeout=15, env=pidtop_env()
    )


@pytest.mark.parametrize("form", ["-9", "-KILL", "-SIGKILL", "-kill", "-sigkill"])
def test_kill_signal_as_first_option(form: str) -> None:
    # ignore_term: only a SIGKILL ends it, so a TERM sent by mistake would be seen
    with spawn("child", ignore_term=True) as t, ProcessHandle.open(t.pid) as h:
        out = pidtop("kill", form, str(t.pid))
        assert (out.returncode, out.stdout) == (EXIT_OK, f"{t.pid}:{h.inode}: SIGKILL delivered\n")
        _pid, status = os.waitpid(t.pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def test_kill_zero_and_rt_forms() -> None:
    with spawn("child") as t:
        out = pidtop("kill", "-0", str(t.pid))
        assert out.returncode == EXIT_OK and "signal 0 delivered" in out.stdout
        out = pidtop("kill", "-CONT", str(t.pid))
        assert out.returncode == EXIT_OK and "SIGCONT delivered" in out.stdout


def test_kill_l_lists_names_as_util_linux() -> None:
    out = pidtop("kill", "-l")
    assert out.returncode == EXIT_OK
    lines = out.stdout.splitlines()
    assert all(len(line) < 80 for line in lines)
    names = " ".join(lines).split()
    assert names[:9] == ["HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL"]
    assert "TERM" in names and "SYS" in names and not any("RT" in n[:2] for n in names)
    assert pidtop("kill", "-l", "9").stdout == "KILL\n"
    assert pidtop("kill", "-l", "SIGTERM").stdout == "15\n"
    assert pidtop("kill", "--list").stdout == out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("kill", "--bogus", "1"), "pidtop kill: unrecognized arguments: --bogus"),
        (("kill",), "pidtop kill: the following arguments are required: TARGET"),
        (("kill", "-FOO", "1"), "pidtop kill: argument -s/--signal: unknown signal 'FOO'"),
        (("kill", "-l", "1", "2"), "pidtop kill: -l takes at most one SIGNAL"),
        (("kill", "-l", "NOPE"), "pidtop kill: unknown signal 'NOPE'"),
        (("wait", "--bogus", "1"), "pidtop wait: unrecognized arguments: --bogus"),
        (("id", "1", "--bogus"), "pidtop id: unrecognized arguments: --bogus"),
    ],
)
def test_usage_errors_name_the_command(args: tuple[str, ...], message: str) -> None:
    out = pidtop(*args)
    assert out.returncode == EXIT_USAGE
    assert out.stderr.startswith(message), out.stderr
    assert len(out.stderr.splitlines()) == 1
