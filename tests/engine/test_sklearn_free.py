"""engine.split and engine.evaluation.confusion give scikit-learn's numbers exactly, without importing it."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from engine.split import stratified_split


def _cases():
    rng = np.random.default_rng(0)
    for n in (8, 9, 10, 17, 40, 101, 150, 333, 1000, 4000):
        for share in (0.05, 0.25, 0.3, 0.5, 0.95):
            if min(share * n, (1 - share) * n) < 3:
                continue
            for balance in (0.5, 0.27, 0.1, 0.02):
                ones = max(2, min(n - 2, int(round(balance * n))))
                labels = np.zeros(n, dtype=np.float32)
                labels[rng.choice(n, size=ones, replace=False)] = 1
                yield labels, share, int(rng.integers(0, 2**31))
    for classes in (3, 5):  # not used by the app (binary data), but the algorithm is the same
        labels = np.random.default_rng(classes).integers(0, classes, 97).astype(np.float32)
        yield labels, 0.25, classes


@pytest.mark.parametrize("seed", [0, 2, 7])
def test_the_same_indices_as_scikit_learn(seed):
    checked = 0
    for labels, share, other_seed in _cases():
        for s in (seed, other_seed):
            try:
                expected = train_test_split(np.arange(len(labels)), test_size=share, random_state=s, stratify=labels)
            except ValueError:
                continue
            train, test = stratified_split(labels, share, s)
            np.testing.assert_array_equal(train, expected[0])
            np.testing.assert_array_equal(test, expected[1])
            assert train.dtype == expected[0].dtype
            checked += 1
    assert checked > 250


def test_the_notebooks_split_of_4000_points():
    labels = (np.random.default_rng(2).random(4000) < 0.3).astype(np.float32)
    expected = train_test_split(np.arange(4000), test_size=0.25, random_state=2, stratify=labels)
    train, test = stratified_split(labels, 0.25, 2)
    assert len(train) == 3000 and len(test) == 1000
    np.testing.assert_array_equal(train, expected[0])
    np.testing.assert_array_equal(test, expected[1])


def test_loading_a_dataset_does_not_import_scikit_learn():
    code = ("import sys; from engine import Settings, load_dataset; load_dataset(Settings(dataset='toy_xor')); "
            "import engine.evaluation; "
            "from engine.training import Trainer; print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "False"


def test_the_confusion_matrix_of_scikit_learn():
    from sklearn.metrics import confusion_matrix

    from engine.evaluation import confusion

    rng = np.random.default_rng(1)
    for n in (1, 2, 7, 100):
        for p in (0.0, 0.3, 1.0):
            truth, predicted = (rng.random(n) < p).astype(int), (rng.random(n) < 0.5).astype(int)
            expected = confusion_matrix(truth, predicted, labels=[0, 1])
            np.testing.assert_array_equal(confusion(truth, predicted), expected)
            assert confusion(truth, predicted).dtype == expected.dtype
