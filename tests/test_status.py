"""The pure texts of the monitor (pidtop.ui.status): header status words, kill summaries."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from pidtop.actions.targets import ActionResult, Target
from pidtop.kernel.handle import ProcessHandle
from pidtop.kernel.pidfdinfo import SignalResult
from pidtop.ui.status import StatusState, kill_summary, short_command, status_parts


@pytest.fixture
def target() -> Iterator[Target]:
    """A real handle on this test process (it is never signalled here)."""
    with ProcessHandle.open(os.getpid()) as handle:
        yield Target(handle, (handle.pid, 0), "python3 " + "x" * 60)


def _result(t: Target, outcome: str, sig: int = 15) -> ActionResult:
    return ActionResult(t, [SignalResult(t.target, sig, outcome)])  # type: ignore[arg-type]


def test_status_words() -> None:
    assert status_parts(StatusState("cpu", True, 1.5)) == ("Sort: CPU%▼", "Delay: 1.5s")
    words = status_parts(
        StatusState(
            "pid", False, 0.1, tree=True, show_threads=True, show_kernel_threads=False,
            pinned=3, pinned_alive=2, waiting=1, watched=40, watch_skipped=2,
        )
    )  # fmt: skip
    assert words == (
        "Sort: PID▲",
        "Delay: 0.1s",
        "Tree",
        "+threads",
        "-kthreads",
        "Pinned: 3 (2 alive)",
        "Waiting for 1 process",
        "Watch: 40 (2 skipped: fd budget)",
    )


def test_kill_summary_one_target(target: Target) -> None:
    text, severity = kill_summary([_result(target, "delivered")])
    assert text == f"{target.target} {short_command(target.command)}: SIGTERM delivered"
    assert severity == "information" and len(short_command(target.command)) == 40
    _, severity = kill_summary([_result(target, "not_permitted")])
    assert severity == "error"


def test_kill_summary_counts_per_signal(target: Target) -> None:
    results = [_result(target, "delivered")] * 8 + [_result(target, "gone")]
    text, severity = kill_summary(results)
    assert text == "SIGTERM: 8 delivered, 1 already exited — see L for details"
    assert severity == "warning"
