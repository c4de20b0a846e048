"""The packages' imports point one way: engine, then dashboard's session, plots, report, ui, then the entry points.
Module-level imports only: a method may load a later layer when called (the Experiment's HoloViews views).

No module uses another's private names, and none is over MAX_LINES lines."""

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


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def module_imports(path: Path, everywhere: bool = False) -> list[str]:
    """The modules a file imports at its top level, or `everywhere` (relative imports resolved; for `from m import
    n`, also m.n, which may be a module)."""
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    package = name.rsplit(".", 1)[0] if path.name != "__init__.py" else name.removesuffix(".__init__")
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree) if everywhere else tree.body:
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                found.append(".".join(base + ([node.module] if node.module else [])))
            else:
                found.append(node.module)
            if everywhere:
                found += [f"{found[-1]}.{alias.name}" for alias in node.names]
    return found


def test_imports_point_one_way():
    wrong = []
    for folder in ("engine", "dashboard"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            module = module_name(path)
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


MAX_LINES = 400  # a module of one job reads in one sitting


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and len(name) > 1


def defined_privates(tree: ast.Module) -> set[str]:
    """The private names a module defines: its functions, classes and variables, and what it sets on self or cls."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) \
                and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            names.add(node.attr)
    return {name for name in names if is_private(name)}


def private_uses(tree: ast.Module) -> list[tuple[int, str, str]]:
    """(line, name, how) of each private name a module imports from engine or dashboard ("import"), or uses as an
    attribute of self or cls ("self") or of anything else ("other"), getattr's string included."""
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            ours = node.level > 0 or (node.module or "").split(".")[0] in ("engine", "dashboard")
            uses += [(node.lineno, alias.name, "import") for alias in node.names if ours and is_private(alias.name)]
        elif isinstance(node, ast.Attribute) and is_private(node.attr):
            own = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
            uses.append((node.lineno, node.attr, "self" if own else "other"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("getattr", "setattr", "hasattr") and len(node.args) > 1 \
                and isinstance(node.args[1], ast.Constant) and is_private(str(node.args[1].value)):
            uses.append((node.lineno, node.args[1].value, "other"))
    return uses


def test_no_module_reaches_into_another_modules_private_names():
    """A private name (one leading underscore) of engine/ or dashboard/ is used only in the module that defines it.
    Not `from .m import _x`; not `self._x` where a class of another module (a base, a mixin) defines `_x`; not
    `obj._x` where a module this one imports defines `_x` (`experiment._worker`, `sweep_module._DATASETS`).
    Third-party private names (Panel's, Bokeh's) are left to the modules that must use them."""
    paths = [path for folder in ("engine", "dashboard") for path in sorted((ROOT / folder).rglob("*.py"))]
    trees = {path: ast.parse(path.read_text()) for path in paths}
    defined = {path: defined_privates(tree) for path, tree in trees.items()}
    definers: dict[str, set[str]] = {}
    for path in paths:
        for name in defined[path]:
            definers.setdefault(name, set()).add(module_name(path))
    wrong = []
    for path, tree in trees.items():
        imported = set(module_imports(path, everywhere=True))
        for line, name, how in private_uses(tree):
            if name in defined[path] and how != "import":
                continue
            elsewhere = definers.get(name, set())
            if how == "import" or (how == "self" and elsewhere) or (how == "other" and elsewhere & imported):
                wrong.append(f"{path.relative_to(ROOT)}:{line} {name}")
    assert wrong == []


def test_no_module_is_over_the_line_limit():
    long = [f"{path.relative_to(ROOT)}: {count} lines" for folder in ("engine", "dashboard", "bench", "tools")
            for path in sorted((ROOT / folder).rglob("*.py"))
            if (count := len(path.read_text().splitlines())) > MAX_LINES]
    assert long == []
