"""The exit journal's reader thread: its CPU per short process, in ns, A/B between source trees.

    python benchmarks/journal_cpu.py [--rate 200] [--seconds 10] [--trials 5] [--exec]
                                     [--tree A --tree B ...]

Each trial runs, for each ``--tree`` in turn (interleaved: A, B, A, B ...), a fresh Python
process that imports pidtop from that tree, starts a :class:`~pidtop.journal.service.Journal`
in a :class:`~pidtop.journal.service.JournalReader` thread (with a listener like the monitor's:
records queued on a deque), waits until a test exit is recorded, then runs the C generator of
``benchmarks/journal.py`` at ``--rate`` short processes a second for ``--seconds`` (``--exec``:
each child execs ``jnamed``, living 5 ms, as ``journal.py --names`` does; without it they
``_exit`` at once, as ``monitor_cost.py --churn`` does) and measures the reader thread's CPU
from ``/proc/self/task/TID/schedstat`` (ns on CPU, exact), plus one second of drain.

``--synthetic``: the journal's two sockets are swapped for Unix datagram pairs after its start,
and a separate process sends kernel-format FORK + EXIT datagrams (76 bytes each, consecutive
sequence numbers) at ``--rate`` pairs a second: the reader's own cost per short process, without
the other exits and EXECs of a shared machine (each of them costs the reader too: on a machine
where others run tests, the real mode's figures move by tens of per cent).

Printed per tree: median / min / max of the thread's CPU % and of µs per process, the thread's
wake-ups per second (voluntary context switches), and per run recorded / named / with command line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: both children's: the reader thread's CPU ns and voluntary switches (``tid``: its native id)
TICKS = r"""
def ticks():
    with open(f"/proc/self/task/{tid}/schedstat") as f:
        ns = int(f.read().split()[0])
    with open(f"/proc/self/task/{tid}/status") as f:
        vol = next(int(l.split()[1]) for l in f if l.startswith("voluntary_ctxt_switches"))
    return ns, vol
"""

CHILD = r"""
import collections, json, os, subprocess, sys, threading, time
from pidtop.journal.service import Journal, JournalReader, ExitRecord

gen, rate, seconds, jnamed = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
inbox = collections.deque()
journal = Journal()
reader = JournalReader(journal, inbox.extend, start={})
reader.start()

def seen(pid):
    with journal.lock:
        return any(type(r) is ExitRecord and r.pid == pid for r in journal.records)

deadline = time.monotonic() + 20
while True:  # a test exit recorded: the journal listens
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    time.sleep(0.2)
    if seen(pid):
        break
    assert time.monotonic() < deadline, "journal never recorded a test exit"
tid = reader._thread.native_id

time.sleep(0.5)
ns0, v0 = ticks()
t0 = time.monotonic()
argv = [gen, rate, str(seconds)] + ([jnamed, "5000"] if jnamed else [])
g = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
made = int(g.communicate()[0].split()[0])
time.sleep(1.0)
ns1, v1 = ticks()
t1 = time.monotonic()
reader.stop()
journal.close()
with journal.lock:
    ours = [r for r in journal.records if type(r) is ExitRecord and r.ppid == g.pid]
print(json.dumps({
    "cpu_ns": ns1 - ns0, "wall": t1 - t0, "wakeups": v1 - v0, "made": made,
    "recorded": len(ours), "named": sum(r.comm == "jnamed" for r in ours),
    "cmdline": sum(bool(r.cmdline and r.cmdline.startswith("jnamed ")) for r in ours),
    "lost": journal.stats.lost_events,
}))
"""


SYNTHETIC = r"""
import collections, json, os, socket, struct, sys, time
from pidtop.journal import connector as C
from pidtop.journal.service import Journal, JournalReader, ExitRecord

rate, seconds = float(sys.argv[1]), float(sys.argv[2])
HDR, CN, EV = struct.Struct("=IHHII"), struct.Struct("=IIIIHH"), struct.Struct("=IIQ6I")

def dgram(seq, what, ts, *u):
    payload = EV.pack(what, 0, ts, *u, *[0] * (6 - len(u)))
    body = CN.pack(C.CN_IDX_PROC, C.CN_VAL_PROC, seq, 0, len(payload), 0) + payload
    return HDR.pack(16 + len(body), C.NLMSG_DONE, 0, 0, 0) + body

journal = Journal()
journal.start()
assert journal.complete and journal._exec_sock is not None, journal.note
pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM) for _ in range(2)]
for a, b in pairs:
    for s in (a, b):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    b.setblocking(False)
(main_a, main_b), (_, exec_b) = pairs
journal._connector._sock.close()
journal._connector._sock, journal._connector._seqs = main_b, {}
journal._exec_sock._sock.close()
journal._exec_sock._sock = exec_b
journal._poller = None
parent, total = os.getpid(), int(rate * seconds)
feeder = os.fork()
if feeder == 0:
    t0, seq = time.monotonic(), 1
    for i in range(total):
        if (d := t0 + i / rate - time.monotonic()) > 0:
            time.sleep(d)
        ts, pid = time.monotonic_ns(), 4_000_000 + i
        main_a.send(dgram(seq, C.PROC_EVENT_FORK, ts, parent, parent, pid, pid))
        main_a.send(dgram(seq + 1, C.PROC_EVENT_EXIT, ts + 200_000, pid, pid, (i % 256) << 8, 0,
                          parent, parent))
        seq += 2
    os._exit(0)
inbox = collections.deque()
reader = JournalReader(journal, inbox.extend)
reader.start()
time.sleep(0.3)
tid = reader._thread.native_id

ns0, v0 = ticks()
t0 = time.monotonic()
os.waitpid(feeder, 0)
time.sleep(0.5)
ns1, v1 = ticks()
t1 = time.monotonic()
reader.stop()
ours = [r for r in inbox if type(r) is ExitRecord and r.ppid == parent and r.pid >= 4_000_000]
assert [r.exit_code for r in ours] == [i % 256 for i in range(total)], len(ours)
print(json.dumps({
    "cpu_ns": ns1 - ns0, "wall": t1 - t0, "wakeups": v1 - v0, "made": total,
    "recorded": len(ours), "named": 0, "cmdline": 0, "lost": journal.stats.lost_events,
}))
"""


def run(
    tree: str, gen: Path, rate: int, seconds: float, jnamed: str, synthetic: bool
) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=tree)
    argv = [str(rate), str(seconds)] if synthetic else [str(gen), str(rate), str(seconds), jnamed]
    out = subprocess.run(
        [sys.executable, "-c", TICKS + (SYNTHETIC if synthetic else CHILD), *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=tree,
        check=True,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--exec", action="store_true", help="children exec jnamed (5 ms)")
    ap.add_argument("--synthetic", action="store_true", help="fed FORK+EXIT pairs, no kernel")
    ap.add_argument("--tree", action="append", help="source trees to compare (default: this)")
    args = ap.parse_args()
    trees = args.tree or [str(ROOT)]
    sys.path.insert(0, str(HERE))
    from journal import build_generator

    results: dict[str, list[dict[str, float]]] = {t: [] for t in trees}
    with tempfile.TemporaryDirectory(prefix="pidtop-journal-cpu-") as tmp:
        work = Path(tmp)
        gen = build_generator(work)
        jnamed = str(work / "jnamed") if args.exec else ""
        for _ in range(args.trials):
            for tree in trees:
                r = run(tree, gen, args.rate, args.seconds, jnamed, args.synthetic)
                results[tree].append(r)
                us = r["cpu_ns"] / 1e3 / max(1, r["made"])
                print(
                    f"{tree}: {100 * r['cpu_ns'] / 1e9 / r['wall']:.3f} % "
                    f"{us:.1f} us/proc, {r['wakeups'] / r['wall']:.0f} wake-ups/s, "
                    f"made {r['made']} recorded {r['recorded']} named {r['named']} "
                    f"cmdline {r['cmdline']} lost {r['lost']}",
                    flush=True,
                )
    for tree, rs in results.items():
        pct = [100 * r["cpu_ns"] / 1e9 / r["wall"] for r in rs]
        us = [r["cpu_ns"] / 1e3 / max(1, r["made"]) for r in rs]
        wake = [r["wakeups"] / r["wall"] for r in rs]
        print(
            f"{tree}: CPU {statistics.median(pct):.3f} % ({min(pct):.3f}-{max(pct):.3f}), "
            f"{statistics.median(us):.1f} us/proc ({min(us):.1f}-{max(us):.1f}), "
            f"{statistics.median(wake):.0f} wake-ups/s, n={len(rs)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
