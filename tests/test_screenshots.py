"""The README's screenshots come from the app: the generator must keep working (it broke once,
unnoticed, when the pin set's opener was renamed). Each shot is taken into a temporary folder
and checked for what it is meant to show."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "screenshots" / "make_screenshots.py"


def _load():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_screenshots", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_screenshots"] = module
    spec.loader.exec_module(module)
    return module


shots = _load()
#: a text each screenshot must contain (SVG text has spaces as &#160;)
EXPECTED = {
    "main": "train.py",
    "tree": "train.py",
    "filter": "postgres",
    "search": "train",
    "pins": "1200:1001200",
    "details": "Working&#160;dir",
    "exits": "events&#160;lost",
}


@pytest.mark.parametrize("shot", shots.SHOTS, ids=[s[0] for s in shots.SHOTS])
async def test_screenshot_is_generated(
    shot: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("NO_COLOR", "TEXTUAL_THEME"):
        monkeypatch.delenv(var, raising=False)
    name, size, theme, step = shot
    path = await shots.shoot(name, size, theme, step, out=tmp_path)
    text = Path(path).read_text()
    assert text.startswith("<svg")
    if name in EXPECTED:
        assert EXPECTED[name] in text, f"{name}: {EXPECTED[name]!r} not drawn"
