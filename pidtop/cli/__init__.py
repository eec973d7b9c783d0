"""The commands: the monitor entry point, ``kill``, ``wait``, ``id``, ``kill --tree``, ``journal``,
``snapshot``. Nothing imports this package except the ``pidtop`` entry point
(and ``python -m pidtop``). The TUI is imported only when it runs."""
