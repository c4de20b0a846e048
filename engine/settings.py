"""Every setting of one experiment, with its allowed values and one place that validates them."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

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


class SettingsError(ValueError):
    """A setting is out of range or unknown; the message names it and says what is allowed."""


@dataclass(frozen=True)
class Settings:
    """What defines one experiment: data, network and training. Defaults follow the teaching notebook."""

    # Data
    dataset: str = "toy_easy"
    samples: int = 4000
    data_seed: int = 2
    noise: float = 0.0  # share of labels flipped
    test_share: float = 0.25
    split_seed: int = 2
    iris_features: tuple[str, str] = ("petal_length", "petal_width")
    csv_path: str | None = None
    # Network
    features: tuple[str, ...] = ("x", "y")
    hidden: tuple[int, ...] = (4,)
    activation: str = "relu"
    dropout: float = 0.0
    # Training
    optimizer: str = "adam"
    lr: float = 5e-3
    momentum: float = 0.0  # SGD only; 0 is plain SGD
    batch_size: int = 0  # 0 means full batch
    reg: str = "none"
    reg_rate: float = 0.0
    schedule: str = "constant"  # learning rate over a run: constant, step decay or cosine to 0
    decay_every: int = 100  # step decay: multiply the rate by decay_factor every decay_every epochs
    decay_factor: float = 0.5
    epochs: int = 200
    seed: int = 10  # torch.manual_seed(seed) right before the model is built
    device: str = "cpu"
    threads: int = 1  # torch threads for CPU training; tiny nets are fastest on one

    def __post_init__(self) -> None:
        # Accept lists (from JSON or a CLI) but store tuples so settings stay hashable and comparable.
        for name in ("iris_features", "features", "hidden"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        self.validate()

    def validate(self) -> None:
        _choice("dataset", self.dataset, DATASETS)
        _int_range("samples", self.samples, 10, MAX_SAMPLES)
        _int_range("data_seed", self.data_seed, 0, 2**32 - 1)
        _float_range("noise", self.noise, 0.0, 0.5)
        _float_range("test_share", self.test_share, 0.05, 0.95)
        _int_range("split_seed", self.split_seed, 0, 2**32 - 1)
        if len(self.iris_features) != 2 or len(set(self.iris_features)) != 2:
            raise SettingsError(f"iris_features: give two different features of {', '.join(IRIS_FEATURES)}")
        for name in self.iris_features:
            _choice("iris_features", name, IRIS_FEATURES)
        if self.dataset == "csv" and not self.csv_path:
            raise SettingsError("csv_path: the csv dataset needs a file")
        if not self.features or len(set(self.features)) != len(self.features):
            raise SettingsError(f"features: give one or more different features of {', '.join(INPUT_FEATURES)}")
        for name in self.features:
            _choice("features", name, INPUT_FEATURES)
        if len(self.hidden) > MAX_HIDDEN_LAYERS:
            raise SettingsError(f"hidden: at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(self.hidden)}")
        for width in self.hidden:
            _int_range("hidden layer width", width, 1, MAX_WIDTH)
        _choice("activation", self.activation, ACTIVATIONS)
        _float_range("dropout", self.dropout, 0.0, 0.9)
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and 0 < self.lr <= 10):
            raise SettingsError(f"lr: must be > 0 and <= 10, got {self.lr}")
        _float_range("momentum", self.momentum, 0.0, 0.999)
        _int_range("batch_size", self.batch_size, 0, MAX_SAMPLES)
        _choice("reg", self.reg, REGULARIZATIONS)
        _float_range("reg_rate", self.reg_rate, 0.0, 10.0)
        _choice("schedule", self.schedule, SCHEDULES)
        _int_range("decay_every", self.decay_every, 1, MAX_EPOCHS)
        _float_range("decay_factor", self.decay_factor, 0.01, 1.0)
        _int_range("epochs", self.epochs, 1, MAX_EPOCHS)
        _int_range("seed", self.seed, 0, 2**63 - 1)
        if not (self.device == "cpu" or self.device.startswith("cuda")):
            raise SettingsError(f"device: 'cpu', 'cuda' or 'cuda:N', got {self.device!r}")
        _int_range("threads", self.threads, 1, 256)

    def replace(self, **changes) -> Settings:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, values: dict) -> Settings:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise SettingsError(f"unknown setting(s): {', '.join(unknown)}")
        return cls(**values)


def _choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise SettingsError(f"{name}: {value!r} is not one of {', '.join(allowed)}")


def _int_range(name: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingsError(f"{name}: must be a whole number from {low} to {high}, got {value!r}")


def _float_range(name: str, value, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise SettingsError(f"{name}: must be a number from {low} to {high}, got {value!r}")
