"""The exit journal: the proc connector, the event state machine (tracker), records, the pidfd
fallback, and the service that runs them for ``pidtop journal`` and the Exits screen.

May import: ``pidtop.kernel``, ``pidtop.sampling`` (formatting).
Never Textual, the UI or the CLI."""
