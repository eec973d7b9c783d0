"""Sampling: the /proc sampler, host meters, the column registry and optional fields, snapshot
types, the table model (sort, filter, tree, search) and its rows, the cell layout (column
placement and cutting to terminal cells, shared by the monitor and batch text), history,
formatting, batch output.

May import: ``pidtop.kernel``. Never Textual, the UI, the CLI or the demo doubles."""
