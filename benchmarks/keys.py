"""Issue-18 benchmark: how fast pidtop answers the hand, beside htop, in a real terminal.

    python benchmarks/keys.py [--procs 1000] [--trials 5] [--monitors pidtop,htop]
                              [--compare REV] [--only screens,quit,repaint,burst]

N idle ``sleep`` processes are started; then each monitor runs (``-d 100``: :data:`DELAY`, the
same for all) in a detached tmux 200x50 pane (its own tmux server socket, a fresh ``$HOME``: no
config, no saved settings); after the first frame and a 3 s settle (:data:`SETTLE`) we
measure, ``--trials`` times each (medians):

* screens: each screen a key opens from the table (help, setup, signal picker, user picker,
  sort picker, details, environment, open files, exits, event log, command palette; htop:
  those it has), from ``send-keys`` to its *first full paint*: the pane is polled
  (``capture-pane``, ~2-4 ms each) until at least 5 lines differ from the table, then until it
  has been still for :data:`QUIET` s; the time is that of the last change. Then Esc, and the
  table must be back before the next key. A second table says each screen's first opening
  apart from the median of the later ones (pidtop keeps a screen for its next opening);
* quit: ``q`` until the monitor's process is gone (a fresh monitor per trial);
* key -> repaint: sorted by PID (``N``), then ``I`` (invert) until half the visible PIDs moved;
* burst: 40 Down keys in one ``send-keys`` (one read for the monitor), until the table's lines
  (with their colours, ``capture-pane -e``) are still for :data:`QUIET` s: the time of the
  last change.
  For pidtop also ``pidtop-noqueue``: the same app with the type-ahead queue switched off
  (``benchmarks/_noqueue.py``), the issue's "within 20 % of no-queue" baseline.

``--compare REV`` runs the pidtop of git revision REV as well (``git archive`` into a temporary
directory, ``PYTHONPATH`` set to it), interleaved with today's: before/after in the same run.
pidtop is byte-compiled first, as an installed package is. Only processes this script started
are killed (the sleeps by pid, tmux via its private socket).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _idle import count_processes, idle_processes

ROOT = Path(__file__).resolve().parent.parent
SOCKET = f"pidtop-keys-{os.getpid()}"
_server = 0  # a fresh tmux server per start: a new session must not race a dying server
PID_LINE = re.compile(r"^[\s│┃|]*(\d+)\s")
READY = re.compile(r"PID\s+USER.*\n\s*\d+\s")
#: a screen is fully painted once the pane has not changed for this long (seconds)
QUIET = 0.25
#: seconds after the first frame before the first key: pidtop's journal starts and its first
#: samples run in the first ~2 s (a key then waits for them; not what is measured here)
SETTLE = 3.0
#: every monitor's refresh, in tenths of a second (``-d``; the same for all: a refresh that
#: lands within QUIET of the last change is counted as part of what is measured)
DELAY = "100"
#: lines that must differ from the table for a screen to count as opened
CHANGED_LINES = 5

#: (name, pidtop key, htop key or None); tmux send-keys names
SCREENS: list[tuple[str, str, str | None]] = [
    ("help", "F1", "F1"),
    ("setup", "F2", "F2"),
    ("signal picker", "k", "k"),
    ("user picker", "u", "u"),
    ("sort picker", "F6", "F6"),
    ("details", "Enter", None),
    ("environment", "e", "e"),
    ("open files", "l", "l"),
    ("exits", "E", None),
    ("event log", "L", None),
    ("command palette", "C-p", None),
]


@dataclass
class Monitor:
    name: str
    argv: list[str]
    pythonpath: str | None  # pidtop: the tree it runs from


def tmux(*args: str) -> str:
    sock = f"{SOCKET}-{_server}"
    out = subprocess.run(
        ["tmux", "-L", sock, "-f", "/dev/null", *args], capture_output=True, text=True
    )
    return out.stdout


def capture(colours: bool = False) -> str:
    return tmux("capture-pane", "-p", *(["-e"] if colours else []), "-t", "keys")


def poll(pred: Callable[[str], bool], timeout: float, colours: bool = False) -> float | None:
    """perf_counter() of the first capture satisfying ``pred`` (None: not within timeout)."""
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        if pred(capture(colours)):
            return time.perf_counter()
        time.sleep(0.001)
    return None


def table_part(screen: str) -> str:
    """The lines from the table's column header down (not the meters and status line above)."""
    lines = screen.splitlines()
    top = next((i for i, line in enumerate(lines) if "PID" in line and "USER" in line), 0)
    return "\n".join(lines[top:])


def settled(
    before: str, t0: float, timeout: float = 5.0, colours: bool = False, table: bool = False
) -> float | None:
    """Milliseconds from ``t0`` to the last change of the pane (``CHANGED_LINES`` lines away
    from ``before`` for a screen; any change for colours) once it is still for QUIET s.
    ``table``: only the table's lines count (the status line's once-a-second figures, such as
    pidtop's exit rate, which this script's own ``capture-pane`` processes drive, do not)."""
    if table:
        before = table_part(before)
    old = before.splitlines()
    last_text, last_change = before, None
    end = t0 + timeout
    while time.perf_counter() < end:
        text = capture(colours)
        if table:
            text = table_part(text)
        now = time.perf_counter()
        if text != last_text:
            last_text, last_change = text, now
        elif last_change is not None and now - last_change >= QUIET:
            new = last_text.splitlines()
            differ = sum(1 for a, b in zip(old, new, strict=False) if a != b)
            if colours or differ >= CHANGED_LINES:
                return (last_change - t0) * 1e3
        time.sleep(0.001)
    return None


def env_for(mon: Monitor, home: str) -> dict[str, str]:
    env = {
        "HOME": home,
        "XDG_CONFIG_HOME": f"{home}/.config",
        "XDG_STATE_HOME": f"{home}/.local/state",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if mon.pythonpath:
        env["PYTHONPATH"] = mon.pythonpath
    return env


def start(mon: Monitor) -> tuple[int, str]:
    """The monitor in a fresh tmux server, first frame shown and settled; (pid, home)."""
    global _server
    _server += 1
    home = tempfile.mkdtemp(prefix="pidtop-keys-home-")
    envargs = [a for k, v in env_for(mon, home).items() for a in ("-e", f"{k}={v}")]
    cmd = "exec " + " ".join(subprocess.list2cmdline([a]) for a in mon.argv)
    cwd = mon.pythonpath or home  # ``-m pidtop`` puts the cwd first on sys.path
    tmux("new-session", "-d", "-s", "keys", "-x", "200", "-y", "50", "-c", cwd, *envargs, cmd)
    pid = int(tmux("display-message", "-p", "-t", "keys", "#{pane_pid}").strip() or 0)
    if poll(lambda s: bool(READY.search(s)), 30.0) is None:
        raise RuntimeError(f"{mon.name}: no first frame: {capture()[:300]!r}")
    time.sleep(SETTLE)
    return pid, home


def stop(home: str) -> None:
    tmux("kill-server")
    shutil.rmtree(home, ignore_errors=True)


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def back_to_table(table: str) -> None:
    """Esc until the table's header line is where it was (a screen may need two)."""
    header = next((line for line in table.splitlines() if "PID" in line and "USER" in line), "")
    for _ in range(3):
        tmux("send-keys", "-t", "keys", "Escape")
        if poll(lambda s: header in s and "PID" in s, 2.0) is not None:
            time.sleep(0.3)
            return
    raise RuntimeError(f"table not back after Esc: {capture()[:300]!r}")


def measure_screens(mon: Monitor, out: dict[str, list[float]], trials: int) -> None:
    _pid, home = start(mon)
    try:
        for _ in range(trials):
            for name, pkey, hkey in SCREENS:
                key = hkey if mon.name == "htop" else pkey
                if key is None:
                    continue
                before = capture()
                t0 = time.perf_counter()
                tmux("send-keys", "-t", "keys", key)
                took = settled(before, t0)
                if took is not None:
                    out.setdefault(f"screen {name}", []).append(took)
                back_to_table(before)
    finally:
        stop(home)


def measure_quit(mon: Monitor, out: dict[str, list[float]], trials: int) -> None:
    for _ in range(trials):
        pid, home = start(mon)
        try:
            t0 = time.perf_counter()
            tmux("send-keys", "-t", "keys", "q")
            end = t0 + 10
            while not gone(pid) and time.perf_counter() < end:
                time.sleep(0.0005)
            if gone(pid):
                out.setdefault("quit", []).append((time.perf_counter() - t0) * 1e3)
        finally:
            stop(home)


def visible_pids(screen: str) -> list[str]:
    return [m.group(1) for line in screen.splitlines() if (m := PID_LINE.match(line))]


def measure_repaint_and_burst(mon: Monitor, out: dict[str, list[float]], trials: int) -> None:
    _pid, home = start(mon)
    try:
        tmux("send-keys", "-t", "keys", "N")
        time.sleep(1.0)
        for _ in range(trials):
            before = visible_pids(capture())

            def changed(screen: str, before: list[str] = before) -> bool:
                now = visible_pids(screen)
                same = sum(1 for a, b in zip(before, now, strict=False) if a == b)
                return len(now) >= 4 and same <= len(before) // 2

            t0 = time.perf_counter()
            tmux("send-keys", "-t", "keys", "I")
            t1 = poll(changed, 5.0)
            if t1 is not None:
                out.setdefault("key->repaint (I)", []).append((t1 - t0) * 1e3)
            time.sleep(0.3)
        for _ in range(trials):
            tmux("send-keys", "-t", "keys", "Home")
            time.sleep(0.5)
            before = capture(colours=True)
            t0 = time.perf_counter()
            tmux("send-keys", "-t", "keys", *(["Down"] * 40))
            took = settled(before, t0, colours=True, table=True)
            if took is not None:
                out.setdefault("40 Down burst", []).append(took)
    finally:
        stop(home)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, default=1000, help="extra idle processes")
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--monitors", default="pidtop,pidtop-noqueue,htop")
    ap.add_argument("--compare", metavar="REV", help="also run pidtop of this git revision")
    ap.add_argument("--only", default="screens,quit,repaint,burst")
    args = ap.parse_args()
    for cache in (ROOT / "pidtop").rglob("__pycache__"):
        shutil.rmtree(cache)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "pidtop")], check=True)
    py = sys.executable
    mons: list[Monitor] = []
    trees: list[tuple[str, str]] = [("pidtop", str(ROOT))]
    tmpdirs: list[str] = []
    if args.compare:
        tree = tempfile.mkdtemp(prefix="pidtop-keys-rev-")
        tmpdirs.append(tree)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.compare, "pidtop", "styles"],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
        subprocess.run([py, "-m", "compileall", "-q", f"{tree}/pidtop"], check=True)
        trees.append((f"pidtop@{args.compare}", tree))
    wanted = args.monitors.split(",")
    for label, tree in trees:
        if "pidtop" in wanted:
            mons.append(Monitor(label, [py, "-m", "pidtop", "-d", DELAY], tree))
        if "pidtop-noqueue" in wanted:
            noqueue = str(ROOT / "benchmarks" / "_noqueue.py")
            mons.append(Monitor(f"{label}-noqueue", [py, noqueue, "-d", DELAY], tree))
    if "htop" in wanted and shutil.which("htop"):
        mons.append(Monitor("htop", ["htop", "-d", DELAY], None))
    only = set(args.only.split(","))
    results: dict[str, dict[str, list[float]]] = {m.name: {} for m in mons}
    try:
        with idle_processes(args.procs):
            print(f"# {count_processes()} processes; {args.trials} trials", flush=True)
            for m in mons:
                out = results[m.name]
                noqueue = m.name.endswith("-noqueue")
                if "screens" in only and not noqueue:
                    measure_screens(m, out, args.trials)
                if "quit" in only and not noqueue:
                    measure_quit(m, out, args.trials)
                if "repaint" in only or "burst" in only:
                    measure_repaint_and_burst(m, out, args.trials)
                print(f"# {m.name} done", flush=True)
    finally:
        for d in tmpdirs:
            shutil.rmtree(d, ignore_errors=True)
    rows = list(dict.fromkeys(k for r in results.values() for k in r))
    print("| ms (median) | " + " | ".join(m.name for m in mons) + " |")
    print("|---|" + "---|" * len(mons))
    for row in rows:
        cells = []
        for m in mons:
            vals = results[m.name].get(row)
            cells.append(f"{statistics.median(vals):.1f}" if vals else "-")
        print(f"| {row} | " + " | ".join(cells) + " |")
    # a screen kept for its next opening is fast from the second on: the first said apart
    screens = [r for r in rows if r.startswith("screen ")]
    if screens and args.trials > 1:
        names = " | ".join(m.name for m in mons)
        print(f"\n| ms: first opening / median of the later ones | {names} |")
        print("|---|" + "---|" * len(mons))
        for row in screens:
            cells = []
            for m in mons:
                vals = results[m.name].get(row)
                later = f"{statistics.median(vals[1:]):.1f}" if vals and len(vals) > 1 else "-"
                cells.append(f"{vals[0]:.1f} / {later}" if vals else "-")
            print(f"| {row} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
