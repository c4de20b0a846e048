"""Datasets against the teaching notebook's own maths, the CSV reader and the CSV writer."""

import csv

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split

from engine import (
    CsvError,
    Settings,
    SettingsError,
    load_dataset,
    read_points_csv,
    write_dataset_csv,
)
from engine.features import feature_columns


# The notebook's functions, copied as they were written there: the reference the engine must match.
def ref_easy(inp):
    xc1, yc1 = 0.3, 0.6
    xc2, yc2 = 0.55, 0.15
    r1, r2 = 0.25, 0.15
    X, Y = np.asarray(inp).T
    R12 = (X - xc1) ** 2 + (Y - yc1) ** 2
    R22 = (X - xc2) ** 2 + (Y - yc2) ** 2
    return (((R22 <= r2**2) | (R12 <= r1**2)) * 1).astype(np.float32)


def ref_hard(inp):
    x, y = np.asarray(inp).T - 0.5
    r = np.sqrt(x**2 + y**2)
    theta = np.arctan2(y, x)
    out = (np.cos(3 * theta + 10 * r) >= 0.0).astype(np.float32)
    out[r <= 0.1] = 1.0
    return out


def ref_xor(inp):
    x, y = np.asarray(inp).T
    return np.logical_xor(x >= 0.5, y >= 0.5).astype(np.float32)


def ref_cross(inp, width=0.12):
    x, y = np.asarray(inp).T
    return ((np.abs(x - 0.5) <= width) | (np.abs(y - 0.5) <= width)).astype(np.float32)


def ref_ring(inp, r_inner=0.18, r_outer=0.32):
    x, y = np.asarray(inp).T - 0.5
    r = np.sqrt(x**2 + y**2)
    return ((r >= r_inner) & (r <= r_outer)).astype(np.float32)


REFERENCE = {
    "toy_easy": ref_easy,
    "toy_hard": ref_hard,
    "toy_xor": ref_xor,
    "toy_cross": ref_cross,
    "toy_ring": ref_ring,
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_toy_data_and_split_match_the_notebook(name):
    rng = np.random.default_rng(2)
    points = rng.random((4000, 2), dtype=np.float32)
    labels = REFERENCE[name](points)
    x_train, x_test, y_train, y_test = train_test_split(points, labels, test_size=0.25, random_state=2, stratify=labels)

    data = load_dataset(Settings(dataset=name))

    assert np.array_equal(data.points, points) and np.array_equal(data.labels, labels)
    assert np.array_equal(data.x_train, x_train) and np.array_equal(data.y_train, y_train)
    assert np.array_equal(data.x_test, x_test) and np.array_equal(data.y_test, y_test)
    assert (len(data.x_train), len(data.x_test)) == (3000, 1000)
    assert data.exact is not None and data.box == ((0.0, 1.0), (0.0, 1.0))
    grid = np.random.default_rng(7).random((5000, 2), dtype=np.float32)
    assert np.array_equal(data.exact(grid), REFERENCE[name](grid))


def test_toy_easy_majority_baseline_is_the_notebooks_73_percent():
    data = load_dataset(Settings())
    assert data.majority_share("test") == pytest.approx(0.733)
    assert data.class_names == ("class 0", "class 1") and data.axis_labels == ("x", "y")


def test_iris_default_matches_the_notebook():
    iris = load_iris()
    mask = iris.target >= 1
    points = iris.data[mask][:, [2, 3]].astype(np.float32)
    labels = (iris.target[mask] == 2).astype(np.float32)
    points = (points - points.min(axis=0)) / (points.max(axis=0) - points.min(axis=0))

    data = load_dataset(Settings(dataset="iris"))

    assert np.array_equal(data.points, points) and np.array_equal(data.labels, labels)
    assert len(data.points) == 100 and (len(data.x_train), len(data.x_test)) == (75, 25)
    assert data.feature_names == ("petal length", "petal width")
    assert data.axis_labels[0].startswith("petal length (cm")
    assert data.class_names == ("versicolor", "virginica") and data.exact is None


def test_iris_any_feature_pair():
    data = load_dataset(Settings(dataset="iris", iris_features=("sepal_width", "petal_length")))
    iris = load_iris()
    raw = iris.data[iris.target >= 1][:, 1]
    assert data.feature_names == ("sepal width", "petal length")
    assert np.allclose(data.points[:, 0], (raw - raw.min()) / (raw.max() - raw.min()))
    assert data.points.min() == 0.0 and data.points.max() == 1.0


@pytest.mark.parametrize("name", ["spiral", "gaussians", "moons"])
def test_generated_shapes_are_balanced_reproducible_and_in_the_unit_square(name):
    first = load_dataset(Settings(dataset=name, samples=600, data_seed=5))
    again = load_dataset(Settings(dataset=name, samples=600, data_seed=5))
    other = load_dataset(Settings(dataset=name, samples=600, data_seed=6))
    assert first.points.shape == (600, 2) and first.points.dtype == np.float32
    assert np.array_equal(first.points, again.points) and not np.array_equal(first.points, other.points)
    assert 0 <= first.points.min() and first.points.max() <= 1
    assert abs(first.labels.mean() - 0.5) < 0.05


def test_label_noise_flips_that_share_and_keeps_the_points():
    clean = load_dataset(Settings(dataset="toy_xor"))
    noisy = load_dataset(Settings(dataset="toy_xor", noise=0.1))
    assert np.array_equal(clean.points, noisy.points)
    assert np.sum(clean.labels != noisy.labels) == 400


def test_options_sample_count_test_share_and_seeds():
    data = load_dataset(Settings(dataset="toy_ring", samples=1000, test_share=0.4))
    assert (len(data.x_train), len(data.x_test)) == (600, 400)
    # stratified: both sets keep the class shares
    assert abs(data.y_train.mean() - data.y_test.mean()) < 0.01
    moved = load_dataset(Settings(dataset="toy_ring", samples=1000, test_share=0.4, split_seed=3))
    assert not np.array_equal(data.train_index, moved.train_index)


def test_features_columns():
    points = np.array([[0.25, 0.5]], dtype=np.float32)
    columns = feature_columns(points, ("x", "y", "x2", "y2", "xy", "sinx", "siny"))
    assert np.allclose(columns, [[0.25, 0.5, 0.0625, 0.25, 0.125, 1.0, 0.0]], atol=1e-6)
    assert feature_columns(points, ("x", "y")) is not None and feature_columns(points, ("xy",)).shape == (1, 1)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"dataset": "nope"}, "dataset"),
        ({"hidden": (8, 0)}, "hidden: .8,0.*1 to 256"),
        ({"hidden": (4,) * 9}, "up to 8 layers"),
        ({"lr": 0}, "lr"),
        ({"noise": 0.7}, "noise"),
        ({"features": ("x", "z")}, "features"),
        ({"iris_features": ("petal_length", "petal_length")}, "iris_features"),
        ({"dataset": "csv"}, "csv_path"),
        ({"epochs": 0}, "epochs"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_bad_settings_are_refused_with_the_setting_named(changes, message):
    with pytest.raises(SettingsError, match=message):
        Settings(**changes)


def test_settings_round_trip_through_a_dict():
    settings = Settings(dataset="iris", hidden=(8, 8), features=("x", "y", "xy"))
    assert Settings.from_dict(settings.to_dict()) == settings
    with pytest.raises(SettingsError, match="unknown"):
        Settings.from_dict({"colour": "red"})


def test_csv_with_header_any_range(tmp_path):
    path = tmp_path / "mine.csv"
    rows = [(10 + i, -300 + 7 * i, i % 2) for i in range(40)]
    path.write_text("height,weight,label\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows))

    data = load_dataset(Settings(dataset="csv", csv_path=str(path)))

    assert data.feature_names == ("height", "weight")
    assert data.points[:, 0].max() == 49 and data.points[:, 1].min() == -300
    (x0, x1), (y0, y1) = data.box
    assert x0 < 10 < 49 < x1 and y0 < -300 < -27 < y1
    unit = data.normalise(data.points)
    assert 0 < unit.min() and unit.max() < 1


def test_csv_without_header(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("0.1,0.2,0\n0.3,0.4,1\n0.5,0.1,1\n")
    table = read_points_csv(path)
    assert table.feature_names == ("x", "y") and table.labels.tolist() == [0, 1, 1]


@pytest.mark.parametrize(
    "text, message",
    [
        ("x,y,label\n0.1,0.2,0\n0.3,abc,1\n", "line 3, column 2"),
        ("x,y,label\n0.1,0.2,0\n0.3,0.4,2\n", "line 3, column 3: the label must be 0 or 1"),
        ("x,y,label\n0.1,0.2\n", "line 2: expected 3 columns"),
        ("x,y,label\n0.1,nan,1\n", "line 2, column 2"),
        ("", "empty"),
        ("x,y,label\n", "no data rows"),
    ],
)
def test_bad_csv_names_line_and_column(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(CsvError, match=message):
        read_points_csv(path)


def test_missing_csv(tmp_path):
    with pytest.raises(CsvError, match="no such file"):
        read_points_csv(tmp_path / "absent.csv")


def test_csv_with_one_class_cannot_be_split(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("".join(f"{i},{i * 2},1\n" for i in range(20)))
    with pytest.raises(ValueError, match="each class"):
        load_dataset(Settings(dataset="csv", csv_path=str(path)))


def test_dataset_csv_written_and_read_back(tmp_path):
    data = load_dataset(Settings(dataset="iris", iris_features=("sepal_length", "petal_width")))
    path = tmp_path / "iris.csv"
    write_dataset_csv(data, str(path))
    with open(path) as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["sepal_length", "petal_width", "label", "split"]
    assert len(rows) == 100 and sum(row["split"] == "test" for row in rows) == 25
    assert np.array_equal(
        np.array([[float(r["sepal_length"]), float(r["petal_width"])] for r in rows], dtype=np.float32), data.points
    )
    assert [int(r["label"]) for r in rows] == data.labels.astype(int).tolist()


def test_a_csv_written_by_the_data_command_reads_back(tmp_path):
    data = load_dataset(Settings(dataset="toy_ring", samples=300))
    path = tmp_path / "ring.csv"
    write_dataset_csv(data, str(path))
    table = read_points_csv(path)
    assert np.array_equal(table.points, data.points) and np.array_equal(table.labels, data.labels)
    again = load_dataset(Settings(dataset="csv", csv_path=str(path)))
    assert len(again.points) == 300
