"""The escalation loop, once: send a signal, wait up to T for exit, then send the next signal to
whoever is still running.

Three actions escalate: the monitor's kill of pins or of the cursor's process (SIGTERM, then
SIGKILL after N s: :meth:`pidtop.actions.pins.PinSet.escalate`), ``pidtop kill --timeout MS SIG``
(:mod:`pidtop.cli.process`) and the whole-tree kill (:func:`pidtop.actions.treekill.kill_tree`).
The order of the steps, whom the next signal goes to and when the escalation stops are here. How
one signal goes out (logged to the event log, printed with the exit status kept, or through a
fresh freeze of the whole tree) and how the wait is done (on the monitor's event loop, in a
private loop, or blocking in a thread with a cancel flag) are the caller's: ``send`` and
``wait``.

The loop is a coroutine. The monitor awaits it on its loop (cancelling the task cancels the
escalation). A blocking caller passes a ``wait`` that never suspends and runs the loop with
:func:`run_blocking`: no event loop then, so a Ctrl-C lands where it always did.

May import: nothing of pidtop (it knows processes only through its callers' callbacks).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


async def run_escalation(
    targets: Sequence[T],
    sig: int,
    steps: Iterable[tuple[float, int]],
    *,
    send: Callable[[list[T], int, float | None], list[T]],
    wait: Callable[[list[T], float], Awaitable[list[T]]],
    cancelled: Callable[[], bool] | None = None,
) -> bool:
    """Send ``sig`` to ``targets``; then for each ``(seconds, signal)`` step wait up to
    ``seconds`` for them to exit and send ``signal`` to those still running.

    ``send(targets, sig, after)`` sends one signal (``after``: the seconds waited before it,
    None for the first one) and returns what the next step waits for (those the signal was
    delivered to). ``wait(targets, seconds)`` returns those of them still running once they
    all exited or ``seconds`` passed. The escalation ends when there is nothing left to wait
    for or nothing is still running after a wait. ``cancelled()`` true after a wait drops the
    remaining steps (nothing more is sent); returns True then, else False.
    """
    alive = send(list(targets), sig, None)
    for seconds, then in steps:
        if not alive:
            break
        alive = await wait(alive, seconds)
        if not alive:
            break
        if cancelled is not None and cancelled():
            return True
        alive = send(alive, then, seconds)
    return False


def run_blocking(coro: Coroutine[Any, Any, R]) -> R:
    """Run :func:`run_escalation` without an event loop, for a caller whose ``wait`` blocks (it
    never suspends the coroutine). An exception (KeyboardInterrupt too) propagates as it is."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise RuntimeError("run_blocking: the escalation suspended (its wait must block instead)")
