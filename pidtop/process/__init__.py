"""Kernel and data layer: pidfd handles, /proc sampling, the table model.

Nothing in this package may import Textual (``tests/test_import_hygiene.py`` enforces it),
so the CLI and any other front end share exactly the same core.
"""
