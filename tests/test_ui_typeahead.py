"""Keys typed ahead go to the screen the previous key opened (issue 7, item 1).

A paste, a slow ssh link or htop habit (``F9 9 Enter``) delivers several keys before the app
has handled the first. Each sequence is sent as ONE burst (``uitools.burst``: all keys queued
before the first is handled) and also with ``Pilot.press`` in one call. Real processes, the
real sampler: "nothing was signalled" is checked on a live child and in the event log.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

import pytest
from procs import Target, spawn
from textual import events
from textual.pilot import Pilot
from tmuxterm import TMUX, WAIT, Term, pidtop_line
from uitools import burst, key_event, wait_for

from pidtop.sampling.sampler import ProcSampler
from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.dialogs import DelayScreen, SortScreen
from pidtop.ui.screens.signals import SignalScreen

SIZE = (120, 30)


async def press(pilot: Pilot, *keys: str) -> None:
    await pilot.press(*keys)


SENDERS: dict[str, Callable[..., Awaitable[None]]] = {"burst": burst, "press": press}


def make_app(t: Target) -> PidtopApp:
    return PidtopApp(ProcSampler(), delay=0.5, pids=frozenset({t.pid}))


def signals_sent(app: PidtopApp) -> list[str]:
    return [e.message for e in app.events.entries if e.kind == "signal"]


def alive(pid: int) -> bool:
    """Not exited (the child is ours and unreaped: a zombie counts as exited)."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


async def started(pilot: Pilot, app: PidtopApp, t: Target) -> None:
    await wait_for(pilot, lambda: app.view.cursor_row is not None and app.samples_merged >= 2)
    row = app.view.cursor_row
    assert row is not None and row.info.pid == t.pid


@pytest.mark.parametrize("send", sorted(SENDERS))
@pytest.mark.parametrize(
    ("keys", "mode"), [(("slash", "k", "enter"), "search"), (("backslash", "k", "enter"), "filter")]
)
async def test_prompt_takes_the_keys_after_it(send: str, keys: tuple[str, ...], mode: str) -> None:
    """``/ k Enter`` searches for "k" (it opened the kill picker and sent SIGTERM)."""
    with spawn() as t:
        app = make_app(t)
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app, t)
            await SENDERS[send](pilot, *keys)
            await wait_for(pilot, lambda: not app.prompt.is_open)
            assert app.screen is app.screen_stack[0], app.screen
            text = app.search_text if mode == "search" else app.table.filter_text
            assert text == "k"
            assert signals_sent(app) == []
        assert alive(t.pid)


@pytest.mark.parametrize("send", sorted(SENDERS))
async def test_search_text_does_not_run_keys(send: str) -> None:
    """``/ s l e e p``: every letter goes into the prompt (``l`` opened a screen: the event
    log, now the open files)."""
    with spawn() as t:
        app = make_app(t)
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app, t)
            await SENDERS[send](pilot, "slash", *"sleep")
            # the search follows the input's Changed message, handled after the value is set:
            # wait for both (under load the assert below once ran between the two)
            await wait_for(
                pilot, lambda: app.prompt.input.value == "sleep" and app.search_text == "sleep"
            )
            assert app.prompt.is_open and app.prompt.input.has_focus
            assert app.screen is app.screen_stack[0], app.screen  # l opened a screen
            assert app.search_text == "sleep"


@pytest.mark.parametrize("send", sorted(SENDERS))
@pytest.mark.parametrize("opener", ["k", "f9"])
async def test_kill_picker_takes_the_signal_number(send: str, opener: str) -> None:
    """``k 9 Enter`` / ``F9 9 Enter`` send SIGKILL (they sent SIGTERM: the 9 was lost)."""
    with spawn(ignore_term=True) as t:
        app = make_app(t)
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app, t)
            await SENDERS[send](pilot, opener, "9", "enter")
            await wait_for(pilot, lambda: bool(signals_sent(app)))
            assert app.screen is app.screen_stack[0]
            assert [s for s in signals_sent(app) if "SIGKILL" in s], signals_sent(app)
            _, status = os.waitpid(t.pid, 0)
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


@pytest.mark.parametrize("send", sorted(SENDERS))
async def test_choosers_take_the_keys_after_them(send: str) -> None:
    """The delay prompt and the sort chooser get the keys typed after ``d`` and F6."""
    with spawn() as t:
        app = make_app(t)
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app, t)
            await SENDERS[send](pilot, "d", "7", "enter")
            await wait_for(pilot, lambda: not isinstance(app.screen, DelayScreen))
            assert app.delay == 7.0
            column = app.table.sort_column
            await SENDERS[send](pilot, "f6", "down", "enter")
            await wait_for(pilot, lambda: not isinstance(app.screen, SortScreen))
            assert app.table.sort_column != column
            assert not isinstance(app.screen, SignalScreen)


# ------------------------------------------------------------------ the real app in tmux
needs_tmux = pytest.mark.skipif(TMUX is None, reason="needs tmux")


@contextmanager
def pidtop_on_a_sleep() -> Iterator[tuple[Term, subprocess.Popen[bytes]]]:
    """A real ``sleep`` child and pidtop in tmux showing only it (``-p``), cursor on it."""
    child = subprocess.Popen(["sleep", "600"])
    try:
        with Term(pidtop_line("-d", "10", "-p", str(child.pid))) as term:
            term.wait("sleep 600")
            yield term, child
    finally:
        child.kill()
        child.wait()


@needs_tmux
@pytest.mark.parametrize(
    "keys", [("/", "k", "Enter"), ("\\", "k", "Enter"), ("/", "s", "l", "e", "e", "p", "Enter")]
)
def test_tmux_prompt_burst_signals_nothing(keys: tuple[str, ...]) -> None:
    """One ``send-keys``: the prompt gets the keys, nothing is signalled; ``q`` (sent in the
    same burst) then quits: it would have gone into a picker left open."""
    with pidtop_on_a_sleep() as (term, child):
        term.send(*keys, "q")
        assert term.exit_status() == 0
        assert child.poll() is None, "the sleep was signalled"


@needs_tmux
def test_tmux_search_burst_stays_in_the_prompt() -> None:
    """``/ s l e e p`` in one burst: "Search: sleep" (``l`` opened the event log)."""
    with pidtop_on_a_sleep() as (term, child):
        term.send("/", "s", "l", "e", "e", "p")
        shown = term.wait("Search: sleep")
        assert "Event log" not in shown
        term.send("Escape")  # alone: ESC then q in one read is Alt+q to a terminal
        term.wait_gone("Search:")
        term.send("q")
        assert term.exit_status() == 0
        assert child.poll() is None


@needs_tmux
@pytest.mark.parametrize("opener", ["k", "F9"])
def test_tmux_kill_9_enter_sends_sigkill(opener: str) -> None:
    """``k 9 Enter`` / ``F9 9 Enter`` in one burst: the sleep dies of SIGKILL (was SIGTERM)."""
    with pidtop_on_a_sleep() as (term, child):
        term.send(opener, "9", "Enter")
        assert child.wait(timeout=WAIT) == -signal.SIGKILL
        term.wait("SIGKILL delivered")
        term.send("q")
        assert term.exit_status() == 0


async def test_paste_after_slash_goes_into_the_prompt() -> None:
    """A paste (bracketed: one Paste event) right behind ``/`` lands in the search prompt."""
    with spawn() as t:
        app = make_app(t)
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app, t)
            slash = key_event("slash")
            paste = events.Paste("sleep")
            for event in (slash, paste):
                event.set_sender(app)
                app.post_message(event)
            await wait_for(pilot, lambda: app.prompt.input.value == "sleep")
            assert app.prompt.input.has_focus


@pytest.mark.parametrize("send", sorted(SENDERS))
async def test_plain_keys_are_not_held_and_no_key_is_overdue(send: str) -> None:
    """Keys that open nothing (Down, ``I``) are routed at once, none held behind another;
    openers in the same session still hold the keys after them, and no key ever waited out
    the safety valve (``keys_overdue``)."""
    with spawn() as t, spawn() as u:
        app = PidtopApp(ProcSampler(), delay=0.5, pids=frozenset({t.pid, u.pid}))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: len(app.table.rows) == 2 and app.samples_merged >= 2)
            first = app.view.cursor_index
            await SENDERS[send](pilot, *(["down"] * 40), "I", "I")
            await wait_for(pilot, lambda: app.view.cursor_index != first)
            assert app.keys_waited == 0
            await SENDERS[send](pilot, "d", "7", "enter", "down", "up")
            await wait_for(pilot, lambda: app.delay == 7.0)
            assert app.keys_waited > 0 or send == "press"
            assert app.keys_overdue == 0
            assert app.screen is app.screen_stack[0]
