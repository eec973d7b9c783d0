"""The kernel layer: one process named exactly (identity, the pidfd handle, feature probes, exit
status, signals, the fd budget, the exit watcher, the one ``/proc/PID/stat`` parser, a process's
own checked ``/proc/PID`` directory).

May import: the standard library only. Never Textual, never another pidtop package."""
