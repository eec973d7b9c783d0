"""The config file: TOML at ``$XDG_CONFIG_HOME/pidtop/config.toml`` (``~/.config/...``).

Reading never fails: a broken file (bad TOML, a wrong type, an unknown key, a value out of
range) gives :class:`Problem` lines naming the file, line and key, and the defaults for what
was bad. The file is never rewritten behind the user's back: pidtop writes it only when the
user changed a setting (quit, or Save in the setup screen), then only the keys they changed,
merged into the file as it is (comments, unknown keys and untouched values stay), atomically
(temporary file, fsync, rename, fsync of the folder). A file that is not TOML at all is kept
aside (``config.toml.broken``) once the new one is written, and that is said. No Textual here.

One thing: the file, read (bounded, regular files only, every value checked) and written
(merged, locked, atomic, through symbolic links, keeping mode and owner); the two halves
share the file's rules and its problems' wording. Key names are :mod:`.keynames`.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import math
import os
import re
import stat
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pidtop.sampling.columns import COLUMN_BY_ID, resolve_sort_key
from pidtop.sampling.fmt import sanitize
from pidtop.settings.keynames import key_problem
from pidtop.settings.options import MAX_DELAY, METERS, MIN_DELAY, SETTINGS, Options, settings_of

#: the file's top-level key for the keymap (``[keys]``: action id -> "key,key")
KEYS_TABLE = "keys"
HEADER = (
    "# pidtop settings: written by pidtop when you change a setting (quit, or Save in setup).\n"
    "# Edit freely: comments and keys pidtop does not know are kept.\n"
)


def default_path(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/pidtop/config.toml``, else ``~/.config/pidtop/config.toml``."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "pidtop" / "config.toml"


#: the largest config file read (a settings file is a few hundred bytes; a bigger one is a
#: mistake, e.g. a link to /dev/zero or a log): larger ones are refused, the defaults used
MAX_BYTES = 256 * 1024


class NotRegularFile(OSError):
    """The config path is a FIFO, a device, a directory ...: never read (it could block or
    never end) and never replaced."""


class TooLarge(OSError):
    """The config file is over :data:`MAX_BYTES`."""


def read_limited(path: Path, limit: int = MAX_BYTES) -> bytes:
    """The bytes of ``path`` (symbolic links followed), if it is a regular file of at most
    ``limit`` bytes. Opened non-blocking so that a FIFO cannot hang the start; raises
    FileNotFoundError, :class:`NotRegularFile`, :class:`TooLarge` or another OSError."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(errno.EINVAL, "not a regular file")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise TooLarge(errno.EFBIG, f"larger than {limit // 1024} KiB")
        return b"".join(chunks)
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the file."""

    path: Path
    line: int | None
    key: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        # the file's text (a key, a value) is shown like process text: no escapes, bounded
        return sanitize(f"{where}: {self.key + ': ' if self.key else ''}{self.message}")


@dataclass(slots=True)
class Loaded:
    """What was read: the valid settings (Options field names) and the problems."""

    path: Path
    exists: bool = False
    parsed: bool = True  # False: not TOML (or unreadable): the file is never merged into
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


# ------------------------------------------------------------------ validation
def _number(value: object, low: float, high: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) and low <= value <= high else None


def _check_delay(v: object) -> tuple[Any, str | None]:
    n = _number(v, MIN_DELAY, MAX_DELAY)
    wanted = f"a number of seconds {MIN_DELAY:g}-{MAX_DELAY:g}"
    return (n, None) if n is not None else (None, wanted)


def _check_bool(v: object) -> tuple[Any, str | None]:
    return (v, None) if isinstance(v, bool) else (None, "true or false")


def _check_columns(v: object) -> tuple[Any, str | None]:
    if not isinstance(v, list) or not v or not all(isinstance(c, str) for c in v):
        return None, 'a list of column names, e.g. ["pid", "user", "cpu", "command"]'
    ids = [resolve_sort_key(c) for c in v]
    bad = [c for c, i in zip(v, ids, strict=True) if i is None]
    if bad or len(set(ids)) != len(ids):
        what = f"unknown column {bad[0]!r}" if bad else "a column named twice"
        return None, f"{what} (columns: {', '.join(COLUMN_BY_ID)})"
    return tuple(ids), None


def _check_meters(v: object) -> tuple[Any, str | None]:
    if not isinstance(v, list) or not all(isinstance(m, str) for m in v):
        return None, 'a list of meter names, e.g. ["cpu", "memory", "load"]'
    names = [m.strip().lower() for m in v]
    bad = [m for m, n in zip(v, names, strict=True) if n not in METERS]
    if bad or len(set(names)) != len(names):
        what = f"unknown meter {bad[0]!r}" if bad else "a meter named twice"
        return None, f"{what} (meters: {', '.join(METERS)})"
    return tuple(names), None


def _check_sort(v: object) -> tuple[Any, str | None]:
    column = resolve_sort_key(v) if isinstance(v, str) else None
    return (column, None) if column else (None, f"a column name ({', '.join(COLUMN_BY_ID)})")


def _check_theme(v: object) -> tuple[Any, str | None]:
    ok = isinstance(v, str) and bool(v.strip())
    return (v, None) if ok else (None, 'a theme name, e.g. "textual-dark"')


def _check_confirm(v: object) -> tuple[Any, str | None]:
    ok = isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 1_000_000
    return (v, None) if ok else (None, "a whole number of processes, 0-1000000")


def _check_after(v: object) -> tuple[Any, str | None]:
    n = _number(v, 0, 3600)
    return (n, None) if n is not None else (None, "a number of seconds 0-3600")


_CHECKS: dict[str, Callable[[object], tuple[Any, str | None]]] = {
    "delay": _check_delay,
    "columns": _check_columns,
    "meters": _check_meters,
    "sort_column": _check_sort,
    "sort_reverse": _check_bool,
    "tree": _check_bool,
    "show_threads": _check_bool,
    "show_kernel_threads": _check_bool,
    "theme": _check_theme,
    "bell": _check_bool,
    "confirm_over": _check_confirm,
    "escalate_after": _check_after,
}
assert set(_CHECKS) | {"keymap"} == set(SETTINGS), "every setting has a check"


def _line_of(text: str, key: str, table: str | None = None) -> int | None:
    """The line where ``key = ...`` is set (in ``[table]`` when given), 1-based."""
    current: str | None = None
    pattern = re.compile(rf"""^\s*(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')\s*=""")
    for n, line in enumerate(text.splitlines(), 1):
        header = re.match(r"^\s*\[\s*([^\]]+?)\s*\]", line)
        if header:
            current = header.group(1).strip('"')
            continue
        if current == table and pattern.match(line):
            return n
    return None


def load(path: Path, actions: Collection[str] = ()) -> Loaded:
    """Read ``path``; ``actions`` are the action ids a ``[keys]`` entry may name."""
    loaded = Loaded(path)

    def problem(message: str, key: str | None = None, line: int | None = None) -> None:
        loaded.problems.append(Problem(path, line, key, message))

    try:
        raw = read_limited(path)
    except FileNotFoundError:
        return loaded
    except OSError as e:
        loaded.exists, loaded.parsed = True, False
        problem(f"cannot read it ({e.strerror or e}); using the defaults")
        return loaded
    loaded.exists = True
    import tomllib  # only when there is a file (the file is read: fds are there)

    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError as e:
        loaded.parsed = False
        line = raw[: e.start].count(b"\n") + 1
        problem("not UTF-8 text; using the defaults (the file is left as it is)", line=line)
        return loaded
    except tomllib.TOMLDecodeError as e:
        loaded.parsed = False
        found = re.search(r"at line (\d+)", str(e))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(e))
        problem(
            f"not valid TOML ({message}); using the defaults (the file is left as it is)",
            line=int(found.group(1)) if found else None,
        )
        return loaded
    except (RecursionError, MemoryError, ValueError) as e:  # nested too deep, ...
        loaded.parsed = False
        what = "nested too deeply" if isinstance(e, RecursionError) else type(e).__name__
        problem(f"cannot be parsed ({what}); using the defaults (the file is left as it is)")
        return loaded
    for key, value in data.items():
        if key == KEYS_TABLE:
            loaded.values["keymap"] = _load_keys(value, text, actions, problem)
            continue
        check = _CHECKS.get(key)
        if check is None or key == "keymap":
            problem("unknown setting, ignored (kept in the file)", key, _line_of(text, key))
            continue
        good, wanted = check(value)
        if wanted is not None:
            default = getattr(Options(), key)
            problem(
                f"must be {wanted}, not {_short(value)}; using {_show(default)}",
                key,
                _line_of(text, key),
            )
            continue
        loaded.values[key] = good
    return loaded


def _load_keys(
    value: object,
    text: str,
    actions: Collection[str],
    problem: Callable[..., None],
) -> dict[str, str]:
    if not isinstance(value, dict):
        problem(
            'must be a table of action = "keys" lines under [keys]',
            KEYS_TABLE,
            _line_of(text, KEYS_TABLE),
        )
        return {}
    keymap: dict[str, str] = {}
    for action, keys in value.items():
        line = _line_of(text, action, KEYS_TABLE)
        if actions and action not in actions:
            problem("unknown action, ignored (see the help, F1)", f"keys.{action}", line)
        elif not isinstance(keys, str) or not keys.strip():
            problem(
                f'must be keys like "f9,k", not {_short(keys)}; ignored', f"keys.{action}", line
            )
        else:
            names = [k.strip() for k in keys.split(",") if k.strip()]
            bad = next((k for k in names if key_problem(k)), None)
            if bad is not None:
                problem(f"{key_problem(bad)}; the default keys are kept", f"keys.{action}", line)
            else:
                keymap[action] = ",".join(names)
    return keymap


def _short(value: object, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters (a value can be a 200 KB list)."""
    try:
        text = repr(value)
    except RecursionError:
        text = "a value nested too deeply"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "the default list"
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value) if isinstance(value, str) else str(value)


def apply(options: Options, loaded: Loaded) -> Options:
    """``options`` with the file's valid settings."""
    return options.replace(**loaded.values)


# ------------------------------------------------------------------ saving
@dataclass(frozen=True, slots=True)
class Saved:
    """What :func:`save` did, for a message to the user."""

    path: Path
    moved_aside: Path | None = None  # the unparseable file, kept under this name

    def __str__(self) -> str:
        text = f"Settings saved to {self.path}"
        if self.moved_aside is not None:
            text += f"; the file that was not valid TOML was kept as {self.moved_aside}"
        return text


def _toml_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def save(path: Path, changed: Mapping[str, Any]) -> Saved:
    """Write the ``changed`` settings (Options field names) into ``path``, atomically.

    The file as it is now is read again and only these keys are replaced or added: comments,
    unknown keys and other values stay. A file that is not TOML is kept aside (a hard link,
    ``config.toml.broken``) once the new one is written in full; until then it stays in place.
    A symbolic link is written through (its target is replaced, the link stays). Raises
    OSError when the directory or file cannot be written, when the file is read-only (it is
    left as it is) or is not a regular file, or when another pidtop holds the lock too long.
    """
    import tomlkit  # only when saving: not on the start-up path

    target = Path(os.path.realpath(path))  # a link into a dotfiles folder: write its target
    _make_dirs(target.parent)
    with _locked(target.parent):
        broken = False
        try:
            st: os.stat_result | None = os.stat(target)
        except FileNotFoundError:
            st = None
        if st is not None and not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(errno.EINVAL, "not a regular file; not written")
        if st is not None and not st.st_mode & 0o222:
            raise PermissionError(
                errno.EACCES, f"read-only (mode {st.st_mode & 0o777:04o}); left as it is"
            )
        try:
            doc = tomlkit.parse(read_limited(target).decode("utf-8")) if st else None
        except TooLarge:
            raise
        except (UnicodeDecodeError, tomlkit.exceptions.ParseError, ValueError, RecursionError):
            broken, doc = True, None
        if doc is None:
            doc = tomlkit.parse(HEADER)
        for key, value in changed.items():
            if key == "keymap":
                table = doc.get(KEYS_TABLE)
                if not isinstance(table, dict):
                    table = tomlkit.table()
                    doc[KEYS_TABLE] = table
                for action in [a for a in table if a not in value]:
                    del table[action]
                for action, keys in value.items():
                    table[action] = keys
            elif key == "sort_reverse" and value is None:
                doc.pop(key, None)
            else:
                doc[key] = _toml_value(value)
        moved = _write_atomic(target, tomlkit.dumps(doc), st, keep_aside=broken)
    return Saved(path, moved)


#: how long a save waits for another pidtop's save of the same folder (seconds)
LOCK_WAIT = 5.0


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold ``flock`` on ``folder`` (the config file's own folder: no lock file left behind),
    so that two pidtops saving at once do not interleave their read-merge-writes."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise BlockingIOError(
                        errno.EWOULDBLOCK, "another pidtop is saving it; not written"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock


def _owner_for(folder: Path) -> tuple[int, int] | None:
    """As root (``sudo -E``), what a new file in ``folder`` is chowned to: the folder's owner,
    so that the user's settings do not become root's. None when nothing is to change."""
    if os.geteuid() != 0:
        return None
    st = os.stat(folder)
    return None if st.st_uid == 0 else (st.st_uid, st.st_gid)


def _make_dirs(folder: Path) -> None:
    """``mkdir -p`` whose new folders belong to the owner of the folder they are made in (as
    root); the mode of a new folder honours the umask."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for new in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(new)
            owner = _owner_for(new.parent)
            if owner is not None:
                os.chown(new, *owner)


def _write_atomic(
    path: Path, text: str, st: os.stat_result | None, *, keep_aside: bool = False
) -> Path | None:
    """Write ``text`` to a new file beside ``path``, fsync it, then put it in place (rename,
    then fsync of the folder). The new file keeps the mode and owner of the one it replaces; a
    first file gets the umask's mode and (as root) the folder's owner. ``keep_aside``: the
    old file is first hard-linked to a free ``.broken`` name (link fails if the name exists:
    no race between looking and taking). Returns that name. The old file is untouched until
    the new one is written in full (a full disk leaves it in place)."""
    data = text.encode("utf-8")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    for n in range(100):
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{n}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)  # the umask applies
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - a hundred leftovers of this very PID
        raise FileExistsError(errno.EEXIST, "no free temporary name", str(path.parent))
    moved: Path | None = None
    try:
        try:
            if st is not None:
                os.fchmod(fd, stat.S_IMODE(st.st_mode))
            owner = (st.st_uid, st.st_gid) if st is not None else _owner_for(path.parent)
            if owner is not None and os.geteuid() == 0 and owner != (os.geteuid(), os.getegid()):
                os.fchown(fd, *owner)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if keep_aside:
            moved = _link_aside(path)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return moved


def _link_aside(path: Path) -> Path:
    """Hard-link ``path`` to the first free ``NAME.broken``, ``NAME.broken.2`` ... name."""
    for n in range(1, 1000):
        target = path.with_name(path.name + ".broken" + (f".{n}" if n > 1 else ""))
        try:
            os.link(path, target)
            return target
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free .broken name", str(path))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def changed_settings(before: Options, after: Options) -> dict[str, Any]:
    """The settings that differ between two options objects."""
    a, b = settings_of(before), settings_of(after)
    return {k: v for k, v in b.items() if a[k] != v}
