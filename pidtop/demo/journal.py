"""A deterministic exit journal for ``--demo``, snapshots and UI tests (no kernel, no clock).

The same interface as :class:`~pidtop.journal.service.Journal`; its exits are children of the
processes of :class:`~pidtop.demo.source.ScriptedSource` (make's compilers, cron jobs, a
health check, a crash, a hostile command line) at fixed times, plus one counted loss. Tests
add their own with :meth:`ScriptedJournal.add`.
"""

from __future__ import annotations

import select

from pidtop.demo.script import MONO0, USERS, WALL0
from pidtop.journal.records import ExitRecord, LostRecord
from pidtop.journal.service import Journal, Record
from pidtop.kernel.pidfdinfo import ExitStatus

_NAMES = {uid: name for name, uid in USERS.items()}

# seconds after WALL0, pid, ppid, uid, comm, cmdline (None: not captured), wait status, lived
_SCRIPT: tuple[tuple[float, int, int, int, str, str | None, int, float], ...] = (
    (0.10, 1190, 1210, 1000, "cc1", "cc1 -quiet src/util.c -O2 -o /tmp/ccX.s", 0, 0.84),
    (0.25, 1191, 1210, 1000, "as", "as --64 -o util.o /tmp/ccX.s", 0, 0.021),
    (0.31, 1192, 512, 0, "sh", "/bin/sh -c run-parts --report /etc/cron.hourly", 0, 0.12),
    (0.40, 1193, 850, 33, "php", "php /var/www/health.php", 1 << 8, 0.0062),
    (0.52, 1194, 1106, 1000, "grep", None, 1 << 8, 0.0009),
    (0.60, 1195, 1210, 1000, "cc1", "cc1 -quiet src/bad.c -O2", 0x8B, 0.31),  # SIGSEGV, core
    (0.71, 1196, 1, 0, "logrotate", "/usr/sbin/logrotate /etc/logrotate.conf", 0, 1.73),
    (0.80, 1197, 1106, 1000, "a) b\x1b[31m[red]", "./a) b\x1b[31m [/] --x", 2 << 8, 0.0041),
    (0.93, 1198, 850, 33, "php", "php /var/www/health.php", 1 << 8, 0.0058),
    (1.05, 1199, 1200, 1000, "sh", "sh -c make -n", 9, 0.45),  # SIGKILL
    (1.20, 1201, 1210, 1000, "ld", "ld -o app main.o util.o", 0, 0.062),
)
#: a loss of 37 events (socket overflow) at this offset
LOSS_AT, LOSS_EVENTS = 0.85, 37


def scripted_records() -> list[Record]:
    """The scripted exits (and the one loss), oldest first."""
    out: list[Record] = []
    for at, pid, ppid, uid, comm, cmdline, status, lived in _SCRIPT:
        if at > LOSS_AT and not any(isinstance(r, LostRecord) for r in out):
            out.append(LostRecord(WALL0 + LOSS_AT, MONO0 + LOSS_AT, LOSS_EVENTS, True))
        out.append(
            ExitRecord(
                time=WALL0 + at,
                monotonic=MONO0 + at,
                pid=pid,
                ppid=ppid,
                uid=uid,
                comm=comm,
                cmdline=cmdline,
                status=ExitStatus.from_wait_status(status),
                lifetime_s=lived,
                inode=None,
                user=_NAMES.get(uid, str(uid)),
            )
        )
    return out


class ScriptedJournal(Journal):
    """The scripted exits, delivered at the first :meth:`pump`; more with :meth:`add`."""

    def __init__(self, keep: int = 10_000, *, records: list[Record] | None = None) -> None:
        super().__init__(keep)
        self._pending: list[Record] = list(scripted_records() if records is None else records)
        self.rate_value = 2.5  # what the header shows: a fixed rate, not the real clock's

    def start(self, **_: object) -> None:  # type: ignore[override]
        self.complete = True
        self.started = True

    def close(self) -> None:
        pass

    def add(self, *records: Record) -> None:
        """Queue records for the next :meth:`pump` (any thread)."""
        with self.lock:
            self._pending.extend(records)

    def pump(self, timeout: float, wake_fd: int | None = None) -> list[Record]:
        with self.lock:
            records, self._pending = self._pending, []
        if not records:
            if wake_fd is not None:
                poller = select.poll()
                poller.register(wake_fd, select.POLLIN)
                poller.poll(min(timeout, 0.05) * 1000)
            return []
        self._accept(records)
        return records

    def rate(self, window: float = 5.0) -> float:
        return self.rate_value
