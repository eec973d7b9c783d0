"""``python -m pidtop``."""

from pidtop.cli.main import main

raise SystemExit(main())
