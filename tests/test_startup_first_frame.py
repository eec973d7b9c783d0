"""Start-up: the first sample is taken before the event loop, so the first frame shows the
processes; the exit journal starts after that frame (its fork and thread would slow it)."""

from __future__ import annotations

import re

import pytest
from uitools import wait_for

from pidtop.sampling.snapshot import Snapshot
from pidtop.settings.options import Options
from pidtop.ui.app import PidtopApp
from pidtop.ui.startup import build_app

PID_ROW = re.compile(r"^\s*\d+\s+\S+")


async def test_first_frame_has_the_processes_then_the_journal_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mounted: list[tuple[int, bool]] = []
    original = PidtopApp.on_mount

    def on_mount(self: PidtopApp) -> None:
        original(self)
        mounted.append((self.samples_merged, self._journal_reader is not None))

    monkeypatch.setattr(PidtopApp, "on_mount", on_mount)
    app = build_app(Options(demo=True, delay=60.0))
    assert isinstance(app._first, Snapshot)  # sampled in build_app, before any loop
    async with app.run_test(size=(120, 40)) as pilot:
        assert mounted == [(1, False)]  # merged on mount; no journal before the first frame
        assert app._first is None
        assert PID_ROW.match(app.view.render_line(1).text)  # rows without waiting for a sample
        await wait_for(pilot, lambda: app._journal_reader is not None)
        await wait_for(pilot, lambda: app.samples_merged >= 2)  # sampling goes on (0.5 s)
    app.events.close()


async def test_a_failed_first_sample_leaves_it_to_the_app() -> None:
    app = build_app(Options(demo=True))
    source = app.source

    def broken(**_: object) -> Snapshot:
        raise OSError("no /proc")

    real = source.sample
    source.sample = broken  # type: ignore[method-assign]
    app.sample_first()
    assert app._first is None
    source.sample = real  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 1)  # the worker's sample
    app.events.close()


def test_the_monitor_start_imports_no_command_modules() -> None:
    """What ``pidtop`` imports up to ``run_tui`` (the parser, the options, the app, the sampler,
    the journal) leaves out what only a command, a config file or a tree kill needs, and
    ``ctypes`` (~0.3 MiB; only reclaim and the I/O priority picker call libc through it)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from pidtop.cli.main import _import_asyncio_without_tls, build_tui_parser\n"
        "_import_asyncio_without_tls()\n"
        "from pidtop.cli.snapshot import batch_argv\n"
        "from pidtop.cli.record import join_time_args\n"
        "from pidtop.ui.startup import resolve_options\n"
        "resolve_options(build_tui_parser().parse_args(['--no-config']))\n"
        "import pidtop.ui.app, pidtop.sampling.sampler, pidtop.journal.service\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout.split())  # fmt: skip
    assert "pidtop.ui.app" in loaded  # the probe itself worked
    unwanted = {"sqlite3", "csv", "tomllib", "json", "pidtop.sampling.batch", "pidtop.cli.process",
                "pidtop.actions.treefreeze", "pidtop.actions.treeresult", "ssl",
                "ctypes"}  # fmt: skip
    assert loaded.isdisjoint(unwanted), sorted(loaded & unwanted)


def test_key_names_are_looked_up_only_for_a_key_that_needs_them() -> None:
    """Reading the settings and a config without a named key looks up no character names
    (unicodedata's name tables: ~0.4 MiB of RSS); ``question_mark`` in a config still checks."""
    import subprocess
    import sys

    code = (
        "import unicodedata\n"
        "looked = []\n"
        "real = unicodedata.name\n"
        "unicodedata.name = lambda *a: looked.append(a) or real(*a)\n"
        "from pidtop.settings import config\n"
        "from pidtop.settings.keynames import key_problem\n"
        "print(len(looked), key_problem('k'), key_problem('ctrl+f5'))\n"
        "print(key_problem('question_mark'), len(looked) > 0, key_problem('no_such_key'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    first, second = out.stdout.splitlines()
    assert first == "0 None None"
    assert second.startswith("None True unknown key 'no_such_key'")


def test_asyncio_without_tls_still_runs_a_loop_and_ssl_still_imports() -> None:
    """asyncio imported without ssl (5 MiB of RSS the monitor does not need) runs a loop, and
    a later ``import ssl`` is not broken by it."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from pidtop.cli.main import _import_asyncio_without_tls\n"
        "_import_asyncio_without_tls()\n"
        "assert 'asyncio' in sys.modules and 'ssl' not in sys.modules\n"
        "import asyncio\n"
        "print(asyncio.run(asyncio.sleep(0, result='ran')))\n"
        "import ssl\n"
        "print(ssl.OPENSSL_VERSION.split()[0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["ran", "OpenSSL"]


def test_the_monitor_imports_shutil_without_compression_and_they_still_import() -> None:
    """``pidtop`` (its parser, then Textual's tempfile) imports shutil without zlib, bz2 and
    lzma (~0.3 MiB of RSS, for archive formats pidtop never uses); a later import of one
    works."""
    import subprocess
    import sys

    code = (
        "import contextlib, io, sys\n"
        "from pidtop.cli.main import _import_asyncio_without_tls, main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--version'])\n"
        "_import_asyncio_without_tls()\n"
        "import pidtop.ui.app, pidtop.sampling.sampler, pidtop.journal.service\n"
        "seen = {'shutil', 'tempfile', 'zlib', 'bz2', 'lzma'} & set(sys.modules)\n"
        "print(','.join(sorted(seen)))\n"
        "import bz2\n"
        "print(bz2.decompress(bz2.compress(b'ok')).decode())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["shutil,tempfile", "ok"]


def test_start_up_runs_without_the_collector_and_gives_it_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The app's import and first sample run with automatic collection off; it is on again
    when the app starts (and after a start that fails: here, no terminal)."""
    import gc

    from pidtop.ui import startup

    during: list[bool] = []
    real = startup.build_app

    def spy(*args: object, **kwargs: object) -> object:
        during.append(gc.isenabled())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(startup, "build_app", spy)
    assert gc.isenabled()
    assert startup.run_tui(Options(demo=True)) == 2  # pytest captures stdout: not a tty
    assert during == [False]
    assert gc.isenabled()


def test_start_up_freezes_what_it_built_and_the_cli_holds_the_collector_from_its_imports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The CLI's imports run without the collector; once the app is built, what start-up made
    is frozen (collections during the first frame do not walk it) and the collector is back;
    after the app nothing stays frozen. A monitor that cannot start gives the collector back."""
    import gc

    from pidtop.cli import main as cli
    from pidtop.ui import startup, terminal

    seen: list[tuple[bool, bool]] = []
    real = terminal.tty_problem

    def spy() -> object:  # run_tui asks it right after building the app
        seen.append((gc.isenabled(), gc.get_freeze_count() > 0))
        return real()

    monkeypatch.setattr(terminal, "tty_problem", spy)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert startup.run_tui(Options(demo=True)) == 2  # pytest captures stdout: not a tty
    assert seen == [(True, True)]
    assert gc.isenabled() and gc.get_freeze_count() == 0

    held: list[bool] = []

    def broken(*_: object, **__: object) -> int:
        held.append(gc.isenabled())
        raise RuntimeError("no start")

    monkeypatch.setattr(startup, "run_tui", broken)
    with pytest.raises(RuntimeError):
        cli._run_tui(cli.build_tui_parser().parse_args(["--demo", "--no-config"]))
    assert held == [False]
    assert gc.isenabled()


def test_large_blocks_keep_their_own_mapping_after_the_threshold_is_pinned() -> None:
    """``pin_mmap_threshold`` (run_tui's start): a block of 300 KB (a tick's dict of every
    process is ~150 KB at +3,000) is still mmapped, so freeing it gives its pages back, also
    after an 8 MiB block was freed (glibc alone then raises its threshold to 8 MiB and serves
    such blocks from the heap, which keeps the pages). In a child: glibc's state is global."""
    import subprocess
    import sys

    code = (
        "import ctypes, sys\n"
        "from pidtop.ui.startup import pin_mmap_threshold\n"
        "class Info(ctypes.Structure):\n"
        "    _fields_ = [(n, ctypes.c_size_t) for n in 'arena ordblks smblks hblks hblkhd '\n"
        "                'usmblks fsmblks uordblks fordblks keepcost'.split()]\n"
        "libc = ctypes.CDLL(None)\n"
        "libc.mallinfo2.restype = Info\n"
        "if sys.argv[1] == 'pin':\n"
        "    pin_mmap_threshold()\n"
        "big = bytearray(8 << 20)\n"
        "del big\n"
        "before = libc.mallinfo2().hblkhd\n"
        "block = bytearray(300_000)\n"
        "print(libc.mallinfo2().hblkhd - before)\n"
    )

    def mapped(how: str) -> int:
        run = subprocess.run([sys.executable, "-c", code, how], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        return int(run.stdout)

    assert mapped("pin") >= 300_000
    assert mapped("no") == 0  # what glibc does alone (the test can tell the two apart)


@pytest.mark.parametrize(("env", "delay"), [(None, 0.025), ("200", 0.2)])
def test_a_lone_esc_waits_htops_25_ms_unless_escdelay_says_otherwise(
    env: str | None, delay: float
) -> None:
    """The CLI's start sets Textual's escape delay (100 ms by default: every Esc that closes a
    screen waited for it) to htop's 25 ms before Textual is imported; a user's ``ESCDELAY``
    wins; the variable is not left for the processes pidtop starts."""
    check = "assert 'textual.constants' not in sys.modules  # (what the CLI has loaded by then)\n"
    out = _textual_setting_after_start(
        "ESCDELAY", env, "textual.constants", "textual.constants.ESCAPE_DELAY", check
    )
    assert out == [str(delay), str(env)]


def _textual_setting_after_start(
    variable: str, env: str | None, module: str, expression: str, check: str = ""
) -> list[str]:
    """In a fresh interpreter, as the CLI starts (asyncio, then ``textual_timing``) with
    ``variable`` set to ``env`` (None: unset): ``expression`` once Textual's ``module`` is
    imported, and the variable as it is left."""
    import os
    import subprocess
    import sys

    code = (
        "import os, sys\n"
        "from pidtop.cli.main import _import_asyncio_without_tls\n"
        "_import_asyncio_without_tls()\n"
        f"{check}"
        "from pidtop.ui.startup import textual_timing\n"
        "textual_timing()\n"
        f"import {module}\n"
        f"print({expression}, os.environ.get({variable!r}))\n"
    )
    environ = {k: v for k, v in os.environ.items() if k != variable}
    if env is not None:
        environ[variable] = env
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env=environ).stdout.split()  # fmt: skip


@pytest.mark.parametrize(("env", "fps"), [(None, 120), ("30", 30)])
def test_frames_after_a_key_wait_at_most_a_120th_unless_textual_fps_says_otherwise(
    env: str | None, fps: int
) -> None:
    """The CLI's start sets Textual's frame rate cap (``TEXTUAL_FPS``, 60 by default) to 120
    before Textual is imported: a frame asked for soon after the last one waits for the
    screen's update timer, one or two of its periods (up to 33 ms at 60, measured in tmux).
    A user's ``TEXTUAL_FPS`` wins; the variable is not left for the processes pidtop starts."""
    out = _textual_setting_after_start(
        "TEXTUAL_FPS", env, "textual.screen", "round(1 / textual.screen.UPDATE_PERIOD)"
    )
    assert out == [str(fps), str(env)]
