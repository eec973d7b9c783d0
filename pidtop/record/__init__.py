"""Record and replay: the process table and every exit, kept in an SQLite store.

``store`` owns the file (schema and its version, WAL, the lock that makes one recorder per
store, the file mode); ``writer`` appends samples (only what changed since the previous one)
and exits, and applies retention; ``reader`` rebuilds the snapshot of any recorded moment and
the exits of any window; ``replay`` turns a store into a ``ProcessSource`` and a ``Journal``
the monitor shows as it shows the live ones; ``recorder`` is the loop of ``pidtop record``;
``times`` parses the times users type (``03:12``, ``-30m``, ``yesterday 14:00``).

It imports ``sampling`` (the sampler and snapshot types), ``journal`` (the exit journal and its
records) and ``kernel`` (identities); never Textual, ``ui`` or ``cli``.
"""
