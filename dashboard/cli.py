"""The `nn-playground` command: train, export a dataset as CSV, write an HTML report, or serve the dashboard.

`train` and `data` use the engine only: they never import panel, param, holoviews or bokeh.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import tempfile
import threading
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

# Only the settings load at start: torch and scikit-learn load when a command needs them, so --help is quick.
from engine.settings import PARTS, SPECS, Settings, Spec, format_value

from .sweep_cli import add_sweep_command

if TYPE_CHECKING:
    from engine.training import Trainer

PROG = "nn-playground"
DEFAULTS = Settings()
EXIT_ERROR, EXIT_DIVERGED, EXIT_INTERRUPTED = 2, 3, 130


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


def _port(text: str) -> int:
    if not (text.isdigit() and int(text) <= 65535):
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to 65535, got {text!r}")
    return int(text)


def _option_type(spec: Spec):
    """argparse's type for a setting: its text form read by its declaration (the range is checked by Settings)."""
    def parse(text: str):
        try:
            return spec.parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not allowed; {spec.allowed()}") from None

    parse.__name__ = spec.name  # argparse names the type in some messages
    return parse


TRAIN_EXAMPLES = f"""examples:
  {PROG} train --dataset toy_xor --hidden 8,8 --activation tanh --epochs 300
  {PROG} train --dataset iris --iris-features sepal_length,petal_width --hidden 0 --json
  {PROG} train --csv points.csv --hidden 16,16 --lr 0.01 --save runs/mine
  {PROG} train --dataset toy_hard --hidden 32,32 --lr 0.02 --schedule cosine --epochs 1000
  {PROG} train --optimizer sgd --lr 10 --activation linear --hidden 8,8   (diverges: exit code 3)

Ctrl-C ends training after the current epoch and still reports (and saves) the result.
Exit codes: 0 trained, 2 bad input, 3 training diverged, 130 interrupted."""
DATA_EXAMPLES = f"""examples:
  {PROG} data --dataset toy_ring -o ring.csv
  {PROG} data --dataset iris --iris-features petal_length,sepal_width
  {PROG} data --dataset moons --samples 500 --noise 0.1 -o moons.csv"""
REPORT_EXAMPLES = f"""examples:
  {PROG} report -o report.html                     (trains the default network, then writes the report)
  {PROG} report --dataset toy_xor --hidden 8,8 --activation tanh --lr 0.01 --epochs 300 -o xor.html
  {PROG} report --dataset toy_ring --hidden 16 --epochs 500 --save runs/ring -o ring.html
  {PROG} report --load runs/ring -o ring.html     (a saved experiment: {PROG} train --save DIR)

The report is one HTML file that opens offline in any browser: settings, data and split, loss and accuracy
curves, decision map and exact target, evaluation, confusion matrices, runs, and a slider over snapshots of the
decision map through training (recorded while training, and saved by --save or '{PROG} train --save').
Exit codes: 0 written, 2 bad input, 3 training diverged (the report is still written), 130 interrupted."""
SERVE_EXAMPLES = f"""examples:
  {PROG} serve --show
  {PROG} serve --port 5007
  {PROG} serve --num-procs 2      (a class on a 2-core machine: each process serves its own sessions)"""
MAIN_EXAMPLES = f"""examples:
  {PROG} train --dataset toy_ring --hidden 16 --epochs 500
  {PROG} data --dataset spiral -o spiral.csv
  {PROG} report --dataset toy_xor --hidden 8,8 --activation tanh --lr 0.01 -o xor.html
  {PROG} report --load runs/ring -o ring.html
  {PROG} serve --show
Run '{PROG} COMMAND --help' for the options of each command."""


class Parser(argparse.ArgumentParser):
    """Errors in one line, `nn-playground: error: ...`, with no usage block."""

    def error(self, message: str):
        self.exit(EXIT_ERROR, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


def _add_options(parser: argparse.ArgumentParser, part: str) -> None:
    """One option per setting of this part (data, network or training), with its declared help and default."""
    group = parser.add_argument_group(part)
    for spec in SPECS.values():
        if spec.part != part:
            continue
        default = getattr(DEFAULTS, spec.name)
        text = spec.help if spec.kind == "path" else f"{spec.help} Allowed: {spec.allowed()}"
        if default is not None:
            text += f" (default: {format_value(default) or 'none'})"
        # Options left out are not set at all, so that Settings supplies its defaults.
        bare = dict(nargs="?", const=True) if spec.kind == "bool" else {}  # `--notebook-draw` alone means yes
        group.add_argument(spec.option, dest=spec.name, type=_option_type(spec), metavar=spec.metavar,
                           help=text.replace("%", "%%"), default=argparse.SUPPRESS, **bare)


def build_parser() -> argparse.ArgumentParser:
    def command(name: str, text: str, epilog: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name, help=text, description=text, epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter
        )

    parser = Parser(
        prog=PROG,
        description="A playground for small neural networks classifying 2-D data.",
        epilog=MAIN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {version('nn-playground')}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    train = command("train", "Train a network and report its accuracy.", TRAIN_EXAMPLES)
    for part in PARTS:
        _add_options(train, part)
    output = train.add_argument_group("output")
    output.add_argument("--save", metavar="DIR", help="save settings, history, weights and map snapshots into DIR")
    output.add_argument("--json", action="store_true", help="print one JSON object (settings, final metrics, history)")
    output.add_argument("--every", type=_positive, metavar="N", help="update the progress bar every N epochs (default: about 100 updates)")
    train.set_defaults(handler=_train)

    data = command("data", "Write a dataset as CSV: the two features, label and split (train or test).", DATA_EXAMPLES)
    _add_options(data, "data")
    data.add_argument("-o", "--output", metavar="FILE", help="the CSV file to write (default: standard output)")
    data.set_defaults(handler=_data)

    report = command("report", "Train a network (or load a saved one) and write a self-contained HTML report.",
                     REPORT_EXAMPLES)
    for part in PARTS:
        _add_options(report, part)
    output = report.add_argument_group("report")
    output.add_argument("--load", metavar="DIR", help="report a saved experiment (from --save) instead of training")
    output.add_argument("-o", "--output", metavar="FILE", default="report.html",
                        help="the HTML file to write (default: report.html)")
    output.add_argument("--save", metavar="DIR", help="also save the trained experiment into DIR")
    output.add_argument("--every", type=_positive, metavar="N", help="update the progress bar every N epochs")
    report.set_defaults(handler=_report_command)

    add_sweep_command(commands, lambda parser: [_add_options(parser, part) for part in PARTS], _settings)

    serve = command("serve", "Serve the interactive dashboard in the browser.", SERVE_EXAMPLES)
    serve.add_argument("--port", type=_port, default=5006, help="port to serve on (default: 5006)")
    serve.add_argument("--show", action="store_true", help="open the dashboard in a browser")
    serve.add_argument("--num-procs", type=_positive, default=1, metavar="N",
                       help="server processes sharing the port (default: 1); for a class, one per core")
    serve.set_defaults(handler=_serve)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    """Settings from the options given; Settings checks the values."""
    values = {name: value for name, value in vars(args).items() if name in SPECS}
    if "csv_path" in values and values.setdefault("dataset", "csv") != "csv":
        raise ValueError(f"--csv goes with --dataset csv, not --dataset {values['dataset']}")
    return Settings(**values)


def _train(args: argparse.Namespace) -> int:
    from engine.storage import save_experiment
    from engine.training import Trainer

    settings = _settings(args)
    if args.save:
        _check_folder(args.save)  # a bad folder fails now, not after training
    trainer = Trainer(settings)
    recorder = _snapshot_recorder(trainer) if args.save else None
    with _stop_on_interrupt(trainer):
        if args.json:
            run = trainer.train(callback=recorder, every=recorder.every if recorder else 1)
        else:
            run = _train_with_progress_bar(trainer, args.every or max(1, settings.epochs // 100), recorder)
    if args.save:
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
    with tqdm(total=trainer.settings.epochs, desc="training", file=sys.stderr, bar_format="{desc} |{bar:20}| {elapsed}<{remaining}") as bar:

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


def _check_output(file: str | Path) -> Path:
    """Make sure the file `file` can be written (its folder exists and is writable), before any training."""
    output = Path(file)
    if output.is_dir():
        raise ValueError(f"{output}: is a folder; give the HTML file to write, e.g. -o {output / 'report.html'}")
    if not output.parent.is_dir():
        raise ValueError(f"{output}: the folder {output.parent} does not exist")
    if output.exists() and not os.access(output, os.W_OK):
        raise ValueError(f"{output}: cannot be written (permission denied)")
    _check_writable(output.parent)
    return output


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
        "run": {"ended": run.ended, "message": run.message, "seconds": run.seconds, "parameters": trainer.parameter_count},
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
    if saved:
        print(f"Saved to {saved}")


def _data(args: argparse.Namespace) -> int:
    from engine.datasets import load_dataset, write_dataset_csv

    dataset = load_dataset(_settings(args))
    if args.output:
        write_dataset_csv(dataset, args.output)
        print(f"Wrote {len(dataset.points)} points ({len(dataset.train_index)} train, {len(dataset.test_index)} test) to {args.output}")
    else:
        with tempfile.TemporaryDirectory() as folder:  # write_dataset_csv writes to a path
            path = Path(folder) / "data.csv"
            write_dataset_csv(dataset, str(path))
            sys.stdout.write(path.read_text())
    return 0


def _report_command(args: argparse.Namespace) -> int:
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
        return _error(f"the report cannot be written: {error}")
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
    from engine.storage import save_experiment
    from engine.training import Trainer

    settings = _settings(args)
    if args.save:
        _check_folder(args.save)
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


def _serve(args: argparse.Namespace) -> int:
    try:
        from dashboard.ui import server  # panel and friends load only here
    except ImportError as error:
        return _error(f"the dashboard cannot start: {error}")
    server.serve(port=args.port, show=args.show, num_procs=args.num_procs)
    return 0


def _error(message: str) -> int:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_ERROR


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:  # --help, --version and argparse's errors
        return int(exit.code or 0)
    try:
        return args.handler(args)
    except BrokenPipeError:
        # The reader (say `head`) closed the pipe: stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (ValueError, OSError) as error:  # SettingsError, CsvError and StorageError are ValueErrors
        return _error(str(error))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
