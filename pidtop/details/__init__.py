"""One process in detail: the model, the reader (through its verified handle), open files.

May import: ``pidtop.kernel``, ``pidtop.sampling``. Never Textual, the UI, the CLI or the demo."""
