"""The core (``pidtop.process``) must never import Textual: the CLI and the TUI share it."""

import pkgutil
import subprocess
import sys

import pidtop.process


def test_core_modules_do_not_import_textual() -> None:
    names = [m.name for m in pkgutil.walk_packages(pidtop.process.__path__, "pidtop.process.")]
    assert names, "no core modules found"
    code = (
        "import importlib, sys\n"
        f"for n in {names!r}: importlib.import_module(n)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'textual'\n"
        "             or m.startswith(('pidtop.ui', 'pidtop.cli.main')))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"core imported Textual, the UI or the CLI: {out.stdout}"


def test_cli_subcommands_do_not_import_textual() -> None:
    code = (
        "import sys, pidtop.cli.main\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('textual'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"pidtop.cli imported Textual at import time: {out.stdout}"
