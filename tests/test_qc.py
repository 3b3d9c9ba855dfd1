"""QC flags as data (`drgephys.qc`): each flag fires on the simulated case it names and on nothing else."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import drgephys
from drgephys.params import AnalysisParams
from drgephys.qc import QC_FLAGS, QcEvidence, QcParams, blocked_rows, evaluate, split_flags
from drgephys.sim import CohortSpec, simulate_cohort_table, simulate_trace
from drgephys.stats import compare_groups
from drgephys.stats.synthetic import tables_from_cohort

FS = 20_000.0


def _row(v, fs=FS, **kw):
    res = drgephys.analyze(drgephys.Trace(v, fs, file="cell.abf"), **kw)
    return res, res.recordings.iloc[0]


@pytest.fixture(scope="module")
def sso_cell():
    return simulate_trace(duration_s=8.0, fs=FS, sso=True, sso_time_fraction=0.6, pattern="irregular",
                          rate_hz=2.0, seed=5)


def test_a_healthy_sso_cell_has_no_flag(sso_cell):
    res, row = _row(sso_cell.v)
    assert row["qc_flags"] == "" and bool(row["sso_detected"]) and len(res.oscillations) > 0


def test_a_recording_offset_to_0_mv_is_flagged_and_blocked(sso_cell):
    res, row = _row(sso_cell.v + 60.0)                      # rest ≈ 0 mV: an offset, not a neuron at rest
    assert "baseline_implausible" in split_flags(row["qc_flags"])
    assert "outside -100…-30 mV" in row["message"]
    assert blocked_rows(res.recordings).tolist() == [True]


def test_a_depolarised_dying_cell_is_flagged_and_reports_no_sso(sso_cell):
    res, row = _row(sso_cell.v + 50.0)                      # sits near −10 mV with the SSO still in it
    flags = split_flags(row["qc_flags"])
    assert "depolarized" in flags and "baseline_implausible" in flags
    assert pd.isna(row["sso_detected"]) and len(res.oscillations) == 0
    assert (res.spikes["trigger"] == "other").all()
    assert "no SSO reported" in row["message"]


def test_a_1_khz_recording_is_undersampled_and_keeps_no_ap_shape():
    sim = simulate_trace(duration_s=10.0, fs=1000.0, pattern="tonic", rate_hz=4.0, seed=3)
    res, row = _row(sim.v, fs=1000.0)
    assert "undersampled" in split_flags(row["qc_flags"]) and row["spike_count"] > 0
    for col in ("threshold_mv", "amplitude_mv", "half_width_ms", "max_dvdt_mv_per_ms"):
        assert res.spikes[col].isna().all(), col
    assert res.spikes["peak_mv"].notna().all()              # the peak and timing are kept


def test_drift_clipping_and_noise_fire_on_their_cases():
    sim = simulate_trace(duration_s=30.0, fs=10_000.0, pattern="silent", seed=2)
    t = np.arange(sim.v.size) / 10_000.0
    _, row = _row(sim.v + 15.0 * t / t[-1], fs=10_000.0)    # +15 mV over the sweep
    assert split_flags(row["qc_flags"]) == ["drift"] and "drifted +1" in row["message"]
    firing = simulate_trace(duration_s=10.0, fs=10_000.0, pattern="tonic", rate_hz=4.0, seed=2)
    _, row = _row(np.minimum(firing.v, 0.0), fs=10_000.0)   # every AP top cut at a 0-mV rail
    assert "clipped" in split_flags(row["qc_flags"])
    _, row = _row(firing.v, fs=10_000.0)
    assert "clipped" not in split_flags(row["qc_flags"])
    noisy = sim.v + np.random.default_rng(0).normal(0, 6.0, sim.v.size)   # white, 6 mV SD
    _, row = _row(noisy, fs=10_000.0)
    assert "high_noise" in split_flags(row["qc_flags"])


def test_thresholds_are_parameters_saved_with_the_result(sso_cell):
    strict = dataclasses.replace(AnalysisParams().qc, resting_range_mv=(-50.0, -30.0))
    res, row = _row(sso_cell.v, params=dataclasses.replace(AnalysisParams(), qc=strict))
    assert "baseline_implausible" in split_flags(row["qc_flags"])      # rests near −58 mV
    assert res.params.to_dict()["qc"]["resting_range_mv"] == [-50.0, -30.0]


def test_every_flag_is_data_with_a_check_and_a_description():
    assert len(QC_FLAGS) >= 8
    e = QcEvidence(fs_hz=20_000.0, duration_s=10.0, resting_vm_mv=-60.0, n_samples=10, n_depolarized=0,
                   head_mv=-60.0, tail_mv=-61.0)
    assert evaluate(e, QcParams()) == []
    for f in QC_FLAGS:
        assert f.code and f.description and callable(f.check)
    assert {f.code for f in QC_FLAGS if f.blocking} == {"baseline_implausible", "depolarized"}


@pytest.mark.parametrize("kw, match", [
    (dict(resting_range_mv=(-30.0, -100.0)), "low < high"),
    (dict(depolarized_fraction=0.0), "depolarized_fraction"),
    (dict(min_fs_hz=-1), "`min_fs_hz` must be a positive number"),
    (dict(min_rejected=0), "`min_rejected` must be a positive integer"),
])
def test_bad_thresholds_are_refused(kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        QcParams(**kw)


def test_compare_leaves_blocked_sweeps_out_unless_asked():
    cohort = simulate_cohort_table(CohortSpec(animals_per_group=3, cells_per_animal=4), seed=1)
    recs, osc = tables_from_cohort(cohort, seed=0)
    recs = recs.copy()
    recs.loc[recs.index[:2], "qc_flags"] = "depolarized"
    with pytest.warns(UserWarning, match=r"2 sweep\(s\) with blocking QC flags left out \(depolarized: 2\)"):
        out = compare_groups(recs, osc, n_boot=50, n_perm=50)
    kept = compare_groups(recs, osc, n_boot=50, n_perm=50, include_flagged=True)
    n = lambda t: int(t.loc[t["metric"] == "sso_prevalence", ["n_cells", "n_cells_reference"]].sum(axis=1).iloc[0])  # noqa: E731
    assert n(kept) == n(out) + 2
