"""Every setting of one experiment, declared once: its type, default, allowed values, label, help, group, when it
matters, and its command-line flag.

`Settings` is a frozen dataclass whose every field carries its `Spec` (`dataclasses.field(metadata=...)`). All
else is derived from these declarations: `Settings.validate`, the text form of a value (a URL query, a CLI
option) in both directions, the dashboard's parameters and widgets, the command line's options and help, the
report's settings table, the runs and comparison tables. Adding a setting means adding one field here, plus the
code that uses its value.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field

TOY_DATASETS = ("toy_easy", "toy_hard", "toy_xor", "toy_cross", "toy_ring")
GENERATED_DATASETS = ("spiral", "gaussians", "moons")
DATASETS = TOY_DATASETS + GENERATED_DATASETS + ("iris", "csv")
IRIS_FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
INPUT_FEATURES = ("x", "y", "x2", "y2", "xy", "sinx", "siny")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "leaky_relu", "gelu", "silu", "softplus", "linear")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
REGULARIZATIONS = ("none", "l1", "l2")
SCHEDULES = ("constant", "step", "cosine")

MAX_HIDDEN_LAYERS = 8
MAX_WIDTH = 256
MAX_SAMPLES = 200_000
MAX_EPOCHS = 1_000_000
SEED_MAX = 2**32 - 1
GROUPS = ("Data", "Network", "Training", "Seeds")
PARTS = ("data", "network", "training")
KINDS = ("choice", "choices", "pair", "int", "float", "bool", "widths", "device", "path")
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


class SettingsError(ValueError):
    """A setting is out of range or unknown; the message names it and says what is allowed."""


@dataclass(frozen=True)
class Spec:
    """How one setting is declared (its name is the field's name; its default the field's default).

    kind: choice (one of `choices`), choices (one or more, different), pair (two different), int, float (within
    `bounds`, the low end excluded if `open_low`), widths (hidden layer widths), device, path (a file).
    part: what a change affects: data (a new dataset), network (a new model) or training (the next run).
    group: where the app shows it (Data, Network, Training, Seeds); "" for settings the app sets itself or does
    not offer (the CSV file, the device, torch threads).
    shown_when: {other setting: values for which this one matters}, e.g. momentum only for sgd.
    """

    kind: str
    label: str
    help: str
    part: str = "training"
    group: str = ""
    choices: tuple = ()
    names: dict = field(default_factory=dict)  # how some choices are shown, e.g. {"x2": "x²"}
    bounds: tuple[float, float] | None = None
    open_low: bool = False
    step: float | None = None
    shown_when: dict = field(default_factory=dict)
    flag: str = ""  # the command-line option; "--" + the name with dashes by default
    metavar: str = ""
    zero: str = ""  # how an empty or zero value reads in tables, e.g. "full batch"
    name: str = ""  # set from the field's name

    @property
    def option(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    def allowed(self) -> str:
        """What the setting allows, in words."""
        if self.kind in ("int", "float"):
            low, high = (format_value(bound) for bound in self.bounds)
            what = "a whole number" if self.kind == "int" else "a number"
            return f"{what} {'>' if self.open_low else '>='} {low} and <= {high}"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "choices":
            return "one or more different ones of " + ", ".join(self.choices)
        if self.kind == "pair":
            return "two different ones of " + ", ".join(self.choices)
        if self.kind == "widths":
            return f"widths such as 8,8: up to {MAX_HIDDEN_LAYERS} layers of 1 to {MAX_WIDTH}, empty or 0 for none"
        if self.kind == "device":
            return "cpu, cuda or cuda:N"
        if self.kind == "bool":
            return "yes or no (1/0, true/false, on/off)"
        return "a file's path"

    def check(self, value) -> None:
        """SettingsError naming the setting if `value` is not allowed."""
        ok = {
            "choice": lambda: value in self.choices,
            "choices": lambda: _names_ok(value, self.choices) and len(value) >= 1,
            "pair": lambda: _names_ok(value, self.choices) and len(value) == 2,
            "int": lambda: _is_int(value) and self.bounds[0] <= value <= self.bounds[1],
            "float": lambda: _is_number(value) and self._within(value),
            "bool": lambda: isinstance(value, bool),
            "widths": lambda: isinstance(value, tuple) and len(value) <= MAX_HIDDEN_LAYERS
            and all(_is_int(width) and 1 <= width <= MAX_WIDTH for width in value),
            "device": lambda: isinstance(value, str) and re.fullmatch(r"cpu|cuda(:\d+)?", value) is not None,
            "path": lambda: value is None or isinstance(value, str),
        }[self.kind]()
        if not ok:
            raise SettingsError(f"{self.name}: {format_value(value)!r} is not allowed; {self.allowed()}")

    def _within(self, value: float) -> bool:
        low, high = self.bounds
        return math.isfinite(value) and (low < value if self.open_low else low <= value) and value <= high

    def parse(self, text: str):
        """A value from its text form (a URL query, a command line): '8,8', '0.01', 'x,y,xy'. ValueError if
        it cannot be read (its range is checked by `check`)."""
        text = text.strip()
        if self.kind == "int":
            return int(text)
        if self.kind == "float":
            value = float(text)
            if not math.isfinite(value):
                raise ValueError(f"{text!r} is not a finite number")
            return value
        if self.kind == "bool":
            if text.lower() not in TRUE_WORDS + FALSE_WORDS:
                raise ValueError(f"{text!r} is not yes or no")
            return text.lower() in TRUE_WORDS
        if self.kind in ("choices", "pair"):
            return tuple(part.strip() for part in text.split(",") if part.strip())
        if self.kind == "widths":
            if text in ("", "0"):
                return ()
            if not re.fullmatch(r"\d+(\s*,\s*\d+)*", text):
                raise ValueError(f"{text!r} is not a list of layer widths such as 8,8")
            return tuple(int(part) for part in text.split(","))
        return text

    def text(self, value) -> str:
        """The value as a table shows it: '8, 8', 'full batch' for a batch size of 0, a CSV file's name."""
        if self.zero and not value:
            return self.zero
        if self.kind == "bool":
            return "yes" if value else "no"
        if self.kind == "path":
            return re.split(r"[\\/]", value)[-1] if value else ""
        if self.kind in ("choices", "pair", "widths"):
            return ", ".join(self.names.get(item, str(item)) for item in value)
        return f"{value:g}" if isinstance(value, float) else self.names.get(value, str(value))

    def shown(self, values) -> bool:
        """Whether this setting matters for these settings (anything with the settings as attributes)."""
        return all(getattr(values, other) in allowed for other, allowed in self.shown_when.items())


def format_value(value) -> str:
    """The text form of a value (the inverse of `Spec.parse`)."""
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.10g}"  # exact enough, without a widget's 0.006000000000000001
    return "" if value is None else str(value)


def setting(default, kind: str, label: str, help: str, **spec):
    """A dataclass field declared with its Spec."""
    return field(default=default, metadata={"spec": Spec(kind, label, help, **spec)})


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _names_ok(value, choices) -> bool:
    return isinstance(value, tuple) and len(set(value)) == len(value) and all(name in choices for name in value)


@dataclass(frozen=True)
class Settings:
    """What defines one experiment: data, network and training. Defaults follow the teaching notebook."""

    # Data
    dataset: str = setting("toy_easy", "choice", "Dataset", (
        "Toy patterns (points in the unit square labelled by an exact rule), generated shapes, Iris (versicolor "
        "against virginica), or your own data (csv: upload or draw points in the Data tab first)."),
        group="Data", choices=DATASETS, names={"csv": "your own data (uploaded or drawn)"}, metavar="NAME", part="data")
    iris_features: tuple[str, str] = setting(("petal_length", "petal_width"), "pair", "Iris features",
        "Iris only: the two features on the x and y axes.", group="Data", choices=IRIS_FEATURES,
        shown_when={"dataset": ("iris",)}, metavar="A,B", part="data")
    csv_path: str | None = setting(None, "path", "CSV file", (
        "Your own points: rows of x, y, label (0 or 1), a header optional; implies --dataset csv."),
        shown_when={"dataset": ("csv",)}, flag="--csv", metavar="FILE", part="data")
    samples: int = setting(4000, "int", "Points", "Number of points of toy and generated data (Iris has 100).",
        group="Data", bounds=(10, MAX_SAMPLES), shown_when={"dataset": TOY_DATASETS + GENERATED_DATASETS}, metavar="N", part="data")
    noise: float = setting(0.0, "float", "Label noise", "Share of labels flipped at random, 0 to 0.5.",
        group="Data", bounds=(0.0, 0.5), step=0.05, metavar="SHARE", part="data")
    jitter: float = setting(0.0, "float", "Position noise", (
        "Toy and generated data only: each point moved by Gaussian noise of this standard deviation (a share of "
        "the unit square's side), 0 to 0.25, after it is labelled, so points near the boundary get the other "
        "side's label, as TensorFlow Playground's noise does; the exact target stays as it is. Points pushed off "
        "the square stay on its edge."),
        group="Data", bounds=(0.0, 0.25), step=0.01, shown_when={"dataset": TOY_DATASETS + GENERATED_DATASETS},
        metavar="SD", part="data")
    test_share: float = setting(0.25, "float", "Test share",
        "Share of the points held out as the test set, 0.05 to 0.95.", group="Data", bounds=(0.05, 0.95),
        step=0.05, metavar="SHARE", part="data")
    data_seed: int = setting(2, "int", "Data seed", "Seed of the random points and of the label noise.",
        group="Seeds", bounds=(0, SEED_MAX), shown_when={"dataset": TOY_DATASETS + GENERATED_DATASETS}, metavar="N", part="data")
    split_seed: int = setting(2, "int", "Split seed", "Seed of the train/test split.", group="Seeds",
        bounds=(0, SEED_MAX), metavar="N", part="data")
    # Network
    features: tuple[str, ...] = setting(("x", "y"), "choices", "Inputs",
        "What the network sees: x, y and products or sines of them (one or more).", group="Network",
        choices=INPUT_FEATURES, names={"x2": "x²", "y2": "y²", "sinx": "sin x", "siny": "sin y"}, metavar="LIST", part="network")
    hidden: tuple[int, ...] = setting((4,), "widths", "Hidden layers", (
        f"Widths of the hidden layers, e.g. 8,8 for two layers of 8; empty or 0 for none. At most "
        f"{MAX_HIDDEN_LAYERS} layers of 1 to {MAX_WIDTH}."), group="Network", zero="none (a linear model)",
        metavar="WIDTHS", part="network")
    activation: str = setting("relu", "choice", "Activation", "The non-linearity after each hidden layer.",
        group="Network", choices=ACTIVATIONS, metavar="NAME", part="network")
    dropout: float = setting(0.0, "float", "Dropout",
        "Dropout probability after each hidden layer while training, 0 to 0.9.", group="Network",
        bounds=(0.0, 0.9), step=0.05, metavar="P", part="network")
    notebook_draw: bool = setting(False, "bool", "Notebook's extra draw", (
        "Build the teaching notebook's throw-away Linear(2, 8) right after seeding, before the model, as the "
        "notebook does: with the defaults this reproduces its run exactly (loss 0.5669, 73.3 %)."),
        group="Seeds", metavar="YES|NO", part="network")
    seed: int = setting(10, "int", "Weight seed",
        "torch.manual_seed(seed) right before the network is built: the initial weights.", group="Seeds",
        bounds=(0, SEED_MAX), metavar="N", part="network")
    # Training
    optimizer: str = setting("adam", "choice", "Optimizer", "How the gradients update the weights.",
        group="Training", choices=OPTIMIZERS, metavar="NAME")
    lr: float = setting(5e-3, "float", "Learning rate", "Step size of the optimizer, > 0 and <= 10.",
        group="Training", bounds=(0.0, 10.0), open_low=True, step=0.001, metavar="RATE")
    momentum: float = setting(0.0, "float", "Momentum", "SGD only: momentum, 0 (plain SGD) to 0.999.",
        group="Training", bounds=(0.0, 0.999), step=0.1, shown_when={"optimizer": ("sgd",)}, metavar="M")
    batch_size: int = setting(0, "int", "Batch size", "Points per step; 0 uses the whole training set (full batch).",
        group="Training", bounds=(0, MAX_SAMPLES), zero="full batch", metavar="N")
    reg: str = setting("none", "choice", "Regularisation", "Penalty on the weights: none, L1 (sum |w|) or L2 (sum w²).",
        group="Training", choices=REGULARIZATIONS, metavar="KIND")
    reg_rate: float = setting(0.0, "float", "Regularisation rate", "Weight of the penalty, 0 to 10.",
        group="Training", bounds=(0.0, 10.0), step=0.001, shown_when={"reg": ("l1", "l2")}, metavar="RATE")
    schedule: str = setting("constant", "choice", "Rate schedule", (
        "The learning rate over a run: constant, step decay, or cosine down to 0 at the run's last epoch. Each "
        "Train or Continue starts the schedule again from the learning rate; pausing and resuming keep it going."),
        group="Training", choices=SCHEDULES, metavar="NAME")
    decay_every: int = setting(100, "int", "Decay every", "Step decay: epochs between two decays of the rate.",
        group="Training", bounds=(1, MAX_EPOCHS), shown_when={"schedule": ("step",)}, metavar="N")
    decay_factor: float = setting(0.5, "float", "Decay factor",
        "Step decay: what the rate is multiplied by at each decay, 0.01 to 1.", group="Training",
        bounds=(0.01, 1.0), step=0.05, shown_when={"schedule": ("step",)}, metavar="F")
    epochs: int = setting(200, "int", "Epochs", f"Epochs of each Train or Continue, 1 to {MAX_EPOCHS}.",
        group="Training", bounds=(1, MAX_EPOCHS), metavar="N")
    device: str = setting("cpu", "device", "Device", "Where the model lives and trains: cpu, cuda or cuda:N.",
        part="network", metavar="DEVICE")
    threads: int = setting(1, "int", "Torch threads", "Torch threads for CPU training; tiny nets are fastest on one.",
        bounds=(1, 256), metavar="N")

    def __post_init__(self) -> None:
        # Accept lists (from JSON or a CLI) but store tuples so settings stay hashable and comparable.
        for spec in SPECS.values():
            value = getattr(self, spec.name)
            if spec.kind in ("choices", "pair", "widths") and isinstance(value, list):
                object.__setattr__(self, spec.name, tuple(value))
        self.validate()

    def validate(self) -> None:
        for spec in SPECS.values():
            spec.check(getattr(self, spec.name))
        if self.dataset == "csv" and not self.csv_path:
            raise SettingsError("csv_path: the csv dataset needs a file")

    def described(self) -> list[tuple[Spec, str]]:
        """The settings that matter for these ones (momentum only for sgd, ...), each with its text."""
        return [(spec, spec.text(getattr(self, spec.name))) for spec in SPECS.values() if spec.shown(self)]

    def replace(self, **changes) -> Settings:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return {name: list(v) if isinstance(v := getattr(self, name), tuple) else v for name in SPECS}

    @classmethod
    def from_dict(cls, values: dict) -> Settings:
        unknown = sorted(set(values) - set(SPECS))
        if unknown:
            raise SettingsError(f"unknown setting(s): {', '.join(unknown)}")
        return cls(**values)


def _specs() -> dict[str, Spec]:
    specs = {}
    for item in dataclasses.fields(Settings):
        spec = item.metadata["spec"]
        object.__setattr__(spec, "name", item.name)
        specs[item.name] = spec
    return specs


SPECS: dict[str, Spec] = _specs()  # every setting's declaration, in the order declared
