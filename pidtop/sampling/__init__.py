"""Sampling: the /proc sampler, host meters, the column registry and optional fields, snapshot
types, the table model (sort, filter, tree, search) and its rows, the cell layout (column
placement and cutting to terminal cells, shared by the monitor and batch text), history,
formatting, batch output, the event spine (``changes``: what the exit journal saw change,
read again at the next pass) and the live exit marks on listed rows (``exitmarks``).

May import: ``pidtop.kernel``. Never Textual, the UI, the CLI or the demo doubles."""
