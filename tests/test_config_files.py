"""The config file on real files and mounts: nothing lost, nothing replaced that should not be.

A symlinked config is written through; a read-only one is left alone; new files honour the
umask; the folder is fsynced after the rename (seen with strace); ``.broken`` names are taken
atomically; two saves do not interleave (a lock); as root the user's folder and file keep
their owner (``sudo -E``); on a full filesystem (a real tiny tmpfs) the original stays. What
is not a regular file (a FIFO, /dev/zero) is never read or waited on.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pidtop.settings import config

BOUND = 20.0  # seconds any one step may take on a loaded machine


def needs_root(what: str) -> None:
    if os.geteuid() != 0:
        pytest.skip(f"{what} needs root (this run is uid {os.geteuid()})")


def test_a_symlinked_config_is_written_through(tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "pidtop.toml"
    real.write_text("# mine\ntree = true\n")
    link = tmp_path / "xdg" / "pidtop" / "config.toml"
    link.parent.mkdir(parents=True)
    link.symlink_to(real)
    saved = config.save(link, {"delay": 3.0})
    assert link.is_symlink() and os.readlink(link) == str(real)  # the link stays a link
    assert real.read_text() == "# mine\ntree = true\ndelay = 3.0\n"  # its target changed
    assert sorted(p.name for p in link.parent.iterdir()) == ["config.toml"]
    assert sorted(p.name for p in dotfiles.iterdir()) == ["pidtop.toml"]  # no temp left
    assert saved.path == link
    # not TOML: the target is kept aside beside itself, the link still points at the target
    real.write_bytes(b"tree = = true\n")
    saved = config.save(link, {"tree": False})
    assert saved.moved_aside == dotfiles / "pidtop.toml.broken"
    assert saved.moved_aside.read_bytes() == b"tree = = true\n"
    assert link.is_symlink() and "tree = false" in real.read_text()


def test_a_read_only_config_is_not_overwritten(tmp_path: Path) -> None:
    """0444: not written, even by root (who may write anything); the message says why."""
    path = tmp_path / "config.toml"
    path.write_text("tree = true\n")
    path.chmod(0o444)
    with pytest.raises(PermissionError) as caught:
        config.save(path, {"tree": False})
    assert "read-only (mode 0444); left as it is" in str(caught.value.strerror)
    assert path.read_text() == "tree = true\n" and stat.S_IMODE(path.stat().st_mode) == 0o444
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_new_files_and_folders_honour_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "xdg" / "pidtop" / "config.toml"
    old = os.umask(0o077)
    try:
        config.save(path, {"tree": True})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "xdg").stat().st_mode) == 0o700


def test_the_folder_is_fsynced_after_the_rename(tmp_path: Path) -> None:
    """strace shows the order: fsync of the new file, rename over the old, fsync of the folder."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed: the system calls cannot be seen")
    path = tmp_path / "config.toml"
    path.write_text("tree = true\n")
    code = (
        "from pathlib import Path; from pidtop.settings import config;"
        f"config.save(Path({str(path)!r}), {{'tree': False}})"
    )
    trace = "trace=fsync,rename,renameat,renameat2"
    out = subprocess.run(
        [strace, "-f", "-y", "-e", trace, sys.executable, "-c", code],
        capture_output=True, text=True, timeout=BOUND, check=True,
    )  # fmt: skip
    calls = [line for line in out.stderr.splitlines() if line.startswith(("fsync", "rename"))]
    assert len(calls) == 3, calls
    assert calls[0].startswith("fsync(") and ".tmp>" in calls[0]
    assert calls[1].startswith("rename") and str(path) in calls[1]
    assert calls[2].startswith("fsync(") and calls[2].endswith(f"<{tmp_path}>) = 0")


def test_broken_names_are_never_reused(tmp_path: Path) -> None:
    """Earlier ``.broken`` files stay byte for byte; the next free name is taken (by link(2),
    which fails when the name exists: nothing can appear between looking and taking)."""
    path = tmp_path / "config.toml"
    (tmp_path / "config.toml.broken").write_bytes(b"first\n")
    (tmp_path / "config.toml.broken.2").write_bytes(b"second\n")
    path.write_bytes(b"third = = \n")
    saved = config.save(path, {"tree": True})
    assert saved.moved_aside == tmp_path / "config.toml.broken.3"
    assert (tmp_path / "config.toml.broken").read_bytes() == b"first\n"
    assert (tmp_path / "config.toml.broken.2").read_bytes() == b"second\n"
    assert saved.moved_aside.read_bytes() == b"third = = \n"


def test_two_saves_do_not_interleave(tmp_path: Path) -> None:
    """While another pidtop holds the folder's lock, a save waits; then it merges into what
    the other one wrote (it reads the file only once it has the lock)."""
    path = tmp_path / "config.toml"
    path.write_text("# shared\n")
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    done = threading.Event()
    errors: list[BaseException] = []

    def save() -> None:
        try:
            config.save(path, {"tree": True})
        except BaseException as e:  # reported by the test
            errors.append(e)
        done.set()

    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        thread = threading.Thread(target=save)
        thread.start()
        assert not done.wait(0.5), "the save did not wait for the lock"
        config._write_atomic(path, "# shared\ndelay = 3.0\n", path.stat())  # the other pidtop
    finally:
        os.close(fd)  # releases the lock
    assert done.wait(BOUND) and not errors, errors
    thread.join(BOUND)
    assert path.read_text() == "# shared\ndelay = 3.0\ntree = true\n"


def test_a_save_gives_up_on_a_lock_held_too_long(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config, "LOCK_WAIT", 0.2)
    path = tmp_path / "config.toml"
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(BlockingIOError, match="another pidtop is saving it"):
            config.save(path, {"tree": True})
    finally:
        os.close(fd)
    assert not path.exists()


def test_as_root_the_users_folder_and_file_keep_their_owner(tmp_path: Path) -> None:
    """``sudo -E pidtop``: $XDG_CONFIG_HOME is the user's. A folder pidtop makes there and the
    file it writes belong to the user (the owner of the folder they are made in); a file that
    exists keeps its owner."""
    needs_root("chown")
    user, group = 65534, 65534
    home = tmp_path / "home"
    home.mkdir()
    os.chown(home, user, group)
    path = home / "pidtop" / "config.toml"
    config.save(path, {"tree": True})
    for p in (path.parent, path):
        assert (p.stat().st_uid, p.stat().st_gid) == (user, group), p
    os.chown(path, 4242, 4243)  # another owner again: kept across a rewrite
    config.save(path, {"tree": False})
    assert (path.stat().st_uid, path.stat().st_gid) == (4242, 4243)
    assert "tree = false" in path.read_text()


@contextlib.contextmanager
def tiny_tmpfs(where: Path, size: str = "64k") -> Iterator[Path]:
    """A real tmpfs of ``size`` mounted on ``where`` (root only), unmounted after."""
    needs_root("mounting a tmpfs")
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
        capture_output=True, text=True, timeout=BOUND,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"this machine does not let root mount a tmpfs: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], timeout=BOUND, check=False)


def _fill(folder: Path) -> Path:
    """Fill the filesystem of ``folder`` to the last byte; returns the filler file."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        with contextlib.suppress(OSError):
            while os.write(fd, b"\0" * 4096):
                pass
    finally:
        os.close(fd)
    return filler


def test_on_a_full_filesystem_the_original_stays(tmp_path: Path) -> None:
    """Not TOML, a change, a full disk: the save fails and says so, and the original is still
    config.toml byte for byte (not moved aside: the next start would have used defaults
    without a word). With room again, the save works and the original is kept aside."""
    with tiny_tmpfs(tmp_path / "mnt") as mnt:
        path = mnt / "config.toml"
        raw = b"# my settings, with a typo\ntree = = true\n"
        path.write_bytes(raw)
        filler = _fill(mnt)
        with pytest.raises(OSError) as caught:
            config.save(path, {"delay": 3.0, "columns": ("pid", "command")})
        assert caught.value.errno == errno.ENOSPC
        assert path.read_bytes() == raw
        assert sorted(p.name for p in mnt.iterdir()) == ["config.toml", "filler"]
        filler.unlink()
        saved = config.save(path, {"delay": 3.0})
        assert saved.moved_aside == mnt / "config.toml.broken"
        assert saved.moved_aside.read_bytes() == raw and "delay = 3.0" in path.read_text()


NOT_REGULAR = ["fifo", "dev-zero", "directory"]


def _make(kind: str, path: Path) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    else:
        path.mkdir()


@pytest.mark.parametrize("kind", NOT_REGULAR)
def test_what_is_not_a_regular_file_is_never_read(kind: str, tmp_path: Path) -> None:
    """A FIFO used to hang the start (nobody writes it); /dev/zero was read without end. Now:
    one warning line, the defaults; the monitor's start and ``pidtop snapshot`` alike (in a
    subprocess, bounded: a hang fails the test instead of hanging it)."""
    path = tmp_path / "config.toml"
    _make(kind, path)
    loaded = config.load(path)
    assert loaded.values == {} and len(loaded.problems) == 1
    assert "not a regular file" in str(loaded.problems[0]) or kind == "directory"
    code = (
        "import sys; from pidtop.cli.main import build_tui_parser;"
        "from pidtop.ui.startup import resolve_options;"
        f"o, p = resolve_options(build_tui_parser().parse_args(['--config', {str(path)!r}]));"
        "print(len(p)); print(p[0])"
    )
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=BOUND
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"1\n{path}: cannot read it")
    snap = subprocess.run(
        [sys.executable, "-m", "pidtop", "snapshot", "--config", str(path), "-w", "0", "-d", "1"],
        capture_output=True, text=True, timeout=BOUND,
    )  # fmt: skip
    assert snap.returncode == 0 and "PID" in snap.stdout, snap.stderr
    assert snap.stderr.count("warning") == 1 and "Traceback" not in snap.stderr
    assert time.monotonic() - started < BOUND
    with pytest.raises(OSError):  # and a save never replaces it
        config.save(path, {"tree": True})
    assert path.is_fifo() if kind == "fifo" else True


def test_a_deeply_nested_config_is_one_warning_in_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"x = " + b"[" * 500 + b"]" * 500 + b"\n")
    snap = subprocess.run(
        [sys.executable, "-m", "pidtop", "snapshot", "--config", str(path), "-w", "0", "-d", "1"],
        capture_output=True, text=True, timeout=BOUND,
    )  # fmt: skip
    assert snap.returncode == 0 and "PID" in snap.stdout, snap.stderr
    assert snap.stderr.strip().splitlines() == [
        f"pidtop: warning: {path}: cannot be parsed (nested too deeply); using the defaults "
        "(the file is left as it is)"
    ]
