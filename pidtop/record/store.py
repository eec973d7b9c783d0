"""The history store: one SQLite file (stdlib ``sqlite3``, WAL), its schema and version.

Where it lives (:func:`default_path`), who may read it (:func:`file_mode`: what /proc shows to
other users), the one-recorder lock (:class:`WriterLock`, ``flock`` on ``PATH.lock``: the kernel
drops it when the recorder dies, even by SIGKILL) and :func:`connect`, which creates or
checks the schema. Nothing here samples or reads /proc/PID.

What the store holds, and what it never holds: the sampler's columns (no environment, no open
files, no memory contents). The layout:

* ``runs``: one per ``pidtop record`` start (boot, clock ticks, whether the journal saw every
  exit: the proc connector delivered).
* ``samples``: one per interval (wall and monotonic time, the host figures as JSON, and
  ``exits_complete``: every exit between the previous sample of the run and this one is in
  ``exits``).
* ``procs``: one per process identity (PID, start time, pidfs inode) and text (a new row after
  an ``execve``), alive from sample ``first`` to before sample ``last``.
* ``states``: one per process and *change*: the values that changed since the previous
  sample (a process that did not run adds nothing).
* ``exits``: every exit record and loss from the journal.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3

__all__ = [
    "ALIVE",
    "SCHEMA_VERSION",
    "StoreError",
    "WriterLock",
    "connect",
    "default_path",
    "file_mode",
]

#: the schema this code writes; older stores are upgraded by :data:`_UPGRADES` when known
SCHEMA_VERSION = 1
#: ``procs.last`` of a process still alive at the store's latest sample
ALIVE = 1 << 62

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE runs(
    id INTEGER PRIMARY KEY, started REAL, pid INTEGER, host TEXT, boot_id TEXT,
    boot_time REAL, clk_tck INTEGER, page_size INTEGER, interval REAL,
    exits_complete INTEGER, note TEXT);
CREATE TABLE samples(
    id INTEGER PRIMARY KEY, run INTEGER, wall REAL, mono REAL,
    exits_complete INTEGER, system TEXT);
CREATE INDEX samples_wall ON samples(wall);
CREATE TABLE procs(
    id INTEGER PRIMARY KEY, first INTEGER, last INTEGER, pid INTEGER, tgid INTEGER,
    starttime INTEGER, inode INTEGER, uid INTEGER, user TEXT, comm TEXT, cmdline TEXT,
    kthread INTEGER, thread INTEGER);
CREATE INDEX procs_last ON procs(last);
CREATE TABLE states(
    proc INTEGER, sample INTEGER, ppid INTEGER, state TEXT, priority INTEGER, nice INTEGER,
    num_threads INTEGER, vsize INTEGER, rss INTEGER, shared INTEGER, utime INTEGER,
    stime INTEGER, processor INTEGER, tty_nr INTEGER, exe_deleted INTEGER, extra TEXT,
    PRIMARY KEY(proc, sample)) WITHOUT ROWID;
CREATE TABLE exits(
    id INTEGER PRIMARY KEY, run INTEGER, time REAL, mono REAL, kind TEXT, pid INTEGER,
    ppid INTEGER, uid INTEGER, comm TEXT, cmdline TEXT, known INTEGER, code INTEGER,
    signal INTEGER, core INTEGER, reason TEXT, lifetime REAL, inode INTEGER, coredump TEXT,
    resolution REAL, lost INTEGER, overflow INTEGER);
CREATE INDEX exits_time ON exits(time);
"""

#: version -> SQL that brings a store of that version to the next one (none yet: version 1
#: is the first; a store written by a newer pidtop is refused, never rewritten)
_UPGRADES: dict[int, str] = {}


class StoreError(Exception):
    """The store cannot be used (not a pidtop store, a newer schema, locked, unwritable)."""


def default_path() -> Path:
    """``/var/lib/pidtop/history.db`` for root, else ``$XDG_STATE_HOME/pidtop/history.db``
    (``~/.local/state`` when unset)."""
    if os.geteuid() == 0:
        return Path("/var/lib/pidtop/history.db")
    state = os.environ.get("XDG_STATE_HOME", "")
    base = Path(state) if state.startswith("/") else Path.home() / ".local" / "state"
    return base / "pidtop" / "history.db"


def hidepid(mountinfo: str = "/proc/self/mountinfo") -> bool:
    """True when /proc is mounted with ``hidepid`` (other users' processes hidden)."""
    try:
        with open(mountinfo, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return False
    for line in lines:
        fields = line.split()
        if len(fields) > 4 and fields[4] == "/proc" and " - proc " in line:
            opts = line.split(" - ", 1)[1].split()[-1].split(",")
            for opt in opts:
                if opt.startswith("hidepid=") and opt[8:] not in ("0", "off"):
                    return True
    return False


def file_mode() -> int:
    """0644: the store shows what /proc shows every user; 0600 where /proc hides other
    users' processes (``hidepid``), so the store does not show what /proc would not."""
    return 0o600 if hidepid() else 0o644


def _prepare(path: Path) -> None:
    """Create the directory and the file with :func:`file_mode` (before SQLite does, with
    the umask's mode); an existing file keeps its mode."""
    mode = file_mode()
    path.parent.mkdir(parents=True, exist_ok=True, mode=mode | 0o111)
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
        os.fchmod(fd, mode)  # whatever the umask
        os.close(fd)


def connect(path: Path, *, write: bool = False) -> sqlite3.Connection:
    """Open the store at ``path``: create it (``write``) or check it is one this pidtop reads.

    Raises :class:`StoreError` with the reason: no store there, not a pidtop store, written
    by a newer pidtop (schema version), or an older version this one cannot upgrade.
    """
    import sqlite3  # here: the monitor's --db/--replay options import this module at start

    if not write and not path.exists():
        raise StoreError(f"no recording at {path} (start one with: pidtop record)")
    if write:
        try:
            _prepare(path)
        except OSError as e:
            raise StoreError(f"cannot create {path}: {e.strerror or e}") from None
    try:
        if write:
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        else:  # never creates, never writes (a reader of a store another user records)
            db = sqlite3.connect(
                f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
            )
        db.execute("PRAGMA busy_timeout = 5000")
        version = _version(db, path)
        if version is None and not write:
            db.close()
            raise StoreError(f"{path}: the recording is empty (its recorder wrote nothing yet)")
        if write:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")  # WAL: a crash loses at most the last
            if version is None:
                _create(db)
            elif version < SCHEMA_VERSION:
                _upgrade(db, version, path)
    except sqlite3.DatabaseError as e:
        raise StoreError(f"{path}: not a pidtop recording ({e})") from None
    return db


def _version(db: sqlite3.Connection, path: Path) -> int | None:
    """The store's schema version; None for an empty file. Raises for a foreign or newer one."""
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        return None
    if "meta" not in tables:
        raise StoreError(f"{path}: not a pidtop recording (an SQLite file without its tables)")
    row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    try:
        version = int(row[0])
    except (TypeError, ValueError):
        raise StoreError(f"{path}: not a pidtop recording (no schema version)") from None
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: recorded by a newer pidtop (schema version {version}; this pidtop reads "
            f"up to {SCHEMA_VERSION}): replay it with that version"
        )
    if version < SCHEMA_VERSION and version not in _UPGRADES:
        raise StoreError(
            f"{path}: schema version {version} is too old for this pidtop (it reads "
            f"{min([SCHEMA_VERSION, *_UPGRADES])}-{SCHEMA_VERSION}); move it aside to record anew"
        )
    return version


def _create(db: sqlite3.Connection) -> None:
    db.execute("PRAGMA auto_vacuum = INCREMENTAL")  # before the first table: retention shrinks
    db.execute("BEGIN IMMEDIATE")
    try:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _upgrade(db: sqlite3.Connection, version: int, path: Path) -> None:
    import sqlite3

    db.execute("BEGIN IMMEDIATE")
    try:
        while version < SCHEMA_VERSION:
            for statement in _UPGRADES[version].split(";"):
                if statement.strip():
                    db.execute(statement)
            version += 1
        db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(version),))
        db.execute("COMMIT")
    except sqlite3.DatabaseError as e:
        db.execute("ROLLBACK")
        raise StoreError(f"{path}: could not upgrade the schema: {e}") from None


class WriterLock:
    """One recorder per store: an exclusive ``flock`` on ``PATH.lock`` for the writer's
    lifetime. The kernel releases it when the process dies, however it dies."""

    def __init__(self, path: Path) -> None:
        self.path = Path(str(path) + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`StoreError` naming the recorder that holds it."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, file_mode())
        except OSError as e:
            raise StoreError(f"cannot create {self.path}: {e.strerror or e}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise StoreError(
                f"{self.path.with_suffix('')} is being recorded by another pidtop record "
                f"(PID {holder}): one recorder per store"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
