"""How an experiment's settings change: checked one by one and together, refused with a message that keeps the last
valid value, and what a change does to the model (a data or network setting stops any run and drops the model).

`SettingRules` belongs to one Experiment: the app's paths (sidebar, URL) go through `set_values` and `set_texts`,
and `changed` watches every setting, whichever path set it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from engine import Dataset, Settings, SettingsError, load_dataset
from engine.setting_types import format_value
from engine.settings import GROUPED, SPECS

from .own_files import titled

if TYPE_CHECKING:
    from .experiment import Experiment
    from .runner import Runner

SETTINGS = GROUPED  # the settings the app offers (sidebar, URL), in declared order
PARTS = {part: tuple(name for name in SETTINGS if SPECS[name].part == part) for part in ("data", "network", "training")}


def changed_settings(values) -> dict[str, str]:
    """The settings that differ from their defaults, as text (what a shareable URL needs)."""
    return {name: format_value(getattr(values, name)) for name in SETTINGS
            if getattr(values, name) != SPECS[name].default}


class SettingRules:
    """The setting changes of one experiment; `tell(text, kind)` gives the user a notice."""

    def __init__(self, experiment: Experiment, runner: Runner, tell: Callable[[str, str], None]) -> None:
        self.experiment = experiment
        self.runner = runner
        self.tell = tell
        self._reverting = False  # settings being set back (or installed with their model): not a change to act on
        self._expected: tuple[Settings, Dataset] | None = None  # a dataset already built for these settings

    def set_texts(self, texts: dict[str, str]) -> list[str]:
        """Apply several settings given as text (a URL query) together; see `set_values`."""
        problems, values = [], {}
        for name, text in texts.items():
            try:
                values[name] = SPECS[name].parse(text) if name in SETTINGS else text
            except ValueError as error:
                problems.append(self._refused(name, text, error))
        return self.set_values(values, problems)

    def set_values(self, values: dict, problems: list[str] | None = None) -> list[str]:
        """Apply several settings together (one reload of the data); each refused one keeps its last valid value.
        Returns the messages of the refusals (also shown in `message`)."""
        experiment = self.experiment
        problems, checked = list(problems or []), {}
        experiment.message = ""
        for name, value in values.items():
            if name not in SETTINGS:
                problems.append(f"Unknown setting {name!r} ignored.")
                continue
            try:
                checked[name] = SPECS[name].check(value)
            except (ValueError, TypeError) as error:
                problems.append(self._refused(name, value, error))
        if checked:
            experiment.param.update(checked)
            if any(getattr(experiment, name) != value for name, value in checked.items()):  # they do not fit together
                problems += [experiment.message for name, value in checked.items()
                             if getattr(experiment, name) != value and not self._set_alone(name, value)]
        if problems:
            self.tell(" ".join(problems), "warning")
        return problems

    def _set_alone(self, name: str, value) -> bool:
        setattr(self.experiment, name, value)
        return getattr(self.experiment, name) == value

    def _refused(self, name: str, value, error: Exception) -> str:
        """Say why a value is refused (the last valid value is kept); returns the message."""
        spec = SPECS[name]
        reason = re.sub(r"^\w+: ", "", str(error)).rstrip(".")
        if "not allowed" in reason:
            reason = "allowed: " + spec.allowed()
        shown = format_value(value) if isinstance(value, (list, tuple)) else value  # numbers as typed, text quoted
        kept = format_value(getattr(self.experiment, name)) or "none"
        text = f"{spec.label}: {shown!r} refused; {reason}. Kept {kept}."
        self.tell(text, "warning")
        return text

    @contextmanager
    def quietly(self) -> Iterator[None]:
        """Settings set here come with their model (a loaded experiment): they neither stop nor drop anything."""
        self._reverting = True
        try:
            yield
        finally:
            self._reverting = False

    @contextmanager
    def expecting(self, settings: Settings, dataset: Dataset) -> Iterator[None]:
        """A change to these settings made here uses this dataset, already built off the loop, as its data."""
        self._expected = (settings, dataset)
        try:
            yield
        finally:
            self._expected = None

    def changed(self, *events) -> None:
        """Watches every setting: refuse values that do not fit together (putting back the old ones), else a changed
        data or network setting stops any run and drops the model, and new data are loaded."""
        if self._reverting:
            return
        experiment, runner = self.experiment, self.runner
        names = [event.name for event in events]
        data_changed = any(name in PARTS["data"] for name in names)
        try:
            settings = experiment.settings()
            dataset = self._load_dataset(settings) if data_changed else None
        except (SettingsError, ValueError) as error:
            with self.quietly():
                experiment.param.update({event.name: event.old for event in events})
            labels = ", ".join(experiment.param[name].label or name for name in names)
            self.tell(f"{labels}: refused ({error}). Kept the last valid value.", "warning")
            return
        if data_changed or any(name in PARTS["network"] for name in names):
            had_model = runner.trainer is not None or runner.worker is not None
            runner.halt("stop")  # not discard: the run's result is kept for comparison
            runner.drop_model()
            if dataset is not None:
                experiment.data = dataset
            if had_model:
                self.tell("The data or the network changed: press Train to train a new model.", "info")
        elif experiment.state != "idle":
            self.tell("Training settings apply from the next Train or Continue.", "info")

    def _load_dataset(self, settings: Settings) -> Dataset:
        expected = self._expected
        if expected is not None and expected[0] == settings:
            return expected[1]
        return titled(load_dataset(settings), settings)
