"""Drive the real ``pidtop`` in a real terminal: a private tmux server per test.

The command runs under ``sh`` so that, once pidtop has exited, the pane is back at the shell
with ``[exit N]`` printed: the terminal's state (alternate screen, cursor, mouse tracking) is
then read from tmux's own flags. Every wait is bounded and polls ``capture-pane``.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from procs import ROOT

TMUX = shutil.which("tmux")
WAIT = 15.0  # seconds: generous, the machine is shared (2 cores, several test suites)
#: pane flags that show what a program left the terminal in
FLAGS = ("alternate_on", "cursor_flag", "mouse_any_flag", "mouse_button_flag", "mouse_sgr_flag")


def pidtop_line(*args: str) -> str:
    """A shell command running this checkout's pidtop with the interpreter running the tests."""
    return shlex.join([sys.executable, "-m", "pidtop", *args])


class Term:
    """One tmux pane running ``line`` (a shell command) at ``size``, with ``env`` set."""

    def __init__(
        self,
        line: str,
        *,
        size: tuple[int, int] = (120, 30),
        env: dict[str, str] | None = None,
        term: str = "xterm-256color",
    ) -> None:
        assert TMUX is not None
        self.sock = f"pidtop-test-{os.getpid()}-{time.monotonic_ns()}"
        self.tmux = [TMUX, "-L", self.sock, "-f", "/dev/null"]
        full_env = {"TERM": term, "PYTHONPATH": str(ROOT), **(env or {})}
        # COLUMNS/LINES (set in panes started from pytest) would override the pane's real size
        wrapped = f'unset COLUMNS LINES; {line}; echo "[exit $?]"; exec sleep 3600'
        self.run(
            "new-session", "-d", "-s", "t", "-x", str(size[0]), "-y", str(size[1]),
            *[a for k, v in full_env.items() for a in ("-e", f"{k}={v}")],
            "sh", "-c", wrapped,
        )  # fmt: skip
        self.run("set-option", "-g", "status", "off")

    def run(self, *args: str) -> str:
        """One tmux command; its stdout."""
        done = subprocess.run(
            [*self.tmux, *args], capture_output=True, text=True, errors="replace", check=True
        )
        return done.stdout

    def send(self, *keys: str) -> None:
        """Press ``keys`` in ONE ``send-keys`` command: they reach the program as one burst."""
        self.run("send-keys", "-t", "t", *keys)

    def type(self, text: str) -> None:
        """Type ``text`` literally (one command)."""
        self.run("send-keys", "-t", "t", "-l", text)

    def screen(self) -> str:
        """What the pane shows now."""
        return self.run("capture-pane", "-p", "-t", "t")

    def escapes(self) -> str:
        """What the pane shows now, with its colours as escape sequences."""
        return self.run("capture-pane", "-p", "-e", "-t", "t")

    def flags(self) -> dict[str, str]:
        """tmux's view of the pane's modes (see FLAGS)."""
        fmt = "\t".join(f"#{{{f}}}" for f in FLAGS)
        values = self.run("display-message", "-p", "-t", "t", fmt).rstrip("\n").split("\t")
        return dict(zip(FLAGS, values, strict=True))

    def pane_pid(self) -> int:
        """The shell running the command."""
        return int(self.run("display-message", "-p", "-t", "t", "#{pane_pid}"))

    def wait(self, text: str, timeout: float = WAIT) -> str:
        """Until ``text`` is on screen (bounded); the screen."""
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if text in shown:
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not on screen after {timeout} s:\n{shown}")
            time.sleep(0.05)

    def wait_gone(self, text: str, timeout: float = WAIT) -> str:
        """Until ``text`` is no longer on screen (bounded); the screen."""
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if text not in shown:
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} still on screen after {timeout} s:\n{shown}")
            time.sleep(0.05)

    def exit_status(self, timeout: float = WAIT) -> int:
        """The command's exit status, once the shell printed it (bounded)."""
        shown = self.wait("[exit ", timeout)
        tail = shown.rsplit("[exit ", 1)[1]
        return int(tail.split("]", 1)[0])

    def close(self) -> None:
        """Kill the private server (and the program, if still running)."""
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)

    def __enter__(self) -> Term:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def program_pid(term: Term, names: Sequence[str] = ("python", "pidtop")) -> int:
    """The PID of the program the pane's shell runs (its child), bounded wait."""
    shell = term.pane_pid()
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        for child in Path(f"/proc/{shell}/task/{shell}/children").read_text().split():
            comm = Path(f"/proc/{child}/comm").read_text().strip()
            if any(n in comm for n in names):
                return int(child)
        time.sleep(0.05)
    raise AssertionError(f"no {names} child of the pane's shell {shell}")
