"""Another checkout's engine in this process, for a before/after comparison timed in one run (`--against DIR`).

Its `engine` folder is copied as the package `engine_against` (the engine imports itself relatively), so both
engines train side by side, interleaved, under the same load.
"""

from __future__ import annotations

import importlib
import shutil
import sys
import tempfile
from pathlib import Path


def load_engine(checkout: Path):
    """The `engine` package of `checkout`, imported as `engine_against`."""
    folder = Path(tempfile.mkdtemp(prefix="engine-against-"))
    shutil.copytree(checkout / "engine", folder / "engine_against")
    sys.path.insert(0, str(folder))
    return importlib.import_module("engine_against")


def module(engine, name: str):
    """engine.<name> of that package (engine_against.<name> for the other checkout)."""
    return importlib.import_module(f"{engine.__name__}.{name}")
