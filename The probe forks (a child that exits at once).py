"""Exact-process handles: a pidfd plus the identity it was verified against.

A :class:`ProcessHandle` names one *process*, never a recyclable PID number: every action goes
through its pidfd, so a PID reused by another process can never be signalled by mistake.
Kernel facts behind this module are in ``shared/PIDFD-FACTS.md``. Features are found by probing
(:func:`features`); without pidfds a *degraded* handle re-checks the start time before
``kill(2)``, which leaves a small race (``degraded`` tells callers so).

Readiness of a pidfd: POLLIN = exited (zombie), POLLIN|POLLHUP = reaped.
"""

from __future__ import annotations
