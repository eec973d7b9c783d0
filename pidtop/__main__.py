"""``python -m pidtop``."""

from pidtop.cli import main

raise SystemExit(main())
