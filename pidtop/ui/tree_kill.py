"""The monitor's "whole tree" kill: what the picker offers, and the kill off the UI loop.

The work is :func:`pidtop.actions.treekill.kill_tree` (the same as ``pidtop kill --tree``), run
in a thread worker; the result comes back to the UI thread as one notification and event-log
entries, like the other kills. What it uses of the app is :class:`TreeKillHost`.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pidtop.actions.targets import Target
from pidtop.actions.treefreeze import FdAccount
from pidtop.actions.treekill import TreeResult, kill_tree
from pidtop.kernel.errors import FdLimit
from pidtop.kernel.identity import Identity
from pidtop.kernel.signals import signal_name
from pidtop.sampling.fmt import sanitize
from pidtop.ui.screens.signals import SignalChoice

if TYPE_CHECKING:
    from pidtop.actions.eventlog import EventLog
    from pidtop.actions.pins import PinSet
    from pidtop.kernel.fdbudget import FdBudget
    from pidtop.sampling.table import ProcessTable
    from pidtop.ui.status import Severity


class TreeKillHost(Protocol):
    """What the whole-tree kill uses of the app (the pin actions of PidtopApp pass it)."""

    table: ProcessTable
    pins: PinSet
    events: EventLog
    tree_kills: list[TreeKillRun]

    def notify(self, message: str, *, severity: Severity = ..., markup: bool = ...) -> None: ...

    def run_worker(
        self,
        work: Callable[[], None],
        *,
        group: str = ...,
        exit_on_error: bool = ...,
        thread: bool = ...,
    ) -> object: ...

    def call_from_thread(self, callback: Callable[..., object], *args: Any) -> object: ...


class BudgetAccount(FdAccount):
    """A tree kill's pidfds counted in the monitor's one fd budget (holder ``"tree"``), with
    the pins, the actions and ``--watch-all``: short of fds, it signals what it froze and says
    how many processes it could not hold."""

    def __init__(self, budget: FdBudget) -> None:
        self.budget = budget

    def acquire(self, what: str) -> None:
        self.budget.acquire(what, "tree")

    def release(self) -> None:
        self.budget.release("tree")


@dataclass
class TreeKillRun:
    """A whole-tree kill in its worker, while it has a signal still to send (quit asks)."""

    label: str
    then: int  # the escalation's next signal
    due: float  # time.monotonic() when it goes out
    targets: list[tuple[str, str]]  # (PID:INODE, command) of the roots, for the confirmation
    cancel: threading.Event = field(default_factory=threading.Event)

    def describe(self) -> str:
        """``SIGKILL to the whole tree of 1234:5678 in 4 s``."""
        left = max(0.0, self.due - time.monotonic())
        return f"{signal_name(self.then)} to the whole tree of {self.label} in {left:.0f} s"


def start_tree_kill(app: TreeKillHost, targets: list[Target], choice: SignalChoice) -> None:
    """Kill the targets' whole trees in a thread worker (the freeze blocks: /proc reads and
    one signal per process). The targets' handles are released at once: the kill opens and
    verifies each process itself (a root that exited or whose PID was reused is refused).
    With an escalation the run is listed in ``app.tree_kills`` until its last step, so that
    quitting asks first, and quitting anyway cancels the step (nothing more is sent)."""
    roots = [t.handle.identity for t in targets]
    label = ", ".join(t.target for t in targets[:3]) + (" …" if len(targets) > 3 else "")
    pairs = [(t.target, t.command) for t in targets]
    app.pins.release(targets)
    steps = [(choice.after, signal.SIGKILL)] if choice.escalate else []
    run = None
    if steps:
        run = TreeKillRun(label, signal.SIGKILL, time.monotonic() + choice.after, pairs)
        app.tree_kills.append(run)

    def work() -> None:
        try:
            result = _kill(
                roots, choice, steps, BudgetAccount(app.pins.budget), run.cancel if run else None
            )
        finally:
            if run is not None:
                with contextlib.suppress(ValueError):
                    app.tree_kills.remove(run)  # a list op: atomic for the UI thread
        if not (run is not None and run.cancel.is_set()):  # cancelled: the app has quit
            app.call_from_thread(report_tree, app, label, result)

    app.run_worker(work, thread=True, group="signal", exit_on_error=False)


def _kill(
    roots: list[Identity],
    choice: SignalChoice,
    steps: Sequence[tuple[float, int]],
    fds: FdAccount,
    cancel: threading.Event | None,
) -> TreeResult:
    """:func:`kill_tree`; no fd for a root either: a result that says so (nothing was sent)."""
    try:
        return kill_tree(roots, choice.signal, steps, fds=fds, cancel=cancel)
    except FdLimit as e:
        result = TreeResult()
        result.root_errors = [(ident, e) for ident in roots]
        return result


def report_tree(app: TreeKillHost, label: str, result: TreeResult) -> None:
    """On the UI thread: one event-log entry per process and signal, one for the tree, and
    ONE notification with the summary."""
    log = app.events
    for ident, error in result.root_errors:
        log.add("signal", str(ident), f"whole tree not signalled: {error}", ok=False)
    for m in result.members:
        for r in m.results:
            log.add(
                "signal",
                r.target,
                f"{r.describe()} ({sanitize(m.command)}; whole tree)",
                plain=r.describe(),
                ok=r.ok,
                signal=signal_name(r.signal),
                outcome=r.outcome,
                errno=r.errno,
            )
    problems = list(result.problems())
    if not result.roots:
        app.notify(
            f"Whole tree of {label}: nothing sent ({result.root_errors[0][1]})"
            if result.root_errors
            else f"Whole tree of {label}: nothing sent",
            severity="error",
            markup=False,
        )
        return
    text = f"Whole tree of {label}: {result.summary()}"
    log.add("signal", label, text, ok=not (problems or result.root_errors or result.unheld))
    failed = problems or result.root_errors or result.unheld or result.interrupted
    severity: Severity = "error" if failed else "information"
    app.notify(text + " — see L for details", severity=severity, markup=False)
