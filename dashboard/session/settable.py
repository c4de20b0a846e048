"""The Experiment's settings as parameters with the refusal rules: a value that is not allowed keeps the last valid
one and says why in `message`; text forms (a URL query) are read by the settings' declarations."""

from __future__ import annotations

import re

import param

from engine import Settings, SettingsError

from .parameters import (
    APP_SPECS,
    SETTINGS,
    SettingParameters,
    engine_value,
    from_text,
    to_text,
)

NO_POINTS = "no points of your own yet: upload a CSV or draw points in the Data tab"


class Settable(SettingParameters):
    """One parameter per declared setting, a message for the user, and the rules for setting values."""

    message = param.String(default="", precedence=-1, doc="The last notice for the user ('' for none).")
    message_kind = param.Selector(default="info", objects=["info", "warning", "danger"], precedence=-1)

    def __init__(self, **params):
        self._csv_path: str | None = None  # the file of the "csv" dataset, written by `use_points`
        super().__init__(**params)

    def settings(self) -> Settings:
        """The engine's settings for the current parameter values (SettingsError if they do not fit together)."""
        if self.dataset == "csv" and self._csv_path is None:
            raise SettingsError(NO_POINTS)
        values = {name: engine_value(spec, getattr(self, name)) for name, spec in APP_SPECS.items()}
        return Settings(**values, csv_path=self._csv_path if self.dataset == "csv" else None, device="cpu", threads=1)

    def __setattr__(self, name: str, value) -> None:
        """Setting a value that is not allowed keeps the last valid one and says why in `message` (a widget
        bound to the parameter then shows the kept value again)."""
        if name not in APP_SPECS:
            super().__setattr__(name, value)
            return
        old = getattr(self, name)
        try:
            super().__setattr__(name, value)
        except (ValueError, TypeError) as error:
            self._refused(name, value, old, error)

    def set_value(self, name: str, value) -> bool:
        """Set one setting; if it is refused, keep the last valid value, say why in `message`, return False."""
        if name not in SETTINGS:
            self._tell(f"Unknown setting {name!r}.", "warning")
            return False
        self.message = ""
        setattr(self, name, value)
        return getattr(self, name) == value and not self.message

    def set_text(self, name: str, text: str) -> bool:
        """`set_value` from text, as a URL query or a command line gives it ('8,8', '0.01', 'x,y,xy')."""
        return not self.set_texts({name: text})

    def set_texts(self, texts: dict[str, str]) -> list[str]:
        """Apply several settings given as text (a URL query) together; each refused one keeps its last valid
        value. Returns the messages of the refusals (also shown in `message`)."""
        problems, values = [], {}
        for name, text in texts.items():
            if name not in SETTINGS:
                problems.append(f"Unknown setting {name!r} ignored.")
                continue
            try:
                value = from_text(name, text)
                self.param[name]._validate(value)
            except (ValueError, TypeError) as error:
                self._refused(name, text, getattr(self, name), error)
                problems.append(self.message)
                continue
            values[name] = value
        if values:
            self.param.update(values)  # together: one reload of the data, one check of what fits together
            for name, value in values.items():  # if they do not fit together, each one that fits on its own
                if getattr(self, name) != value and not self.set_value(name, value):
                    problems.append(self.message)
        if problems:
            self._tell(" ".join(problems), "warning")
        return problems

    def changed_settings(self) -> dict[str, str]:
        """The settings that differ from their defaults, as text (what a shareable URL needs)."""
        return {name: to_text(getattr(self, name)) for name in SETTINGS
                if getattr(self, name) != self.param[name].default}

    def _refused(self, name: str, value, old, error: Exception) -> None:
        spec = APP_SPECS[name]
        reason = re.sub(r"^(\w+ parameter '[\w.]+' |\w+: )", "", str(error)).rstrip(".")
        if spec.kind in ("int", "float", "choice") or "not allowed" in reason:
            reason = "allowed: " + spec.allowed()
        shown = to_text(value) if isinstance(value, (list, tuple)) else value  # numbers as typed, text quoted
        self._tell(f"{spec.label}: {shown!r} refused; {reason}. Kept {to_text(old) or 'none'}.", "warning")

    def _tell(self, text: str, kind: str = "info") -> None:
        self.param.update(message=text, message_kind=kind)

