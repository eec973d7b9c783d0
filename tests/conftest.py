"""Settings isolation: each test gets its own ``$XDG_CONFIG_HOME``.

The monitor reads and, when a setting changed, writes ``$XDG_CONFIG_HOME/pidtop/config.toml``.
Subprocesses and tmux panes started by a test inherit this environment, so no test reads the
user's settings or leaves its own (a sort or tree toggle) for the next test.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _private_config_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    home = tmp_path_factory.mktemp("xdg-config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home
