"""A deterministic ``ProcessSource``: a fixed, realistic process tree on a fixed clock.

Used by snapshot tests, screenshots and ``pidtop --demo``. Nothing here reads the real system or
the real clock: two sources built with the same arguments and called the same way return equal
snapshots on any machine.

The script: ~55 processes (init, kernel threads under ``kthreadd``, services, two SSH sessions,
a compile, a multithreaded trainer, a JVM with a very long command line), five users, a zombie,
a stopped process, a process in D state, and *hostile* names (Rich markup, terminal escapes,
invalid UTF-8 already decoded with U+FFFD, ``a) b``, ``(sd-pam)``, a newline). Timeline:
``NEW_PID`` appears at sample ``NEW_AT`` and ``EXIT_PID`` exits at sample ``EXIT_AT`` (0-based),
so new/dying highlighting can be seen. Tests can add and remove processes with ``spawn``/``exit``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pidtop.demo.extras import extra_fields
from pidtop.sampling.fmt import sanitize
from pidtop.sampling.snapshot import ProcInfo, ProcKey, Snapshot, SystemInfo

if TYPE_CHECKING:
    from pidtop.demo.details import ScriptedDetails

__all__ = ["EXIT_AT", "EXIT_PID", "NEW_AT", "NEW_PID", "ScriptedSource"]

#: 2026-01-01 12:00:00 UTC
WALL0 = 1767268800.0
#: arbitrary monotonic origin of the scripted clock
MONO0 = 10_000.0
#: the machine "booted" 3 days 4 hours before WALL0
UPTIME0 = 3 * 86400.0 + 4 * 3600.0
CLK_TCK = 100
PAGE_SIZE = 4096
MIB = 1024 * 1024
GIB = 1024 * MIB

NEW_AT, NEW_PID = 2, 1213  # a third cc1 appears in the 3rd sample
EXIT_AT, EXIT_PID = 4, 1211  # the first cc1 exits in the 5th sample

USERS = {"root": 0, "alice": 1000, "bob": 1001, "postgres": 113, "www-data": 33}


@dataclass(slots=True)
class _Proc:
    """Mutable script state of one process."""

    pid: int
    ppid: int
    comm: str
    cmdline: str
    user: str
    state: str
    nice: int
    priority: int
    vsize: int
    rss: int
    shared: int
    load: float  # mean fraction of one CPU
    starttime: int
    kernel: bool
    utime: int = 0
    stime: int = 0
    processor: int = 0
    tids: tuple[int, ...] = ()
    thread_comms: tuple[str, ...] = ()
    last_delta: int = 0


# pid, ppid, user, comm, cmdline, state, nice, threads, rss MiB, load, age seconds
_K = "kernel"
_SCRIPT: tuple[tuple[int, int, str, str, str, str, int, int, float, float, float], ...] = (
    (1, 0, "root", "systemd", "/sbin/init splash", "S", 0, 1, 12.5, 0.002, UPTIME0 - 1),
    (2, 0, "root", "kthreadd", _K, "S", 0, 1, 0, 0.0, UPTIME0 - 1),
    (3, 2, "root", "rcu_gp", _K, "I", -20, 1, 0, 0.0, UPTIME0 - 1),
    (11, 2, "root", "ksoftirqd/0", _K, "S", 0, 1, 0, 0.004, UPTIME0 - 1),
    (12, 2, "root", "rcu_sched", _K, "I", 0, 1, 0, 0.003, UPTIME0 - 1),
    (13, 2, "root", "migration/0", _K, "S", 0, 1, 0, 0.0, UPTIME0 - 1),
    (19, 2, "root", "ksoftirqd/1", _K, "S", 0, 1, 0, 0.003, UPTIME0 - 1),
    (45, 2, "root", "kswapd0", _K, "S", 0, 1, 0, 0.0, UPTIME0 - 2),
    (97, 2, "root", "kworker/0:1-events", _K, "I", 0, 1, 0, 0.01, 3600.0),
    (98, 2, "root", "kworker/1:2-mm_percpu_wq", _K, "I", 0, 1, 0, 0.002, 1800.0),
    (160, 2, "root", "jbd2/sda1-8", _K, "S", 0, 1, 0, 0.001, UPTIME0 - 3),
    (
        312,
        1,
        "root",
        "systemd-journal",
        "/lib/systemd/systemd-journald",
        "S",
        -1,
        1,
        48,
        0.004,
        UPTIME0 - 3,
    ),
    (
        340,
        1,
        "root",
        "systemd-udevd",
        "/lib/systemd/systemd-udevd",
        "S",
        0,
        1,
        9.8,
        0.0,
        UPTIME0 - 3,
    ),
    (512, 1, "root", "cron", "/usr/sbin/cron -f -P", "S", 0, 1, 2.7, 0.0, UPTIME0 - 5),
    (
        530,
        1,
        "root",
        "dbus-daemon",
        "@dbus-daemon --system --address=systemd: --nofork --nopidfile --systemd-activation"
        " --syslog-only",
        "S",
        0,
        1,
        5.1,
        0.001,
        UPTIME0 - 5,
    ),
    (
        560,
        1,
        "root",
        "rsyslogd",
        "/usr/sbin/rsyslogd -n -iNONE",
        "S",
        0,
        4,
        6.4,
        0.001,
        UPTIME0 - 5,
    ),
    (
        601,
        1,
        "root",
        "sshd",
        "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups",
        "S",
        0,
        1,
        8.9,
        0.0,
        UPTIME0 - 6,
    ),
    (
        700,
        1,
        "postgres",
        "postgres",
        "/usr/lib/postgresql/16/bin/postgres -D "
        "/var/lib/postgresql/16/main -c config_file=/etc/postgresql/16/main/postgresql.conf",
        "S",
        0,
        1,
        30,
        0.003,
        UPTIME0 - 8,
    ),
    (
        701,
        700,
        "postgres",
        "postgres",
        "postgres: 16/main: checkpointer",
        "S",
        0,
        1,
        7.2,
        0.001,
        UPTIME0 - 8,
    ),
    (
        702,
        700,
        "postgres",
        "postgres",
        "postgres: 16/main: background writer",
        "S",
        0,
        1,
        6.0,
        0.001,
        UPTIME0 - 8,
    ),
    (
        703,
        700,
        "postgres",
        "postgres",
        "postgres: 16/main: walwriter",
        "S",
        0,
        1,
        9.5,
        0.0,
        UPTIME0 - 8,
    ),
    (
        704,
        700,
        "postgres",
        "postgres",
        "postgres: 16/main: autovacuum launcher",
        "S",
        0,
        1,
        8.1,
        0.002,
        UPTIME0 - 8,
    ),
    (
        800,
        1,
        "root",
        "nginx",
        "nginx: master process /usr/sbin/nginx -g daemon on; master_process on;",
        "S",
        0,
        1,
        2.1,
        0.0,
        UPTIME0 - 9,
    ),
    (801, 800, "www-data", "nginx", "nginx: worker process", "S", 0, 1, 5.6, 0.004, UPTIME0 - 9),
    (802, 800, "www-data", "nginx", "nginx: worker process", "S", 0, 1, 5.3, 0.003, UPTIME0 - 9),
    (850, 1, "www-data", "php-fpm8.2", "php-fpm: pool www", "S", 0, 1, 19, 0.006, UPTIME0 - 9),
    (900, 1, "root", "containerd", "/usr/bin/containerd", "S", 0, 12, 45, 0.011, UPTIME0 - 10),
    (1000, 1, "alice", "systemd", "/lib/systemd/systemd --user", "S", 0, 1, 10.3, 0.0, 7260.0),
    (1001, 1000, "alice", "(sd-pam)", "(sd-pam)", "S", 0, 1, 4.9, 0.0, 7260.0),
    (1100, 601, "root", "sshd", "sshd: alice [priv]", "S", 0, 1, 10.9, 0.0, 7262.0),
    (1105, 1100, "alice", "sshd", "sshd: alice@pts/0", "S", 0, 1, 7.0, 0.002, 7262.0),
    (1106, 1105, "alice", "bash", "-bash", "S", 0, 1, 5.4, 0.0, 7261.0),
    (1200, 1106, "alice", "vim", "vim src/main.c", "S", 0, 1, 14.2, 0.001, 5400.0),
    (1210, 1106, "alice", "make", "make -j4", "S", 0, 1, 3.3, 0.0, 40.0),
    (
        1211,
        1210,
        "alice",
        "cc1",
        "/usr/lib/gcc/x86_64-linux-gnu/13/cc1 -quiet -I include "
        "src/parser.c -quiet -dumpbase parser.c -O2 -o /tmp/ccA1b2C3.s",
        "R",
        0,
        1,
        160,
        0.95,
        6.0,
    ),
    (
        1212,
        1210,
        "alice",
        "cc1",
        "/usr/lib/gcc/x86_64-linux-gnu/13/cc1 -quiet -I include "
        "src/lexer.c -quiet -dumpbase lexer.c -O2 -o /tmp/ccD4e5F6.s",
        "R",
        0,
        1,
        120,
        0.9,
        3.0,
    ),
    (1220, 1106, "alice", "python3", "python3 -m http.server 8000", "S", 0, 3, 22, 0.001, 3000.0),
    (1300, 601, "root", "sshd", "sshd: bob [priv]", "S", 0, 1, 10.8, 0.0, 3900.0),
    (1305, 1300, "bob", "sshd", "sshd: bob@pts/1", "S", 0, 1, 6.9, 0.003, 3900.0),
    (1306, 1305, "bob", "bash", "-bash", "S", 0, 1, 5.5, 0.0, 3899.0),
    (
        1400,
        1306,
        "bob",
        "python3",
        "python3 train.py --epochs 100 --batch-size 64",
        "R",
        0,
        8,
        1536,
        1.55,
        2400.0,
    ),
    (1410, 1306, "bob", "htop", "htop -d 10", "S", 0, 1, 4.4, 0.08, 600.0),
    (
        1420,
        1306,
        "bob",
        "[bold red]pwned",
        "[bold red]pwned[/] [link=https://example.com]click[/link] [/]",
        "S",
        0,
        1,
        1.2,
        0.0,
        300.0,
    ),
    (1421, 1306, "bob", "a) b", "./a) b --flag (x) )", "S", 0, 1, 1.0, 0.0, 290.0),
    (
        1422,
        1306,
        "bob",
        "\x1b[31mred",
        "printf \x1b]0;title\x07\x1b[2J\x9b31m",
        "S",
        0,
        1,
        0.9,
        0.0,
        280.0,
    ),
    (
        1423,
        1306,
        "bob",
        "caf\ufffd",
        "/tmp/caf\ufffd/run --name=\ufffd\ufffd",
        "S",
        0,
        1,
        2.0,
        0.0,
        270.0,
    ),
    (1424, 1306, "bob", "[/]", "[/]", "S", 0, 1, 0.8, 0.0, 260.0),
    (
        1425,
        1306,
        "bob",
        "java",
        "java -Xmx2g -cp "
        + ":".join(f"/opt/app/lib/dependency-{i:02d}-1.0.{i}.jar" for i in range(60))
        + " com.example.Main --server --port 8080",
        "S",
        0,
        20,
        820,
        0.07,
        2000.0,
    ),
    (
        1426,
        1306,
        "bob",
        "multi\nline",
        "sh -c 'echo multi\nline'\u2028x",
        "S",
        0,
        1,
        1.1,
        0.0,
        250.0,
    ),
    (1430, 1400, "bob", "worker", "", "Z", 0, 1, 0, 0.0, 1200.0),
    (1440, 1306, "bob", "sleep", "sleep 600", "T", 0, 1, 0.6, 0.0, 500.0),
    (1700, 512, "root", "sh", "/bin/sh /usr/local/bin/backup.sh", "S", 19, 1, 1.6, 0.0, 900.0),
    (1701, 1700, "root", "tar", "tar czf /backup/home.tgz /home", "D", 19, 1, 6.5, 0.31, 899.0),
)

_THREAD_NAMES = {
    "java": ("GC Thread#0", "C2 CompilerThre", "C1 CompilerThre", "VM Thread", "Finalizer"),
    "python3": ("pt_main_thread", "python3"),
    "containerd": ("containerd",),
}
_NEW_CC1 = (
    NEW_PID,
    1210,
    "alice",
    "cc1",
    "/usr/lib/gcc/x86_64-linux-gnu/13/cc1 -quiet -I include "
    "src/codegen.c -quiet -dumpbase codegen.c -O2 -o /tmp/ccG7h8I9.s",
    "R",
    0,
    1,
    95.0,
    0.97,
    0.0,
)


class ScriptedSource:
    """Deterministic ``ProcessSource``.

    ``sample()`` number *k* (0-based) has ``time = MONO0 + k * interval`` and
    ``wall = WALL0 + k * interval``. CPU use per process follows its scripted load with jitter
    from a ``random.Random`` seeded with ``seed``, so repeated runs are identical.
    """

    def __init__(self, *, ncpu: int = 4, interval: float = 1.5, seed: int = 42) -> None:
        self.ncpu = ncpu
        self.interval = interval
        self._rng = random.Random(seed)
        self._index = 0  # index of the next sample
        self._procs: dict[int, _Proc] = {}
        self._next_tid = 20_000
        self._pending: dict[int, list[tuple[object, ...]]] = {NEW_AT: [_NEW_CC1]}
        self._exits: dict[int, list[int]] = {EXIT_AT: [EXIT_PID]}
        self._cpu_base = [35.0 + 40.0 * ((i * 7) % 5) / 4 for i in range(ncpu)]
        self._fields: frozenset[str] = frozenset()
        self._deleted_exe: set[int] = set()
        for row in _SCRIPT:
            self._add(*row)  # type: ignore[arg-type]

    # -- script editing (tests) ------------------------------------------------------------

    def details_source(self) -> ScriptedDetails:
        """The details of this script's processes (the UI asks its source for them)."""
        from pidtop.demo.details import ScriptedDetails  # it imports this module

        return ScriptedDetails(self)

    def spawn(
        self,
        pid: int,
        ppid: int,
        comm: str,
        cmdline: str = "",
        *,
        user: str = "root",
        state: str = "S",
        nice: int = 0,
        threads: int = 1,
        rss_mib: float = 4.0,
        load: float = 0.0,
        kernel: bool = False,
    ) -> ProcKey:
        """Add a process that will be in the next sample; returns its key. Replaces a live pid."""
        proc = self._add(
            pid,
            ppid,
            user,
            comm,
            cmdline if not kernel else _K,
            state,
            nice,
            threads,
            rss_mib,
            load,
            0.0,
        )
        return (proc.pid, proc.starttime)

    def exit(self, pid: int) -> None:
        """Remove a process (and its threads) from the next sample. Unknown pids are ignored."""
        self._procs.pop(pid, None)

    def set_state(self, pid: int, state: str) -> None:
        """Change a process's state letter (e.g. ``"T"`` to stop it)."""
        self._procs[pid].state = state

    def key_of(self, pid: int) -> ProcKey:
        """The current identity of a scripted pid."""
        p = self._procs[pid]
        return (p.pid, p.starttime)

    def info_of(self, pid: int, *, threads: bool = False) -> list[ProcInfo]:
        """The process as the next sample would show it (with its threads); [] if unknown.

        For the scripted details source; the CPU figures are those of the last sample."""
        p = self._procs.get(pid)
        if p is None:
            return []
        return [self._info(p), *(self._thread_infos(p) if threads and not p.kernel else [])]

    def cpu_of(self, pid: int) -> float:
        """CPU% of one process over the last scripted interval."""
        p = self._procs.get(pid)
        return 0.0 if p is None else 100.0 * p.last_delta / (self.interval * CLK_TCK)

    @property
    def samples_taken(self) -> int:
        return self._index

    # -- ProcessSource -----------------------------------------------------------------------

    def now(self) -> float:
        """Wall time of the latest sample (``WALL0`` before the first)."""
        return WALL0 + max(0, self._index - 1) * self.interval

    def delete_exe(self, pid: int) -> None:
        """Mark a process's executable as deleted (an upgraded daemon), from the next sample."""
        self._deleted_exe.add(pid)

    def sample(self, *, threads: bool = False, fields: frozenset[str] = frozenset()) -> Snapshot:
        """Advance the script by one interval and return the snapshot. Never touches the system.

        Optional ``fields`` are filled only when asked for, as the real sampler does."""
        self._fields = fields
        k = self._index
        for row in self._pending.pop(k, []):
            self._add(*row)  # type: ignore[arg-type]
        for pid in self._exits.pop(k, []):
            self._procs.pop(pid, None)
        if k > 0:
            self._advance()
        self._index += 1
        procs: list[ProcInfo] = []
        for pid in sorted(self._procs):
            p = self._procs[pid]
            procs.append(self._info(p))
            if threads and not p.kernel:
                procs.extend(self._thread_infos(p))
        system = self._system(k)
        return Snapshot(
            time=MONO0 + k * self.interval,
            wall=WALL0 + k * self.interval,
            processes=tuple(procs),
            system=system,
            clk_tck=CLK_TCK,
            page_size=PAGE_SIZE,
            boot_time=WALL0 - UPTIME0,
        )

    # -- internals ---------------------------------------------------------------------------

    def _uptime_ticks(self) -> int:
        """Ticks since boot at the next sample."""
        return int((UPTIME0 + self._index * self.interval) * CLK_TCK)

    def _add(
        self,
        pid: int,
        ppid: int,
        user: str,
        comm: str,
        cmdline: str,
        state: str,
        nice: int,
        threads: int,
        rss_mib: float,
        load: float,
        age: float,
    ) -> _Proc:
        kernel = cmdline == _K
        starttime = max(1, self._uptime_ticks() - int(age * CLK_TCK))
        rss = int(rss_mib * MIB) // PAGE_SIZE * PAGE_SIZE
        if kernel:
            vsize = shared = 0
        elif state == "Z":
            vsize = shared = rss = 0
        else:
            vsize = rss * 3 + (60 + pid % 97) * MIB
            shared = min(rss, (2 + pid % 13) * MIB // 2)
        cpu_ticks = int(load * 0.8 * age * CLK_TCK)
        tids = tuple(range(self._next_tid, self._next_tid + threads - 1))
        self._next_tid += max(0, threads - 1)
        names = _THREAD_NAMES.get(comm, (comm,))
        proc = _Proc(
            pid=pid,
            ppid=ppid,
            comm=sanitize(comm),
            cmdline="" if kernel else sanitize(cmdline),
            user=user,
            state=state,
            nice=nice,
            priority=-100 if comm.startswith("migration/") else 20 + nice,
            vsize=vsize,
            rss=rss,
            shared=shared,
            load=load,
            starttime=starttime,
            kernel=kernel,
            utime=cpu_ticks * 4 // 5,
            stime=cpu_ticks - cpu_ticks * 4 // 5,
            processor=pid % self.ncpu,
            tids=tids,
            thread_comms=tuple(sanitize(names[i % len(names)]) for i in range(len(tids))),
        )
        self._procs[pid] = proc
        return proc

    def _advance(self) -> None:
        rng = self._rng
        per_tick = self.interval * CLK_TCK
        for pid in sorted(self._procs):
            p = self._procs[pid]
            if p.state in "ZTX" or p.load <= 0.0:
                p.last_delta = 0
                continue
            delta = round(p.load * per_tick * rng.uniform(0.6, 1.4))
            user_part = delta * 4 // 5
            p.utime += user_part
            p.stime += delta - user_part
            p.last_delta = delta
            p.processor = rng.randrange(self.ncpu)
            if p.load > 0.5 and not p.kernel:  # busy processes grow a little
                p.rss += rng.randrange(0, 4) * 64 * PAGE_SIZE

    def _info(self, p: _Proc) -> ProcInfo:
        return ProcInfo(
            pid=p.pid,
            tgid=p.pid,
            ppid=p.ppid,
            starttime=p.starttime,
            state=p.state,
            comm=p.comm,
            cmdline=p.cmdline,
            uid=USERS.get(p.user),
            user=p.user,
            priority=p.priority,
            nice=p.nice,
            num_threads=len(p.tids) + 1,
            vsize=p.vsize,
            rss=p.rss,
            shared=p.shared,
            utime=p.utime,
            stime=p.stime,
            processor=p.processor,
            is_kernel_thread=p.kernel,
            is_thread=False,
            exe_deleted=p.pid in self._deleted_exe,
            **extra_fields(p, self._procs, self._fields),
        )

    def _thread_infos(self, p: _Proc) -> list[ProcInfo]:
        n = len(p.tids) + 1
        out = []
        for tid, comm in zip(p.tids, p.thread_comms, strict=True):
            out.append(
                ProcInfo(
                    pid=tid,
                    tgid=p.pid,
                    ppid=p.ppid,
                    starttime=p.starttime + 1 + (tid - p.tids[0]),
                    state="S" if p.state != "T" else "T",
                    comm=comm,
                    cmdline=p.cmdline,
                    uid=USERS.get(p.user),
                    user=p.user,
                    priority=p.priority,
                    nice=p.nice,
                    num_threads=n,
                    vsize=p.vsize,
                    rss=p.rss,
                    shared=p.shared,
                    utime=p.utime // n,
                    stime=p.stime // n,
                    processor=(p.processor + tid) % self.ncpu,
                    is_kernel_thread=False,
                    is_thread=True,
                    exe_deleted=p.pid in self._deleted_exe,
                    **extra_fields(p, self._procs, self._fields),
                )
            )
        return out

    def _system(self, k: int) -> SystemInfo:
        rng = self._rng
        cpus = tuple(
            round(min(100.0, max(0.0, base + rng.uniform(-12.0, 12.0))), 1)
            for base in self._cpu_base
        )
        used_rss = sum(p.rss for p in self._procs.values())
        mem_total = 16 * GIB
        mem_used = min(mem_total, used_rss + 3 * GIB + (k % 7) * 8 * MIB)
        swing = (k % 10) / 100.0
        return SystemInfo(
            cpu_percent=cpus,
            mem_total=mem_total,
            mem_used=mem_used,
            swap_total=2 * GIB,
            swap_used=128 * MIB + (k % 3) * 4 * MIB,
            load=(round(1.62 + swing, 2), round(1.40 + swing / 2, 2), 1.05),
            uptime=UPTIME0 + k * self.interval,
            ncpu=self.ncpu,
        )
