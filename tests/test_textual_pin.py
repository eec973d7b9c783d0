"""The snapshots were made with the Textual release pyproject.toml pins; the Textual running the
tests must be inside that range (a fresh install gets it; a bumped Textual fails here first,
with the reason, instead of as a wall of snapshot diffs)."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_textual_is_pinned_to_one_minor_release_and_installed_within_it() -> None:
    deps = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    (req,) = [Requirement(d) for d in deps if Requirement(d).name == "textual"]
    spec = str(req.specifier)
    assert "<" in spec and ">=" in spec, f"textual must be pinned to a range, not {spec!r}"
    installed = version("textual")
    assert req.specifier.contains(installed), (
        f"textual {installed} is outside {spec}: the snapshots were made with that range "
        "(README: how to update snapshots on purpose)"
    )
