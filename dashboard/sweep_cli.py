"""`nn-playground sweep`: train a grid of settings (any train option as the base, `--vary` axes, seeds).

    nn-playground sweep --dataset toy_xor --epochs 300 --vary lr 0.001 0.01 0.1 --vary hidden 4 8 8,8 --seeds 3
    nn-playground sweep --vary activation relu tanh --seed-list 0,3,7 --json > results.json
    nn-playground sweep --vary lr 0.01 0.1 -o results.csv --scheduler tcp://10.0.0.5:8786

Wiring (the command line's module does it): `add_sweep_command(subparsers, add_setting_options,
settings_from_args)`, where `add_setting_options(parser)` adds the train command's setting options and
`settings_from_args(args)` turns them into the base `Settings`. Uses the engine only (no panel, no bokeh).
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from engine.setting_types import SettingsError
from engine.settings import SPECS, Settings

PROG = "nn-playground"
EXIT_ERROR, EXIT_INTERRUPTED = 2, 130
METRICS = ("epoch", "loss", "test_loss", "train_accuracy", "test_accuracy")
EPILOG = f"""examples:
  {PROG} sweep --dataset toy_xor --vary lr 0.001 0.01 0.1 --vary hidden 4 8 8,8 --seeds 3
  {PROG} sweep --vary activation relu tanh elu --seed-list 0,3,7 --json
  {PROG} sweep --vary optimizer adam sgd --vary momentum 0 0.9 -o results.csv
  {PROG} sweep --vary lr 0.01 0.1 --scheduler tcp://127.0.0.1:8786

Any setting can be an axis (names as the options, with - or _): a list is written with commas (hidden 8,8;
features x,y,xy), and `hidden 0` is no hidden layer. Every combination of the axes is trained with every seed
(at most {{limit:,}} models). An axis must matter in some cell: momentum needs a cell with --optimizer sgd,
`--vary csv FILE...` needs --dataset csv (each file is read before training). Models that share data, network
and training settings except seed, lr and reg_rate train together as one stacked computation; dropout and
mini-batch models train one by one.
Ctrl-C stops the sweep and still writes the models that finished.
"""


def add_sweep_command(subparsers, add_setting_options: Callable[[argparse.ArgumentParser], None],
                      settings_from_args: Callable[[argparse.Namespace], Settings]) -> argparse.ArgumentParser:
    """Add the `sweep` command to an argparse sub-parser collection; returns its parser."""
    from engine.sweep import MAX_MODELS

    parser = subparsers.add_parser(
        "sweep", help="train a grid of settings x seeds (stacked, in parallel, or on a Dask cluster)",
        description="Train every combination of the --vary axes, with each seed, from the other options as the base.",
        epilog=EPILOG.replace("{limit:,}", f"{MAX_MODELS:,}"), formatter_class=argparse.RawDescriptionHelpFormatter)
    add_setting_options(parser)
    group = parser.add_argument_group("sweep")
    group.add_argument("--vary", nargs="+", action="append", default=[], metavar=("NAME", "VALUE"),
                       help="a setting and the values it takes (repeat --vary for more axes)")
    seeds = group.add_mutually_exclusive_group()
    seeds.add_argument(
        "--seeds", type=int, metavar="N", help="train each combination with seeds 0..N-1 (default: the base seed)"
    )
    seeds.add_argument("--seed-list", metavar="S,S,...", help="train each combination with these seeds, e.g. 0,3,7")
    group.add_argument(
        "--json", action="store_true", help='print one JSON object: {"results": [{settings, final, ...}]}'
    )
    group.add_argument(
        "-o", "--output", metavar="FILE", help="write one CSV row per model (settings and final metrics)"
    )
    group.add_argument(
        "--report", metavar="FILE", help="write an offline HTML report: heatmap, spread over seeds, table"
    )
    group.add_argument(
        "--scheduler", metavar="ADDRESS", help="a Dask scheduler, tcp://HOST:PORT (default: this machine)"
    )
    group.add_argument("--workers", type=int, metavar="N", help="local worker processes (default: one per core)")
    parser.set_defaults(handler=lambda args: run_sweep_command(args, settings_from_args))
    return parser


# ----- parsing the axes -----
def axis_name(text: str) -> str:
    """The setting an axis names: its name or its option, with - or _ (`csv` for the CSV file)."""
    wanted = text.replace("_", "-").lstrip("-")
    for name, spec in SPECS.items():
        if wanted in (name.replace("_", "-"), spec.option.lstrip("-")):
            if name == "seed":
                raise SettingsError("--vary seed: give seeds with --seeds N or --seed-list S,S,...")
            return name
    raise SettingsError(f"--vary {text}: not a setting (settings: {', '.join(SPECS)})")


def axis_value(name: str, text: str):
    """A value of the setting from its text, as the train options read it (its range is checked later)."""
    spec = SPECS[name]
    try:
        value = spec.parse(text)
    except ValueError:
        raise SettingsError(f"--vary {name}: {text!r} is not allowed; {spec.allowed()}") from None
    return value


def base_from_args(args: argparse.Namespace, settings_from_args: Callable[[argparse.Namespace], Settings]) -> Settings:
    """The base settings. With --dataset csv and no --csv, a `--vary csv` axis's first file stands in for --csv (the
    base needs one; each cell then has its own)."""
    if getattr(args, "dataset", None) == "csv" and getattr(args, "csv_path", None) is None:
        files = [item[1] for item in args.vary if len(item) > 1 and axis_name(item[0]) == "csv_path"]
        if files:
            args = argparse.Namespace(**{**vars(args), "csv_path": files[0]})
    return settings_from_args(args)


def sweep_from_args(args: argparse.Namespace, base: Settings):
    from engine.sweep import MAX_MODELS, Sweep

    axes: dict[str, list] = {}
    for item in args.vary:
        name = axis_name(item[0])
        if len(item) < 2:
            raise SettingsError(f"--vary {item[0]}: give one or more values")
        if name in axes:
            raise SettingsError(f"--vary {item[0]}: this axis is given twice")
        axes[name] = [axis_value(name, text) for text in item[1:]]
    if args.seed_list is not None:
        try:
            seeds = [int(part) for part in args.seed_list.split(",") if part.strip()]
        except ValueError:
            raise SettingsError(f"--seed-list: {args.seed_list!r} is not whole numbers separated by commas") from None
        if not seeds:
            raise SettingsError("--seed-list: give at least one seed")
    elif args.seeds is not None:
        if args.seeds < 1:
            raise SettingsError(f"--seeds: give at least 1, got {args.seeds}")
        count = math.prod(len(values) for values in axes.values()) * args.seeds
        if count > MAX_MODELS:  # counted before the list of seeds is built (a billion seeds would not fit)
            raise SettingsError(f"the sweep has {count:,} models, more than the limit of {MAX_MODELS:,}")
        seeds = list(range(args.seeds))
    else:
        seeds = [base.seed]
    sweep = Sweep(base, axes, seeds)
    sweep.models()  # every model valid, and the grid within the limit, before anything trains
    idle = sweep.idle_axis(lambda name: SPECS[name].option)  # an axis that changes nothing: refused, with its needs
    if idle:
        raise SettingsError(f"--vary {SPECS[idle[0]].option.lstrip('-')}: {idle[1]}")
    return sweep


# ----- running -----
def run_sweep_command(args: argparse.Namespace, settings_from_args: Callable[[argparse.Namespace], Settings]) -> int:
    from tqdm import tqdm

    from engine.sweep import run_sweep

    try:
        base = base_from_args(args, settings_from_args)
        sweep = sweep_from_args(args, base)
        if args.workers is not None and args.workers < 1:
            raise SettingsError(f"--workers: give at least 1, got {args.workers}")
        from engine.atomic import check_output

        for option, path in (("-o", args.output), ("--report", args.report)):
            if path is not None and Path(path).is_dir():
                raise SettingsError(f"{option} {path}: is a folder; give the file to write")
            if path is not None:
                check_output(path)  # before any training: not a device, its folder writable
        if args.scheduler:
            from engine.sweep_dask import check_scheduler

            check_scheduler(args.scheduler)  # a bad or silent address fails in seconds, with one line
        problems = sweep.csv_problems()  # every CSV file read now, not after other models trained
    except (SettingsError, ValueError, OSError) as error:
        return _error(str(error))
    for problem in problems:  # one line per bad file
        _error(problem)
    if problems:
        return EXIT_ERROR
    total = len(sweep.models())
    stop = threading.Event()
    with tqdm(total=total, unit="model", desc="sweep", file=sys.stderr, disable=None) as bar, _stop_on_interrupt(stop):
        def progress(done, count, result) -> None:
            bar.update(1)

        try:
            results = run_sweep(sweep, scheduler=args.scheduler, device=base.device, progress=progress, stop=stop,
                                workers=args.workers)
        except OSError as error:
            return _error(str(error) if "Dask scheduler" in str(error) or not args.scheduler else
                          f"cannot reach the Dask scheduler {args.scheduler}: {error}")
    interrupted = stop.is_set()
    try:
        if args.output:
            write_csv(args.output, sweep, results)
        if args.report:
            from dashboard.report.sweep_section import (
                write_sweep_report,  # panel and holoviews only when asked
            )

            write_sweep_report(sweep, results, args.report)
    except OSError as error:  # a full disk: the file is left as it was (engine.atomic)
        return _error(str(error))
    if args.json:
        print(json.dumps(report(results, total, interrupted)))
    elif not args.output:
        print_table(sweep, results)
    if interrupted:
        print(f"{PROG}: interrupted: {sum(r.ended == 'finished' for r in results)} of {total} models finished",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


class _stop_on_interrupt:
    """The first Ctrl-C asks the sweep to stop (what finished is kept); a second one interrupts at once."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        self.stop.set()
        signal.signal(signal.SIGINT, self.previous)

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def _finite(value):
    return value if not isinstance(value, float) or math.isfinite(value) else None


def report(results, total: int, interrupted: bool = False) -> dict:
    return {
        "models": total,
        "interrupted": interrupted,
        "results": [
            {
                "settings": r.settings.to_dict(),
                "final": None if r.final is None else {key: _finite(r.final[key]) for key in METRICS},
                "agreement": r.agreement,
                "majority": r.majority,
                "epochs_to_halfway": r.epochs_to_halfway,
                "seconds": r.seconds,
                "ended": r.ended,
                "message": r.message,
            }
            for r in results
        ],
    }


def _shown(value) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value)) if value else "0"
    return "" if value is None else str(value)


def write_csv(path: str, sweep, results) -> None:
    from engine.atomic import write_text
    from engine.sweep_table import csv_text

    write_text(path, csv_text(results), newline="")


def print_table(sweep, results) -> None:
    axes = list(sweep.axes) + ["seed"]
    header = [*axes, "loss", "train acc", "test acc", "baseline", "agreement", "to halfway", "ended"]

    def percent(value: float | None) -> str:
        return "" if value is None else f"{100 * value:.1f}%"

    rows = []
    for r in results:
        final = r.final or {}
        rows.append([_shown(getattr(r.settings, name)) for name in axes] + [
            "" if final.get("loss") is None else f"{final['loss']:.4f}", percent(final.get("train_accuracy")),
            percent(final.get("test_accuracy")), percent(r.majority), percent(r.agreement), _shown(r.epochs_to_halfway),
            r.ended])
    widths = [max(len(str(row[i])) for row in [header] + rows) for i in range(len(header))]
    for row in [header] + rows:
        print("  ".join(str(cell).rjust(width) for cell, width in zip(row, widths)))
    done = [r for r in results if r.final is not None and r.final.get("test_accuracy") is not None]
    if done:
        best = max(done, key=lambda r: r.final["test_accuracy"])
        described = ", ".join(f"{name}={_shown(getattr(best.settings, name))}" for name in axes)
        print(f"best test accuracy: {100 * best.final['test_accuracy']:.1f}% ({described})")


def _error(message: str) -> int:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_ERROR
