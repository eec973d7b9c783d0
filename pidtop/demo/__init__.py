"""Every scripted double (source, handles, details, extras, journal), on a fixed clock, for
``--demo``, snapshots, screenshots and tests, and the script they play (``script.py``: the
process list, its users and the clock, as data). Each implements the same protocol as the real
one.

May import: every domain package. Imported only by the UI's demo switch and by tests."""
