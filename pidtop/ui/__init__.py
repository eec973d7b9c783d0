"""The Textual front end. No syscalls here: actions go through ``pidtop.process``."""
