"""Settings isolation: each test gets its own ``$XDG_CONFIG_HOME``; no app a test runs lets a
key typed ahead wait out the type-ahead safety valve.

The monitor reads and, when a setting changed, writes ``$XDG_CONFIG_HOME/pidtop/config.toml``.
Subprocesses and tmux panes started by a test inherit this environment, so no test reads the
user's settings or leaves its own (a sort or tree toggle) for the next test.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _private_config_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    home = tmp_path_factory.mktemp("xdg-config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


@pytest.fixture
def pinned_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """What a screen shows does not depend on the caller's terminal or time zone: no colour,
    theme or size variables, and TZ=UTC (the process's time zone is set back after the test).
    Used by the snapshot and screen tests: ``pytestmark = pytest.mark.usefixtures(...)``."""
    for name in ("NO_COLOR", "TEXTUAL_THEME", "FORCE_COLOR", "COLUMNS", "LINES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(autouse=True)
def _no_key_waited_out_the_safety_valve(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every app a test runs: no key typed ahead was routed because the one before it never
    settled (``TypeaheadApp.keys_overdue``: the 10 s safety valve). A test that passes only
    thanks to the valve fails here, whichever test file its bursts are in."""
    from pidtop.ui.typeahead import SETTLE_TIMEOUT, TypeaheadApp

    apps: list[TypeaheadApp] = []
    init = TypeaheadApp.__init__

    def recording_init(self: TypeaheadApp, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        apps.append(self)

    monkeypatch.setattr(TypeaheadApp, "__init__", recording_init)
    yield
    overdue = [(type(a).__name__, a.keys_overdue) for a in apps if a.keys_overdue]
    assert overdue == [], f"keys waited out the safety valve ({SETTLE_TIMEOUT} s): {overdue}"


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    """A fifo in the test's own directory (the pre-frame tests hold Textual's import on it)."""
    path = tmp_path / "hold.fifo"
    os.mkfifo(path)
    return path
