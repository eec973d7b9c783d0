"""A seccomp filter answering EPERM (old container profiles) means "unsupported".

process_mrelease blocked with EPERM used to count as supported (the probe only knew ENOSYS)
and --reclaim then reported an error. A real filter is installed in a subprocess
(procs.deny_syscall); the process it reclaims is a real child killed with SIGKILL.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import pytest
from procs import pidtop_env

SCRIPT = r"""
import errno, json, os, signal
import procs
procs.deny_syscall(448, errno.EPERM)  # process_mrelease
from pidtop.kernel.handle import ProcessHandle, features
f = features()
child = procs.spawn()
h = ProcessHandle.open(child.pid)
h.send_signal(signal.SIGKILL)
r = h.reclaim()
print(json.dumps(dict(supported=f.process_mrelease, notes=f.notes, outcome=r.outcome,
                      text=r.describe())))
h.close()
child.close()
"""


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the filter is written for x86_64")
def test_process_mrelease_blocked_by_seccomp_is_unsupported() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, env=pidtop_env()
    )
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["supported"] is False
    assert any("process_mrelease blocked (Operation not permitted" in n for n in r["notes"])
    assert r["outcome"] == "unsupported"
    assert "blocked by a sandbox" in r["text"]
