"""`nn-playground baselines`: classic classifiers (engine.baselines) on the split the data options describe, as a
table or one JSON object; with --network, the network the options describe is trained and shown first.

Engine only: it never imports panel, holoviews or bokeh.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from engine.settings import Settings

EPILOG = """examples:
  {prog} baselines --dataset toy_xor
  {prog} baselines --dataset toy_ring --features x,y,x2,y2        (logistic regression on x, y, x², y²)
  {prog} baselines --dataset toy_xor --hidden 8,8 --activation tanh --network --json

The classifiers are scikit-learn's with their default settings, fed standardised inputs: logistic regression
the network's input features (--features), the others x and y. Large data are fitted on a random sample
(said in the output). --seed fixes that sample and the trees' randomness."""


def add_baselines_command(subparsers, add_setting_options: Callable[[argparse.ArgumentParser], None],
                          settings_from_args: Callable[[argparse.Namespace], Settings], prog: str):
    """Add the `baselines` command to an argparse sub-parser collection; returns its parser."""
    text = "Fit classic classifiers (logistic regression, k-NN, SVM, tree, forest) on the network's train/test split."
    parser = subparsers.add_parser("baselines", help=text, description=text, epilog=EPILOG.format(prog=prog),
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    add_setting_options(parser)
    group = parser.add_argument_group("baselines")
    group.add_argument("--network", action="store_true",
                       help="also train the network the options describe (the network and training options "
                            "matter only then) and show it first")
    group.add_argument("--json", action="store_true",
                       help="print one JSON object: settings, the network (with --network) and each classifier")
    parser.set_defaults(handler=lambda args: baselines(args, settings_from_args(args)))
    return parser


def baselines(args: argparse.Namespace, settings: Settings) -> int:
    from engine.baselines import fit_baselines
    from engine.datasets import load_dataset

    dataset = load_dataset(settings)
    network = _network(settings, dataset) if args.network else None
    fitted = fit_baselines(dataset, settings.features, settings.seed)
    if args.json:
        print(json.dumps({"settings": settings.to_dict(), "network": network, **fitted.to_dict()}))
    else:
        print(baselines_text(fitted, len(dataset.test_index), network))
    return 0


def _network(settings: Settings, dataset) -> dict:
    """Train the network of the settings (quietly) and return its row, as a classifier's."""
    from engine.baselines import network_entry
    from engine.evaluation import evaluate_grid, evaluate_points
    from engine.training import Trainer

    trainer = Trainer(settings, dataset)
    run = trainer.train()
    evaluation = evaluate_points(trainer)
    entry = network_entry(settings, evaluation.train_accuracy, evaluation.test_accuracy,
                          evaluate_grid(trainer).agreement, run.epochs, run.seconds)
    return {**entry, "settings": f"{entry['settings']} ({run.ended})"}


def baselines_text(fitted, test_points: int, network: dict | None = None) -> str:
    """The classifiers (the network first, if given) as a plain-text table, with what they saw."""
    rows = ([network] if network else []) + [result.to_dict() for result in fitted.results]

    def percent(value) -> str:
        return "-" if value is None else f"{100 * value:.1f}%"

    lines = [f"{fitted.dataset}: always answering the most common class gets {percent(fitted.majority)} "
             f"of the {test_points:,} test points.",
             f"{'classifier':<22} {'inputs':<16} {'train':>7} {'test':>7} {'target':>7} {'seconds':>8}  settings"]
    for row in rows:
        lines.append(f"{row['label']:<22} {', '.join(row['inputs']):<16} {percent(row['train_accuracy']):>7} "
                     f"{percent(row['test_accuracy']):>7} {percent(row['agreement']):>7} {row['seconds']:>8.2f}  "
                     f"{row['settings']}")
    lines.append(fitted.note + " 'target': agreement with the exact pattern over the grid (toy data).")
    return "\n".join(lines)
