"""pidtop: a terminal process monitor that acts on processes, not PID numbers."""

__version__ = "0.1.0"
