"""Settings as values: equal and hashed by value, immutable, changed by `replace`, cheap to build in bulk; and the
Experiment built on them fails fast from Python."""

from __future__ import annotations

import time

import pytest

from engine.setting_types import SettingsError
from engine.settings import SPECS, Settings


def test_settings_are_equal_and_hashed_by_value():
    first = Settings(dataset="toy_xor", hidden=[8, 8], lr=0.01)  # a list given for a tuple setting
    second = Settings(dataset="toy_xor", hidden=(8, 8), lr=0.01)
    assert first == second and hash(first) == hash(second) and len({first, second}) == 1
    assert first != Settings(dataset="toy_xor", hidden=(8, 8), lr=0.02) and first.hidden == (8, 8)


def test_settings_cannot_change_and_replace_gives_a_new_one():
    settings = Settings(lr=0.01)
    with pytest.raises(AttributeError, match="replace"):
        settings.lr = 0.02
    with pytest.raises(AttributeError):
        settings.param.update(lr=0.02)
    changed = settings.replace(lr=0.02, hidden=(8,))
    assert settings.lr == 0.01 and changed.lr == 0.02 and changed.hidden == (8,) and changed != settings
    with pytest.raises(SettingsError, match="lr: .* is not allowed; a number > 0 and <= 10"):
        settings.replace(lr=-1)


def test_the_saved_form_reads_both_ways():
    settings = Settings(dataset="iris", iris_features=("sepal_width", "petal_length"), hidden=(8, 8))
    values = settings.to_dict()
    assert values["hidden"] == [8, 8] and values["iris_features"] == ["sepal_width", "petal_length"]
    assert Settings.from_dict(values) == settings and list(values) == list(SPECS)


def test_every_setting_is_documented_and_has_its_text_form():
    for name, spec in SPECS.items():
        assert spec.label and spec.doc and spec.allowed(), name
        default = spec.default
        text = ",".join(map(str, default)) if isinstance(default, tuple) else str(default)
        if default is not None and not isinstance(default, bool):
            assert spec.check(spec.parse(text)) == default, name


def test_building_many_settings_is_cheap():
    base = Settings(dataset="toy_xor", hidden=(8, 8))
    start = time.perf_counter()
    models = [base.replace(lr=0.001 * (1 + i % 100), seed=i) for i in range(2000)]
    per_thousand = (time.perf_counter() - start) / 2
    assert len(set(models)) == 2000
    assert per_thousand < 1.0, f"{per_thousand:.2f} s per thousand settings"


def test_the_experiment_fails_fast_from_python():
    from dashboard.session.experiment import Experiment

    experiment = Experiment()
    with pytest.raises(ValueError, match=r"lr: '-1' is not allowed; a number > 0 and <= 10"):
        experiment.lr = -1
    assert experiment.lr == 0.005 and experiment.param.lr.bounds == (0.0, 10.0) and experiment.param.lr.doc
    assert experiment.set_value("lr", -1) is False and "Learning rate" in experiment.message
    experiment.lr = 0.02  # a mutable experiment, unlike Settings
    assert experiment.lr == 0.02 and experiment.settings().lr == 0.02
