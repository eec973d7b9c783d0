"""The house's rules, checked: import-linter contracts (pyproject.toml), no import cycles, and
the CLI's commands never importing Textual at run time.

The contracts are the architecture diagram that cannot go stale: the layers (cli > ui >
exitcodes > demo > settings > actions | journal | details > sampling > kernel), nothing below the
UI importing Textual or Rich, and the demo doubles imported only by the UI's demo switch.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
from procs import ROOT

#: modules over this many lines must say in their docstring why they are one thing
MAX_LINES = 500


def test_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run(
        [str(lint), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "BROKEN" not in out.stdout and "KEPT" in out.stdout, out.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    modules = sorted(m for m in graph.modules if m.startswith("pidtop"))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if not child.startswith("pidtop"):
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_import_cycles() -> None:
    """No module imports itself back, even lazily or only for type checking."""
    graph = grimp.build_graph("pidtop", cache_dir=None)
    assert _cycles(graph) == []


def test_cycle_finder_finds_a_cycle() -> None:
    """The finder above can fail: a two-module cycle built in a scratch package is reported."""
    graph = grimp.ImportGraph()
    for name in ("pidtop.a", "pidtop.b", "pidtop.c"):
        graph.add_module(name)
    graph.add_import(importer="pidtop.a", imported="pidtop.b")
    graph.add_import(importer="pidtop.b", imported="pidtop.a")
    graph.add_import(importer="pidtop.c", imported="pidtop.a")
    assert _cycles(graph) == [["pidtop.a", "pidtop.b"]]


def test_long_modules_say_why() -> None:
    """A module over 500 lines says why it is one thing (a docstring paragraph "One thing: ...")."""
    long = []
    for path in sorted((ROOT / "pidtop").rglob("*.py")):
        text = path.read_text()
        if text.count("\n") > MAX_LINES and "One thing:" not in text.split('"""')[1]:
            long.append(f"{path.relative_to(ROOT)}: {text.count(chr(10))} lines")
    assert long == []


def test_commands_do_not_import_textual() -> None:
    """``pidtop kill`` and friends start without Textual: the TUI is imported only to run it."""
    code = (
        "import sys, pidtop.cli.main, pidtop.cli.process, pidtop.cli.snapshot, pidtop.cli.journal\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')\n"
        "                      or m.startswith(('pidtop.ui', 'pidtop.demo')))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"the CLI imported Textual, the UI or the demo: {out.stdout}"
