"""The packages' imports point one way: engine, then dashboard's session, plots, report, ui, then the entry points.

Module-level imports only: a method may load a later layer when called (the Experiment's HoloViews views)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["engine", "dashboard.session", "dashboard.plots", "dashboard.report", "dashboard.ui",
          ("dashboard.cli", "dashboard.cli_commands", "dashboard.sweep_cli", "dashboard.baselines_cli"),
          "dashboard.app"]
UI_FREE = {"engine": ("panel", "holoviews", "bokeh"), "dashboard.session": ("panel", "holoviews", "bokeh")}


def layer_of(module: str) -> int | None:
    for index, layer in enumerate(LAYERS):
        if any(
            module == name or module.startswith(name + ".")
            for name in (layer if isinstance(layer, tuple) else (layer,))
        ):
            return index
    return None


def module_imports(path: Path) -> list[str]:
    """The modules a file imports at its top level (relative imports resolved)."""
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    package = name.rsplit(".", 1)[0] if path.name != "__init__.py" else name.removesuffix(".__init__")
    found = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                found.append(".".join(base + ([node.module] if node.module else [])))
            else:
                found.append(node.module)
    return found


def test_imports_point_one_way():
    wrong = []
    for folder in ("engine", "dashboard"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            own = layer_of(module)
            for imported in module_imports(path):
                other = layer_of(imported)
                if other is not None and other > own:
                    wrong.append(f"{module} imports {imported}")
                for banned in UI_FREE.get(str(LAYERS[own]), ()):
                    if imported == banned or imported.startswith(banned + "."):
                        wrong.append(f"{module} imports {imported}")
    assert wrong == []


def test_bench_and_tools_do_not_import_the_tests():
    """The benchmarks and tools share the Chromium driver with the tests from tools/chromium.py, not from tests/."""
    wrong = [f"{path.relative_to(ROOT)} imports {imported}" for folder in ("bench", "tools")
             for path in sorted((ROOT / folder).rglob("*.py")) for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, (ast.Import, ast.ImportFrom))
             for imported in ([a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""])
             if imported == "tests" or imported.startswith("tests.")]
    assert wrong == []
