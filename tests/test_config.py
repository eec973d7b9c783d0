"""The config file: round trip, --config/--no-config, broken files left byte-for-byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from uitools import notes, wait_for

from pidtop.cli.main import build_tui_parser
from pidtop.demo.source import ScriptedSource
from pidtop.settings import config
from pidtop.settings.options import Options
from pidtop.ui.actions import ACTIONS
from pidtop.ui.app import PidtopApp
from pidtop.ui.startup import resolve_options

SIZE = (120, 40)
ACTION_IDS = [a.id for a in ACTIONS]


@pytest.fixture(autouse=True)
def _xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private XDG_CONFIG_HOME: the user's real settings are never read or written."""
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


def args(*argv: str):  # type: ignore[no-untyped-def]
    return build_tui_parser().parse_args(["--demo", *argv])


async def run_and_quit(opts: Options, keys: tuple[str, ...] = (), notes_: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    """Start the app on the scripted source, type ``keys`` (one burst), quit with q."""
    app = PidtopApp(ScriptedSource(), opts, notes=notes_)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 1)
        if keys:
            await pilot.press(*keys)
        await pilot.pause()
        shown = notes(app)
        await pilot.press("q")
        await pilot.pause()
    return app, shown


def test_default_path_follows_xdg(_xdg: Path) -> None:
    assert config.default_path() == _xdg / "pidtop" / "config.toml"
    assert config.default_path({"HOME": "/h"}).name == "config.toml"
    relative = config.default_path({"XDG_CONFIG_HOME": "rel"})  # relative: ignored (XDG spec)
    assert relative == Path.home() / ".config" / "pidtop" / "config.toml"


async def test_round_trip_set_quit_restart_restored(_xdg: Path) -> None:
    """t (tree), M (sort by MEM%), '}' (slower), K (kernel threads): quit, start again:
    all restored, and the file holds only what changed."""
    opts, problems = resolve_options(args())
    assert problems == [] and opts.config_path == _xdg / "pidtop" / "config.toml"
    before = (opts.tree, opts.sort_column, opts.delay, opts.show_kernel_threads)
    app, _ = await run_and_quit(opts, ("t", "M", "right_curly_bracket", "K"))
    path = opts.config_path
    assert path is not None and path.is_file()
    assert app.settings_message == f"Settings saved to {path}"  # said once: a new file
    again, problems = resolve_options(args())
    assert problems == []
    after = (again.tree, again.sort_column, again.delay, again.show_kernel_threads)
    assert after == (True, "mem", 2.0, not before[3]) and after != before
    text = path.read_text()
    assert "tree = true" in text and "delay = 2.0" in text and "columns" not in text
    # a second session changing nothing writes nothing
    stamp = path.stat().st_mtime_ns
    app, _ = await run_and_quit(again)
    assert path.stat().st_mtime_ns == stamp and app.settings_message is None


def test_command_line_beats_the_file_and_is_not_saved(_xdg: Path) -> None:
    path = _xdg / "pidtop" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text('delay = 3.0\nsort_column = "PERCENT_MEM"\n')
    opts, _ = resolve_options(args("-d", "5"))
    assert (opts.delay, opts.sort_column) == (0.5, "mem")
    opts, _ = resolve_options(args())
    assert opts.delay == 3.0


async def test_no_config_reads_and_writes_nothing(_xdg: Path) -> None:
    path = _xdg / "pidtop" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"tree = true\n")
    opts, problems = resolve_options(args("--no-config"))
    assert opts.config_path is None and not opts.tree and problems == []
    await run_and_quit(opts, ("M",))
    assert path.read_bytes() == b"tree = true\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.toml"]


async def test_config_path_option(tmp_path: Path, _xdg: Path) -> None:
    mine = tmp_path / "elsewhere" / "my.toml"
    mine.parent.mkdir()
    mine.write_text("# mine\ntree = true\n")
    opts, problems = resolve_options(args("--config", str(mine)))
    assert opts.tree and opts.config_path == mine and problems == []
    await run_and_quit(opts, ("t",))  # tree off again: saved into that file, comment kept
    assert mine.read_text() == "# mine\ntree = false\n"
    assert not (_xdg / "pidtop").exists()
    with pytest.raises(SystemExit):  # one or the other
        build_tui_parser().parse_args(["--config", "x", "--no-config"])


BROKEN = {
    "bad toml": (b"delay = 2.0\ntree = = true\n", 2, None, "not valid TOML"),
    "not utf-8": (b"# caf\xe9\ntree = true\n", 1, None, "not UTF-8"),
    "wrong type": (b'tree = "yes"\ndelay = 2.0\n', 1, "tree", "must be true or false"),
    "out of range": (b"tree = true\ndelay = 0\n", 2, "delay", "0.1-60"),
    "unknown key": (b"tree = true\n\ncolour = 'red'\n", 3, "colour", "unknown setting"),
    "unknown column": (b'columns = ["pid", "nosuch"]\n', 1, "columns", "unknown column"),
    "unknown meter": (b'tree = true\nmeters = ["cpu", "gpu"]\n', 2, "meters", "unknown meter"),
    "meter twice": (b'meters = ["cpu", "load", "cpu"]\n', 1, "meters", "a meter named twice"),
    "unknown action": (b'[keys]\nquit = "f10"\nfly = "f"\n', 3, "keys.fly", "unknown action"),
    "keys not text": (b"[keys]\nkill = 9\n", 2, "keys.kill", "must be keys"),
    "unknown key name": (b'[keys]\nkill = "f9"\nquit = "nosuchkey"\n', 3, "keys.quit",
                         "unknown key 'nosuchkey'"),
    "escape in a key": (b'[keys]\ntree = "\\u001b[2J"\n', 2, "keys.tree", "unknown key '^[[2J'"),
    "ctrl+c taken": (b'[keys]\nkill = "f9,ctrl+c"\n', 2, "keys.kill", "it always quits"),
    "nested too deep": (b"x = " + b"[" * 500 + b"]" * 500 + b"\n", None, None,
                        "nested too deeply"),
    "too large": (b"# " + b"x" * config.MAX_BYTES + b"\n", None, None, "larger than"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BROKEN))
async def test_broken_file_warns_uses_defaults_and_is_left_alone(case: str, _xdg: Path) -> None:
    raw, line, key, words = BROKEN[case]
    path = _xdg / "pidtop" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_bytes(raw)
    opts, problems = resolve_options(args())
    assert len(problems) == 1, problems
    where = f"{path}:{line}: " if line else f"{path}: "
    assert problems[0].startswith(where + (f"{key}: " if key else ""))
    assert words in problems[0]
    good = {  # the good values beside the bad one still apply; the bad one is the default
        "wrong type": (False, 2.0),
        "out of range": (True, Options().delay),
        "unknown key": (True, Options().delay),
    }
    if case in good:
        assert (opts.tree, opts.delay) == good[case]
    app, shown = await run_and_quit(opts, notes_=tuple(problems))
    assert any(problems[0] in n for n in shown)  # the warning is on screen
    assert "\x1b" not in "".join(shown)  # a key holding ESC is shown as ^[, never sent raw
    assert path.read_bytes() == raw  # nothing changed by the user: byte for byte
    assert app.settings_message is None


async def test_broken_file_and_a_change_merges_or_moves_aside(_xdg: Path) -> None:
    """A change by the user after a broken start: a parseable file gets only that key (the
    bad value, comments and unknown keys stay); one that is not TOML is kept aside, intact."""
    path = _xdg / "pidtop" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text("# my notes\ndelay = 0\nfuture_option = [1, 2]  # a later version's\n")
    opts, _ = resolve_options(args())
    await run_and_quit(opts, ("t",))
    assert path.read_text() == (
        "# my notes\ndelay = 0\nfuture_option = [1, 2]  # a later version's\ntree = true\n"
    )
    raw = b"tree = = true\n"
    path.write_bytes(raw)
    opts, _ = resolve_options(args())
    app, _ = await run_and_quit(opts, ("t",))
    aside = path.with_name("config.toml.broken")
    assert aside.read_bytes() == raw
    assert "tree = true" in path.read_text()
    assert str(aside) in (app.settings_message or "")


async def test_meters_round_trip(_xdg: Path) -> None:
    """meters in the file: shown in that order in the header; saved back after a change
    elsewhere untouched; an empty list hides every meter (the status line stays)."""
    path = _xdg / "pidtop" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text('meters = ["uptime", "load", "memory"]\n')
    opts, problems = resolve_options(args())
    assert problems == [] and opts.meters == ("uptime", "load", "memory")
    app = PidtopApp(ScriptedSource(), opts)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 1)
        await pilot.pause()
        lines = [app.meters.render_line(y).text for y in range(app.meters.size.height)]
        text = "\n".join(lines)
        assert "Mem[" in text and "Swp[" not in text and "Tasks:" not in text
        assert not any(line.lstrip().startswith("0[") for line in lines)  # no CPU bars
        assert text.index("Uptime:") < text.index("Load average:")  # the file's order
        await pilot.press("t", "q")
    assert path.read_text() == 'meters = ["uptime", "load", "memory"]\ntree = true\n'
    config.save(path, {"meters": ()})
    again, problems = resolve_options(args())
    assert problems == [] and again.meters == ()
    config.save(path, {"meters": ("swap", "cpu")})
    assert resolve_options(args())[0].meters == ("swap", "cpu")


def test_unknown_keys_and_tables_kept_on_save(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('zoom = 3\n\n[keys]\nquit = "f10"\n\n[plugins.x]\nenabled = true\n')
    config.save(path, {"delay": 0.5, "keymap": {"quit": "f10,q", "kill": "f9"}})
    loaded = config.load(path, ACTION_IDS)
    assert loaded.values["keymap"] == {"quit": "f10,q", "kill": "f9"}
    assert loaded.values["delay"] == 0.5
    text = path.read_text()
    assert "zoom = 3" in text and "[plugins.x]" in text and "enabled = true" in text
    assert [p.key for p in loaded.problems] == ["zoom", "plugins"]


def test_save_is_atomic_and_keeps_the_mode(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("tree = true\n")
    path.chmod(0o600)
    config.save(path, {"tree": False})
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml"]  # no temporary left
    blocker = tmp_path / "blocker"  # a file where the directory should be (fails as root too)
    blocker.write_text("")
    with pytest.raises(OSError):
        config.save(blocker / "c.toml", {"tree": True})


async def test_keymap_from_the_file(_xdg: Path) -> None:
    path = _xdg / "pidtop" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text('[keys]\ntree = "ctrl+t"\n')
    opts, problems = resolve_options(args())
    assert problems == [] and opts.keymap == {"tree": "ctrl+t"}
    app = PidtopApp(ScriptedSource(), opts)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 1)
        await pilot.press("t")
        assert not app.table.tree
        await pilot.press("ctrl+t")
        assert app.table.tree


def test_snapshot_uses_the_config_file(_xdg: Path) -> None:
    """``pidtop snapshot`` shows the monitor's configured columns; a broken value is a warning
    on stderr and the output still comes."""
    import subprocess
    import sys

    path = _xdg / "pidtop" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text('columns = ["pid", "user", "command"]\ntree = "no"\n')
    out = subprocess.run(
        [sys.executable, "-m", "pidtop", "snapshot", "-d", "1", "-w", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n", 1)[0].split() == ["PID:INODE", "USER", "Command"]
    assert f"{path}:2: tree: must be true or false" in out.stderr
    for args in (["--no-config"], ["--config", str(_xdg / "none.toml")]):  # the defaults
        plain = subprocess.run(
            [sys.executable, "-m", "pidtop", "snapshot", "-d", "1", "-w", "0", *args],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert plain.returncode == 0 and plain.stderr == ""
        assert plain.stdout.split("\n", 1)[0].split()[:3] == ["PID:INODE", "USER", "PRI"]


async def test_a_read_only_file_is_left_alone_and_that_is_said(_xdg: Path) -> None:
    """chmod 0444: a change on quit is not written (root could write it: pidtop does not), and
    the message says why; the file is byte for byte as it was."""
    path = _xdg / "pidtop" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text("# mine, not to be touched\ntree = false\n")
    path.chmod(0o444)
    opts, problems = resolve_options(args())
    assert problems == []
    app, _ = await run_and_quit(opts, ("t",))
    assert app.settings_message == (
        f"Settings not saved: {path}: read-only (mode 0444); left as it is"
    )
    assert path.read_text() == "# mine, not to be touched\ntree = false\n"
