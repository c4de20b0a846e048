"""Every setting of one experiment, declared once as a param Parameter of `SettingParameters`: default, bounds, step,
label, doc, and in `metadata` what the app and the command line need beyond param (group, part, shown_when, flag,
metavar, how an empty value reads, example sweep values).

The Parameter classes (`engine.setting_types`) are param's own with what a setting adds: its text form both ways (a
URL query, a CLI option), what it allows in words, how a table shows it. Everything else derives from
`SettingParameters.param`: the command line's options, the URL, the sidebar's widgets, the report's settings table,
the runs tables, the sweep axes, and the app's Experiment, which is built on these declarations. Adding a setting
means declaring it here, plus the code that uses its value.
"""

from __future__ import annotations

import param

from .catalog import SAMPLED, dataset_names
from .setting_types import (
    MAX_HIDDEN_LAYERS,
    MAX_WIDTH,
    Choice,
    Choices,
    Device,
    FeaturePair,
    FilePath,
    Integer,
    Number,
    Setting,
    SettingsError,
    Widths,
    YesNo,
)

IRIS_FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
INPUT_FEATURES = ("x", "y", "x2", "y2", "xy", "sinx", "siny")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "leaky_relu", "gelu", "silu", "softplus", "linear")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
REGULARIZATIONS = ("none", "l1", "l2")
SCHEDULES = ("constant", "step", "cosine")

MAX_SAMPLES = 200_000
MAX_EPOCHS = 1_000_000
SEED_MAX = 2**32 - 1
GROUPS = ("Data", "Network", "Training", "Seeds")
PARTS = ("data", "network", "training")


def _data(group: str = "Data", **more) -> dict:
    return dict(group=group, part="data", **more)


class SettingParameters(param.Parameterized):
    """What defines one experiment: data, network and training, declared once. Defaults follow the teaching notebook.

    `Settings` (a value object) and the app's Experiment (whose settings the user changes) are built on it."""

    # Data
    dataset = Choice(default="toy_easy", objects=dataset_names(), label="Dataset", doc=(
        "Toy patterns (points in the unit square labelled by an exact rule), generated shapes, Iris (versicolor "
        "against virginica), or your own data (csv: upload or draw points in the Data tab first)."),
        metadata=_data(metavar="NAME", examples="toy_easy toy_xor toy_ring"))
    iris_features = FeaturePair(default=("petal_length", "petal_width"), objects=list(IRIS_FEATURES),
        label="Iris features", doc="Iris only: the two features on the x and y axes.", metadata=_data(
            shown_when={"dataset": ("iris",)}, metavar="A,B",
            examples="petal_length,petal_width sepal_length,sepal_width sepal_length,petal_length"))
    csv_path = FilePath(default=None, allow_None=True, label="CSV file", doc=(
        "Your own points: rows of x, y, label (0 or 1), a header optional; implies --dataset csv."),
        metadata=_data("", shown_when={"dataset": ("csv",)}, flag="--csv", metavar="FILE"))
    samples = Integer(4000, bounds=(10, MAX_SAMPLES), label="Points",
        doc="Number of points of toy and generated data (Iris has 100).",
        metadata=_data(shown_when={"dataset": SAMPLED}, metavar="N", examples="200 1000 4000"))
    noise = Number(0.0, bounds=(0.0, 0.5), step=0.05, label="Label noise",
        doc="Share of labels flipped at random, 0 to 0.5.", metadata=_data(metavar="SHARE", examples="0 0.1 0.2"))
    jitter = Number(0.0, bounds=(0.0, 0.25), step=0.01, label="Position noise", doc=(
        "Toy and generated data only: each point moved by Gaussian noise of this standard deviation (a share of "
        "the unit square's side), 0 to 0.25, after it is labelled, so points near the boundary get the other "
        "side's label, as TensorFlow Playground's noise does; the exact target stays as it is. Points pushed off "
        "the square stay on its edge."),
        metadata=_data(shown_when={"dataset": SAMPLED}, metavar="SD", examples="0 0.03 0.06"))
    test_share = Number(0.25, bounds=(0.05, 0.95), step=0.05, label="Test share",
        doc="Share of the points held out as the test set, 0.05 to 0.95.",
        metadata=_data(metavar="SHARE", examples="0.25 0.5 0.75"))
    data_seed = Integer(
        2,
        bounds=(0, SEED_MAX),
        label="Data seed",
        doc="Seed of the random points and of the label noise.",
        metadata=_data("Seeds", shown_when={"dataset": SAMPLED}, metavar="N"),
    )
    split_seed = Integer(2, bounds=(0, SEED_MAX), label="Split seed", doc="Seed of the train/test split.",
        metadata=_data("Seeds", metavar="N"))
    # Network
    features = Choices(default=("x", "y"), label="Inputs",
        objects={"x": "x", "y": "y", "x²": "x2", "y²": "y2", "xy": "xy", "sin x": "sinx", "sin y": "siny"},
        doc="What the network sees: x, y and products or sines of them (one or more).",
        metadata=dict(group="Network", part="network", metavar="LIST", examples="x,y x,y,xy x,y,x2,y2"))
    hidden = Widths(default=(4,), label="Hidden layers", doc=(
        f"Widths of the hidden layers, e.g. 8,8 for two layers of 8; empty or 0 for none. At most "
        f"{MAX_HIDDEN_LAYERS} layers of 1 to {MAX_WIDTH}."), metadata=dict(
            group="Network", part="network", zero="none (a linear model)", metavar="WIDTHS", examples="4 8 8,8"))
    activation = Choice(default="relu", objects=list(ACTIVATIONS), label="Activation",
        doc="The non-linearity after each hidden layer.",
        metadata=dict(group="Network", part="network", metavar="NAME", examples="relu tanh sigmoid"))
    dropout = Number(0.0, bounds=(0.0, 0.9), step=0.05, label="Dropout",
        doc="Dropout probability after each hidden layer while training, 0 to 0.9.",
        metadata=dict(group="Network", part="network", metavar="P", examples="0 0.1 0.3"))
    notebook_draw = YesNo(False, label="Notebook's extra draw", doc=(
        "Build the teaching notebook's throw-away Linear(2, 8) right after seeding, before the model, as the "
        "notebook does: with the defaults this reproduces its run exactly (loss 0.5669, 73.3 %)."),
        metadata=dict(group="Seeds", part="network", metavar="YES|NO"))
    seed = Integer(10, bounds=(0, SEED_MAX), label="Weight seed",
        doc="torch.manual_seed(seed) right before the network is built: the initial weights.",
        metadata=dict(group="Seeds", part="network", metavar="N"))
    # Training
    optimizer = Choice(default="adam", objects=list(OPTIMIZERS), label="Optimizer",
        doc="How the gradients update the weights.",
        metadata=dict(group="Training", metavar="NAME", examples="adam sgd rmsprop"))
    lr = Number(5e-3, bounds=(0.0, 10.0), inclusive_bounds=(False, True), step=0.001, label="Learning rate",
        doc="Step size of the optimizer, > 0 and <= 10.",
        metadata=dict(group="Training", metavar="RATE", examples="0.001 0.01 0.1"))
    momentum = Number(0.0, bounds=(0.0, 0.999), step=0.1, label="Momentum",
        doc="SGD only: momentum, 0 (plain SGD) to 0.999.",
        metadata=dict(group="Training", shown_when={"optimizer": ("sgd",)}, metavar="M", examples="0 0.5 0.9"))
    batch_size = Integer(0, bounds=(0, MAX_SAMPLES), label="Batch size",
        doc="Points per step; 0 uses the whole training set (full batch).",
        metadata=dict(group="Training", zero="full batch", metavar="N", examples="0 16 64"))
    reg = Choice(default="none", objects=list(REGULARIZATIONS), label="Regularisation",
        doc="Penalty on the weights: none, L1 (sum |w|) or L2 (sum w²).",
        metadata=dict(group="Training", metavar="KIND", examples="none l1 l2"))
    reg_rate = Number(0.0, bounds=(0.0, 10.0), step=0.001, label="Regularisation rate",
        doc="Weight of the penalty, 0 to 10.", metadata=dict(
            group="Training", shown_when={"reg": ("l1", "l2")}, metavar="RATE", examples="0 0.001 0.01"))
    schedule = Choice(default="constant", objects=list(SCHEDULES), label="Rate schedule", doc=(
        "The learning rate over a run: constant, step decay, or cosine down to 0 at the run's last epoch. Each "
        "Train or Continue starts the schedule again from the learning rate; pausing and resuming keep it going."),
        metadata=dict(group="Training", metavar="NAME", examples="constant step cosine"))
    decay_every = Integer(
        100,
        bounds=(1, MAX_EPOCHS),
        label="Decay every",
        doc="Step decay: epochs between two decays of the rate.",
        metadata=dict(group="Training", shown_when={"schedule": ("step",)}, metavar="N", examples="50 100 200"),
    )
    decay_factor = Number(0.5, bounds=(0.01, 1.0), step=0.05, label="Decay factor",
        doc="Step decay: what the rate is multiplied by at each decay, 0.01 to 1.", metadata=dict(
            group="Training", shown_when={"schedule": ("step",)}, metavar="F", examples="0.25 0.5 0.75"))
    epochs = Integer(
        200,
        bounds=(1, MAX_EPOCHS),
        label="Epochs",
        doc=f"Epochs of each Train or Continue, 1 to {MAX_EPOCHS}.",
        metadata=dict(group="Training", metavar="N", examples="50 100 200"),
    )
    device = Device(
        default="cpu",
        label="Device",
        doc="Where the model lives and trains: cpu, cuda or cuda:N.",
        metadata=dict(part="network", metavar="DEVICE"),
    )
    threads = Integer(1, bounds=(1, 256), label="Torch threads",
        doc="Torch threads for CPU training; tiny nets are fastest on one.", metadata=dict(metavar="N"))

    def __repr__(self) -> str:
        changed = [f"{name}={value!r}" for name, value in self.values().items() if value != SPECS[name].default]
        return f"{type(self).__name__}({', '.join(changed)})"

    __str__ = __repr__

    def described(self) -> list[tuple[Setting, str]]:
        """The settings that matter for these ones (momentum only for sgd, ...), each with its text."""
        return [(spec, spec.text(getattr(self, name))) for name, spec in SPECS.items() if spec.shown(self)]

    def values(self) -> dict:
        return {name: getattr(self, name) for name in SPECS}


class Settings(SettingParameters):
    """The settings of one experiment as a value object: immutable once built (`replace` gives a changed copy),
    equal and hashed by its values."""

    _frozen = False  # set once built: param sets the values through __setattr__ while building

    def __init__(self, **values):
        super().__init__(**values)  # each value checked by its parameter
        self.validate()
        # Only what was given is read back (param's reads are slow): 100,000 settings for a sweep stay quick.
        self._values = tuple(getattr(self, name) if name in values else spec.default for name, spec in SPECS.items())
        self._frozen = True

    def validate(self) -> None:
        """What the parameters cannot check one by one."""
        if self.dataset == "csv" and not self.csv_path:
            raise SettingsError("csv_path: the csv dataset needs a file")

    def __setattr__(self, name: str, value) -> None:
        if self._frozen and name in SPECS:
            raise AttributeError(f"Settings cannot change: use settings.replace({name}=...)")
        super().__setattr__(name, value)

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other._values == self._values

    def __hash__(self) -> int:
        return hash(self._values)

    def replace(self, **changes) -> Settings:
        kept = {name: value for name, value in zip(SPECS, self._values) if value != SPECS[name].default}
        return Settings(**{**kept, **changes})  # defaults left to param: building a Settings stays cheap

    def to_dict(self) -> dict:
        return {name: list(value) if isinstance(value, tuple) else value for name, value in zip(SPECS, self._values)}

    @classmethod
    def from_dict(cls, values: dict) -> Settings:
        unknown = sorted(set(values) - set(SPECS))
        if unknown:
            raise SettingsError(f"unknown setting(s): {', '.join(unknown)}")
        return cls(**values)


SPECS: dict[str, Setting] = {name: parameter for name, parameter in SettingParameters.param.objects().items()
                             if isinstance(parameter, Setting)}  # every setting's declaration, in declared order
GROUPED = tuple(name for name, spec in SPECS.items() if spec.group)  # the settings the app offers, in order
