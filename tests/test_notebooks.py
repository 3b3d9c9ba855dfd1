"""The tutorial notebooks: re-executed the way Jupyter runs them, every cell tagged ``figure`` must yield an
image, nothing may be written to stderr (warnings such as tqdm's "IProgress not found"), the whole set runs
within its time budget, and the committed copies are the build script's cells, executed, with small outputs.
"""

from __future__ import annotations

import importlib.util
import time
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest

from .conftest import REPO

NB_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("*.ipynb"))
#: Seconds for executing all notebooks (the issue's CI budget).
BUDGET_S = 60.0


def _load_build_script():
    spec = importlib.util.spec_from_file_location("build_notebooks", REPO / "scripts" / "build_notebooks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


BUILD = _load_build_script()


def _run(path):
    nb = nbformat.read(path, as_version=4)
    try:
        return nb, BUILD.execute(nb, NB_DIR)
    except Exception as err:  # reported by the notebook's own test
        return err, float("nan")


@pytest.fixture(scope="module")
def executed():
    """(name -> (executed notebook or the exception it raised, seconds), wall time of the whole set in s).
    Two notebooks run at a time, each in its own kernel (they wait on kernel start-up and I/O part of the
    time); CI's notebook time is the wall time of the set."""
    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(zip([p.name for p in NOTEBOOKS], pool.map(_run, NOTEBOOKS)))
    return runs, time.perf_counter() - t


def test_every_notebook_is_built_by_the_script():
    assert [p.stem for p in NOTEBOOKS] == sorted(BUILD.NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_draws_every_figure_and_writes_nothing_to_stderr(executed, path):
    nb, _ = executed[0][path.name]
    if isinstance(nb, Exception):
        raise nb
    tagged = [c for c in nb.cells if BUILD.FIGURE_TAG in c.get("metadata", {}).get("tags", [])]
    if path.stem[:2] in ("01", "02", "03", "04"):
        assert tagged, f"{path.name} has figures but no cell tagged {BUILD.FIGURE_TAG!r}"
    assert BUILD.figure_cells_without_image(nb) == [], "figure cells produced no image (backend forced?)"
    assert BUILD.stderr_outputs(nb) == []


def test_notebooks_run_within_the_budget(executed):
    runs, wall = executed
    times = {name: round(s, 1) for name, (_, s) in runs.items()}
    assert wall <= BUDGET_S, f"notebooks took {wall:.1f} s (> {BUDGET_S:g} s); each: {times}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_is_the_script_executed_with_small_outputs(path):
    nb = nbformat.read(path, as_version=4)
    want = BUILD.build(path.stem, BUILD.NOTEBOOKS[path.stem])
    assert [c.source for c in nb.cells] == [c.source for c in want.cells], \
        "notebook differs from scripts/build_notebooks.py: rerun `python scripts/build_notebooks.py`"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), "committed without outputs"
    assert BUILD.figure_cells_without_image(nb) == []            # figures show when the file is browsed
    assert "widgets" not in nb.metadata
    assert not any(BUILD.WIDGET_MIME in o.get("data", {}) for c in code for o in c.outputs)
    assert path.stat().st_size < 600_000


def test_the_checks_fail_on_a_forced_backend_and_on_warnings():
    """The regression of the issue: `matplotlib.use('Agg')` in a notebook leaves figure cells blank."""
    cells = [("fig", "import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0]);"),
             ("code", "import matplotlib\nmatplotlib.use('Agg')"),
             ("fig", "plt.figure()\nplt.plot([0, 1], [0, 1]);"),
             ("code", "import warnings\nwarnings.warn('something is off')")]
    nb = BUILD.build("99_check", cells)
    BUILD.execute(nb, NB_DIR)
    assert BUILD.figure_cells_without_image(nb) == ["99-02"]
    assert [cid for cid, _ in BUILD.stderr_outputs(nb)] == ["99-03"]
