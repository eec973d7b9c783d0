"""The handle protocol is checked by a type checker (mypy), not by convention.

:class:`pidtop.kernel.handle.Handle` is implemented by the real handle and by the scripted
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
    "pidtop/kernel/handle.py",
    "pidtop/demo/handles.py",
    "pidtop/actions/pins.py",
    "pidtop/kernel/watch.py",
    "pidtop/actions/eventlog.py",
    "pidtop/kernel/fdbudget.py",
    "pidtop/actions/watch_all.py",
    "pidtop/journal/connector.py",
    "pidtop/journal/service.py",
    "pidtop/journal/records.py",
    "pidtop/journal/tracker.py",
    "pidtop/journal/fallback.py",
    "pidtop/demo/journal.py",
    "pidtop/cli/journal.py",
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
    from pidtop.demo.handles import ScriptedHandle
    from pidtop.kernel.handle import Handle, ProcessHandle

    assert Handle in ScriptedHandle.__mro__ and Handle in ProcessHandle.__mro__
    # one implementation of the state -> outcome logic, inherited by both
    assert ScriptedHandle.send_signal is Handle.send_signal is ProcessHandle.send_signal
