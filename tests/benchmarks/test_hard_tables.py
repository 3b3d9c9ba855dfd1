"""benchmarks/_hard.py: the hard cohort's tables on a tiny cohort with known detector outputs."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "benchmarks"


def _load(name: str):
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


hard = _load("_hard")


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    from drgephys.sim import HardCohortSpec, simulate_hard_cohort
    from drgephys.sim.hard_cohort import CASES

    out = tmp_path_factory.mktemp("hard")
    spec = HardCohortSpec(cases=tuple((c, 1) for c in CASES), duration_s=6.0, fs_choices_hz=(10_000.0,))
    table = simulate_hard_cohort(spec, seed=5, out_dir=out)
    return out, table


def _perfect(out: Path, table: pd.DataFrame) -> dict:
    """A detector that reports the truth, plus one false episode in the noise-only cell."""
    res = {}
    for f in table.file:
        t = json.loads((out / (f + ".truth.json")).read_text())
        osc = pd.DataFrame([{k: e[k] for k in ("start_s", "end_s", "frequency_hz", "amplitude_mv")}
                            for e in t["episodes"]], columns=["start_s", "end_s", "frequency_hz", "amplitude_mv"])
        if f.startswith("noise_only"):
            osc = pd.DataFrame([{"start_s": 1.0, "end_s": 2.0, "frequency_hz": 40.0, "amplitude_mv": 0.5}])
        spk = pd.DataFrame({"peak_s": [s["peak_s"] for s in t["spikes"]], "trigger": [s["trigger"] for s in t["spikes"]]})
        res[str(out / f)] = {"oscillations": osc, "spikes": spk}
    return res


def test_hard_section_on_a_perfect_detector(cohort):
    out, table = cohort
    md, records = hard.hard_section(out, table, {"drgephys": _perfect(out, table)}, ["drgephys"],
                                    ("drgephys",), ("drgephys",))
    ep = pd.DataFrame(records["drgephys"]["episodes"])
    assert len(ep) == int(table.n_episodes.sum()) > 0 and ep.found.all()
    assert f"| all | {len(ep)} | 1.00 ({len(ep)}/{len(ep)}) |" in md
    cells = pd.DataFrame(records["drgephys"]["cells"]).set_index("case")
    assert cells.loc["noise_only", "n_false"] == 1 and cells.n_false.sum() == 1
    assert "| noise-only (pink + white) | 1 | 1; 10.00/min; 1/1 cells |" in md  # 1 false in 6 s = 10 per minute
    assert "| hum-only | 1 | 0; 0.00/min; 0/1 cells |" in md
    assert "| SSO-trigger balanced accuracy, all cells | 1 |" in md
    assert "| dying / offset cells flagged by QC (refused, or a blocking qc_flag) / cells | — |" in md  # no recordings table
    n_broad = int(table.loc[table.case == "broad_ap", "n_spikes"].iloc[0])
    assert f"| spike F1 (±1 ms; detected / true), broad_ap cells (1) | 1 ({n_broad} / {n_broad}) |" in md


def test_hard_section_on_a_blind_detector(cohort):
    out, table = cohort
    blind = {str(out / f): {"oscillations": pd.DataFrame(columns=["start_s", "end_s", "frequency_hz", "amplitude_mv"]),
                            "spikes": pd.DataFrame({"peak_s": []})} for f in table.file}
    md, records = hard.hard_section(out, table, {"bycycle": blind}, ["bycycle"], ("bycycle",), ())
    n = int(table.n_episodes.sum())
    assert f"| all | {n} | 0.00 (0/{n}) |" in md
    assert "| SSO-trigger balanced accuracy, all cells | n/a |" in md


def test_qc_flags_counted_from_the_recordings_status_and_blocking_flags(cohort):
    out, table = cohort
    res = _perfect(out, table)
    for f in table.file:
        res[str(out / f)]["recordings"] = pd.DataFrame({"status": ["error" if f.startswith("dying") else "ok"],
                                                        "qc_flags": [""]})
    md, _ = hard.hard_section(out, table, {"drgephys": res}, ["drgephys"], ("drgephys",), ("drgephys",))
    assert "| dying / offset cells flagged by QC (refused, or a blocking qc_flag) / cells | 1 / 2 |" in md
    for f in table.file:   # a blocking flag counts like a refusal; a non-blocking one does not
        res[str(out / f)]["recordings"] = pd.DataFrame(
            {"status": ["ok"], "qc_flags": ["depolarized" if f.startswith("dying") else "evoked_present"]})
    md, _ = hard.hard_section(out, table, {"drgephys": res}, ["drgephys"], ("drgephys",), ("drgephys",))
    assert "| dying / offset cells flagged by QC (refused, or a blocking qc_flag) / cells | 1 / 2 |" in md
