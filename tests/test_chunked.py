"""`drgephys.chunked.analyze_chunked` against the in-memory `drgephys.analyze` on the same file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import drgephys
from drgephys.analysis import AnalysisParams
from drgephys.chunked import analyze_chunked, min_margin_s, plan_windows
from drgephys.sim import simulate_trace, write_abf

FS = 20_000.0
DURATION_S = 60.0
CHUNK_S = 7.0
#: Spike peak times may differ by at most this many samples.
PEAK_TOL_SAMPLES = 1
#: Episode boundaries (start_s, end_s) within one working-rate sample (~1.65 ms at 20 kHz).
BOUNDARY_TOL_S = 2e-3
FREQ_TOL_HZ = 0.05
AMP_REL_TOL = 0.02
#: Resting Vm from the streaming 1 µV histogram vs numpy's median.
RESTING_TOL_MV = 1e-3
#: Episodes deliberately crossing the 7-s chunk edges at 14 s and 28 s.
EPISODES = ({"start_s": 2.0, "end_s": 3.5}, {"start_s": 12.6, "end_s": 15.4}, {"start_s": 20.0, "end_s": 21.0},
            {"start_s": 27.2, "end_s": 29.8, "frequency_hz": 70.0}, {"start_s": 40.3, "end_s": 42.0},
            {"start_s": 48.5, "end_s": 49.4})


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    sim = simulate_trace(DURATION_S, FS, seed=11, episodes=EPISODES, hum_hz=50, pattern="irregular",
                         rate_hz=3.0)
    path = write_abf(tmp_path_factory.mktemp("chunked") / "cell.abf", sim.v, sim.fs)
    return path, drgephys.analyze(path)


@pytest.fixture(scope="module")
def chunked(recording):
    return analyze_chunked(recording[0], chunk_s=CHUNK_S)


def _assert_same_spikes(a: pd.DataFrame, b: pd.DataFrame):
    assert len(a) == len(b) > 20
    np.testing.assert_allclose(b["peak_s"].to_numpy(float), a["peak_s"].to_numpy(float),
                               atol=PEAK_TOL_SAMPLES / FS, rtol=0)
    assert list(b["trigger"]) == list(a["trigger"])
    np.testing.assert_allclose(b["threshold_mv"].to_numpy(float), a["threshold_mv"].to_numpy(float), atol=1e-6)


def _assert_same_episodes(a: pd.DataFrame, b: pd.DataFrame):
    assert len(a) == len(b) >= 5
    for c in ("start_s", "end_s"):
        np.testing.assert_allclose(b[c].to_numpy(float), a[c].to_numpy(float), atol=BOUNDARY_TOL_S, rtol=0)
    np.testing.assert_allclose(b["frequency_hz"].to_numpy(float), a["frequency_hz"].to_numpy(float),
                               atol=FREQ_TOL_HZ, rtol=0)
    np.testing.assert_allclose(b["amplitude_mv"].to_numpy(float), a["amplitude_mv"].to_numpy(float),
                               rtol=AMP_REL_TOL)


def test_spikes_equal_in_memory(recording, chunked):
    _assert_same_spikes(recording[1].spikes, chunked.spikes)


def test_episodes_equal_in_memory(recording, chunked):
    full = recording[1].oscillations
    # the precondition of the test: detected episodes cross chunk edges (multiples of 7 s)
    edges = np.arange(1, int(DURATION_S / CHUNK_S) + 1) * CHUNK_S
    crossing = ((full["start_s"].to_numpy()[:, None] < edges) & (full["end_s"].to_numpy()[:, None] > edges)).any()
    assert crossing
    _assert_same_episodes(full, chunked.oscillations)


def test_sweep_summary_equal(recording, chunked):
    a, b = recording[1].recordings.iloc[0], chunked.recordings.iloc[0]
    assert b["status"] == "ok" and "chunks of 7 s" in b["message"]
    assert "loaded into memory" not in b["message"]           # the ABF was read lazily
    assert b["resting_vm_mv"] == pytest.approx(a["resting_vm_mv"], abs=RESTING_TOL_MV)
    for c in ("spike_count", "firing_pattern", "sso_detected", "duration_s", "fs_hz", "file", "channel"):
        assert b[c] == a[c]
    for c in ("sso_frequency_hz", "sso_amplitude_mv", "sso_time_fraction", "spike_rate_hz"):
        assert b[c] == pytest.approx(a[c], rel=1e-3)


def test_chunk_edge_exactly_on_a_spike_peak(recording):
    path, full = recording
    spk = full.spikes
    i = int(np.argmin(np.abs(spk["peak_s"].to_numpy() - 9.0)))
    peak_index = int(spk["peak_index"].iloc[i])
    res = analyze_chunked(path, chunk_s=peak_index / FS, margin_s=2.0)
    plan = plan_windows(int(DURATION_S * FS), FS, peak_index / FS, 2.0)
    assert peak_index in plan[:, 1]                          # a core starts at that spike's peak sample
    _assert_same_spikes(spk, res.spikes)
    _assert_same_episodes(full.oscillations, res.oscillations)


def test_in_memory_trace_chunked_equals_analyze(recording):
    rec = drgephys.load(recording[0])
    res = analyze_chunked(rec[0], chunk_s=CHUNK_S)
    _assert_same_spikes(recording[1].spikes, res.spikes)
    _assert_same_episodes(recording[1].oscillations, res.oscillations)


def test_window_mode_keeps_spikes_and_most_episodes(recording):
    """sso="window" (per-window background and mains) keeps spikes exactly; episodes shift slightly."""
    res = analyze_chunked(recording[0], chunk_s=CHUNK_S, sso="window")
    _assert_same_spikes(recording[1].spikes, res.spikes)
    a, b = recording[1].oscillations, res.oscillations
    ov = (np.minimum(a["end_s"].to_numpy()[:, None], b["end_s"].to_numpy()[None, :])
          - np.maximum(a["start_s"].to_numpy()[:, None], b["start_s"].to_numpy()[None, :]))
    matched = (ov > 0.5 * (a["end_s"] - a["start_s"]).to_numpy()[:, None]).any(axis=1)
    assert matched.mean() >= 0.8
    assert abs(len(b) - len(a)) <= 1


def test_text_reader_falls_back_to_memory(tmp_path):
    sim = simulate_trace(3.0, 10_000.0, seed=2, pattern="tonic")
    path = tmp_path / "cell.csv"
    t = np.arange(sim.v.size) / sim.fs
    np.savetxt(path, np.column_stack([t, sim.v]), delimiter=",", fmt="%.7f")
    res = analyze_chunked(path, chunk_s=1.0, margin_s=1.0)
    full = drgephys.analyze(path)
    assert "no lazy loading" in res.recordings["message"].iloc[0]
    assert len(res.spikes) == len(full.spikes) > 5
    np.testing.assert_allclose(res.spikes["peak_s"].to_numpy(), full.spikes["peak_s"].to_numpy(),
                               atol=PEAK_TOL_SAMPLES / sim.fs)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 200_000), fs=st.sampled_from([1000.0, 20_000.0, 50_000.0]),
       chunk_s=st.floats(0.05, 5.0), margin_s=st.floats(0.0, 2.0), q=st.integers(1, 90))
def test_plan_windows_tiles_the_sweep(n, fs, chunk_s, margin_s, q):
    plan = plan_windows(n, fs, chunk_s, margin_s, q)
    ws, cs, ce, we = plan.T
    assert cs[0] == 0 and ce[-1] == n and np.all(cs[1:] == ce[:-1]) and np.all(ce > cs)
    assert np.all(ws % q == 0) and np.all(ws <= cs) and np.all(we >= ce) and np.all(we <= n)
    margin = int(np.ceil(margin_s * fs))
    assert np.all(we - ws <= ce - cs + 2 * margin + q)      # a window never exceeds core + margins


def test_validation_errors(recording):
    path = recording[0]
    with pytest.raises(ValueError, match="`chunk_s` must be a positive number in s; got 0"):
        analyze_chunked(path, chunk_s=0)
    with pytest.raises(TypeError, match="`chunk_s` must be a positive number"):
        analyze_chunked(path, chunk_s="long")
    with pytest.raises(ValueError, match="`margin_s` must be at least 0.686 s"):
        analyze_chunked(path, margin_s=0.1)
    with pytest.raises(ValueError, match="`sso` must be one of"):
        analyze_chunked(path, sso="global")
    with pytest.raises(TypeError, match="`params` must be an AnalysisParams"):
        analyze_chunked(path, params={"spikes": {}})
    with pytest.raises(TypeError, match="`path_or_trace` must be a file path"):
        analyze_chunked(42)
    with pytest.raises(drgephys.RecordingError, match="no such file"):
        analyze_chunked(path.with_name("missing.abf"))
    assert min_margin_s(AnalysisParams()) == pytest.approx(0.686, abs=0.001)


@pytest.mark.parametrize("sso", ["decimated", "window"])
def test_sweep_too_short_for_sso_keeps_spikes(sso):
    from drgephys.spikes import detect_spikes

    sim = simulate_trace(0.2, FS, seed=1, pattern="tonic", rate_hz=20.0)
    res = analyze_chunked(drgephys.Trace(sim.v, sim.fs), chunk_s=0.05, margin_s=1.0, sso=sso)
    row = res.recordings.iloc[0]
    assert row["status"] == "ok" and "no SSO analysis" in row["message"]
    assert pd.isna(row["sso_detected"]) and len(res.oscillations) == 0
    expected = detect_spikes(sim.v, sim.fs)
    assert row["spike_count"] == len(expected) > 0
    np.testing.assert_allclose(res.spikes["peak_s"].to_numpy(), expected["peak_s"].to_numpy(), atol=1 / FS)


def test_auto_mode_switches_to_windows_for_long_sweeps():
    from drgephys.chunked import MAX_DECIMATED_S, resolve_sso_mode

    assert resolve_sso_mode("auto", 120.0) == "decimated"
    assert resolve_sso_mode("auto", MAX_DECIMATED_S + 1.0) == "window"
    assert resolve_sso_mode("window", 10.0) == "window"
    with pytest.raises(ValueError, match="`sso` must be one of"):
        resolve_sso_mode("everything", 10.0)


REAL_ABFS = Path(__file__).resolve().parents[1] / ".." / "shared" / "real_data" / "swharden__pyABF" / "data" / "abfs"


@pytest.mark.parametrize("name", ["2020_03_02_0000.abf", "171116sh_0019.abf"])
def test_real_multi_sweep_recordings_equal_in_memory(name):
    """Real pyABF sample recordings (16 sweeps with one flat sweep refused; 22 sweeps with 366 spikes)."""
    path = REAL_ABFS / name
    if not path.exists():
        pytest.skip(f"real recordings not available at {REAL_ABFS} (the shared data folder beside the repository)")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the recordings' band-top clipping warning
        full = drgephys.analyze(path)
        res = analyze_chunked(path, chunk_s=2.0, margin_s=1.0)
    a, b = full.recordings, res.recordings
    assert b["status"].tolist() == a["status"].tolist()
    assert b["channel"].tolist() == a["channel"].tolist()
    ok = (a["status"] == "ok").to_numpy()
    np.testing.assert_allclose(b["resting_vm_mv"].to_numpy(float)[ok], a["resting_vm_mv"].to_numpy(float)[ok],
                               atol=RESTING_TOL_MV)
    assert b["firing_pattern"].astype(str).tolist() == a["firing_pattern"].astype(str).tolist()
    assert len(res.spikes) == len(full.spikes)
    if len(full.spikes):
        np.testing.assert_allclose(res.spikes["peak_s"].to_numpy(float), full.spikes["peak_s"].to_numpy(float),
                                   atol=PEAK_TOL_SAMPLES / b["fs_hz"].max())


def test_file_is_read_in_windows_only(recording, monkeypatch):
    """Every read of the lazy path covers at most core + 2 margins (+ decimation alignment), never the sweep."""
    import drgephys.chunked as chunked_mod

    reads = []
    real = chunked_mod.lazy_sweeps

    def logged(*args, **kwargs):
        sweeps, skipped, io = real(*args, **kwargs)
        for sw in sweeps:
            inner = sw._reader
            sw._reader = lambda a, b, inner=inner: (reads.append((a, b)), inner(a, b))[1]
        return sweeps, skipped, io

    monkeypatch.setattr(chunked_mod, "lazy_sweeps", logged)
    margin_s = 1.0
    res = analyze_chunked(recording[0], chunk_s=CHUNK_S, margin_s=margin_s)
    assert res.recordings["status"].iloc[0] == "ok" and reads
    longest = max(b - a for a, b in reads)
    from drgephys.chunked.windows import decimation

    q = decimation(FS, AnalysisParams().oscillations)[0]   # window starts are aligned to it
    assert longest <= (CHUNK_S + 2 * margin_s) * FS + q
    assert longest < DURATION_S * FS / 4
