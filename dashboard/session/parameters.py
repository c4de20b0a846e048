"""The Experiment's setting parameters, derived from the engine's declarations (`engine.settings.SPECS`).

Each setting the app offers (its Spec has a group) becomes one param Parameter with the declared label, help,
default and bounds; the app's value forms follow the text a widget or a URL carries: hidden layers as '8,8',
lists for the inputs and the Iris pair. `engine_value` and `app_value` convert between the two forms.
"""

from __future__ import annotations

import param

from engine.settings import SPECS, Settings, SettingsError, Spec, format_value

DEFAULTS = Settings()
APP_SPECS = {name: spec for name, spec in SPECS.items() if spec.group}  # what the app offers, in order
SETTINGS = tuple(APP_SPECS)
PARTS = {part: tuple(name for name, spec in APP_SPECS.items() if spec.part == part)
         for part in ("data", "network", "training")}


class Widths(param.String):
    """Hidden layer widths written as text, '8,8' (what a widget and a URL carry); '' for none."""

    __slots__ = ["spec"]

    def __init__(self, default="", spec: Spec | None = None, **params):
        self.spec = spec
        super().__init__(default=default, **params)

    def _validate_value(self, value, allow_None):
        super()._validate_value(value, allow_None)
        if value is not None and self.spec is not None:
            try:
                self.spec.check(self.spec.parse(value))
            except ValueError as error:
                raise ValueError(str(error) if isinstance(error, SettingsError) else f"hidden: {error}") from None


class Pair(param.ListSelector):
    """Two different values of `objects` (the Iris features on x and y)."""

    def _validate(self, value):
        super()._validate(value)
        if value is not None and (len(value) != 2 or value[0] == value[1]):
            raise ValueError(f"{self.name}: give two different features, got {format_value(value)!r}")


def _options(spec: Spec) -> dict:
    """The choices as {label shown: value}."""
    return {spec.names.get(choice, choice): choice for choice in spec.choices}


def parameter(spec: Spec) -> param.Parameter:
    """The param Parameter of one declared setting."""
    default = app_value(spec, getattr(DEFAULTS, spec.name))
    common = dict(label=spec.label, doc=spec.help)
    if spec.kind == "choice":
        return param.Selector(default=default, objects=_options(spec), **common)
    if spec.kind == "choices":
        return param.ListSelector(default=default, objects=_options(spec), **common)
    if spec.kind == "pair":
        return Pair(default=default, objects=_options(spec), **common)
    if spec.kind == "int":
        return param.Integer(default=default, bounds=spec.bounds, **common)
    if spec.kind == "float":
        low, high = spec.bounds
        return param.Number(default=default, bounds=spec.bounds, inclusive_bounds=(not spec.open_low, True),
                            softbounds=(max(low, 1e-5) if spec.open_low else low, high), step=spec.step, **common)
    if spec.kind == "bool":
        return param.Boolean(default=default, **common)
    if spec.kind == "widths":
        return Widths(default=default, spec=spec, **common)
    raise TypeError(f"{spec.name}: the app has no parameter for a {spec.kind} setting")


def app_value(spec: Spec, value):
    """An engine value in the app's form: '8,8' for widths, lists for several choices."""
    if spec.kind == "widths":
        return format_value(value)
    if spec.kind in ("choices", "pair"):
        return list(value)
    return value


def engine_value(spec: Spec, value):
    """An app value in the engine's form (the inverse of `app_value`)."""
    if spec.kind == "widths":
        return spec.parse(value)
    if spec.kind in ("choices", "pair"):
        return tuple(value)
    return value


def settings_values(settings: Settings) -> dict:
    """The app's setting values for engine settings."""
    return {name: app_value(spec, getattr(settings, name)) for name, spec in APP_SPECS.items()}


def from_text(name: str, text: str):
    """A setting's app value from its text form (a URL query): ValueError if it cannot be read."""
    spec = APP_SPECS[name]
    return app_value(spec, spec.parse(text))


def to_text(value) -> str:
    """The text form of an app value (the inverse of `from_text`)."""
    return format_value(value)


SettingParameters = param.parameterized_class(
    "SettingParameters", {name: parameter(spec) for name, spec in APP_SPECS.items()})
SettingParameters.__doc__ = "One parameter per setting the app offers, as declared in engine.settings."
