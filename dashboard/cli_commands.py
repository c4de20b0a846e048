"""What the `nn-playground` sub-commands do, once `dashboard.cli` has parsed their options: train, data, report
and serve (sweep: `dashboard.sweep_cli`). Each handler takes the parsed options and returns the exit code.

`train` and `data` use the engine only: they never import panel, param, holoviews or bokeh; `report` and `serve`
load them when they run.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from engine.settings import SPECS, Settings

if TYPE_CHECKING:
    from engine.training import Trainer

PROG = "nn-playground"
EXIT_ERROR, EXIT_DIVERGED, EXIT_INTERRUPTED = 2, 3, 130


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from the options given; Settings checks the values."""
    values = {name: value for name, value in vars(args).items() if name in SPECS}
    if "csv_path" in values and values.setdefault("dataset", "csv") != "csv":
        raise ValueError(f"--csv goes with --dataset csv, not --dataset {values['dataset']}")
    return Settings(**values)


def train(args: argparse.Namespace) -> int:
    settings = settings_from(args)  # bad options fail before torch and scikit-learn load (seconds)
    if args.save:
        _check_folder(args.save)  # a bad folder fails now, not after training
    from engine.training import Trainer

    trainer = Trainer(settings)
    recorder = _snapshot_recorder(trainer) if args.save else None
    with _stop_on_interrupt(trainer):
        if args.json:
            run = trainer.train(callback=recorder, every=recorder.every if recorder else 1)
        else:
            run = _train_with_progress_bar(trainer, args.every or max(1, settings.epochs // 100), recorder)
    if args.save:
        from engine.storage import save_experiment

        save_experiment(trainer, args.save, recorder.finish())
    if args.json:
        print(json.dumps(_report(trainer, run, args.save)))
    else:
        _print_summary(trainer, run, args.save)
    if run.ended != "finished":
        print(f"{PROG}: {run.message}", file=sys.stderr)
    return {"finished": 0, "diverged": EXIT_DIVERGED, "stopped": EXIT_INTERRUPTED}[run.ended]


def _snapshot_recorder(trainer: Trainer):
    """Records the decision map about 25 times through the run, for the report's slider (engine only)."""
    from engine.snapshots import SnapshotRecorder

    return SnapshotRecorder(trainer)


def _train_with_progress_bar(trainer: Trainer, every: int, recorder=None):
    from tqdm import tqdm

    with tqdm(
        total=trainer.settings.epochs,
        desc="training",
        file=sys.stderr,
        bar_format="{desc} |{bar:20}| {elapsed}<{remaining}",
    ) as bar:

        def show(progress) -> None:
            if recorder is not None:
                recorder(progress)
                if progress.run_epoch % every and progress.run_epoch != progress.run_epochs:
                    return
            bar.set_description_str(progress.status, refresh=False)
            bar.update(progress.run_epoch - bar.n)

        return trainer.train(callback=show, every=math.gcd(every, recorder.every) if recorder is not None else every)


def _check_folder(folder: str) -> None:
    """Make sure `folder` exists (created if needed) and a file can be written in it, before any training."""
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{path}: exists and is not a folder")
    path.mkdir(parents=True, exist_ok=True)
    _check_writable(path)


def _check_output(file: str | Path, example: str = "report.html") -> Path:
    """Make sure the file `file` can be written (its folder exists and is writable; it is absent or a regular
    file, not a device or pipe), before any training."""
    from engine.atomic import check_output

    output = Path(file)
    if output.is_dir():
        raise ValueError(f"{output}: is a folder; give the file to write, e.g. -o {output / example}")
    return check_output(output)


def _check_writable(folder: Path) -> None:
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise ValueError(f"{folder}: cannot write there ({error.strerror or error})") from None


@contextmanager
def _stop_on_interrupt(trainer: Trainer):
    """The first Ctrl-C ends the run within the current mini-batch or epoch; a second one interrupts at once."""
    if threading.current_thread() is not threading.main_thread():  # signal handlers live in the main thread
        yield
        return

    def stop(signum, frame) -> None:
        trainer.request_stop()
        signal.signal(signal.SIGINT, previous)

    previous = signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _finite(value: float) -> float | None:
    """JSON has no infinity or NaN: write them as null."""
    return value if math.isfinite(value) else None


def _report(trainer: Trainer, run, saved: str | None) -> dict:
    from engine.training import HISTORY_KEYS

    history = {key: [_finite(value) for value in getattr(trainer.history, key)] for key in HISTORY_KEYS}
    final = {key: values[-1] for key, values in history.items()} if history["epoch"] else None
    report = {
        "settings": trainer.settings.to_dict(),
        "final": final,
        "history": history,
        "run": {
            "ended": run.ended,
            "message": run.message,
            "seconds": run.seconds,
            "parameters": trainer.parameter_count,
        },
        "hints": [hint.to_dict() for hint in _hints(trainer)],
    }
    if saved:
        report["saved"] = saved
    return report


def _print_summary(trainer: Trainer, run, saved: str | None) -> None:
    from engine.evaluation import evaluate_grid

    progress = trainer.last_progress()
    dataset = trainer.dataset
    if progress is None:
        print("No epoch finished.")
    else:
        print(progress.status)
        print(
            f"Test accuracy {100 * progress.test_accuracy:.1f}% against {100 * dataset.majority_share():.1f}% "
            "for always predicting the most common class."
        )
    if dataset.exact is not None:
        agreement = evaluate_grid(trainer).agreement
        print(f"The decision map agrees with the exact {dataset.name} pattern on {100 * agreement:.1f}% of the square.")
    print(f"{run.epochs} epochs in {run.seconds:.2f} s; {trainer.parameter_count} parameters.")
    for hint in _hints(trainer):
        print(f"Hint ({hint.name}): {hint.message}\n  Try it: the same options and {hint.variant_options()}")
    if saved:
        print(f"Saved to {saved}")


def _hints(trainer: Trainer) -> list:
    """What the run shows and the experiment that tests it (engine.hints' table)."""
    from engine.hints import trainer_hints

    return trainer_hints(trainer)


def data(args: argparse.Namespace) -> int:
    settings = settings_from(args)  # bad options fail before scikit-learn loads
    if args.output:
        _check_output(args.output, "data.csv")
    from engine.datasets import load_dataset, write_dataset_csv

    dataset = load_dataset(settings)
    if args.output:
        write_dataset_csv(dataset, args.output)
        split = f"{len(dataset.train_index)} train, {len(dataset.test_index)} test"
        print(f"Wrote {len(dataset.points)} points ({split}) to {args.output}")
    else:
        with tempfile.TemporaryDirectory() as folder:  # write_dataset_csv writes to a path
            path = Path(folder) / "data.csv"
            write_dataset_csv(dataset, str(path))
            sys.stdout.write(path.read_text())
    return 0


def report(args: argparse.Namespace) -> int:
    """Train (or load) an experiment, then write its report: `nn-playground report`."""
    output = _check_output(args.output)
    if args.load:
        given = sorted(spec.option for spec in SPECS.values() if spec.name in vars(args))
        if given or args.save:
            raise ValueError(f"--load reports the saved experiment as it is: leave out {', '.join(given) or '--save'}")
        from engine.storage import load_saved

        trainer, snapshots = load_saved(args.load)  # a saved folder or the app's .zip
        run, status = None, 0
    else:
        trainer, run, snapshots, status = _train_for_report(args)
    try:
        from dashboard.report.render import (
            write_report,  # panel and friends load only here
        )
    except ImportError as error:
        return error_exit(f"the report cannot be written: {error}")
    from tqdm import tqdm

    with tqdm(total=3, desc="starting", file=sys.stderr, bar_format="report: {desc} |{bar:20}| {elapsed}") as bar:

        def show(done: int, total: int, stage: str) -> None:
            bar.set_description_str(stage, refresh=False)
            bar.update(done - bar.n)

        write_report(trainer, output, snapshots, progress=show)
    _print_report_summary(trainer, output, snapshots, args.load)
    if run is not None and run.ended != "finished":
        print(f"{PROG}: {run.message}", file=sys.stderr)
    return status


def _train_for_report(args: argparse.Namespace):
    settings = settings_from(args)
    if args.save:
        _check_folder(args.save)
    from engine.storage import save_experiment
    from engine.training import Trainer

    trainer = Trainer(settings)
    recorder = _snapshot_recorder(trainer)
    with _stop_on_interrupt(trainer):
        run = _train_with_progress_bar(trainer, args.every or max(1, settings.epochs // 100), recorder)
    snapshots = recorder.finish()
    if args.save:
        save_experiment(trainer, args.save, snapshots)
        print(f"Saved to {args.save}")
    return trainer, run, snapshots, {"finished": 0, "diverged": EXIT_DIVERGED, "stopped": EXIT_INTERRUPTED}[run.ended]


def _print_report_summary(trainer: Trainer, output: Path, snapshots, loaded: str | None) -> None:
    progress = trainer.last_progress()
    what = f"{trainer.dataset.name}, {trainer.epochs_done} epochs"
    if progress is not None:
        what += (f", test accuracy {100 * progress.test_accuracy:.1f}% "
                 f"(majority class {100 * trainer.dataset.majority_share():.1f}%)")
    print(f"Wrote {output} ({output.stat().st_size / 1e6:.1f} MB): {what}.")
    if loaded and snapshots is None:
        print(f"{loaded} holds no snapshots (saved before they were recorded): the report shows the final map only.")


def serve(args: argparse.Namespace) -> int:
    try:
        from dashboard.ui import server  # panel and friends load only here
    except ImportError as error:
        return error_exit(f"the dashboard cannot start: {error}")
    server.serve(port=args.port, show=args.show, ready_pages=args.ready_pages, num_procs=args.num_procs)
    return 0


def error_exit(message: str) -> int:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_ERROR
