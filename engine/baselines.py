"""Classic classifiers on the network's train/test split: logistic regression, k-nearest neighbours, an RBF SVM,
a decision tree and a random forest (scikit-learn, its default settings), each with its accuracies and its
decision map on the grid the network's map uses (`evaluation.grid_points`), as a `GridMap`.

Work is bounded for large data: each classifier is fitted on at most MAX_FIT_POINTS training points and judged on
at most MAX_TEST_POINTS test points (random samples, fixed by the seed); `Baselines.note` says when that happened.
Every classifier sees its inputs standardised (StandardScaler), as in scikit-learn's classifier comparison.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .datasets import Dataset
from .evaluation import GridMap, grid_points
from .features import feature_columns

MAX_FIT_POINTS = 5000
MAX_TEST_POINTS = 50_000
PLAIN = ("x", "y")


@dataclass(frozen=True)
class Classifier:
    """One classic classifier: its name, how it is shown, its scikit-learn settings and how it is built."""

    name: str
    label: str
    short: str  # a few letters, for narrow tables and plot titles
    settings: str  # scikit-learn's defaults, as used
    make: Callable[[int], object]  # seed -> an unfitted scikit-learn estimator
    uses_features: bool  # fed the network's input features (else x and y scaled to the unit square)


def _logistic(seed: int):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression()


def _knn(seed: int):
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier()


def _svm(seed: int):
    from sklearn.svm import SVC

    return SVC()


def _tree(seed: int):
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(random_state=seed)


def _forest(seed: int):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(random_state=seed, n_jobs=1)


CLASSIFIERS = (
    Classifier("logistic", "Logistic regression", "LR", "C=1, L2 penalty, lbfgs, max_iter=100", _logistic, True),
    Classifier("knn", "Nearest neighbours", "k-NN", "k=5, uniform weights, Euclidean distance", _knn, False),
    Classifier("svm", "RBF SVM", "SVM", "C=1, gamma='scale'; map: sigmoid of the decision function", _svm, False),
    Classifier("tree", "Decision tree", "Tree", "gini, unlimited depth, min_samples_leaf=1", _tree, False),
    Classifier("forest", "Random forest", "Forest", "100 trees, gini, unlimited depth, bootstrap", _forest, False),
)
BY_NAME = {classifier.name: classifier for classifier in CLASSIFIERS}


@dataclass(frozen=True)
class BaselineResult:
    """One fitted classifier: accuracies (p >= 0.5 is class 1, as for the network), its map and its fit time."""

    name: str
    label: str
    short: str
    settings: str
    inputs: tuple[str, ...]
    train_accuracy: float
    test_accuracy: float
    grid: GridMap
    seconds: float  # fitting and predicting (train, test and grid)

    def to_dict(self) -> dict:
        return {"name": self.name, "label": self.label, "settings": self.settings, "inputs": list(self.inputs),
                "train_accuracy": self.train_accuracy, "test_accuracy": self.test_accuracy,
                "agreement": self.grid.agreement, "seconds": self.seconds}


@dataclass(frozen=True)
class Baselines:
    """Every classifier fitted on one dataset's split, and how much of the split they saw."""

    dataset: str
    results: tuple[BaselineResult, ...]
    fit_points: int
    train_points: int
    tested_points: int
    test_points: int
    majority: float  # test accuracy of always answering the most common class

    @property
    def bounded(self) -> bool:
        return self.fit_points < self.train_points or self.tested_points < self.test_points

    @property
    def note(self) -> str:
        """What the classifiers saw, said when the data were too many to use whole."""
        parts = [f"Fitted on {self.fit_points:,} training points"]
        if self.fit_points < self.train_points:
            parts[0] += f" of {self.train_points:,} (a random sample: at most {MAX_FIT_POINTS:,})"
        parts.append(f"tested on {self.tested_points:,} test points")
        if self.tested_points < self.test_points:
            parts[1] += f" of {self.test_points:,} (a random sample: at most {MAX_TEST_POINTS:,})"
        return "; ".join(parts) + "."

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "fit_points": self.fit_points, "train_points": self.train_points,
                "tested_points": self.tested_points, "test_points": self.test_points, "majority": self.majority,
                "bounded": self.bounded, "note": self.note, "classifiers": [r.to_dict() for r in self.results]}


def network_entry(settings, train_accuracy: float | None, test_accuracy: float | None, agreement: float | None,
                  epochs: int, seconds: float | None = None) -> dict:
    """The network's row beside the classifiers' (`BaselineResult.to_dict`'s keys), from its settings and results."""
    hidden = ",".join(map(str, settings.hidden)) or "none"
    return {"name": "network", "label": f"Network {hidden} {settings.activation}", "inputs": list(settings.features),
            "settings": f"{settings.optimizer} lr {settings.lr:g}, {epochs} epochs", "train_accuracy": train_accuracy,
            "test_accuracy": test_accuracy, "agreement": agreement, "seconds": seconds}


def _sample(index: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    return index if len(index) <= limit else np.sort(rng.choice(index, size=limit, replace=False))


def _probability(model, columns: np.ndarray) -> np.ndarray:
    """P(class 1); for an SVM the sigmoid of its decision function (0.5 exactly on its boundary, as predict)."""
    if hasattr(model, "predict_proba"):
        return model.predict_proba(columns)[:, list(model.classes_).index(1.0)].astype(np.float32)
    return (1.0 / (1.0 + np.exp(-model.decision_function(columns)))).astype(np.float32)


def fit_baselines(dataset: Dataset, features: tuple[str, ...] = PLAIN, seed: int = 0, size: int = 200,
                  names: tuple[str, ...] | None = None, max_fit: int = MAX_FIT_POINTS,
                  max_test: int = MAX_TEST_POINTS) -> Baselines:
    """Fit the classifiers (`names`, default all) on the dataset's training set and judge them on its test set.

    `features` are the network's inputs, fed to the classifiers that use them (logistic regression); `seed`
    fixes the samples of large data and the trees' randomness; `size` is the grid's side (the network's map: 200).
    """
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    classifiers = [BY_NAME[name] for name in names] if names is not None else list(CLASSIFIERS)
    if not np.isfinite(dataset.normalise(dataset.points)).all():
        raise ValueError("the classic classifiers need finite inputs, and this data's values overflow when scaled")
    rng = np.random.default_rng(seed)
    fit_rows = _sample(dataset.train_index, max_fit, rng)
    test_rows = _sample(dataset.test_index, max_test, rng)
    xs, ys, grid = grid_points(dataset.box, size)
    exact = dataset.exact(grid).reshape(size, size) if dataset.exact is not None else None
    results = []
    for classifier in classifiers:
        inputs = tuple(features) if classifier.uses_features else PLAIN
        started = time.perf_counter()

        def columns(points: np.ndarray, inputs=inputs) -> np.ndarray:
            return feature_columns(dataset.normalise(points), inputs)

        model = make_pipeline(StandardScaler(), classifier.make(seed))
        model.fit(columns(dataset.points[fit_rows]), dataset.labels[fit_rows])
        accuracy = []
        for rows in (fit_rows, test_rows):
            predicted = _probability(model, columns(dataset.points[rows])) >= 0.5
            accuracy.append(float(np.mean(predicted == (dataset.labels[rows] >= 0.5))))
        probability = _probability(model, columns(grid)).reshape(size, size)
        agreement = None if exact is None else float(np.mean((probability >= 0.5) == (exact >= 0.5)))
        results.append(BaselineResult(classifier.name, classifier.label, classifier.short, classifier.settings,
                                      inputs, accuracy[0], accuracy[1], GridMap(xs, ys, probability, exact, agreement),
                                      time.perf_counter() - started))
    return Baselines(dataset.name, tuple(results), len(fit_rows), len(dataset.train_index), len(test_rows),
                     len(dataset.test_index), dataset.majority_share("test"))
