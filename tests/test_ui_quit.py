"""``q`` ends pidtop at once (issue 18, item 2) and loses nothing: the real app in tmux.

The quick path (:mod:`pidtop.ui.quit`) ends the process as soon as the terminal is restored;
these tests check what it must still do first: the changed settings are saved, the event log
file has every entry, the terminal is restored and the exit status is right. The time is
measured by ``benchmarks/keys.py`` (a test on this shared machine would only assert a bound).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from tmuxterm import TMUX, Term, pidtop_line

needs_tmux = pytest.mark.skipif(TMUX is None, reason="needs tmux")

RESTORED = {"alternate_on": "0", "cursor_flag": "1", "mouse_any_flag": "0"}


@needs_tmux
def test_q_saves_settings_flushes_the_log_and_restores_the_terminal(tmp_path: Path) -> None:
    """``I`` (a setting), Space (a pin: a log entry), ``q``: status 0, the terminal back,
    ``sort_reverse`` in the new config file, the pin in the log file."""
    child = subprocess.Popen(["sleep", "600"])
    log = tmp_path / "events.jsonl"
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "HOME": str(tmp_path)}
    try:
        line = pidtop_line("-d", "10", "-p", str(child.pid), "--log", str(log))
        with Term(line, env=env) as term:
            term.wait("sleep 600")
            term.send("I")
            term.send("Space")
            term.wait("Pinned")  # the strip's title
            term.send("q")
            assert term.exit_status() == 0
            flags = term.flags()
            assert {k: flags[k] for k in RESTORED} == RESTORED, flags
            shown = term.screen()
            assert "Traceback" not in shown
        config = (tmp_path / "config" / "pidtop" / "config.toml").read_text()
        assert "sort_reverse" in config, config
        kinds = [json.loads(x)["kind"] for x in log.read_text().splitlines()]
        assert "pin" in kinds, kinds
        assert child.poll() is None
    finally:
        child.kill()
        child.wait()
