"""/proc from another PID namespace: pidtop refuses to act rather than hit the wrong process.

``unshare --pid --fork`` without --mount-proc: /proc/2 is the host's kthreadd, pidfd_open(2)
is the namespace's PID 2 (a sleeper). Pinning the host's row and sending SIGTERM used to kill
the sleeper. Real namespace, real processes (the script is tests/pidns_foreign_proc.py).
"""

from __future__ import annotations

import pytest
from procs import TESTS, pid_namespace_unavailable, run_in_pid_namespace

_why = pid_namespace_unavailable()
pytestmark = pytest.mark.skipif(_why is not None, reason=_why or "")


def test_foreign_proc_is_reported_and_every_action_refused() -> None:
    r = run_in_pid_namespace(
        (TESTS / "pidns_foreign_proc.py").read_text(), timeout=90, mount_proc=False
    )
    assert r["getpid"] == 1 and r["child"] == 2
    assert r["proc_self"] != "1"  # the host's view of us
    assert r["row_comm"] == "kthreadd"  # the host's PID 2, as the table shows it
    assert r["proc_is_own"] is False
    assert "/proc is from another PID namespace" in str(r["note"])
    for way in ("pin", "targets", "open"):
        assert "another PID namespace" in str(r[way]), (way, r[way])
    # with the /proc/self check out of the way, the pidfd's own fdinfo still refuses
    assert r["fdinfo_only_own"] is True
    assert "/proc shows this process as PID" in str(r["fdinfo_only"]), r["fdinfo_only"]
    assert r["cli_rc"] == 7 and "another PID namespace" in str(r["cli_err"])
    assert r["app_row"] == "kthreadd"  # the app showed the host's PID 2 row before Space
    assert "/proc: other PID namespace, actions refused" in str(r["header"])
    assert r["app_pins"] == 0 and r["app_signals_ok"] == 0
    assert any("another PID namespace" in n for n in r["app_notes"])  # type: ignore[union-attr]
    assert r["child_alive"], "the namespace's PID 2 was signalled through the host's row"
