"""``pidtop`` with the type-ahead queue switched off (``benchmarks/keys.py``'s baseline):
every key is routed the moment it arrives, as plain Textual does. Textual's timings (escape
delay, frame rate) are set first, as the CLI sets them, so that only the queue differs."""

from __future__ import annotations

import sys

from pidtop.ui import startup

# before Textual is imported (``quick_escape``: revisions before the frame rate was set)
(getattr(startup, "textual_timing", None) or startup.quick_escape)()

from textual.app import App  # noqa: E402

from pidtop.cli.main import main  # noqa: E402
from pidtop.ui import typeahead  # noqa: E402

typeahead.TypeaheadApp.on_event = App.on_event  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
