"""Pure helpers of benchmarks/speed.py: best-of selection, ratios and target verdicts."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


speed = _load("speed")


def test_best_of_keeps_fastest_run_and_largest_memory():
    runs = iter([{"wall_s": 3.0, "peak_rss_mb": 100.0, "tag": "a"},
                 {"wall_s": 1.0, "peak_rss_mb": 90.0, "tag": "b"},
                 {"wall_s": 2.0, "peak_rss_mb": 120.0, "tag": "c"}])
    best, walls = speed.best_of(lambda: next(runs), 3)
    assert best["tag"] == "b" and best["wall_s"] == 1.0
    assert best["peak_rss_mb"] == 120.0
    assert walls == [3.0, 1.0, 2.0]


def test_best_peer_run_selects_on_the_named_peer():
    runs = iter([{"wall_s": {"read": 0.1, "efel": 5.0}, "peak_rss_mb": 50.0},
                 {"wall_s": {"read": 0.3, "efel": 4.0}, "peak_rss_mb": 60.0}])
    best = speed.best_peer_run(lambda: next(runs), "efel", 2)
    assert best["wall_s"]["efel"] == 4.0 and best["walls"] == [5.0, 4.0] and best["peak_rss_mb"] == 60.0


def test_ratio_and_verdict():
    assert speed.ratio(2.0, 4.0) == pytest.approx(0.5)
    assert math.isnan(speed.ratio(1.0, 0.0)) and math.isnan(speed.ratio(1.0, float("nan")))
    assert speed.verdict(0.2, 0.25) == "met"
    assert speed.verdict(0.3, 0.25) == "**missed**"
    assert speed.verdict(float("nan"), 0.25) == "not measured"


def test_a_compared_command_imports_the_tree_its_pythonpath_names(tmp_path, monkeypatch):
    """The before/after pairs run every side from a neutral directory: from the repository root, `python -c`
    would import the working tree before a checkout named in PYTHONPATH (the pairs once compared the code
    with itself)."""
    import os

    common = sys.modules["_common"]          # loaded by speed.py
    fake = tmp_path / "tree" / "drgephys"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    monkeypatch.chdir(BENCH.parent)          # the repository root, where the benchmarks are started
    assert common.imported_from(dict(os.environ, PYTHONPATH=str(fake.parent))) == fake
    runs = common.alternate_runs({"tree": ([sys.executable, "-c", "import drgephys; print(len(drgephys.__file__))"],
                                           dict(os.environ, PYTHONPATH=str(fake.parent)))}, 1, printed=True)
    assert runs == {"tree": [float(len(str(fake / "__init__.py")))]}
