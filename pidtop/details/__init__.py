"""One process in detail: the model (``model.py``: the dataclasses and the ``DetailsSource``
protocol), the real reader (``reader.py``: through the verified handle), open files.

May import: ``pidtop.kernel``, ``pidtop.sampling``. Never Textual, the UI, the CLI or the demo."""
