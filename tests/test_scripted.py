"""ScriptedSource: deterministic, realistic, hostile."""

import inspect
import itertools

from pidtop.demo.script import EXIT_AT, EXIT_PID, NEW_AT, NEW_PID, WALL0
from pidtop.demo.source import ScriptedSource
from pidtop.sampling.fmt import sanitize
from pidtop.sampling.snapshot import ProcessSource, Snapshot


def _run(n: int, **kw: object) -> list:
    src = ScriptedSource(**kw)  # type: ignore[arg-type]
    return [src.sample(threads=i % 2 == 1) for i in range(n)]


def test_two_sources_produce_equal_snapshots() -> None:
    assert _run(8) == _run(8)
    assert _run(3, ncpu=8, interval=1.0) == _run(3, ncpu=8, interval=1.0)


def test_is_a_process_source() -> None:
    """The protocol's methods with the protocol's signatures (it asserted only now())."""
    for name in ("sample", "now"):
        want = inspect.signature(getattr(ProcessSource, name))
        assert inspect.signature(getattr(ScriptedSource, name)) == want, name
    src: ProcessSource = ScriptedSource()
    assert src.now() == WALL0
    snap = src.sample(threads=True, fields=frozenset())
    assert isinstance(snap, Snapshot) and snap.processes and src.now() == snap.wall


def test_fixed_clock() -> None:
    src = ScriptedSource(interval=1.5)
    snaps = [src.sample() for _ in range(4)]
    assert [s.wall - WALL0 for s in snaps] == [0.0, 1.5, 3.0, 4.5]
    assert [b.time - a.time for a, b in itertools.pairwise(snaps)] == [1.5] * 3
    assert src.now() == snaps[-1].wall


def test_shape_of_the_script() -> None:
    snap = ScriptedSource().sample()
    procs = {p.pid: p for p in snap.processes}
    assert 40 <= len(procs) <= 60
    assert {p.user for p in procs.values()} >= {"root", "alice", "bob", "postgres", "www-data"}
    kthreads = [p for p in procs.values() if p.is_kernel_thread]
    assert kthreads and all(p.ppid in (0, 2) and p.cmdline == "" for p in kthreads)
    assert any(p.command.startswith("[kworker/") for p in kthreads)
    states = {p.state for p in procs.values()}
    assert {"Z", "T", "R", "S", "D"} <= states
    comms = {p.comm for p in procs.values()}
    assert {"a) b", "(sd-pam)", "[/]", "[bold red]pwned", "^[[31mred"} <= comms
    assert max(len(p.cmdline) for p in procs.values()) > 1000
    assert len(snap.system.cpu_percent) == 4


def test_all_text_is_safe_to_print() -> None:
    src = ScriptedSource()
    for snap in (src.sample(threads=True), src.sample(threads=True)):
        for p in snap.processes:
            for text in (p.comm, p.cmdline, p.user, p.command):
                assert sanitize(text) == text
                assert "\x1b" not in text and "\n" not in text


def test_threads() -> None:
    src = ScriptedSource()
    plain = src.sample()
    with_threads = src.sample(threads=True)
    assert not any(p.is_thread for p in plain.processes)
    threads = [p for p in with_threads.processes if p.is_thread]
    assert threads
    leaders = {p.pid: p for p in with_threads.processes if not p.is_thread}
    for t in threads:
        assert t.tgid in leaders and t.pid != t.tgid
        assert leaders[t.tgid].num_threads > 1


def test_timeline_new_and_exit() -> None:
    src = ScriptedSource()
    pids = [{p.pid for p in src.sample().processes} for _ in range(EXIT_AT + 1)]
    assert NEW_PID not in pids[NEW_AT - 1] and NEW_PID in pids[NEW_AT]
    assert EXIT_PID in pids[EXIT_AT - 1] and EXIT_PID not in pids[EXIT_AT]


def test_cpu_evolves() -> None:
    src = ScriptedSource()
    a, b = src.sample(), src.sample()
    busy = {p.pid: p.utime + p.stime for p in a.processes}
    grew = [p.pid for p in b.processes if p.utime + p.stime > busy.get(p.pid, 1 << 60)]
    assert 1400 in grew
    zombie = next(p for p in b.processes if p.state == "Z")
    assert zombie.rss == 0 and zombie.cmdline == ""


def test_spawn_and_exit_hooks() -> None:
    src = ScriptedSource()
    src.sample()
    key = src.spawn(4242, 1306, "evil\x1b[2J", "evil --now\x07", user="bob", threads=3)
    snap = src.sample(threads=True)
    p = next(p for p in snap.processes if p.pid == 4242)
    assert p.key == key and p.comm == "evil^[[2J" and p.cmdline == "evil --now^G"
    assert sum(1 for t in snap.processes if t.tgid == 4242 and t.is_thread) == 2
    src.exit(4242)
    assert all(p.tgid != 4242 for p in src.sample(threads=True).processes)
