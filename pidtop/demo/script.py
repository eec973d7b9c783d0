"""The demo's script, as data: the fixed clock, the users and the process list that
:class:`~pidtop.demo.source.ScriptedSource` plays (and the other demo doubles derive from).

~55 processes: init, kernel threads under ``kthreadd``, services, two SSH sessions, a compile, a
multithreaded trainer, a JVM with a very long command line; five users, a zombie, a stopped
process, a process in D state, and *hostile* names (Rich markup, terminal escapes, invalid UTF-8
already decoded with U+FFFD, ``a) b``, ``(sd-pam)``, a newline). Timeline: ``NEW_PID`` appears
at sample ``NEW_AT`` and ``EXIT_PID`` exits at sample ``EXIT_AT`` (0-based), so new/dying
highlighting can be seen. No logic here: plain tuples and dicts.
"""

from __future__ import annotations

__all__ = [
    "CLK_TCK",
    "EXIT_AT",
    "EXIT_PID",
    "KERNEL",
    "MONO0",
    "NEW_AT",
    "NEW_PID",
    "NEW_PROCESS",
    "PAGE_SIZE",
    "PROCESSES",
    "THREAD_NAMES",
    "UPTIME0",
    "USERS",
    "WALL0",
    "ScriptRow",
]

#: 2026-01-01 12:00:00 UTC
WALL0 = 1767268800.0
#: arbitrary monotonic origin of the scripted clock
MONO0 = 10_000.0
#: the machine "booted" 3 days 4 hours before WALL0
UPTIME0 = 3 * 86400.0 + 4 * 3600.0
CLK_TCK = 100
PAGE_SIZE = 4096

NEW_AT, NEW_PID = 2, 1213  # a third cc1 appears in the 3rd sample
EXIT_AT, EXIT_PID = 4, 1211  # the first cc1 exits in the 5th sample

USERS = {"root": 0, "alice": 1000, "bob": 1001, "postgres": 113, "www-data": 33}

#: the command line of a kernel thread in the table (it has none)
KERNEL = "kernel"

#: pid, ppid, user, comm, cmdline, state, nice, threads, RSS in MiB, load (mean fraction of
#: one CPU), age in seconds at the first sample
ScriptRow = tuple[int, int, str, str, str, str, int, int, float, float, float]

_K = KERNEL
_DBUS = (
    "@dbus-daemon --system --address=systemd: --nofork --nopidfile --systemd-activation"
    " --syslog-only"
)
_POSTGRES = (
    "/usr/lib/postgresql/16/bin/postgres -D /var/lib/postgresql/16/main"
    " -c config_file=/etc/postgresql/16/main/postgresql.conf"
)
_NGINX = "nginx: master process /usr/sbin/nginx -g daemon on; master_process on;"
_CC1 = "/usr/lib/gcc/x86_64-linux-gnu/13/cc1 -quiet -I include src/{0}.c -quiet -dumpbase {0}.c"
_JAVA = (
    "java -Xmx2g -cp "
    + ":".join(f"/opt/app/lib/dependency-{i:02d}-1.0.{i}.jar" for i in range(60))
    + " com.example.Main --server --port 8080"
)
_MARKUP = "[bold red]pwned[/] [link=https://example.com]click[/link] [/]"
_ESCAPES = "printf \x1b]0;title\x07\x1b[2J\x9b31m"

PROCESSES: tuple[ScriptRow, ...] = (
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
    (312, 1, "root", "systemd-journal", "/lib/systemd/systemd-journald", "S", -1, 1, 48, 0.004,
     UPTIME0 - 3),
    (340, 1, "root", "systemd-udevd", "/lib/systemd/systemd-udevd", "S", 0, 1, 9.8, 0.0,
     UPTIME0 - 3),
    (512, 1, "root", "cron", "/usr/sbin/cron -f -P", "S", 0, 1, 2.7, 0.0, UPTIME0 - 5),
    (530, 1, "root", "dbus-daemon", _DBUS, "S", 0, 1, 5.1, 0.001, UPTIME0 - 5),
    (560, 1, "root", "rsyslogd", "/usr/sbin/rsyslogd -n -iNONE", "S", 0, 4, 6.4, 0.001,
     UPTIME0 - 5),
    (601, 1, "root", "sshd", "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups", "S", 0, 1,
     8.9, 0.0, UPTIME0 - 6),
    (700, 1, "postgres", "postgres", _POSTGRES, "S", 0, 1, 30, 0.003, UPTIME0 - 8),
    (701, 700, "postgres", "postgres", "postgres: 16/main: checkpointer", "S", 0, 1, 7.2, 0.001,
     UPTIME0 - 8),
    (702, 700, "postgres", "postgres", "postgres: 16/main: background writer", "S", 0, 1, 6.0,
     0.001, UPTIME0 - 8),
    (703, 700, "postgres", "postgres", "postgres: 16/main: walwriter", "S", 0, 1, 9.5, 0.0,
     UPTIME0 - 8),
    (704, 700, "postgres", "postgres", "postgres: 16/main: autovacuum launcher", "S", 0, 1, 8.1,
     0.002, UPTIME0 - 8),
    (800, 1, "root", "nginx", _NGINX, "S", 0, 1, 2.1, 0.0, UPTIME0 - 9),
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
    (1211, 1210, "alice", "cc1", _CC1.format("parser") + " -O2 -o /tmp/ccA1b2C3.s", "R", 0, 1,
     160, 0.95, 6.0),
    (1212, 1210, "alice", "cc1", _CC1.format("lexer") + " -O2 -o /tmp/ccD4e5F6.s", "R", 0, 1,
     120, 0.9, 3.0),
    (1220, 1106, "alice", "python3", "python3 -m http.server 8000", "S", 0, 3, 22, 0.001, 3000.0),
    (1300, 601, "root", "sshd", "sshd: bob [priv]", "S", 0, 1, 10.8, 0.0, 3900.0),
    (1305, 1300, "bob", "sshd", "sshd: bob@pts/1", "S", 0, 1, 6.9, 0.003, 3900.0),
    (1306, 1305, "bob", "bash", "-bash", "S", 0, 1, 5.5, 0.0, 3899.0),
    (1400, 1306, "bob", "python3", "python3 train.py --epochs 100 --batch-size 64", "R", 0, 8,
     1536, 1.55, 2400.0),
    (1410, 1306, "bob", "htop", "htop -d 10", "S", 0, 1, 4.4, 0.08, 600.0),
    (1420, 1306, "bob", "[bold red]pwned", _MARKUP, "S", 0, 1, 1.2, 0.0, 300.0),
    (1421, 1306, "bob", "a) b", "./a) b --flag (x) )", "S", 0, 1, 1.0, 0.0, 290.0),
    (1422, 1306, "bob", "\x1b[31mred", _ESCAPES, "S", 0, 1, 0.9, 0.0, 280.0),
    (1423, 1306, "bob", "caf\ufffd", "/tmp/caf\ufffd/run --name=\ufffd\ufffd", "S", 0, 1, 2.0, 0.0,
     270.0),
    (1424, 1306, "bob", "[/]", "[/]", "S", 0, 1, 0.8, 0.0, 260.0),
    (1425, 1306, "bob", "java", _JAVA, "S", 0, 20, 820, 0.07, 2000.0),
    (1426, 1306, "bob", "multi\nline", "sh -c 'echo multi\nline'\u2028x", "S", 0, 1, 1.1, 0.0,
     250.0),
    (1430, 1400, "bob", "worker", "", "Z", 0, 1, 0, 0.0, 1200.0),
    (1440, 1306, "bob", "sleep", "sleep 600", "T", 0, 1, 0.6, 0.0, 500.0),
    (1700, 512, "root", "sh", "/bin/sh /usr/local/bin/backup.sh", "S", 19, 1, 1.6, 0.0, 900.0),
    (1701, 1700, "root", "tar", "tar czf /backup/home.tgz /home", "D", 19, 1, 6.5, 0.31, 899.0),
)  # fmt: skip

#: the process that appears at sample ``NEW_AT``
NEW_PROCESS: ScriptRow = (
    NEW_PID, 1210, "alice", "cc1", _CC1.format("codegen") + " -O2 -o /tmp/ccG7h8I9.s", "R", 0, 1,
    95.0, 0.97, 0.0,
)  # fmt: skip

#: names of a process's threads (by its comm), in turn; others are named like the process
THREAD_NAMES = {
    "java": ("GC Thread#0", "C2 CompilerThre", "C1 CompilerThre", "VM Thread", "Finalizer"),
    "python3": ("pt_main_thread", "python3"),
    "containerd": ("containerd",),
}
