"""Actions on processes: pins, watch-all, tree kill, renice/ionice/affinity, the event log.

- ``pins`` (the pin set and the kill of its targets), ``pinwait`` (the running wait, ``w``),
  ``targets`` (what a kill aims at and reports, confirmation reasons, argv for ``--log``);
- ``escalate``: the one escalation loop (signal, wait, the next signal to those still running),
  used by the pins' kill, ``pidtop kill --timeout`` and the tree kill;
- the tree kill: ``treescan`` (/proc and cgroup readers), ``treeresult`` (result types),
  ``treefreeze`` (the freeze), ``treekill`` (the steps);
- ``watch_all``, ``tuning`` (renice, ionice, affinity), ``eventlog``.

May import: ``pidtop.kernel``, ``pidtop.sampling``. Never Textual, the UI, the CLI or the demo."""

#: a kill aimed at more processes than this asks for confirmation first (the default of the
#: ``confirm_over`` setting: here, so the settings need not import ``targets`` and its kernel
#: modules to know it)
CONFIRM_OVER = 5
