"""The `nn-playground` command: train, export a dataset as CSV, write an HTML report, sweep, fit classic baselines,
or serve the dashboard.

This module builds the parser: one option per setting, derived from its declaration in `engine.settings` (type,
allowed values, help, default), grouped by part, and each sub-command's own options and examples. What the
sub-commands do is `dashboard.cli_commands` (and `dashboard.sweep_cli`, `dashboard.baselines_cli`). `train`, `data`
and `baselines` use the engine only: they never import panel, holoviews or bokeh (param, which declares the
settings, is light).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys

# Only the settings load at start: torch and scikit-learn load when a command needs them, so --help is quick.
from engine.setting_types import FilePath, Setting, YesNo, format_value
from engine.settings import PARTS, SPECS, Settings

from . import cli_commands
from .baselines_cli import add_baselines_command
from .cli_commands import EXIT_ERROR, EXIT_INTERRUPTED, PROG
from .sweep_cli import add_sweep_command

DEFAULTS = Settings()
READY_PAGES = 20  # per server process: 30 students on two processes, even split 20/10, open on pages built ahead


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


def _count(text: str) -> int:
    if not (text.isdigit() and int(text) <= 1000):
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to 1000, got {text!r}")
    return int(text)


def _port(text: str) -> int:
    if not (text.isdigit() and int(text) <= 65535):
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to 65535, got {text!r}")
    return int(text)


def _option_type(spec: Setting):
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
  {PROG} baselines --dataset toy_xor --json
  {PROG} serve --show
Run '{PROG} COMMAND --help' for the options of each command."""


class Parser(argparse.ArgumentParser):
    """Errors in one line, `nn-playground: error: ...`, with no usage block."""

    def error(self, message: str):
        self.exit(EXIT_ERROR, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


class _Version(argparse.Action):
    """--version, read from the installed package only when asked (importlib.metadata: ~40 ms of every start)."""

    def __call__(self, parser, namespace, values, option_string=None):
        from importlib.metadata import version

        print(f"{PROG} {version('nn-playground')}")
        parser.exit()


def _add_options(parser: argparse.ArgumentParser, part: str) -> None:
    """One option per setting of this part (data, network or training), with its declared help and default."""
    group = parser.add_argument_group(part)
    for spec in SPECS.values():
        if spec.part != part:
            continue
        default = getattr(DEFAULTS, spec.name)
        text = spec.doc if isinstance(spec, FilePath) else f"{spec.doc} Allowed: {spec.allowed()}"
        if default is not None:
            text += f" (default: {format_value(default) or 'none'})"
        # Options left out are not set at all, so that Settings supplies its defaults.
        bare = dict(nargs="?", const=True) if isinstance(spec, YesNo) else {}  # `--notebook-draw` alone means yes
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
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    train = command("train", "Train a network and report its accuracy.", TRAIN_EXAMPLES)
    for part in PARTS:
        _add_options(train, part)
    output = train.add_argument_group("output")
    output.add_argument("--save", metavar="DIR", help="save settings, history, weights and map snapshots into DIR")
    output.add_argument("--json", action="store_true", help="print one JSON object (settings, final metrics, history)")
    output.add_argument(
        "--every",
        type=_positive,
        metavar="N",
        help="update the progress bar every N epochs (default: about 100 updates)",
    )
    train.set_defaults(handler=cli_commands.train, quick_exit=True)

    data = command("data", "Write a dataset as CSV: the two features, label and split (train or test).", DATA_EXAMPLES)
    _add_options(data, "data")
    data.add_argument("-o", "--output", metavar="FILE", help="the CSV file to write (default: standard output)")
    data.set_defaults(handler=cli_commands.data, quick_exit=True)

    report = command("report", "Train a network (or load a saved one) and write a self-contained HTML report.",
                     REPORT_EXAMPLES)
    for part in PARTS:
        _add_options(report, part)
    output = report.add_argument_group("report")
    output.add_argument("--load", metavar="DIR", help="report a saved experiment (from --save) instead of training")
    output.add_argument(
        "-o", "--output", metavar="FILE", default="report.html", help="the HTML file to write (default: report.html)"
    )
    output.add_argument("--save", metavar="DIR", help="also save the trained experiment into DIR")
    output.add_argument("--every", type=_positive, metavar="N", help="update the progress bar every N epochs")
    report.set_defaults(handler=cli_commands.report, quick_exit=True)

    add_sweep_command(
        commands, lambda parser: [_add_options(parser, part) for part in PARTS], cli_commands.settings_from
    )

    add_baselines_command(
        commands, lambda parser: [_add_options(parser, part) for part in PARTS], cli_commands.settings_from, PROG
    )

    serve = command("serve", "Serve the interactive dashboard in the browser.", SERVE_EXAMPLES)
    serve.add_argument("--port", type=_port, default=5006, help="port to serve on (default: 5006)")
    serve.add_argument("--show", action="store_true", help="open the dashboard in a browser")
    serve.add_argument("--num-procs", type=_positive, default=1, metavar="N",
                       help="server processes sharing the port (default: 1); for a class, one per core")
    serve.add_argument("--ready-pages", type=_count, default=READY_PAGES, metavar="N",
                       help=f"pages each process builds ahead while idle, so that a class opening the app at once "
                            f"does not wait; each holds ~5 MiB until taken (default: {READY_PAGES}; 0: none)")
    serve.set_defaults(handler=cli_commands.serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    return _main(argv)[0]


def _main(argv: list[str] | None) -> tuple[int, bool]:
    """The exit code, and whether the process may end at once (the command left nothing for exit handlers)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:  # --help, --version and argparse's errors
        return int(exit.code or 0), True
    quick = getattr(args, "quick_exit", False)
    try:
        return args.handler(args), quick
    except BrokenPipeError:
        # The reader (say `head`) closed the pipe: stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1, quick
    except (ValueError, OSError) as error:  # SettingsError, CsvError and StorageError are ValueErrors
        return cli_commands.error_exit(str(error)), quick
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED, quick


def run() -> None:
    """The console script: `main`, then an exit that skips the interpreter's teardown where the command allows it
    (train, data, report: ~0.6 s of unloading torch after the output is out), else one that skips collecting every
    object the command made (a served class's pages: seconds, after the work is done and said)."""
    try:
        code, quick = _main(None)
        if quick:
            _flush()
            os._exit(code)
        sys.exit(code)
    finally:  # also when a --num-procs parent's Tornado exits it after its serving processes
        gc.freeze()


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can be said
            pass


if __name__ == "__main__":
    run()
