"""Inside the network, headless: the experiment's neuron maps, weights and snapshots, the Network tab's views and
their replay, and the report's section (the browser side is in test_browser_network.py)."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.plots.network import output_bytes
from dashboard.report import build_report, remote_references, report_html
from dashboard.session.experiment import Experiment
from dashboard.session.frames import MAX_FRAMES, add_frames
from dashboard.ui.network_tab import NetworkTab
from engine.snapshots import (
    MAX_NEURONS,
    NEURON_MAP_SIZE,
    SNAPSHOT_SIZE,
    Frame,
    SnapshotRecorder,
    neuron_view,
    weight_view,
)


def trained(**settings) -> Experiment:
    experiment = Experiment(**{"dataset": "toy_xor", "hidden": "8,8", "lr": 0.01, "epochs": 300, **settings})
    experiment.train()
    experiment.wait(timeout=120)
    return experiment


@pytest.fixture(scope="module")
def xor():
    return trained()


def test_neuron_maps_and_weights_are_the_final_models(xor):
    assert [layer.shape for layer in xor.neurons] == [(8, NEURON_MAP_SIZE, NEURON_MAP_SIZE)] * 2
    assert [w.shape for w in xor.weights] == [(8, 2), (8, 8), (1, 8)]
    for shown, now in zip(xor.neurons, neuron_view(xor.trainer)):
        assert np.array_equal(shown, now)
    for shown, now in zip(xor.weights, weight_view(xor.trainer)):
        assert np.array_equal(shown, now)
    assert xor.weights[0] is not xor.trainer.net.weights[0]  # copies: training goes on in another thread


def test_wide_layers_keep_their_first_neurons_only():
    experiment = trained(hidden="40,3", epochs=5)
    assert [layer.shape[0] for layer in experiment.neurons] == [MAX_NEURONS, 3]
    assert [w.shape for w in experiment.weights] == [(MAX_NEURONS, 2), (3, MAX_NEURONS), (1, 3)]
    full = experiment.trainer.hidden_activations(np.array([[0.25, 0.75]], dtype=np.float32))[0]
    assert full.shape == (1, 40)
    diagram = NetworkTab(experiment).diagram  # and it says so
    assert "layer 1: 16 of 40" in diagram.labels.data["text"] and "layer 2: 3" in diagram.labels.data["text"]
    assert f"first {MAX_NEURONS} neurons" in diagram.fig.title.text
    assert len(diagram.neurons.data["x"]) == MAX_NEURONS + 3


def test_snapshots_at_round_epochs_through_every_run_and_dropped_with_the_model():
    experiment = trained(epochs=200)
    epochs = [frame.epoch for frame in experiment.snapshots]
    assert epochs[0] == 0 and epochs[-1] == 200
    assert all(epoch % 10 == 0 for epoch in epochs) and len(epochs) == 21  # 200 / 25 -> every 10 epochs
    frame = experiment.snapshots[-1]
    assert frame.probability.shape == (SNAPSHOT_SIZE, SNAPSHOT_SIZE)
    assert np.allclose(frame.probability, experiment.grid.probability[::2, ::2], atol=0.05)  # about the final map
    experiment.epochs = 100
    experiment.continue_training()  # adds 20 (every 5 epochs): 41 in all, thinned to every other one
    experiment.wait(timeout=120)
    epochs = [frame.epoch for frame in experiment.snapshots]
    assert epochs == [*range(0, 201, 20), *range(210, 301, 10)]
    experiment.hidden = "4"  # a new network: the model and what it showed go
    assert (experiment.snapshots, experiment.neurons, experiment.weights) == ([], [], [])


def test_snapshots_stay_bounded_and_evenly_thinned():
    frames = [Frame(epoch, np.zeros((2, 2), np.float16), [], []) for epoch in range(MAX_FRAMES)]
    assert add_frames(frames, []) == frames
    thinned = add_frames(frames, [Frame(MAX_FRAMES, np.zeros((2, 2), np.float16), [], [])])
    epochs = [frame.epoch for frame in thinned]
    assert len(epochs) <= MAX_FRAMES // 2 + 1 and epochs[0] == 0 and epochs[-1] == MAX_FRAMES
    assert max(np.diff(epochs)) - min(np.diff(epochs)) <= 1  # evenly spread
    experiment = trained(epochs=1)
    for _ in range(MAX_FRAMES + 5):  # every Continue of one epoch adds a snapshot
        experiment.continue_training()
        experiment.wait(timeout=60)
    assert 2 <= len(experiment.snapshots) <= MAX_FRAMES
    assert experiment.snapshots[-1].epoch == MAX_FRAMES + 6
    assert sum(frame.nbytes for frame in experiment.snapshots) < MAX_FRAMES * 60_000


def test_recorder_meets_every_round_epoch():
    from types import SimpleNamespace

    recorder = SnapshotRecorder(SimpleNamespace(epochs_done=300), until=2300, first=False)  # a run of 2000 epochs
    assert recorder.spacing == 100
    assert [recorder.every_near(wanted) for wanted in (1, 30, 99, 100, 1000)] == [1, 25, 50, 100, 100]
    assert [epoch for epoch in range(325, 700, 25) if recorder.due(epoch)] == [400, 500, 600]


def test_network_views_follow_the_experiment_and_replay_its_snapshots():
    experiment = Experiment(dataset="toy_xor", hidden="8,8", lr=0.01, epochs=2000)
    views = NetworkTab(experiment)
    assert views.slider.disabled and len(views.diagram.neurons.data["x"]) == 16
    assert len(views.diagram.edges.data["x0"]) == 2 * 8 + 8 * 8 + 8
    experiment.train()
    assert views.slider.disabled  # while training
    experiment.wait(timeout=120)
    frames = experiment.snapshots
    assert not views.slider.disabled and views.slider.options == [frame.epoch for frame in frames]
    weights = np.concatenate([w.ravel() for w in experiment.weights])
    assert np.allclose(views.diagram.edges.data["weight"], weights)
    live = views.output.image.data["image"][0]
    assert live.shape == experiment.grid.probability.shape

    views.slider.value = frames[2].epoch
    assert np.array_equal(views.output.image.data["image"][0], frames[2].probability.astype(np.float32))
    assert np.allclose(views.diagram.edges.data["weight"], np.concatenate([w.ravel() for w in frames[2].weights]))
    first_layer = frames[2].neurons[0].astype(np.float32)
    alive = int(np.argmax(np.abs(first_layer).max(axis=(1, 2)) > 0))  # a ReLU neuron may be 0 everywhere
    peak = np.abs(first_layer[alive]).max()
    inputs = len(experiment.features)  # the inputs' maps come first
    shown = views.diagram.maps.data["image"][inputs + alive].astype(np.float32) / 127.5 - 1  # bytes, scaled to +-1
    assert np.allclose(shown, first_layer[alive] / peak, atol=1 / 127.5)
    assert f"epoch {frames[2].epoch}" in views.caption.content

    output = views.diagram.output.data["image"][0]  # the diagram's output node: the same epoch's decision map
    assert output.shape == (NEURON_MAP_SIZE, NEURON_MAP_SIZE)
    assert np.array_equal(output, output_bytes(frames[2].probability))

    views.diagram.neurons.selected.indices = [10]  # layer 2, neuron 3
    assert views.neuron.fig.title.text == f"Layer 2, neuron 3 at epoch {frames[2].epoch}: activation"
    assert np.array_equal(views.neuron.image.data["image"][0], frames[2].neurons[1][2].astype(np.float32))
    views.slider.value = frames[-1].epoch  # the last snapshot: the model as it is now
    assert views.output.image.data["image"][0] is not None
    assert views.output.image.data["image"][0].shape == experiment.grid.probability.shape
    assert np.array_equal(views.neuron.image.data["image"][0], experiment.neurons[1][2])
    assert np.array_equal(views.diagram.output.data["image"][0], output_bytes(experiment.grid.probability))
    experiment.reset()  # no model: a plain node again
    assert np.isnan(views.diagram.output.data["image"][0]).all()


def test_output_node_map_is_the_probability_picked_down_to_bytes():
    xs = np.linspace(0, 1, 200, dtype=np.float32)
    probability = np.tile(xs, (200, 1))  # p grows along x (columns), as a grid's rows follow y
    shown = output_bytes(probability)
    assert shown.shape == (NEURON_MAP_SIZE, NEURON_MAP_SIZE) and shown.dtype == np.uint8
    assert shown[0, 0] == 0 and shown[0, -1] == 255 and (np.diff(shown.astype(int), axis=1) > 0).all()
    assert (np.diff(shown.astype(int), axis=0) == 0).all()
    assert output_bytes(np.full((100, 100), 0.5))[0, 0] == 128  # p = 0.5 is the palette's white middle


def test_report_shows_the_network_when_it_has_hidden_layers(xor):
    page = build_report(xor.trainer)
    panes = [pane for pane in page.objects if "nnp-network" in (pane.css_classes or [])]
    assert len(panes) == 1
    diagram = panes[0].object  # a HoloViews overlay: a tile (RGB) per map, the edges as Segments
    tiles = [element for element in diagram if element.group == "Neuron"]
    assert len(tiles) == 2 + 16  # x, y, then 8 + 8 neurons
    (output,) = [element for element in diagram if element.group == "Output"]  # the model's P(class 1)
    probability = xor.grid.probability
    red = np.asarray(output.dimension_values(2, flat=False), dtype=float)  # rows from the bottom, as the grid's
    blue = np.asarray(output.dimension_values(4, flat=False), dtype=float)
    corner = probability[0, 0] >= 0.5  # XOR: the bottom-left corner's class, the top-left the other
    assert (red[0, 0] > blue[0, 0]) == corner and (red[-1, 0] > blue[-1, 0]) != corner
    x_map = np.asarray(tiles[0].dimension_values(2, flat=False), dtype=float)  # red channel of the x input's map
    assert (np.diff(x_map, axis=1) != 0).any() and (np.diff(x_map, axis=0) == 0).all()  # x changes along the rows only
    (edges,) = [element for element in diagram if element.group == "Edges"]
    assert np.allclose(edges.dimension_values("weight"), np.concatenate([w.ravel() for w in weight_view(xor.trainer)]))
    html = report_html(xor.trainer)
    assert "Inside the network" in html and remote_references(html) == []
    linear = trained(hidden="", epochs=5)
    assert not [pane for pane in build_report(linear.trainer).objects if "nnp-network" in (pane.css_classes or [])]


def test_a_closed_network_tab_is_drawn_when_it_opens():
    import panel as pn

    experiment = Experiment(dataset="toy_xor", hidden="4", epochs=50)
    views = NetworkTab(experiment)
    tabs = pn.Tabs(pn.Column(name="Training"), views)
    views.follow(tabs)  # the Training tab is open
    experiment.train()
    experiment.wait(timeout=120)
    assert np.isnan(views.output.image.data["image"][0]).all()  # not drawn while closed
    tabs.active = 1
    assert np.array_equal(views.output.image.data["image"][0], experiment.grid.probability)
    assert np.allclose(views.diagram.edges.data["weight"], np.concatenate([w.ravel() for w in experiment.weights]))
    assert np.array_equal(views.diagram.output.data["image"][0], output_bytes(experiment.grid.probability))
