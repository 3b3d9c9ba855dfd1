"""A small folder of simulated recordings (+ junk files) shared by the batch and CLI tests."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="session")
def sim_folder(tmp_path_factory):
    """Four short simulated ABF recordings with ground truth, a groups.csv, and two bad files."""
    from drgephys.sim import simulate_trace, write_abf

    d = tmp_path_factory.mktemp("cohort")
    (d / "sub").mkdir()
    specs = [("ctrl_a.abf", dict(pattern="silent"), "control", "A1"),
             ("ctrl_b.abf", dict(pattern="tonic", rate_hz=4.0), "control", "A2"),
             ("sub/inj_a.abf", dict(pattern="irregular", rate_hz=3.0), "injured", "A3"),
             ("sub/inj_b.abf", dict(pattern="silent"), "injured", "A4")]
    rows = ["file,group,animal"]
    for i, (name, kw, group, animal) in enumerate(specs):
        sim = simulate_trace(duration_s=4.0, fs_hz=10000.0, seed=100 + i, **kw)
        write_abf(d / name, sim.v, sim.fs, truth=sim.truth)
        rows.append(f"{name.split('/')[-1]},{group},{animal}")
    (d / "groups.csv").write_text("\n".join(rows) + "\n")
    (d / "notes.txt").write_text("this is a lab note, not a recording\n")
    (d / "broken.abf").write_bytes(b"ABF2" + b"\x00" * 300)
    return d


@pytest.fixture
def sim_copy(sim_folder, tmp_path):
    """A private copy of the simulated folder (tests that must not share state)."""
    dst = tmp_path / "data"
    shutil.copytree(sim_folder, dst)
    return dst
