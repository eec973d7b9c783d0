"""``pidtop`` with the type-ahead queue switched off (``benchmarks/keys.py``'s baseline):
every key is routed the moment it arrives, as plain Textual does."""

from __future__ import annotations

import sys

from textual.app import App

from pidtop.cli.main import main
from pidtop.ui import typeahead

typeahead.TypeaheadApp.on_event = App.on_event  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
