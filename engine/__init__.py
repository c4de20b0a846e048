"""nn-playground's engine: datasets, the MLP, training and grid evaluation. numpy, torch and scikit-learn only.

Names load on first use (PEP 562), so `engine.settings` alone (what a command line needs to parse its options)
does not pay for importing torch and scikit-learn.
"""

from importlib import import_module

_HOMES = {
    "CsvError": "csv_points",
    "read_points_csv": "csv_points",
    "Dataset": "datasets",
    "load_dataset": "datasets",
    "write_dataset_csv": "datasets",
    "build_model": "network",
    "Settings": "settings",
    "SettingsError": "setting_types",
    "ModelResult": "stacked_training",
    "Sweep": "sweep",
    "run_sweep": "sweep",
    "History": "training",
    "Progress": "training",
    "Run": "training",
    "Trainer": "training",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    return getattr(import_module(f".{_HOMES[name]}", __name__), name)
