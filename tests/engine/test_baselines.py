"""Classic classifiers on the network's split: the five of them, their maps on the network's grid, the input
features logistic regression is fed, and the bound on large data."""

import numpy as np
import pytest

from engine import Settings, Trainer, load_dataset
from engine.baselines import CLASSIFIERS, MAX_FIT_POINTS, fit_baselines
from engine.evaluation import evaluate_grid


@pytest.fixture(scope="module")
def ring():
    return load_dataset(Settings(dataset="toy_ring", samples=600))


def test_every_classifier_on_the_network_s_grid_and_split(ring):
    baselines = fit_baselines(ring, size=50)
    assert [r.name for r in baselines.results] == ["logistic", "knn", "svm", "tree", "forest"]
    network = evaluate_grid(Trainer(Settings(dataset="toy_ring", samples=600)), size=50)
    for result in baselines.results:
        grid = result.grid
        assert grid.probability.shape == (50, 50) and grid.probability.dtype == np.float32
        assert np.array_equal(grid.xs, network.xs) and np.array_equal(grid.ys, network.ys)
        assert np.array_equal(grid.exact, network.exact)
        assert 0.0 <= grid.probability.min() and grid.probability.max() <= 1.0
        assert 0 <= result.test_accuracy <= 1 and result.seconds > 0 and result.settings
    assert baselines.fit_points == len(ring.train_index) == 450 and baselines.tested_points == 150
    assert not baselines.bounded and "Fitted on 450 training points; tested on 150 test points." == baselines.note
    by_name = {r.name: r for r in baselines.results}
    assert by_name["knn"].test_accuracy > 0.9 and by_name["forest"].grid.agreement > 0.9


def test_the_accuracy_is_that_of_the_map_at_its_points(ring):
    """p >= 0.5 is class 1, as for the network: the tree's map (one cell per point, nearly) says the same."""
    (tree,) = fit_baselines(ring, names=("tree",), size=200).results
    assert tree.train_accuracy == 1.0  # an unlimited tree learns its training set by heart


def test_logistic_regression_takes_the_network_s_input_features():
    xor = load_dataset(Settings(dataset="toy_xor", samples=600))
    plain = fit_baselines(xor, names=("logistic", "knn")).results
    product = fit_baselines(xor, features=("x", "y", "xy"), names=("logistic", "knn")).results
    assert plain[0].inputs == ("x", "y") and product[0].inputs == ("x", "y", "xy")
    # XOR is (x - 0.5)(y - 0.5) < 0: linear in x, y and xy, hopeless in x and y alone
    assert plain[0].test_accuracy < 0.7 and product[0].test_accuracy > 0.95
    assert product[1].inputs == ("x", "y") and product[1].test_accuracy == plain[1].test_accuracy


def test_large_data_are_fitted_on_a_sample_and_said_so():
    data = load_dataset(Settings(dataset="toy_xor", samples=2000))
    baselines = fit_baselines(data, names=("knn",), max_fit=300, max_test=100, size=20)
    assert baselines.bounded and (baselines.fit_points, baselines.tested_points) == (300, 100)
    assert "300 training points of 1,500 (a random sample" in baselines.note
    assert "100 test points of 500" in baselines.note
    again = fit_baselines(data, names=("knn",), max_fit=300, max_test=100, size=20)
    assert again.results[0].test_accuracy == baselines.results[0].test_accuracy  # the seed fixes the sample
    assert MAX_FIT_POINTS >= 3000  # the default data (3,000 training points) are never sampled


def test_results_are_plain_json():
    import json

    data = load_dataset(Settings(dataset="iris"))
    numbers = fit_baselines(data, size=20).to_dict()
    assert json.loads(json.dumps(numbers)) == numbers
    assert [c["name"] for c in numbers["classifiers"]] == [c.name for c in CLASSIFIERS]
    assert all(c["agreement"] is None for c in numbers["classifiers"])  # Iris has no exact target
