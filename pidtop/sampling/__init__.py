"""Sampling: the /proc sampler, host meters, the column registry and optional fields, snapshot
types, the table model (sort, filter, tree, search), history, formatting, batch output.

May import: ``pidtop.kernel``. Never Textual, the UI, the CLI or the demo doubles."""
