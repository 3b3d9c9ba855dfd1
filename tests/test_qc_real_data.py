"""QC flags and evoked spikes on every analysable file of ../shared/real_data, stated per file with the reason
a scientist would give (skipped when the folder is absent)."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from drgephys.batch import analyze_paths
from drgephys.qc import split_flags

ABF = "swharden__pyABF/data/abfs/"
#: file → {flag: sweeps flagged}; flags absent from the dict are on no sweep of that file.
EXPECTED = {
    # episodic step/ramp/pulse protocols: the ABF protocol marks the stimulus, spikes in it are evoked
    "171116sh_0019.abf": {"evoked_present": 20},        # 22 steps -100..2000 pA, 2 without spikes
    "17o05027_ic_ramp.abf": {"evoked_present": 1, "high_noise": 1},   # sweep 0's ramp is flat (0 pA)
    "17o05028_ic_steps.abf": {"evoked_present": 10},    # 6 hyperpolarising steps evoke nothing
    "18425108.abf": {"evoked_present": 1},              # 15 light-triggered pulses (DAC 'ME1')
    "18425108_abf1.abf": {"evoked_present": 1},         # ABF1: no protocol; the Imemb channel shows them
    "18711001.abf": {"evoked_present": 23},             # F-I curve
    "2019_07_24_0055_fsi.abf": {"evoked_present": 12},
    "File_axon_6.abf": {"evoked_present": 32},          # one 2-ms pulse, one AP per sweep
    "96711008.abf": {"evoked_present": 5, "high_noise": 9},   # 0.5 mV steps, -216 mV artefacts
    "2018_03_20_0005.nwb": {"evoked_present": 1, "high_noise": 1},  # NWB stimulus channel
    # a passive model cell near 0 mV: never a neuron at rest, no SSO may be reported
    "2020_03_02_0000.abf": {"baseline_implausible": 15, "depolarized": 15},
    # HALO light pulse (not in the protocol) hyperpolarises the cell: the baseline moves over the sweep
    "2019_05_02_DIC2_0011.abf": {"drift": 1},
    # subthreshold gap-free recording with a noisy I_Com monitor: nothing to flag, no stimulus found
    "2020_07_29_0062.abf": {},
    "opto_aps_good_units.abf": {},                      # opto pulses are digital outputs: --stimulus needed
    # 4 kHz Igor and eFEL traces: AP shape unmeasurable
    **{f"B6_Ch3_IDRest_18{k}.ibw": {"undersampled": 1} for k in range(1, 6)},
    "testdata.txt": {"undersampled": 1},
    "spontaneous.txt": {}, "zero_ISI_log_slope_skip95824004.abf.csv": {},
    "spike_test_pair.txt": {}, "spike_test_high_init_dvdt.txt": {}, "spike_test_var_dt.txt": {},
}


@pytest.fixture(scope="module")
def tables(real_data):
    logging.disable(logging.WARNING)
    try:
        res = analyze_paths([real_data])
    finally:
        logging.disable(logging.NOTSET)
    recs = res.recordings.assign(name=res.recordings["file"].astype(str).str.rsplit("/", n=1).str[-1])
    return recs, res.spikes


def test_every_file_gets_the_flags_a_scientist_would_give(tables):
    recs, _ = tables
    ok = recs[recs["status"] == "ok"]
    got = {}
    for name, g in ok.groupby("name"):
        counts: dict = {}
        for v in g["qc_flags"]:
            for c in split_flags(v):
                counts[c] = counts.get(c, 0) + 1
        got[name] = counts
    assert got == EXPECTED


def test_flagged_dying_sweeps_report_no_sso_and_times_are_per_sweep(tables):
    recs, spk = tables
    dead = recs[recs["name"] == "2020_03_02_0000.abf"]
    assert dead["sso_detected"].isna().all()
    ok = recs[recs["status"] == "ok"]
    joined = spk.merge(ok[["file", "sweep", "duration_s", "sweep_start_s"]], on=["file", "sweep"])
    assert (joined["peak_s"] < joined["duration_s"]).all() and (joined["peak_s"] >= 0).all()
    steps = ok[ok["name"] == "17o05028_ic_steps.abf"]
    assert steps["sweep_start_s"].is_monotonic_increasing and steps["sweep_start_s"].iloc[1] > 0


def test_undersampled_sweeps_keep_spike_times_but_no_shape(tables):
    recs, spk = tables
    slow = recs.loc[recs["qc_flags"].fillna("").str.contains("undersampled"), ["file", "sweep"]]
    s = spk.merge(slow, on=["file", "sweep"])
    assert len(s) > 0 and s["half_width_ms"].isna().all() and s["peak_s"].notna().all()
    assert pd.api.types.is_bool_dtype(spk["evoked"])
