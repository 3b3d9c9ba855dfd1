"""`drgephys.analyze`: one recording in, three tables out (contract columns, provenance, errors)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

import drgephys
from drgephys import tables
from drgephys.analysis import AnalysisParams, analyze
from drgephys.sim import simulate_trace

#: Per-episode frequency error allowed against the simulator's truth (Hz; issue target: median <= 0.3 Hz)
FREQ_TOL_HZ = 0.3
#: Relative amplitude error allowed per episode (issue target: median <= 10 %)
AMP_REL_TOL = 0.10


@pytest.fixture(scope="module")
def sso_sim():
    return simulate_trace(duration_s=6.0, fs_hz=20000.0, sso=True, sso_time_fraction=0.5,
                          pattern="irregular", rate_hz=3.0, seed=21)


def test_tables_follow_the_contract(sso_sim):
    res = analyze(drgephys.Trace(sso_sim.v, sso_sim.fs, t0=2.0, file="cell.abf"))
    for name, cols in (("recordings", tables.RECORDINGS_COLUMNS), ("oscillations", tables.OSCILLATIONS_COLUMNS),
                       ("spikes", tables.SPIKES_COLUMNS)):
        df = getattr(res, name)
        assert list(df.columns[: len(cols)]) == list(cols), name
    row = res.recordings.iloc[0]
    assert row["status"] == "ok" and row["file"] == "cell.abf"
    assert row["duration_s"] == pytest.approx(6.0)
    assert row["spike_count"] == len(res.spikes)
    assert row["firing_pattern"] in tables.PATTERN_VALUES
    # times from the sweep's start; its absolute start in its own column
    assert row["sweep_start_s"] == pytest.approx(2.0)
    assert (res.spikes["peak_s"] < 6.0).all() and (res.oscillations["end_s"] <= 6.0 + 1e-9).all()


def test_detected_episodes_and_spikes_match_truth(sso_sim):
    from drgephys.sim import score

    res = analyze(drgephys.Trace(sso_sim.v, sso_sim.fs))
    assert bool(res.recordings["sso_detected"].iloc[0])
    sc = score(sso_sim.truth, res)
    assert sc["episode_f1"] == 1.0
    assert sc["frequency_error_median_hz"] <= FREQ_TOL_HZ
    assert sc["amplitude_rel_error_median"] <= AMP_REL_TOL
    assert sc["spike_f1"] == 1.0


def test_silent_noise_has_no_episodes_and_no_spikes():
    sim = simulate_trace(duration_s=5.0, fs_hz=10000.0, pattern="silent", seed=4)
    res = analyze(drgephys.Trace(sim.v, sim.fs))
    assert len(res.oscillations) == 0 and len(res.spikes) == 0
    row = res.recordings.iloc[0]
    assert not bool(row["sso_detected"]) and np.isnan(row["sso_frequency_hz"])
    assert row["firing_pattern"] == "silent"
    assert row["resting_vm_mv"] == pytest.approx(sim.truth["resting_vm_mv"], abs=1.5)


def test_params_round_trip_and_overrides():
    p = AnalysisParams()
    d = json.loads(json.dumps(p.to_dict()))
    assert AnalysisParams.from_dict(d) == p
    osc = dataclasses.replace(p.oscillations)
    q = AnalysisParams.from_dict({"oscillations": {}, "channel": 1})
    assert q.channel == 1 and q.oscillations == osc
    with pytest.raises(ValueError, match="unknown parameter section"):
        AnalysisParams.from_dict({"bogus": {}})
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['nope'\] in \[spikes\]"):
        AnalysisParams.from_dict({"spikes": {"nope": 1}})
    # a section of the wrong type fails when the parameters are built, not as one error row per file
    with pytest.raises(TypeError, match=r"`trigger` must be a TriggerParams; got SpikeParams"):
        AnalysisParams(trigger=p.spikes)
    with pytest.raises(TypeError, match=r"`oscillations` must be an OscillationParams; got dict"):
        AnalysisParams(oscillations={})


def test_analyze_rejects_unknown_inputs_and_parameters(sso_sim):
    with pytest.raises(TypeError, match="must be a file path, drgephys Trace/Recording or neo object"):
        analyze(np.zeros(10))
    with pytest.raises(TypeError, match=r"unknown analysis parameter\(s\) \['speed'\]"):
        analyze(drgephys.Trace(sso_sim.v, sso_sim.fs), speed=2)


def test_analyze_accepts_neo_objects(sso_sim):
    import neo
    import quantities as pq

    sig = neo.AnalogSignal(sso_sim.v[:, None], units="mV", sampling_rate=sso_sim.fs * pq.Hz)
    res = drgephys.analyze(sig)
    assert res.recordings["status"].tolist() == ["ok"]
    html = res._repr_html_()
    assert "<table" in html and "sso_detected" in html


def test_irregular_trace_is_resampled_with_a_note():
    sim = simulate_trace(duration_s=2.0, fs_hz=10000.0, seed=2)
    t = np.arange(sim.v.size) / sim.fs
    t[1::2] += 0.3 / sim.fs  # jittered sampling
    res = analyze(drgephys.Trace(sim.v, sim.fs, times=t))
    assert "resampled" in res.recordings["message"].iloc[0]


def test_short_sweep_gets_spikes_without_sso_analysis():
    rng = np.random.default_rng(0)
    res = analyze(drgephys.Trace(-60 + rng.normal(0, 0.3, 2000), 10000.0))
    row = res.recordings.iloc[0]
    assert row["status"] == "ok" and "no SSO analysis" in row["message"]
    assert np.isnan(row["sso_frequency_hz"]) and row["spike_count"] == 0


def test_chunked_reading_through_analyze_gives_the_same_tables(tmp_path):
    from drgephys.sim import write_abf

    sim = simulate_trace(duration_s=20.0, fs_hz=10000.0, sso=True, pattern="irregular", rate_hz=3.0, seed=31)
    path = write_abf(tmp_path / "c.abf", sim.v, sim.fs)
    whole = analyze(path)
    chunked = analyze(path, chunk_s=6.0)          # read from the file 6 s at a time
    for name in ("recordings", "oscillations", "spikes"):
        pd.testing.assert_frame_equal(getattr(chunked, name), getattr(whole, name), check_exact=True)


def test_result_reads_columns_and_concatenates_without_building_first(sso_sim):
    """`column` and `n_rows` read a table before it is built; `concat` keeps the rows of each result in
    order (the frames equal pandas' concatenation of the built tables)."""
    from drgephys.analysis import AnalysisResult

    quiet = simulate_trace(duration_s=2.0, fs_hz=10000.0, seed=3, pattern="silent", sso=False)
    a = analyze(drgephys.Trace(sso_sim.v, sso_sim.fs), file_label="a")
    b = analyze(drgephys.Trace(quiet.v, quiet.fs), file_label="b")
    c = analyze(drgephys.Trace(sso_sim.v, sso_sim.fs), file_label="c")
    assert a.n_rows("spikes") > 0 and a.n_rows("oscillations") > 0
    np.testing.assert_array_equal(a.column("spikes", "peak_s"), a.spikes["peak_s"].to_numpy())
    assert a.n_rows("spikes") == len(a.spikes)                 # same answer once built
    both = AnalysisResult.concat([a, b, c], a.params)
    for name in ("recordings", "oscillations", "spikes"):
        expected = pd.concat([t for t in (getattr(r, name) for r in (a, b, c)) if len(t)], ignore_index=True)
        pd.testing.assert_frame_equal(getattr(both, name), expected)
    assert both.recordings["file"].tolist() == ["a", "b", "c"]
