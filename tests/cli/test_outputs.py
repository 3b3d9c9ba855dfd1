"""Every file the command line writes gets the mode any other program gives it under the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from drgephys.cli import main

from ..batch.conftest import sim_folder  # noqa: F401  (fixture)


def _modes(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): stat.S_IMODE(p.stat().st_mode)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o027, 0o640)])
def test_every_output_file_follows_the_umask(sim_folder, tmp_path, umask, mask, mode):  # noqa: F811
    os.umask(mask)
    res, cohort, nwb = tmp_path / "res", tmp_path / "cohort", tmp_path / "nwb"
    assert main(["analyze", str(sim_folder), "--out", str(res), "--groups", str(sim_folder / "groups.csv"),
                 "--quiet"]) == 1                       # broken.abf is refused
    assert main(["compare", str(res), "--reference", "control", "--quiet"]) == 0
    assert main(["report", str(res), "--max-recordings", "1"]) == 0
    assert main(["simulate", "--out", str(cohort), "--animals", "1", "--cells", "1", "--duration", "2"]) == 0
    assert main(["simulate", "--out", str(nwb), "--animals", "1", "--cells", "1", "--duration", "2",
                 "--format", "nwb"]) == 0
    written = {**{f"res/{k}": v for k, v in _modes(res).items()},
               **{f"cohort/{k}": v for k, v in _modes(cohort).items()},
               **{f"nwb/{k}": v for k, v in _modes(nwb).items()}}
    expected = {"res/recordings.csv", "res/oscillations.csv", "res/spikes.csv", "res/rejected.csv", "res/params.json",
                "res/analysis.log", "res/comparison.csv", "res/report.html", "cohort/groups.csv",
                "cohort/cohort.json", "nwb/groups.csv", "nwb/cohort.json"}
    assert expected <= set(written)
    assert sum(k.startswith("res/.drgephys-cache/") for k in written) == 5          # one entry per file attempted
    assert sum(k.startswith("cohort/") and k.endswith(".abf") for k in written) == 2
    assert sum(k.startswith("nwb/") and k.endswith(".nwb") for k in written) == 2
    assert sum(k.endswith(".truth.json") for k in written) == 4
    assert {k: v for k, v in written.items() if v != mode} == {}
    for d in (res, res / ".drgephys-cache", cohort, nwb):
        assert stat.S_IMODE(d.stat().st_mode) == mode | 0o111 & ~mask   # folders: 0777 & ~umask
