"""The package's shape, checked from its source: imports point down, modules stay small, calls stay short.

`LAYERS` is the order of the rooms, lowest first (docs/ARCHITECTURE.md draws it): a module may import its
own room and the rooms below it, never one above, so there is no import cycle between rooms; no module
imports drgephys inside a function (a hidden cycle), except the two documented lazy entry points; third-
party imports inside functions are limited to optional extras and the heavy libraries deferred for
start-up time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "drgephys"

#: Rooms, lowest first. A room is a top-level module or subpackage of drgephys.
LAYERS = [
    "_lazy", "_csv", "reasons", "errors", "_validation", "_numerics", "_atomic", "tables", "_cache", "_html", "qc",
    "sim", "io", "spikes", "oscillations", "stats",
    "windows", "params", "quality", "results", "pipeline", "analysis",
    "interop", "plotting", "runners", "batch", "report", "cli_text", "cli_values", "cli", "__init__",
]
#: Modules allowed to import drgephys inside a function, and why.
LAZY_ENTRY_POINTS = {
    "__init__.py": "drgephys.analyze is resolved on first use (PEP 562), so `import drgephys` stays fast",
    "spikes/__init__.py": "detectors and DischargePatternClassifier are resolved on first use (PEP 562): SciPy "
                          "and scikit-learn, which parameters (and, for the classifier, analysis) never need",
    "cli.py": "each subcommand imports its module when it runs, so `drgephys --help` starts at once",
    "batch.py": "the per-file analysis (SciPy, neo) is imported where files are analysed: pool workers inherit "
                "it, a Dask client process that only submits files never loads it",
    "oscillations/__init__.py": "the detector is resolved on first use (PEP 562): parameters need no SciPy",
    "oscillations/methods.py": "the registered BOSC detector is imported on the first detection: validating "
                               "`OscillationParams.method` needs the registry, not SciPy",
    "plotting/viewer.py": "the widget module needs the optional [viewer] extra (plotly, anywidget, ...)",
}
#: Third-party packages that may be imported inside functions: optional extras, and heavy libraries deferred
#: so that `import drgephys` and the command line start fast.
DEFERRED_THIRD_PARTY = {"neo", "quantities", "matplotlib", "distributed", "pyarrow", "pynwb", "hdmf", "pyabf",
                        "plotly", "anywidget", "ipywidgets", "tsdownsample", "IPython", "threadpoolctl", "tomllib",
                        "tomli", "sklearn", "importlib", "scipy", "pandas", "html", "warnings", "dataclasses"}
MAX_LINES = 400
MAX_POSITIONAL = 6


def _modules():
    for p in sorted(PKG.rglob("*.py")):
        rel = p.relative_to(PKG)
        yield p, rel, ast.parse(p.read_text())


def _room(rel: Path) -> str:
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 else rel.stem


def _target(node, rel: Path) -> str | None:
    """The drgephys room an import names, or None for a third-party import."""
    if isinstance(node, ast.ImportFrom):
        if node.level:
            base = list(rel.parts[:-1])[: len(rel.parts) - node.level]
            parts = base + (node.module.split(".") if node.module else [])
            if not parts:   # `from . import x` at the package root
                return node.names[0].name
            return parts[0].removesuffix(".py")
        mod = node.module or ""
        if mod == "drgephys" or mod.startswith("drgephys."):
            return mod.split(".")[1] if "." in mod else node.names[0].name
        return None
    for a in node.names:
        if a.name.startswith("drgephys."):
            return a.name.split(".")[1]
    return None


def _imports(tree):
    """(node, inside_function) for every import statement."""
    inner = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(node):
                if isinstance(sub, (ast.Import, ast.ImportFrom)):
                    inner.add(id(sub))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, id(node) in inner


def test_every_room_is_placed():
    rooms = {_room(rel) for _, rel, _ in _modules()}
    assert rooms <= set(LAYERS), f"rooms missing from LAYERS: {sorted(rooms - set(LAYERS))}"


def test_imports_point_down():
    rank = {r: i for i, r in enumerate(LAYERS)}
    up = []
    for _, rel, tree in _modules():
        here = _room(rel)
        for node, _ in _imports(tree):
            there = _target(node, rel)
            if there is None or there not in rank:
                continue
            if rank[there] > rank[here]:
                up.append(f"{rel}:{node.lineno} imports {there} (above {here})")
    assert not up, "imports that point up:\n" + "\n".join(up)


def test_no_hidden_imports_inside_functions():
    hidden = []
    for _, rel, tree in _modules():
        for node, inside in _imports(tree):
            if not inside:
                continue
            there = _target(node, rel)
            if there is not None:
                if rel.as_posix() not in LAZY_ENTRY_POINTS:
                    hidden.append(f"{rel}:{node.lineno} imports drgephys.{there} inside a function")
                continue
            names = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            for name in names:
                if name.split(".")[0] not in DEFERRED_THIRD_PARTY:
                    hidden.append(f"{rel}:{node.lineno} imports {name} inside a function")
    assert not hidden, "\n".join(hidden)


def test_modules_are_short():
    long = [f"{rel}: {n} lines" for p, rel, _ in _modules() if (n := len(p.read_text().splitlines())) > MAX_LINES]
    assert not long, f"modules over {MAX_LINES} lines (split them by idea):\n" + "\n".join(long)


def test_functions_take_few_positional_parameters():
    many = []
    for _, rel, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                pos = [a.arg for a in node.args.posonlyargs + node.args.args if a.arg not in ("self", "cls")]
                if len(pos) > MAX_POSITIONAL:
                    many.append(f"{rel}:{node.lineno} {node.name}({', '.join(pos)})")
    assert not many, (f"functions with more than {MAX_POSITIONAL} positional parameters (bundle what travels "
                      "together, or make settings keyword-only):\n" + "\n".join(many))


@pytest.mark.parametrize("bad, expected", [
    ("from ..pipeline import analyze_sweep", "imports pipeline (above spikes)"),
    ("from drgephys.batch import analyze_paths", "imports batch (above spikes)"),
])
def test_the_import_check_sees_an_upward_import(bad, expected):
    tree = ast.parse(bad)
    rel = Path("spikes/detect.py")
    rank = {r: i for i, r in enumerate(LAYERS)}
    node = tree.body[0]
    there = _target(node, rel)
    assert rank[there] > rank[_room(rel)] and expected.startswith(f"imports {there}")
