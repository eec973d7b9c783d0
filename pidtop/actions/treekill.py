"""Kill a whole process tree so that no fork escapes: freeze, then act.

A list-then-kill loop (htop's tagged kill) misses every child forked after the list was read.
Here each process of the tree is opened and verified like a pin (a :class:`ProcessHandle`, so a
recycled PID is never touched) and stopped with SIGSTOP through its pidfd; the children are then
re-read (``/proc/PID/task/TID/children`` for every thread, else one scan of /proc by parent), and
this repeats until a pass finds no new process and every stopped process has been *seen* stopped
(state T) before its children were read: a SIGSTOP does not cancel a fork already in progress, but
a process in state T has finished its forks and can start no other. Then the chosen
signal goes through each pidfd, then SIGCONT, so that a SIGTERM handler can run -- and so that an
aborted action (an exception, Ctrl-C, a signal, ctrl+z) leaves nothing stopped: see
:func:`signals_continue_tree` for the command line and :func:`treefreeze.continue_stopped`.

Limits (stated in the README): a process that double-forks out of the tree before it is stopped is
no longer a descendant; processes of another user are "not permitted" and keep running (with their
children); a process already stopped by someone else keeps its state unless the signal kills it.
Where the tree is exactly a cgroup v2 that we may write, SIGKILL can go through ``cgroup.kill``
(Linux >= 5.14), which the kernel applies to the whole cgroup at once.

This module holds the order of it (:func:`kill_tree`: the steps, through the one escalation loop
of :mod:`pidtop.actions.escalate`) and the steps themselves; the freeze is
:mod:`pidtop.actions.treefreeze`, the result types :mod:`pidtop.actions.treeresult`, the /proc and
cgroup readers :mod:`pidtop.actions.treescan`. No Textual here: ``pidtop kill --tree`` and the
monitor's picker share this code.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Literal

from pidtop.actions.escalate import run_blocking, run_escalation
from pidtop.actions.treefreeze import FdAccount, FreezeAborted, TreeKill, continue_stopped
from pidtop.actions.treeresult import WORDS, CgroupPlan, Member, Step, TreeResult
from pidtop.kernel.errors import FdLimit, HandleError
from pidtop.kernel.identity import CLK_TCK, Identity, boottime_now
from pidtop.kernel.pidfdinfo import SignalResult

Method = Literal["auto", "freeze", "cgroup"]
#: stop signals: sending SIGCONT after them would discard them (SIGSTOP itself is kept stopped)
_STOP_SIGNALS = frozenset({signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU})
#: signals that would end ``pidtop kill --tree`` half-way through a freeze: they continue the
#: tree first (:func:`signals_continue_tree`)
FATAL_SIGNALS = (
    signal.SIGINT,
    signal.SIGTERM,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGALRM,
)
#: job-control stops of pidtop itself: the tree is continued before pidtop stops
SUSPEND_SIGNALS = (signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)


def kill_tree(
    roots: Sequence[Identity],
    sig: int = signal.SIGTERM,
    steps: Iterable[tuple[float, int]] = (),
    *,
    method: Method = "auto",
    scan: Literal["auto", "children", "proc"] = "auto",
    fds: FdAccount | None = None,
    on_roots: Callable[[TreeResult], None] | None = None,
    cancel: threading.Event | None = None,
) -> TreeResult:
    """Signal ``roots`` and all their descendants, including those forked meanwhile.

    Freeze (SIGSTOP through each verified pidfd, re-reading children until nothing new), send
    ``sig``, SIGCONT. Each ``(seconds, signal)`` step waits up to ``seconds`` for the tree to
    exit, then freezes again (children forked during the wait included) and sends ``signal`` to
    those still running. With SIGKILL and ``method`` auto or cgroup, a tree that is exactly a
    writable cgroup v2 is killed with ``cgroup.kill``. Blocking: call it off the UI loop.
    Roots that cannot be opened are reported in ``root_errors``; ``on_roots`` is called once
    they are all opened (before anything is stopped). ``cancel`` set during a step's wait
    drops the remaining steps (``result.cancelled``): nothing more is sent.
    """
    result = TreeResult()
    with TreeKill(scan=scan, fds=fds) as tk:
        for ident in roots:
            try:
                tk.add_root(ident)
            except FdLimit:
                raise
            except HandleError as e:
                result.root_errors.append((ident, e))
        result.roots = list(tk.roots)
        if on_roots is not None:
            on_roots(result)
        if not tk.roots:
            return result

        def send(_members: list[Member], signum: int, after: float | None) -> list[Member]:
            """One step (``after`` None: the first): freeze, the signal, SIGCONT. Returns the
            whole tree: the next wait re-reads which of its processes still run."""
            with _frozen(tk, signum):
                before = len(tk.members) if after is not None else 0
                if after is None:
                    start = time.monotonic()
                    started = int(boottime_now() * CLK_TCK)  # start times are in these ticks
                    tk.freeze()
                    result.freeze_seconds = time.monotonic() - start
                    for m in tk.members:  # forked after the freeze began: a list would miss it
                        m.listed = m.handle.starttime is None or m.handle.starttime <= started
                    result.found_while_freezing = sum(1 for m in tk.members if not m.listed)
                else:
                    tk.freeze()  # again: children forked during the wait included
                counts = _cgroup_step(tk, result, method) if signum == signal.SIGKILL else None
                if counts is None:
                    counts = _send_step(tk, signum, running_only=after is not None)
                result.steps.append(Step(signum, after or 0.0, len(tk.members) - before, counts))
            return tk.members

        async def wait(_members: list[Member], seconds: float) -> list[Member]:
            return tk.wait(seconds, cancel)  # blocking (never suspends): see run_blocking

        def cancelled() -> bool:
            return (cancel is not None and cancel.is_set()) or tk.aborted

        with contextlib.suppress(FreezeAborted):
            result.cancelled = run_blocking(
                run_escalation(tk.roots, sig, steps, send=send, wait=wait, cancelled=cancelled)
            )
        if tk.aborted:  # continue_stopped(): a signal, the forced exit, ctrl+z
            result.interrupted, result.cancelled = True, False
            stopped = "interrupted: the tree was continued, nothing more sent"
            result.note = "; ".join(filter(None, [result.note, stopped]))
        result.members = list(tk.members)
        result.skipped_self = tk.skipped_self
        if tk.unheld:  # out of fds: what was held was frozen and signalled, not these
            short = (
                f"{len(tk.unheld)} process(es) of the tree not signalled "
                f"(nor their descendants): {tk.fd_problem}"
            )
            result.note = "; ".join(filter(None, [result.note, short]))
            result.unheld = len(tk.unheld)
        if tk.unsettled:
            late = f"{tk.unsettled} process(es) not seen stopped in time (uninterruptible sleep)"
            result.note = "; ".join(filter(None, [result.note, late]))
    return result


@contextlib.contextmanager
def _frozen(tk: TreeKill, sig: int) -> Iterator[None]:
    """Around one freeze and its signal: whatever the freeze stopped is continued at the end,
    whatever happens (not after SIGSTOP: the user asked for a stopped tree, nothing is owed a
    SIGCONT then)."""
    try:
        yield
    finally:
        if sig != signal.SIGSTOP or tk.aborted:
            tk.resume()
        else:
            for m in tk.members:
                m.stopped = False


def _send_step(tk: TreeKill, sig: int, *, running_only: bool = False) -> dict[str, int]:
    """The signal through each pidfd of the frozen tree."""
    if sig in _STOP_SIGNALS and sig != signal.SIGSTOP:
        tk.resume()  # a SIGCONT after a stop signal would discard it
    return tk.send(sig, running_only=running_only)


def _cgroup_step(tk: TreeKill, result: TreeResult, method: Method) -> dict[str, int] | None:
    """SIGKILL through cgroup.kill where ``method`` allows it: "auto" when the frozen tree is
    exactly a writable cgroup; "cgroup" on the tree's cgroup whatever else it holds (processes
    that escaped the tree by a double fork, say), then through each pidfd to any member outside
    it. None when not used (``result.note`` says why when it matters)."""
    if method == "freeze":
        return None
    plan = tk.tree_cgroup(whole=method == "cgroup")
    counts = _cgroup_kill(tk, plan) if plan.directory is not None else plan.why
    if isinstance(counts, str):
        if method == "cgroup" or plan.directory is not None or plan.extra:
            result.note = f"cgroup.kill not used: {counts}"
        return None
    result.cgroup = plan.path
    result.method = "cgroup.kill"
    if plan.extra:
        result.note = f"cgroup.kill also killed {plan.extra} other process(es) of {plan.path}"
    return counts


def _cgroup_kill(tk: TreeKill, plan: CgroupPlan) -> dict[str, int] | str:
    """Write ``1`` to ``cgroup.kill``: the kernel SIGKILLs every process of the cgroup; then
    SIGKILL through the pidfd of each member outside it. Returns the outcome counts, or why
    cgroup.kill failed (nothing was sent then)."""
    assert plan.directory is not None
    alive = [m for m in tk.members if m.handle.state() == "running"]
    try:
        with open(os.path.join(plan.directory, "cgroup.kill"), "w") as f:
            f.write("1")
    except OSError as e:
        return f"cgroup.kill failed: {e.strerror}"
    counts = {"delivered": 0}
    for m in alive:
        if m.pid in plan.procs:
            m.results.append(SignalResult(m.target, signal.SIGKILL, "delivered"))
            word = "delivered"
        else:
            res = m.handle.send_signal(signal.SIGKILL)
            m.results.append(res)
            word = WORDS.get(res.outcome, "failed")
        counts[word] = counts.get(word, 0) + 1
    gone = len(tk.members) - len(alive)
    if gone:
        counts["already gone"] = counts.get("already gone", 0) + gone
    return counts


@contextlib.contextmanager
def signals_continue_tree() -> Iterator[list[int]]:
    """``pidtop kill --tree``: while inside, a signal that would end or suspend pidtop first
    continues what the tree kill stopped and ends it (nothing more is sent). Yields the list of
    such signals received: the caller ends with the first one once the kill has returned (see
    :func:`reraise`). SIGTSTP, SIGTTIN, SIGTTOU then stop pidtop as they would have.

    Handlers, not a blocked signal mask: a mask holds for one thread, and a signal is delivered
    to any thread that does not block it. A Python handler runs on the main thread whichever
    thread the signal arrived at. Main thread only (elsewhere: nothing is installed)."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def fatal(signum: int, _frame: object) -> None:
        continue_stopped()
        received.append(signum)

    def suspend(signum: int, _frame: object) -> None:
        continue_stopped()
        received.append(signum)
        previous = signal.signal(signum, signal.SIG_DFL)
        try:
            os.kill(os.getpid(), signum)  # stops here until SIGCONT (fg)
        finally:
            signal.signal(signum, previous)

    old = {sig: signal.signal(sig, fatal) for sig in FATAL_SIGNALS}
    old.update({sig: signal.signal(sig, suspend) for sig in SUSPEND_SIGNALS})
    try:
        yield received
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def reraise(received: list[int]) -> None:
    """End pidtop with the first fatal signal of ``received`` (default action, as if it had
    arrived without :func:`signals_continue_tree`); SIGINT raises KeyboardInterrupt."""
    for sig in received:
        if sig in SUSPEND_SIGNALS:
            continue
        if sig == signal.SIGINT:
            raise KeyboardInterrupt
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)


__all__ = ["Method", "TreeResult", "kill_tree", "reraise", "signals_continue_tree"]
