"""Real processes for tests: children, double-forked non-children, zombies, forced PID reuse.

Targets are forked (fast) and block on a command pipe: ``exit(code)`` makes them ``_exit(code)``
at once, so every state change is caused by the test, never by a timer. Waits are bounded
(poll with a timeout), never a bare sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

TIMEOUT = 5.0
TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def _kernel_version() -> tuple[int, int]:
    major, minor = os.uname().release.split(".")[:2]
    return int(major), int("".join(c for c in minor if c.isdigit()) or 0)


# What the kernel should support is decided from its version, never from pidtop's own probe
# (a broken probe would otherwise skip the very tests that would catch it).
KERNEL = _kernel_version()
HAS_INFO_EXIT = KERNEL >= (6, 15)  # PIDFD_INFO_EXIT
HAS_PIDFS_INODES = KERNEL >= (6, 9)  # unique pidfs inodes


async def run_loop_iterations(n: int = 50) -> None:
    """Let the running asyncio loop run ``n`` iterations; each one polls every registered fd,
    so a ready reader is called within one iteration (deterministic, unlike a sleep)."""
    for _ in range(n):
        await asyncio.sleep(0)


def wait_fd(fd: int, timeout: float = TIMEOUT, events: int = select.POLLIN) -> int:
    """Poll ``fd`` up to ``timeout`` seconds; return its events (0 on timeout)."""
    p = select.poll()
    p.register(fd, events)
    ready = p.poll(timeout * 1000)
    return ready[0][1] if ready else 0


def wait_reaped(fd: int, timeout: float = TIMEOUT) -> None:
    """Block until pidfd ``fd`` reports POLLHUP (reaped); AssertionError on timeout."""
    ep = select.epoll()  # an empty mask reports only EPOLLHUP: POLLIN of a zombie is ignored
    try:
        ep.register(fd, 0)
        if not ep.poll(timeout):
            raise AssertionError(f"process was not reaped within {timeout} s")
    finally:
        ep.close()


def read_exact(fd: int, n: int, timeout: float = TIMEOUT) -> bytes:
    data = b""
    while len(data) < n:
        if not wait_fd(fd, timeout):
            raise TimeoutError(f"no data on fd {fd} within {timeout} s")
        chunk = os.read(fd, n - len(data))
        if not chunk:
            raise EOFError(f"fd {fd} closed after {len(data)} bytes")
        data += chunk
    return data


def _target_main(cmd_r: int, ready_w: int, ignore_term: bool, comm: str | None) -> None:
    if comm is not None:
        Path("/proc/self/comm").write_text(comm)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_IGN if ignore_term else signal.SIG_DFL)
    os.write(ready_w, struct.pack("=i", os.getpid()))
    data = os.read(cmd_r, 1)
    os._exit(data[0] if data else 0)


def _fork(fn: object, *args: object) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            fn(*args)  # type: ignore[operator]
        finally:
            os._exit(70)
    return pid


@dataclass
class Target:
    """A test process. ``exit(code)`` ends it; ``reap()`` has its parent collect it."""

    pid: int
    is_child: bool
    cmd_w: int
    middle: int | None = None  # non-child: its parent, our child
    reap_w: int | None = None  # non-child whose parent reaps on request

    def exit(self, code: int = 0) -> None:
        os.write(self.cmd_w, bytes([code]))

    def pidfd(self) -> int:
        return os.pidfd_open(self.pid)

    def pidfd_inode(self) -> int:
        fd = os.pidfd_open(self.pid)
        try:
            return os.fstat(fd).st_ino
        finally:
            os.close(fd)

    def reap(self) -> None:
        """Reap the exited target (as its parent). Orphans are reaped by init, not here."""
        if self.is_child:
            os.waitpid(self.pid, 0)
        elif self.reap_w is not None:
            os.write(self.reap_w, b"r")
            os.waitpid(self.middle, 0)  # type: ignore[arg-type]
            self.middle = None

    def close(self) -> None:
        """Kill (through a pidfd, so never a recycled PID) and reap; close our pipe ends."""
        try:
            fd = os.pidfd_open(self.pid)
        except OSError:
            fd = -1
        if fd >= 0:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(fd, signal.SIGKILL)
            if self.is_child:
                with contextlib.suppress(ChildProcessError):
                    os.waitid(os.P_PIDFD, fd, os.WEXITED)
            os.close(fd)
        if self.middle is not None:
            if self.reap_w is not None:
                os.write(self.reap_w, b"r")
            os.waitpid(self.middle, 0)
            self.middle = None
        for w in (self.cmd_w, self.reap_w):
            if w is not None:
                os.close(w)
        self.cmd_w, self.reap_w = -1, None

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def spawn(
    kind: Literal["child", "nonchild"] = "child",
    *,
    ignore_term: bool = False,
    reaper: Literal["parent", "init"] = "parent",
    comm: str | None = None,
) -> Target:
    """Start a target that blocks until told to exit.

    ``nonchild`` double-forks: with ``reaper="parent"`` the middle process stays and reaps the
    target only when :meth:`Target.reap` asks (so the zombie state is under the test's
    control); with ``reaper="init"`` the middle exits at once and the orphan is reaped by
    PID 1 (or a subreaper), which here happens 1.5-1.8 s after its exit.
    """
    cmd_r, cmd_w = os.pipe()
    ready_r, ready_w = os.pipe()
    reap_r, reap_w = os.pipe() if kind == "nonchild" and reaper == "parent" else (-1, -1)

    def middle() -> None:
        gc = _fork(_target_main, cmd_r, ready_w, ignore_term, comm)
        if reap_r < 0:
            os._exit(0)
        os.read(reap_r, 1)
        os.waitpid(gc, 0)
        os._exit(0)

    if kind == "child":
        forked = _fork(_target_main, cmd_r, ready_w, ignore_term, comm)
    else:
        forked = _fork(middle)
    os.close(cmd_r)
    os.close(ready_w)
    try:
        (pid,) = struct.unpack("=i", read_exact(ready_r, 4))
    finally:
        os.close(ready_r)
        if reap_r >= 0:
            os.close(reap_r)
    if kind == "child":
        return Target(pid, True, cmd_w)
    if reaper == "init":
        os.waitpid(forked, 0)
        return Target(pid, False, cmd_w)
    return Target(pid, False, cmd_w, middle=forked, reap_w=reap_w)


def count_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def nonexistent_pid() -> int:
    """A PID that cannot exist: above pid_max (pidfd_open gives ESRCH)."""
    return int(Path("/proc/sys/kernel/pid_max").read_text()) + 1


def wait_pidfd_held(
    holder: int, pid: int, timeout: float = TIMEOUT, *, watched: bool = False
) -> None:
    """Wait (bounded) until process ``holder`` has a pidfd open for ``pid`` (from fdinfo).

    With ``watched``, until that pidfd is also in one of its epoll sets: the open (and its
    verification) is over and the watch has begun, so the target may now exit at any time.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        infos: dict[str, str] = {}
        for name in os.listdir(f"/proc/{holder}/fdinfo"):
            try:
                infos[name] = Path(f"/proc/{holder}/fdinfo/{name}").read_text()
            except OSError:
                continue
        pidfds = [n for n, text in infos.items() if f"\nPid:\t{pid}\n" in text]
        if pidfds and not watched:
            return
        for fd in pidfds:
            if any(f"tfd: {fd:>8} " in text for text in infos.values()):
                return
        select.poll().poll(5)
    raise AssertionError(f"process {holder} never {'watched' if watched else 'opened'} {pid}")


def pidtop_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "pidtop", *args]


def pidtop_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(TESTS), env.get("PYTHONPATH", "")])
    return env


# --------------------------------------------------------------------------- PID reuse


def fork_at_pid(pid: int, main: object) -> int:
    """Inside a private PID namespace (as its PID 1): fork a child that gets exactly ``pid``."""
    Path("/proc/sys/kernel/ns_last_pid").write_text(str(pid - 1))
    child = _fork(main)
    if child != pid:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        raise RuntimeError(f"wanted PID {pid}, got {child}")
    return child


def sleep_forever(ignore_term: bool = False) -> None:
    if ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        signal.pause()


#: the system's Python, readable by any user (a venv under root's home may not be)
SYSTEM_PYTHON = "/usr/bin/python3"
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def pid_namespace_unavailable(*, as_nobody: bool = False) -> str | None:
    """Why a private PID namespace cannot be used here, or None.

    ``as_nobody``: as uid 65534 inside a user namespace (``unshare --user --map-root-user``),
    the way an unprivileged user gets one, with the system's Python.
    """
    for tool in ("unshare", *(("setpriv",) if as_nobody else ())):
        if shutil.which(tool) is None:
            return f"{tool}(1) is not installed"
    if as_nobody:
        if os.geteuid() != 0:  # setpriv to uid 65534 needs root; other users run it directly
            return "needs root to become uid 65534 (setpriv)"
        if not os.access(SYSTEM_PYTHON, os.X_OK):
            return f"{SYSTEM_PYTHON} is missing"
        cmd = [*NOBODY, "unshare", "--user", "--map-root-user", "--pid", "--fork"]
        cmd += ["--mount-proc", "true"]
    else:
        if os.geteuid() != 0:
            return "needs root for unshare --pid and /proc/sys/kernel/ns_last_pid"
        cmd = ["unshare", "--pid", "--fork", "--mount-proc", "true"]
    probe = subprocess.run(cmd, capture_output=True, text=True)
    if probe.returncode != 0:
        return f"unshare failed: {probe.stderr.strip()}"
    return None


def readable_copy(where: Path, packages: tuple[str, ...] = ("psutil",)) -> Path:
    """pidtop's package, tests/procs.py and tests/forktree.py, and the third-party
    ``packages`` an unprivileged child imports, copied under ``where`` and made readable by
    anyone. A child of another user runs from there (``PYTHONPATH=where``) with
    :func:`unprivileged_python`: the checkout and its venv may live in a 0700 folder (a home
    on many distributions, a fresh ``mktemp -d``) that other users cannot read."""
    import importlib.util

    shutil.copytree(ROOT / "pidtop", where / "pidtop", ignore=shutil.ignore_patterns("__pycache__"))
    for helper in ("procs.py", "forktree.py"):
        shutil.copy(TESTS / helper, where / helper)
    for name in packages:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, f"{name} is not installed"
        shutil.copytree(
            Path(spec.origin).parent, where / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    for path in [where, *where.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return where


def unprivileged_python() -> str | None:
    """A Python any user can run, of this version (so the copied extension modules load): the
    system's. None when there is none (the caller skips, saying so)."""
    for cand in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if not os.access(cand, os.X_OK):
            continue
        ver = subprocess.run(
            [cand, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
        ).stdout.strip()
        if ver == str(sys.version_info[:2]):
            return cand
    return None


@contextlib.contextmanager
def as_another_user() -> Iterator[tuple[str, dict[str, str]]]:
    """(python, env) for a child run as another user (``setpriv --reuid``): the system's
    Python and a readable copy of pidtop in a fresh world-readable folder, removed after."""
    python = unprivileged_python()
    if python is None:
        import pytest

        pytest.skip("no system Python of this version that another user can run")
    with tempfile.TemporaryDirectory(prefix="pidtop-readable-") as tmp:
        where = readable_copy(Path(tmp))
        yield python, {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(where), "HOME": str(where)}


def run_in_pid_namespace(
    body: str, timeout: float = 30, *, mount_proc: bool = True, as_nobody: bool = False
) -> dict[str, object]:
    """Run ``body`` as PID 1 of a new PID namespace; it must print one JSON line last.

    The script can ``import procs`` and ``pidtop``. When it exits the kernel kills whatever is
    left in the namespace, so cleanup is automatic. ``mount_proc=False`` keeps the host's
    /proc (another namespace's PIDs). ``as_nobody`` runs it as uid 65534 in a user namespace
    with the system's Python and a readable copy of pidtop (no root inside but the mapped one).
    """
    with tempfile.TemporaryDirectory(prefix="pidtop-ns-") as tmp:
        where = Path(tmp)
        script = where / "script.py"
        env = pidtop_env()
        cmd = ["unshare", "--pid", "--fork", *(["--mount-proc"] if mount_proc else [])]
        python = sys.executable
        if as_nobody:
            readable_copy(where)
            env["PYTHONPATH"] = str(where)
            cmd = [*NOBODY, "unshare", "--user", "--map-root-user", *cmd[1:]]
            python = SYSTEM_PYTHON
        script.write_text(body)
        script.chmod(0o644)
        out = subprocess.run(
            [*cmd, python, str(script)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=where,
        )
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        raise AssertionError(f"namespace script failed ({out.returncode}):\n{out.stderr}")
    return json.loads(lines[-1])


# --------------------------------------------------------------------------- seccomp


def deny_syscall(nr: int, err: int) -> None:
    """Install a real seccomp filter in THIS process: syscall ``nr`` fails with ``err``.

    What a container profile does (old Docker profiles answer EPERM). x86_64 only; there is
    no way back, so call it in a subprocess.
    """
    import ctypes

    class SockFilter(ctypes.Structure):
        _fields_ = [
            ("code", ctypes.c_ushort),
            ("jt", ctypes.c_ubyte),
            ("jf", ctypes.c_ubyte),
            ("k", ctypes.c_uint),
        ]

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]

    audit_arch_x86_64 = 0xC000003E
    prog = (SockFilter * 6)(
        SockFilter(0x20, 0, 0, 4),  # A = seccomp_data.arch
        SockFilter(0x15, 1, 0, audit_arch_x86_64),  # other arch: allow (not our concern)
        SockFilter(0x06, 0, 0, 0x7FFF0000),
        SockFilter(0x20, 0, 0, 0),  # A = seccomp_data.nr
        SockFilter(0x15, 0, 1, nr),
        SockFilter(0x06, 0, 0, 0x00050000 | (err & 0xFFFF)),  # SECCOMP_RET_ERRNO | err
    )
    allow = (SockFilter * 7)(*prog, SockFilter(0x06, 0, 0, 0x7FFF0000))
    fprog = SockFprog(len(allow), allow)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
    if libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:  # PR_SET_SECCOMP, FILTER
        raise OSError(ctypes.get_errno(), "PR_SET_SECCOMP")
