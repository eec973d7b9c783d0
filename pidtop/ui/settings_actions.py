"""The monitor's settings actions: the setup screen (F2, ``S``), applying and saving settings.

A mixin of :class:`pidtop.ui.app.PidtopApp`: what it uses of the rest of the app is
:class:`SettingsHost` (mypy checks the app has it). The settings themselves are
:class:`pidtop.settings.options.Options`; the file is :mod:`pidtop.settings.config`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from pidtop.settings.options import Options
from pidtop.ui.lazy import opens_screen

if TYPE_CHECKING:
    from textual.app import App

    from pidtop.sampling.table import ProcessTable
    from pidtop.ui.widgets.meters import Meters


class SettingsHost(Protocol):
    """What the settings actions use of the app besides Textual's own (PidtopApp has it)."""

    table: ProcessTable
    delay: float

    @property
    def meters(self) -> Meters: ...
    def set_delay(self, seconds: float) -> None: ...
    def sample_now(self) -> None: ...
    def _apply_theme(self, name: str) -> None: ...
    def _table_changed(self) -> None: ...


if TYPE_CHECKING:

    class _Mixin(App[int], SettingsHost):
        """What the mixin is mixed into, as mypy sees it: a Textual app with a SettingsHost."""

else:
    _Mixin = object


class SettingsActions(_Mixin):
    """The setup screen, the options as they are now, saving the changed ones."""

    # the state these actions change (set first by PidtopApp)
    options: Options
    bell_enabled: bool
    confirm_over: int
    escalate_after: float
    _settings_baseline: Options

    # ------------------------------------------------------------------ settings
    @opens_screen("the setup screen")
    def action_setup(self) -> None:
        """F2/``S``: the setup screen; Save applies the settings and saves them."""
        from pidtop.ui.screens.modal import kept_screen
        from pidtop.ui.screens.setup import SetupScreen  # not needed for the first frame

        if isinstance(self.screen, SetupScreen):
            return

        def done(new: Options | None) -> None:
            if new is not None:
                self.apply_options(new)

        options, themes = self.current_options(), sorted(self.available_themes)
        screen = kept_screen(
            self,
            SetupScreen,
            lambda s: s.themes == themes,
            lambda: SetupScreen(options, themes),
            lambda s: s.show(options),  # the settings of now
        )
        self.push_screen(screen, done)

    def apply_options(self, new: Options) -> None:
        """Use the settings of ``new`` now (setup screen), then save the changed ones."""
        table = self.table
        fields, threads = table.fields, table.show_threads
        self.options = self.options.replace(keymap=new.keymap, meters=new.meters)
        if tuple(c.id for c in table.columns) != new.columns:
            table.set_columns(new.columns)
        table.set_tree(new.tree)
        self.meters.set_meters(new.meters)
        table.set_threads(user=new.show_threads, kernel=new.show_kernel_threads)
        self.bell_enabled = new.bell
        self.confirm_over = new.confirm_over
        self.escalate_after = new.escalate_after
        self._apply_theme(new.theme)
        self.set_delay(new.delay)
        self._table_changed()
        if table.fields != fields or table.show_threads != threads:
            self.sample_now()  # new columns or threads need a sample to fill them
        message = self.save_settings()
        if self.options.config_path is None:
            message = "Settings applied for this run (--no-config: not saved)"
        self.notify(message or "Settings applied", title="Setup", markup=False)

    def current_options(self) -> Options:
        """The options as the user has them now (sort, tree, delay, columns, theme...)."""
        table = self.table
        return self.options.replace(
            delay=self.delay,
            columns=tuple(c.id for c in table.columns),
            sort_column=table.sort_column,
            sort_reverse=table.sort_reverse,
            tree=table.tree,
            show_threads=table.show_threads,
            show_kernel_threads=table.show_kernel_threads,
            theme=self.theme,
            bell=self.bell_enabled,
            confirm_over=self.confirm_over,
            escalate_after=self.escalate_after,
        )

    def save_settings(self, *, quitting: bool = False) -> str | None:
        """Write the settings the user changed since start (or the last save) into the config
        file; nothing when none changed or with ``--no-config``. Returns what to tell the user:
        a new file, a broken one moved aside, or an error (else None)."""
        from pidtop.settings import config

        path = self.options.config_path
        baseline = getattr(self, "_settings_baseline", None)
        if path is None or baseline is None:
            return None
        now = self.current_options()
        changed = config.changed_settings(baseline, now)
        if not changed:
            return None
        existed = path.exists()
        try:
            saved = config.save(path, changed)
        except OSError as e:
            return f"Settings not saved: {path}: {e.strerror or e}"
        self._settings_baseline = now
        if saved.moved_aside is not None or not existed:
            return str(saved)
        return None if quitting else str(saved)
