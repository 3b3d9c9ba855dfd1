"""The committed sample_data/ is what scripts/make_sample_data.py makes (same truth, same ABF bytes)."""

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_data"
SCRIPT = REPO / "scripts" / "make_sample_data.py"
MAX_TOTAL_BYTES = 6 * 1024**2


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    if not SCRIPT.is_file() or not SAMPLE.is_dir():
        pytest.skip(f"sample data or its script absent ({SAMPLE}, {SCRIPT})")
    pytest.importorskip("pyabf")
    spec = importlib.util.spec_from_file_location("make_sample_data", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path_factory.mktemp("sample")
    mod.main(out)
    return out


def test_groups_and_files_present():
    if not SAMPLE.is_dir():
        pytest.skip(f"{SAMPLE} absent")
    groups = pd.read_csv(SAMPLE / "groups.csv")
    assert list(groups.columns) == ["file", "group", "animal"] and set(groups.group) == {"control", "injured"}
    assert {Path(f).suffix for f in groups.file} == {".abf", ".nwb"}
    for f in groups.file:
        assert (SAMPLE / f).is_file() and (SAMPLE / (f + ".truth.json")).is_file()
    assert sum(p.stat().st_size for p in SAMPLE.iterdir()) <= MAX_TOTAL_BYTES
    assert "make_sample_data.py" in (SAMPLE / "README.md").read_text()


def test_committed_files_match_the_script(regenerated):
    for truth in sorted(SAMPLE.glob("*.truth.json")):
        assert json.loads(truth.read_text()) == json.loads((regenerated / truth.name).read_text()), truth.name
    for abf in sorted(SAMPLE.glob("*.abf")):
        assert abf.read_bytes() == (regenerated / abf.name).read_bytes(), abf.name
