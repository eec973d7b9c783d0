"""Options (defaults <- config file <- command line) and the config file.

May import: the domain packages. Never Textual, the UI or the CLI."""
