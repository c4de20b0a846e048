"""The lesson's five questions as ready-made sweeps: base settings, the axes and their values, and the seeds.

The Sweep tab offers each as one click and notebooks/sweeps.ipynb runs the same ones. Each is chosen so that its
heatmap answers clearly (the best cells well above their majority baseline and the rest) in a few seconds on
two cores (docs/performance.md); add a question by adding a `LessonQuestion` here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .settings import Settings
from .sweep import Sweep

IRIS_PAIRS = [("sepal_length", "sepal_width"), ("sepal_length", "petal_length"), ("sepal_length", "petal_width"),
              ("sepal_width", "petal_length"), ("sepal_width", "petal_width"), ("petal_length", "petal_width")]


@dataclass(frozen=True)
class LessonQuestion:
    """One question of the lesson and the sweep that answers it."""

    key: str
    title: str  # the button's label
    question: str
    base: dict  # the settings that differ from the defaults
    axes: dict  # setting name -> values, as `Sweep` takes them
    seeds: int = 3
    reading: str = ""  # how to read the heatmap, in a sentence

    def settings(self) -> Settings:
        return Settings(**self.base)

    def sweep(self) -> Sweep:
        return Sweep(self.settings(), self.axes, list(range(self.seeds)))


QUESTIONS = {q.key: q for q in (
    LessonQuestion(
        "learning_rate", "Learning rate",
        "Why does a network stay at the majority baseline, and which learning rate makes it learn?",
        dict(hidden=(8, 8), activation="tanh", epochs=300),
        {"lr": [0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3]},
        reading="Too small a rate leaves the network at its baseline (grey) after these epochs; too large a rate "
                "makes some seeds jump back to it; the best rates are in between."),
    LessonQuestion(
        "structure", "Network size",
        "How many layers and neurons does the spiral-like pattern need?",
        dict(dataset="toy_hard", activation="tanh", lr=0.03, epochs=500),
        {"hidden": [(), (4,), (16,), (4, 4), (8, 8), (16, 16)]},
        reading="No hidden layer draws one straight line; compare one wide layer (16) with two narrow ones (4,4), "
                "and see where more neurons stop helping."),
    LessonQuestion(
        "activation", "Activation",
        "Which activation learns XOR, and does one of them need another learning rate?",
        dict(dataset="toy_xor", hidden=(8, 8), epochs=300),
        {"activation": ["linear", "sigmoid", "tanh", "relu"], "lr": [0.003, 0.03]},
        reading="Without a non-linearity (linear) no network learns XOR; sigmoid learns only with the higher "
                "rate."),
    LessonQuestion(
        "dataset", "Hardest dataset",
        "Which toy pattern is hardest for the same network?",
        dict(hidden=(8, 8), activation="tanh", lr=0.03, epochs=300),
        {"dataset": ["toy_easy", "toy_hard", "toy_xor", "toy_cross", "toy_ring"]},
        reading="Hardest is the pattern least far above its own baseline (the colours), not the lowest "
                "accuracy: the datasets' baselines differ."),
    LessonQuestion(
        "iris_pair", "Iris features",
        "Which two measurements tell versicolor from virginica best?",
        dict(dataset="iris", hidden=(4,), activation="tanh", lr=0.03, epochs=300),
        {"iris_features": IRIS_PAIRS},
        reading="With 25 test flowers each one is 4 points: pairs within a few points of each other are tied."),
)}
