"""`drgephys._lazy`: pandas waits for its first use, so the analysis of a recording (and a pool's workers)
never load it, and a missing library fails at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from drgephys import _lazy

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


def test_a_missing_library_fails_at_once():
    with pytest.raises(ModuleNotFoundError, match="no_such_library_here"):
        _lazy.lazy("no_such_library_here")


def test_a_loaded_module_is_returned_as_it_is():
    import json

    assert _lazy.lazy("json") is json
    assert _lazy.is_loaded("json")
    assert _lazy.load(json) is json


def test_a_lazy_module_is_executed_on_first_use():
    """A fresh interpreter: the module is created, not executed, until an attribute is read."""
    code = ("import sys; from drgephys import _lazy; m = _lazy.lazy('fractions'); "
            "print(_lazy.is_loaded('fractions')); m.Fraction(1, 3); print(_lazy.is_loaded('fractions'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]


def test_the_batch_imports_and_analyses_without_loading_pandas(tmp_path):
    """What a pool worker runs (analysis, cache entry), in a fresh interpreter, on a sample ABF file (NWB
    files load pandas through pynwb)."""
    path = SAMPLE / "injured_sso_bursting.abf"
    code = (
        "import json\n"
        "from drgephys import _lazy, batch\n"
        "from drgephys.params import AnalysisParams, Execution\n"
        "at_import = _lazy.is_loaded('pandas')\n"
        f"jobs, _ = batch.scan([{str(path)!r}])\n"
        "params = AnalysisParams()\n"
        f"res, log, cached = batch._run_one(jobs[0], params, Execution(resume=False), {str(tmp_path)!r},\n"
        "                                  json.dumps(params.to_dict(), sort_keys=True))\n"
        "print(at_import, _lazy.is_loaded('pandas'), log.split(':')[0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False", "ok"]
    assert list((tmp_path / ".drgephys-cache").iterdir())          # the cache entry was written
