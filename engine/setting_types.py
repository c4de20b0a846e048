"""What a setting's Parameter adds to param's own: its text form both ways (a URL query, a CLI option), what it
allows in words, how a table shows it, and the `metadata` extras the app and the command line read. The settings
themselves are declared with these in `engine.settings`.
"""

from __future__ import annotations

import math
import re

import param

MAX_HIDDEN_LAYERS = 8
MAX_WIDTH = 256
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


class SettingsError(ValueError):
    """A setting is out of range or unknown; the message names it and says what is allowed."""


def format_value(value) -> str:
    """The text form of a value, as a URL or a command line carries it (the inverse of `Setting.parse`)."""
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.10g}"  # exact enough, without a widget's 0.006000000000000001
    return "" if value is None else str(value)


class Setting:
    """What a setting's Parameter adds to param's: text forms, what it allows in words, and the `metadata` extras:
    group (where the app shows it; none for what the app sets itself), part (what a change affects: data, network or
    training), shown_when ({other setting: values for which this one matters}), flag, metavar, zero (how an empty
    or zero value reads), examples (a sweep axis's first values)."""

    __slots__ = ()
    many = False  # a value is several items written with commas, '8,8'

    def parse(self, text: str):
        """A value from its text form: ValueError if it cannot be read (its range is checked on setting it)."""
        return text.strip()

    def allowed(self) -> str:
        raise NotImplementedError

    def value_of(self, value):
        """The value as stored: a list given for a tuple setting becomes a tuple, '8,8' hidden widths (8, 8)."""
        return value

    def check(self, value):
        """The value as stored if this setting allows it; else SettingsError naming the setting."""
        value = self.value_of(value)
        self._validate(value)
        return value

    def __set__(self, obj, val):
        super().__set__(obj, self.value_of(val))

    def text(self, value) -> str:
        """The value as a table shows it: '8, 8', 'full batch' for a batch size of 0."""
        if self.zero and not value:
            return self.zero
        if isinstance(value, float):
            return f"{value:g}"
        return self.label_of(value)

    def label_of(self, item) -> str:
        return str(item)

    def shown(self, values) -> bool:
        """Whether this setting matters for these values (anything with the settings as attributes)."""
        return all(getattr(values, other) in allowed for other, allowed in self.shown_when.items())

    def _validate(self, val):
        try:
            super()._validate(val)
        except ValueError as error:
            if isinstance(error, SettingsError):
                raise
            raise SettingsError(f"{self.name}: {format_value(val)!r} is not allowed; {self.allowed()}") from None

    def _meta(self, key: str, default):
        return (self.metadata or {}).get(key, default)

    @property
    def group(self) -> str:
        return self._meta("group", "")

    @property
    def part(self) -> str:
        return self._meta("part", "training")

    @property
    def shown_when(self) -> dict:
        return self._meta("shown_when", {})

    @property
    def option(self) -> str:
        return self._meta("flag", "--" + self.name.replace("_", "-"))

    @property
    def metavar(self) -> str:
        return self._meta("metavar", "")

    @property
    def zero(self) -> str:
        return self._meta("zero", "")

    @property
    def examples(self) -> str:
        return self._meta("examples", "")


def _bounds_text(what: str, bounds, inclusive_low: bool = True) -> str:
    low, high = (format_value(bound) for bound in bounds)
    return f"{what} {'>=' if inclusive_low else '>'} {low} and <= {high}"


def _refuse_bool(name: str, value) -> None:
    if isinstance(value, bool):
        raise ValueError(f"{name}: a yes or no is not a number")


class Number(Setting, param.Number):
    __slots__ = ()

    def parse(self, text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ValueError(f"{text!r} is not allowed")
        return value

    def allowed(self) -> str:
        return _bounds_text("a number", self.bounds, self.inclusive_bounds[0])

    def _validate_value(self, val, allow_None):
        _refuse_bool(self.name, val)
        super()._validate_value(val, allow_None)


class Integer(Setting, param.Integer):
    __slots__ = ()

    def parse(self, text: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not allowed") from None

    def allowed(self) -> str:
        return _bounds_text("a whole number", self.bounds)

    def _validate_value(self, val, allow_None):
        _refuse_bool(self.name, val)
        super()._validate_value(val, allow_None)


class YesNo(Setting, param.Boolean):
    __slots__ = ()

    def parse(self, text: str) -> bool:
        if text.strip().lower() not in TRUE_WORDS + FALSE_WORDS:
            raise ValueError(f"{text!r} is not yes or no")
        return text.strip().lower() in TRUE_WORDS

    def allowed(self) -> str:
        return "yes or no (1/0, true/false, on/off)"

    def text(self, value) -> str:
        return "yes" if value else "no"


class Choice(Setting, param.Selector):
    """One of `objects`; given as {label: value} where some are shown by another name."""

    __slots__ = ()

    def allowed(self) -> str:
        return "one of " + ", ".join(self.objects)

    def label_of(self, item) -> str:
        return next((label for label, value in self.names.items() if value == item), str(item))


class Choices(Choice, param.ListSelector):
    """One or more different ones of `objects`, as a tuple (a list given is stored as a tuple)."""

    __slots__ = ()
    many = True

    def value_of(self, value):
        return tuple(value) if isinstance(value, list) else value

    def parse(self, text: str) -> tuple:
        return tuple(part.strip() for part in text.split(",") if part.strip())

    def allowed(self) -> str:
        return "one or more different ones of " + ", ".join(self.objects)

    def text(self, value) -> str:
        return ", ".join(self.label_of(item) for item in value)

    def _validate_type(self, val):
        if not isinstance(val, tuple):
            raise ValueError(f"{self.name}: not a list of choices")

    def _validate_value(self, value, allow_None=None):
        super()._validate_value(value, allow_None)
        if len(value) < 1 or len(set(value)) != len(value):
            raise ValueError(f"{self.name}: give one or more different ones")


class FeaturePair(Choices):
    """Two different features, on x and on y."""

    __slots__ = ()

    def allowed(self) -> str:
        return "two different features of " + ", ".join(self.objects)

    def _validate_value(self, value, allow_None=None):
        super()._validate_value(value, allow_None)
        if len(value) != 2:
            raise ValueError(f"{self.name}: give two different features")


class Widths(Setting, param.Parameter):
    """Hidden layer widths as a tuple, (8, 8); given as a list or as text, '8,8' ('' or '0' for none)."""

    __slots__ = ()
    many = True

    def value_of(self, value):
        if isinstance(value, str):
            try:
                return self.parse(value)
            except ValueError as error:
                raise SettingsError(f"{self.name}: {error}") from None
        return tuple(value) if isinstance(value, list) else value

    def parse(self, text: str) -> tuple[int, ...]:
        text = text.strip()
        if text in ("", "0"):
            return ()
        if not re.fullmatch(r"\d+(\s*,\s*\d+)*", text):
            raise ValueError(f"{text!r} is not a list of layer widths such as 8,8")
        return tuple(int(part) for part in text.split(","))

    def allowed(self) -> str:
        return f"widths such as 8,8: up to {MAX_HIDDEN_LAYERS} layers of 1 to {MAX_WIDTH}, empty or 0 for none"

    def text(self, value) -> str:
        return ", ".join(map(str, value)) if value else self.zero

    def _validate_value(self, val, allow_None):
        ok = isinstance(val, tuple) and len(val) <= MAX_HIDDEN_LAYERS and all(
            isinstance(width, int) and not isinstance(width, bool) and 1 <= width <= MAX_WIDTH for width in val)
        if not ok:
            raise ValueError(f"{self.name}: not allowed")


class Device(Setting, param.String):
    __slots__ = ()

    def allowed(self) -> str:
        return "cpu, cuda or cuda:N"

    def _validate_value(self, val, allow_None):
        super()._validate_value(val, allow_None)
        if re.fullmatch(r"cpu|cuda(:\d+)?", val) is None:
            raise ValueError(f"{self.name}: not a device")


class FilePath(Setting, param.String):
    __slots__ = ()

    def allowed(self) -> str:
        return "a file's path"

    def text(self, value) -> str:
        return re.split(r"[\\/]", value)[-1] if value else ""
