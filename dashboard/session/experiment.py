"""One experiment as a `param.Parameterized`: its settings, its actions and its results.

`Experiment` is built on the engine's `SettingParameters`: its setting parameters are the engine's declarations
(bounds, doc, label), and setting one out of range raises as param does. The app's paths (sidebar, URL) use
`set_value`, `set_values` and `set_texts`, which refuse a value with a `message` and keep the last valid one. Actions
are methods: `train` (new model), `continue_training` (same model, `epochs` more, a new run), `step` (one epoch),
`pause` / `resume`, `stop` and `reset`; `use_points` and `load_archive` bring in your own data or a saved
experiment. Results are parameters too (`data`, `history`, `runs`, `grid`, `evaluation`, `neurons`, `weights`,
`snapshots`, `status`, `progress`, `state`), so views can watch them. This package imports param and the engine,
never panel.

The class is one reader's page; its parts, each an object of its own module that writes only public parameters:
`SettingRules` (setting_rules.py: checks, refusals, what a change does), `Runner` (runner.py: the run lifecycle
in a `Worker` thread) and `RunLog` (run_log.py: the runs' records, rows and kept results). Training runs in a
Worker thread; `poll()` moves what it produced into the result parameters. A server calls `poll()` from its event
loop (see ui/live_link.py); headless code calls `wait()`. A *run* is what the user started with Train, Continue or
Step; pausing and resuming (or stepping) stay in the same run. Changing a data or network setting stops any run
first and drops the model, whose results no longer match the settings. Loading a file or points has two halves:
`prepare_archive` / `prepare_points` (slow, no parameter changes, safe in a thread) and `apply_prepared` (on the
loop); a file that fails anywhere changes nothing.
"""

from __future__ import annotations

import param

from engine import Dataset, History, Settings, SettingsError, load_dataset
from engine.evaluation import Evaluation, GridMap
from engine.settings import SettingParameters
from engine.snapshots import MAX_NEURONS

from .frames import MAX_FRAMES
from .own_files import Prepared, SessionFolder, prepare_archive, prepare_points
from .run_log import RunLog
from .runner import Runner
from .runs import DRAWN
from .setting_rules import SETTINGS, SettingRules, changed_settings
from .worker import SPEEDS, stop_all

STATES = ("idle", "training", "paused", "stopping")
NO_POINTS = "no points of your own yet: upload a CSV or draw points in the Data tab"


def stop_all_training(timeout: float = 2.0) -> bool:
    """Ask every training thread of this process to stop and wait up to `timeout` seconds in all for them to end
    (a server shutting down; never on a running event loop). True if all have ended."""
    return stop_all(timeout)


class Experiment(SettingParameters):
    """Settings, actions and results of one experiment (one session, one model at a time)."""

    message = param.String(default="", precedence=-1, doc="The last notice for the user ('' for none).")
    message_kind = param.Selector(default="info", objects=["info", "warning", "danger"], precedence=-1)
    # ----- How this session watches training (not a setting of the experiment: no URL, report or CLI) -----
    speed = param.Selector(default="fastest", objects=list(SPEEDS), precedence=-1, doc=(
        "How fast training goes on screen: slow and normal give each epoch at least "
        f"{SPEEDS['slow']:g} s and {SPEEDS['normal']:g} s, so that a short run can be watched, and wait for a slow "
        "viewer to take a map every few epochs; fastest trains "
        "flat out (the default headless; the app starts at normal). It applies at once, also to a running run."))

    # ----- Results (set by the experiment; views watch them) -----
    data = param.ClassSelector(class_=Dataset, allow_None=True, precedence=-1,
                               doc="The dataset the data settings describe.")
    history = param.ClassSelector(class_=History, precedence=-1, doc=(
        "Per-epoch metrics of every run of the current model; `run` holds the run numbers of `runs`."))
    runs = param.List(default=[], precedence=-1, doc="One dict per run of this session: settings and final metrics.")
    grid = param.ClassSelector(class_=GridMap, allow_None=True, precedence=-1,
                               doc="The model's decision map (probability on a grid), or None without a model.")
    evaluation = param.ClassSelector(class_=Evaluation, allow_None=True, precedence=-1,
                                     doc="Which train and test points the model gets right.")
    status = param.String(default="", precedence=-1, doc="The notebook's status line of the last epoch.")
    progress = param.Number(default=0.0, bounds=(0.0, 1.0), precedence=-1, doc="Share of the run's epochs done.")
    planned_epoch = param.Integer(default=0, precedence=-1, doc=(
        "Where the epoch axis should end: the last epoch of the current run if it finishes, else the last trained."))
    state = param.Selector(default="idle", objects=list(STATES), precedence=-1, doc="What the experiment is doing.")
    has_model = param.Boolean(default=False, precedence=-1, doc="Whether there is a model to continue.")
    neurons = param.List(default=[], precedence=-1, doc=(
        f"Per hidden layer, the activations of its first {MAX_NEURONS} neurons on a 32x32 grid over the box "
        "((k, 32, 32) arrays), taken with the decision map while training; [] without a model."))
    weights = param.List(default=[], precedence=-1, doc=(
        f"Per layer, its (out, in) weights among the drawn neurons (the first {MAX_NEURONS} of each layer), as "
        "numpy copies taken with `neurons`; [] without a model."))
    snapshots = param.List(default=[], precedence=-1, doc=(
        "`inside.Frame`s (epoch, decision map, neuron maps, weights) recorded at round epochs through every run "
        f"of the current model, for replay; at most {MAX_FRAMES}, thinned evenly; [] without a model."))
    results = param.Dict(default={}, precedence=-1, doc=(
        "Run number -> `comparison.RunResult` (final map, curves, speed) of the runs kept for comparison."))

    def __init__(self, **params):
        super().__init__(**params)
        self._files = SessionFolder()  # this experiment's temporary folder for your own data
        self.data = load_dataset(self.settings())
        self.history = History()
        self._log = RunLog(self)
        self._runner = Runner(self, self._log, self._tell)
        self._rules = SettingRules(self, self._runner, self._tell)
        self.param.watch(self._rules.changed, list(SETTINGS), precedence=0)
        self.param.watch(self._speed_changed, "speed")

    # ----- settings (setting_rules.py) -----
    def settings(self) -> Settings:
        """The engine's settings for the current values (SettingsError if they do not fit together)."""
        if self.dataset == "csv" and self.csv_path is None:
            raise SettingsError(NO_POINTS)
        return Settings(**{name: getattr(self, name) for name in SETTINGS}, device="cpu", threads=1,
                        csv_path=self.csv_path if self.dataset == "csv" else None)

    def set_value(self, name: str, value) -> bool:
        """Set one setting; if it is refused, keep the last valid value, say why in `message`, return False."""
        return not self.set_values({name: value})

    def set_text(self, name: str, text: str) -> bool:
        """`set_value` from text, as a URL query or a command line gives it ('8,8', '0.01', 'x,y,xy')."""
        return not self.set_texts({name: text})

    def set_texts(self, texts: dict[str, str]) -> list[str]:
        """Apply several settings given as text (a URL query) together; each refused one keeps its last valid
        value. Returns the messages of the refusals (also shown in `message`)."""
        return self._rules.set_texts(texts)

    def set_values(self, values: dict, problems: list[str] | None = None) -> list[str]:
        """Apply several settings together (one reload of the data); each refused one keeps its last valid value.
        Returns the messages of the refusals (also shown in `message`)."""
        return self._rules.set_values(values, problems)

    def changed_settings(self) -> dict[str, str]:
        """The settings that differ from their defaults, as text (what a shareable URL needs)."""
        return changed_settings(self)

    def _tell(self, text: str, kind: str = "info") -> None:
        self.param.update(message=text, message_kind=kind)

    def _speed_changed(self, event) -> None:
        self._runner.set_speed(event.new)

    # ----- your own data and saved experiments -----
    def use_points(self, points, labels, feature_names: tuple[str, str] = ("x", "y"),
                   source: str = "your points") -> bool:
        """Make these labelled points the dataset ("csv", your own data), split with the current test share and
        split seed; any model is dropped, as with any change of the data. The points are written as a CSV file in
        this experiment's temporary folder (removed by `close`), so the settings name a file as for any CSV and a
        saved experiment carries a copy. If they cannot be used (a bad value, one class, too few for the split)
        nothing changes, `message` says why, and it returns False."""
        return self.apply_prepared(self.prepare_points(points, labels, feature_names, source))

    def prepare_points(self, points, labels, feature_names: tuple[str, str] = ("x", "y"),
                       source: str = "your points") -> Prepared:
        """The slow half of `use_points` (write the file, build the dataset): changes no parameter, so it may run
        in a thread. Returns what `apply_prepared` installs, or the message of why it cannot be used."""
        return prepare_points(self.settings(), self._files, points, labels, feature_names, source)

    def load_archive(self, data: bytes) -> bool:
        """Install a saved experiment (bytes of `engine.storage.experiment_archive`): its settings, model, history
        and runs, as new runs of this session, so Continue goes on exactly where it stopped. A bad file changes
        nothing: `message` says why and it returns False."""
        return self.apply_prepared(self.prepare_archive(data))

    def prepare_archive(self, data: bytes) -> Prepared:
        """The slow half of `load_archive`: read and check the whole file, rebuild its model and evaluate it.
        Changes no parameter (a thread may run it); a bad file gives a `Prepared` with only its message."""
        return prepare_archive(data, self._files)

    def apply_prepared(self, prepared: Prepared) -> bool:
        """Install what `prepare_points` or `prepare_archive` made (on the event loop); if it holds an error, say
        it in `message` and return False, changing nothing else."""
        if prepared.error:
            self._tell(prepared.error, prepared.kind)
            return False
        if prepared.trainer is not None:
            self._install(prepared)
            return True
        with self._rules.expecting(prepared.settings, prepared.dataset):
            self.csv_path = prepared.settings.csv_path
            if self.dataset == "csv":
                self.param.trigger("dataset")  # same setting, new file: reloaded like any change of the data
            else:
                self.dataset = "csv"
        dataset = self.data
        what = DRAWN.capitalize() if prepared.source == DRAWN else f"Your data from {prepared.source}"
        self._tell(f"{what}: {len(dataset.points)} points, {len(dataset.train_index)} to "
                   f"train on and {len(dataset.test_index)} to test. Press Train to train a model on them.", "info")
        return True

    def _install(self, prepared: Prepared) -> None:
        """Install a checked, loaded experiment: nothing in here can fail on the file's account."""
        trainer = prepared.trainer
        self._runner.halt("stop")
        self._runner.drop_model()
        if trainer.settings.dataset == "csv":
            self.csv_path = trainer.settings.csv_path  # the data.csv written into this session's folder
        with self._rules.quietly():  # a change of the settings would drop the model installed here
            self.param.update(prepared.values)
        self._runner.adopt(trainer)
        self._log.restore(prepared.runs, trainer.history)
        self.param.update(**prepared.views, has_model=True, planned_epoch=trainer.epochs_done)
        self._log.end_restored()
        self._tell(f"Loaded {trainer.dataset.title}: "
                   f"{len(trainer.runs)} run(s), {trainer.epochs_done} epochs. Continue trains it further.", "info")

    # ----- actions (runner.py) -----
    def train(self) -> None:
        """Train a new model (from `seed`) for `epochs` epochs, as a new run."""
        self._runner.train()

    def continue_training(self) -> None:
        """Train the current model `epochs` more epochs, with the current training settings, as a new run."""
        self._runner.continue_training()

    def step(self) -> None:
        """Train one epoch. Within a paused run, its next epoch; otherwise a new run, paused after one epoch."""
        self._runner.step()

    def pause(self) -> None:
        """Pause the running run at its next mini-batch or epoch (an unfinished epoch is undone); `resume` or
        `step` go on with it."""
        self._runner.pause()

    def resume(self) -> None:
        """Go on with a paused run to its requested number of epochs."""
        self._runner.resume()

    def stop(self) -> None:
        """End the run at its next mini-batch or epoch (an unfinished epoch is undone; its history stays)."""
        self._runner.stop()

    def reset(self) -> None:
        """Stop, forget the model and every run: back to a fresh start (the settings stay)."""
        self._runner.halt("discard")
        self._runner.drop_model()
        self._log.clear()
        self.message = ""

    # ----- waiting and polling (runner.py) -----
    def poll(self) -> bool:
        """Move the worker's new results into the parameters. True while a worker is still running."""
        return self._runner.poll()

    @property
    def trainer(self):
        """The current model's engine `Trainer` (None without a model). Read it between runs, on the loop."""
        return self._runner.trainer

    @property
    def busy(self) -> bool:
        """Whether a worker is training (or finishing) for this experiment."""
        return self._runner.worker is not None

    def has_news(self) -> bool:
        """Whether `poll()` would change anything now."""
        return self._runner.has_news()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the running worker is done (headless use), polling as a server would."""
        self._runner.wait(timeout)

    def close(self) -> None:
        """Stop any training for good (the session is going away) and remove the files of your own data. It neither
        waits for the training thread (it ends on its own at its next mini-batch or epoch) nor changes a parameter
        (the views of a closed session must not be touched)."""
        self._runner.close()
        self._files.remove()

    def plot(self, what: str = "map", **options):
        """The results as a HoloViews object, to show, restyle (`.opts`) or overlay in a notebook: "map" (the
        decision map with the points; options such as discretize=True), "target", "loss", "accuracy", "curves"."""
        from ..plots.views import (
            view,  # holoviews only when asked: the experiment itself needs no plotting
        )

        return view(what, self.data, self.grid, self.evaluation, self.history, **options)
