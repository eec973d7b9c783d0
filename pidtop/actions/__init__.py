"""Actions on processes: pins, watch-all, tree kill, renice/ionice/affinity, the event log.

May import: ``pidtop.kernel``, ``pidtop.sampling``. Never Textual, the UI, the CLI or the demo."""
