"""The whole package is type-checked by mypy (settings: ``[tool.mypy]`` in pyproject.toml).

:class:`pidtop.kernel.handle.Handle` is implemented by the real handle and by the scripted one
(``--demo``, rendering tests); both inherit its state -> outcome logic. The UI's action mixins
say in Protocols (``ViewHost``, ``PinHost``...) what they use of the app. mypy checks both: a
scripted handle that drifts from the real one, or an app that no longer has what a mixin (or
a screen) uses, fails here. mypy is in the test extra: without it this fails, it does not skip.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

from procs import ROOT


def test_the_package_type_checks() -> None:
    assert importlib.util.find_spec("mypy") is not None, "mypy is missing: pip install -e '.[test]'"
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pidtop").rglob("*.py"))
    checked = files
    mypy = [sys.executable, "-m", "mypy", "--config-file", "pyproject.toml", "--no-incremental"]
    out = subprocess.run(
        [*mypy, *checked],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "pidtop/ui/app.py" in checked and "pidtop/kernel/handle.py" in checked


def test_scripted_handle_is_a_handle_and_shares_send_signal() -> None:
    from pidtop.demo.handles import ScriptedHandle
    from pidtop.kernel.handle import Handle, ProcessHandle

    assert Handle in ScriptedHandle.__mro__ and Handle in ProcessHandle.__mro__
    # one implementation of the state -> outcome logic, inherited by both
    assert ScriptedHandle.send_signal is Handle.send_signal is ProcessHandle.send_signal
