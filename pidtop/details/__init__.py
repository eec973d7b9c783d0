"""One process in detail: the model (``model.py``: the dataclasses and the ``DetailsSource``
protocol), the real reader (``reader.py``: every file through the process's own checked
``/proc/PID`` directory fd, :mod:`pidtop.kernel.procdir`), the parsers of those files
(``procparse.py``), open files (``openfiles.py``).

May import: ``pidtop.kernel``, ``pidtop.sampling``. Never Textual, the UI, the CLI or the demo."""
