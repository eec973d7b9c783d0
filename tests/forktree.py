"""Process trees for tree-kill tests and ``benchmarks/treekill.py``.

A *growing* tree: a root forks spawners; each spawner forks a child every 1-5 ms while there are
tokens (at most ``limit`` processes alive at once; a process gives its token back when it exits,
so the tree keeps forking); a child becomes a spawner itself for a while with probability
``deeper`` (then waits for its own children and exits), else it is a leaf that lives 1-3 s.
A *static* tree: ``fanout`` children per process,
``depth`` levels, every process waiting. Each process may install a handler that writes a file
``DIR/PID.SIGNAME`` when it gets a signal (and exits on SIGTERM).

:func:`trial` runs in a driver process that is a child subreaper, so every orphan of the tree
comes back to it: survivors are counted exactly (every live process below the driver) and all
of them are killed at the end, whatever happened. Run it through :func:`run_driver`, which puts
the driver in a private PID namespace where possible (root): when the driver exits, the kernel
kills whatever is left there, so a failed test leaves nothing running.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import random
import select
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
F_SETPIPE_SZ = 1031
TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


# --------------------------------------------------------------------------- the tree


def _on_signal(directory: str, exit_on_term: bool):
    def handler(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        with contextlib.suppress(OSError):
            Path(directory, f"{os.getpid()}.{name}").write_text("")
        if signum == signal.SIGTERM and exit_on_term:
            os._exit(0)

    return handler


def _setup(born_w: int, handlers: str | None, ignore_term: bool = False) -> None:
    if handlers is not None:
        for sig in (signal.SIGTERM, signal.SIGUSR1):
            signal.signal(sig, _on_signal(handlers, True))
    else:
        signal.signal(signal.SIGTERM, signal.SIG_IGN if ignore_term else signal.SIG_DFL)
    with contextlib.suppress(OSError):
        os.write(born_w, os.getpid().to_bytes(4, "little"))


def _wait_forever() -> None:
    while True:
        signal.pause()


def _reap_children(block: bool) -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, 0 if block else os.WNOHANG)[0] > 0:
            pass


def _spawner(tokens: tuple[int, int], born_w: int, cfg: dict, rng: random.Random,
             lifetime: float | None) -> None:  # fmt: skip
    """Fork a child every ``interval`` while tokens last; a child is a spawner itself (for a
    while, then it waits for its children, so none is orphaned) or a leaf that lives 1-3 s.
    Each process gives its token back when it exits: at most ``limit`` are alive at once and
    the tree keeps forking for as long as the root lives."""
    end = None if lifetime is None else time.monotonic() + lifetime
    while end is None or time.monotonic() < end:
        time.sleep(rng.uniform(*cfg["interval"]))
        _reap_children(False)
        try:
            if not os.read(tokens[0], 1):
                break
        except BlockingIOError:
            continue
        spawner = rng.random() < cfg["deeper"]
        seed = rng.random()
        pid = os.fork()
        if pid == 0:
            try:
                _setup(born_w, cfg["handlers"], cfg["ignore_term"])
                child_rng = random.Random(seed)
                if spawner:
                    _spawner(tokens, born_w, cfg, child_rng, child_rng.uniform(0.2, 1.0))
                    _reap_children(True)
                else:
                    time.sleep(child_rng.uniform(1.0, 3.0))
                if cfg["exits"] is not None:  # exiting by itself (nobody signalled it)
                    with contextlib.suppress(OSError):
                        os.write(cfg["exits"], _EXIT.pack(os.getpid(), time.monotonic()))
                os.write(tokens[1], b"t")
            finally:
                os._exit(0)
        elif pid < 0:
            os.write(tokens[1], b"t")
    if end is None:
        _wait_forever()


def growing_tree(
    *,
    spawners: int = 4,
    interval: tuple[float, float] = (0.001, 0.005),
    limit: int = 600,
    deeper: float = 0.25,
    handlers: str | None = None,
    seed: int = 0,
    ignore_term: bool = False,
    exits: int | None = None,
) -> tuple[int, int]:
    """Fork the root of a growing tree; returns (root PID, fd of the 'born' pipe: 4-byte PIDs).

    The root and its ``spawners`` live until killed; at most ``limit`` processes are alive.
    """
    tokens = os.pipe()
    os.set_blocking(tokens[0], False)
    os.write(tokens[1], b"t" * (limit - 1 - spawners))  # the root and spawners count too
    born_r, born_w = os.pipe()
    os.set_blocking(born_w, False)
    cfg = dict(
        interval=interval, deeper=deeper, handlers=handlers, ignore_term=ignore_term, exits=exits
    )
    root = os.fork()
    if root == 0:
        try:
            os.close(born_r)
            _setup(born_w, handlers, ignore_term)
            for i in range(spawners):
                if os.fork() == 0:
                    try:
                        _setup(born_w, handlers, ignore_term)
                        _spawner(tokens, born_w, cfg, random.Random(seed * 1000 + i), None)
                    finally:
                        os._exit(0)
            _wait_forever()
        finally:
            os._exit(0)
    os.close(tokens[0])
    os.close(tokens[1])
    os.close(born_w)
    return root, born_r


def static_tree(
    *,
    fanout: int = 2,
    depth: int = 2,
    handlers: str | None = None,
    cgroup: str | None = None,
    ignore_term: bool = False,
) -> tuple[int, int]:
    """Fork a tree of ``1 + fanout + fanout**2 ...`` waiting processes; (root PID, born fd).
    With ``cgroup`` (a cgroup v2 directory) the root moves there before it forks."""
    born_r, born_w = os.pipe()

    def level(n: int) -> None:
        _setup(born_w, handlers, ignore_term)
        for _ in range(fanout if n < depth else 0):
            if os.fork() == 0:
                try:
                    level(n + 1)
                finally:
                    os._exit(0)
        _wait_forever()

    root = os.fork()
    if root == 0:
        try:
            os.close(born_r)
            if cgroup is not None:
                Path(cgroup, "cgroup.procs").write_text("0")
            level(0)
        finally:
            os._exit(0)
    os.close(born_w)
    return root, born_r


def read_born(fd: int, want: int, timeout: float = 10.0) -> list[int]:
    """Read PIDs from the born pipe until ``want`` arrived (or ``timeout``)."""
    data = b""
    deadline = time.monotonic() + timeout
    p = select.poll()
    p.register(fd, select.POLLIN)
    while len(data) // 4 < want:
        left = deadline - time.monotonic()
        if left <= 0 or not p.poll(left * 1000):
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    return [int.from_bytes(data[i : i + 4], "little") for i in range(0, len(data) - 3, 4)]


# --------------------------------------------------------------------------- the driver


def become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def _stat(pid: int) -> tuple[str, int] | None:
    try:
        data = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = data.rpartition(b")")[2].split()
    return fields[0].decode(), int(fields[1])


def descendants(pid: int | None = None) -> dict[int, str]:
    """Every descendant of ``pid`` (default: this process) -> its state letter."""
    top = os.getpid() if pid is None else pid
    out: dict[int, str] = {}
    stack = [top]
    while stack:
        p = stack.pop()
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                kids = Path(f"/proc/{p}/task/{tid}/children").read_text().split()
            except OSError:
                continue
            for k in map(int, kids):
                st = _stat(k)
                if st is not None and k not in out:
                    out[k] = st[0]
                    stack.append(k)
    return out


def reap_all() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


_EXIT = struct.Struct("=id")  # pid, CLOCK_MONOTONIC seconds


def exits_pipe() -> tuple[int, int]:
    """A pipe the tree's processes write ``(pid, time)`` to when they exit by themselves."""
    r, w = os.pipe()
    with contextlib.suppress(OSError):
        fcntl.fcntl(w, F_SETPIPE_SZ, 1 << 20)
    os.set_blocking(r, False)
    os.set_blocking(w, False)
    return r, w


def natural_exits(r: int, after: float) -> int:
    """How many processes exited by themselves after ``after`` (monotonic): a process the
    kill had signalled cannot, so each one escaped it. Drains the pipe."""
    data = b""
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(r, 65536):
            data += chunk
    n = len(data) // _EXIT.size
    return sum(1 for i in range(n) if _EXIT.unpack_from(data, i * _EXIT.size)[1] > after)


def live(states: dict[int, str]) -> list[int]:
    return [p for p, s in states.items() if s not in ("Z", "X")]


def survivors(settle: float = 2.0, *, until_gone: bool = False) -> list[int]:
    """Live descendants once the killed ones are gone: counted until the number holds still
    for 200 ms (a killed process dies within ms; a survivor never does), at most ``settle``
    seconds; with ``until_gone``, until there is none (a test that expects none: on a loaded
    machine a killed process can take a while to be scheduled and die), at most ``settle``."""
    deadline = time.monotonic() + settle
    last: list[int] | None = None
    while True:
        reap_all()
        now = sorted(live(descendants()))
        if (not now if until_gone else now == last) or time.monotonic() > deadline:
            return now
        last = now
        select.poll().poll(200)


def kill_everything(timeout: float = 10.0) -> int:
    """SIGKILL every descendant (through pidfds) until none is left; returns how many."""
    killed = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reap_all()
        pids = live(descendants())
        if not pids:
            break
        for pid in pids:
            try:
                fd = os.pidfd_open(pid)
            except OSError:
                continue
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(fd, signal.SIGKILL)
                killed += 1
            os.close(fd)
        select.poll().poll(10)
    reap_all()
    return killed


def list_then_kill(root: int, sig: int = signal.SIGKILL) -> int:
    """The racy way (htop's tagged kill): list the tree, then signal each PID in the list."""
    pids = [root]
    for pid in pids:  # grows while it is walked: a breadth-first listing
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:  # gone meanwhile
            continue
        for tid in tids:
            with contextlib.suppress(OSError):
                pids.extend(map(int, Path(f"/proc/{pid}/task/{tid}/children").read_text().split()))
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, sig)
    return len(pids)


def pidtop_kill_tree(root: int, *args: str, as_user: int | None = None) -> tuple[int, str, str]:
    """Run ``pidtop kill --tree ARGS ROOT``; (exit status, stdout, stderr). ``as_user``: as
    that uid, from a readable copy of pidtop (:func:`procs.as_another_user`: the checkout may
    be in a folder that user cannot read)."""
    if as_user is not None:
        from procs import as_another_user

        with as_another_user() as (python, env):
            cmd = ["setpriv", f"--reuid={as_user}", f"--regid={as_user}", "--clear-groups"]
            cmd += [python, "-m", "pidtop", "kill", "--tree", *args, str(root)]
            out = subprocess.run(
                cmd, capture_output=True, text=True, env=env, timeout=60, cwd=env["HOME"]
            )
        return out.returncode, out.stdout, out.stderr
    cmd = [sys.executable, "-m", "pidtop", "kill", "--tree", *args, str(root)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    return out.returncode, out.stdout, out.stderr


def trial(
    how: str, *, kill_at: int, seed: int, sig: str = "KILL", limit: int = 600, settle: float = 5.0
) -> dict:
    """One trial: grow a tree to ``kill_at`` processes, kill it ``how`` ("pidtop" or "list"),
    then count the escapes: processes still alive ``settle`` s later (or as soon as none is
    left: on a loaded machine a killed process can take a while to be scheduled and die) plus
    those that exited by themselves after the kill (nobody signalled them); clean up."""
    become_subreaper()
    exits_r, exits_w = exits_pipe()
    root, born = growing_tree(limit=limit, seed=seed, exits=exits_w)
    out: dict[str, object] = {"how": how}
    try:
        read_born(born, kill_at)
        t0 = time.monotonic()
        if how == "pidtop":
            status, stdout, stderr = pidtop_kill_tree(root, "-s", sig)
            out.update(status=status, stdout=stdout.strip(), stderr=stderr.strip())
        else:
            out["listed"] = list_then_kill(root, signal.Signals["SIG" + sig])
        t1 = time.monotonic()
        out["kill_seconds"] = t1 - t0
        os.set_blocking(born, False)
        with contextlib.suppress(BlockingIOError):
            while os.read(born, 65536):
                pass
        out["survivors"] = len(survivors(settle, until_gone=True))
        out["exited_after"] = natural_exits(exits_r, t1)
        out["escaped"] = out["survivors"] + out["exited_after"]
    finally:
        out["cleaned"] = kill_everything()
        for fd in (born, exits_r, exits_w):
            os.close(fd)
    out["left"] = len(live(descendants()))
    return out


def run_driver(code: str, timeout: float = 120) -> dict:
    """Run ``code`` (Python, may ``import forktree``; prints one JSON line last) in a driver
    process: in a private PID namespace when we are root, else in its own session."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(TESTS), env.get("PYTHONPATH", "")])
    cmd = [sys.executable, "-c", code]
    if os.geteuid() == 0:
        cmd = ["unshare", "--pid", "--fork", "--mount-proc", *cmd]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True,
    )  # fmt: skip
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # our own new session, nothing else
            proc.wait()
    lines = stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise AssertionError(f"driver failed ({proc.returncode}):\n{stdout}\n{stderr}")
    return json.loads(lines[-1])


if __name__ == "__main__":  # python tests/forktree.py pidtop|list KILL_AT SEED
    print(json.dumps(trial(sys.argv[1], kill_at=int(sys.argv[2]), seed=int(sys.argv[3]))))
