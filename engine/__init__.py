"""nn-playground's engine: datasets, the MLP, training and grid evaluation. numpy, torch and scikit-learn only."""

from .csv_points import CsvError, read_points_csv
from .datasets import Dataset, load_dataset, write_dataset_csv
from .network import build_model
from .settings import Settings, SettingsError
from .training import History, Progress, Run, Trainer

__all__ = [
    "CsvError",
    "Dataset",
    "History",
    "Progress",
    "Run",
    "Settings",
    "SettingsError",
    "Trainer",
    "build_model",
    "load_dataset",
    "read_points_csv",
    "write_dataset_csv",
]
