"""The handle protocol is checked by a type checker (mypy), not by convention.

:class:`pidtop.process.handle.Handle` is implemented by the real handle and by the scripted
one (``--demo``, rendering tests); both inherit its state -> outcome logic. mypy runs on the
core modules that use them: a scripted handle that drifts from the real one (a missing or
mistyped method) fails here. Scoped to these modules so that it can pass and stay strict.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from procs import ROOT

MODULES = [
    "pidtop/process/handle.py",
    "pidtop/process/scripted_pins.py",
    "pidtop/process/pins.py",
    "pidtop/process/watch.py",
    "pidtop/process/events.py",
    "pidtop/process/fdbudget.py",
    "pidtop/process/watch_all.py",
    "pidtop/process/connector.py",
    "pidtop/process/journal.py",
    "pidtop/process/journal_records.py",
    "pidtop/process/journal_tracker.py",
    "pidtop/process/journal_fallback.py",
    "pidtop/process/journal_scripted.py",
    "pidtop/journal_cli.py",
]


def _mypy() -> list[str] | None:
    try:
        import mypy  # noqa: F401
    except ImportError:
        return None
    return [sys.executable, "-m", "mypy"]


@pytest.mark.skipif(_mypy() is None and shutil.which("mypy") is None, reason="pip install .[test]")
def test_core_handles_type_check() -> None:
    cmd = _mypy() or ["mypy"]
    out = subprocess.run(
        [*cmd, "--follow-imports=silent", "--no-incremental", "--python-version", "3.11", *MODULES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_scripted_handle_is_a_handle_and_shares_send_signal() -> None:
    from pidtop.process.handle import Handle, ProcessHandle
    from pidtop.process.scripted_pins import ScriptedHandle

    assert Handle in ScriptedHandle.__mro__ and Handle in ProcessHandle.__mro__
    # one implementation of the state -> outcome logic, inherited by both
    assert ScriptedHandle.send_signal is Handle.send_signal is ProcessHandle.send_signal
