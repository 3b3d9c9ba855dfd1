"""Same answer whatever the execution mode, and episodes stitched across analysis windows (`drgephys.windows`).

Execution (whole sweep in memory, or read from the file window by window) never changes a table: the
comparisons are exact. Window length is an analysis parameter: a sweep cut into windows gives the spikes
of the uncut sweep exactly and the same episodes up to the documented boundary and measure tolerances.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import drgephys
import drgephys.pipeline
from drgephys.analysis import analyze
from drgephys.io import open_recording
from drgephys.oscillations import OscillationParams
from drgephys.oscillations.episodes import COLUMNS, EpisodeTable
from drgephys.params import AnalysisParams, Execution
from drgephys.sim import simulate_trace, write_abf
from drgephys.spikes import SpikeParams
from drgephys.windows import Window, WindowParams, min_margin_s, plan_windows, stitch_episodes

FS = 20_000.0
DURATION_S = 60.0
WINDOW_S = 7.0
#: Episodes deliberately crossing the 7-s window edges at 14 s and 28 s.
EPISODES = ({"start_s": 2.0, "end_s": 3.5}, {"start_s": 12.6, "end_s": 15.4}, {"start_s": 20.0, "end_s": 21.0},
            {"start_s": 27.2, "end_s": 29.8, "frequency_hz": 70.0}, {"start_s": 40.3, "end_s": 42.0},
            {"start_s": 48.5, "end_s": 49.4})
#: Windowed vs whole sweep: episode boundaries within this (s; a few working-rate samples) and amplitudes
#: within this relative tolerance (per-window background and hum estimates); frequencies within this (Hz)
#: of the truth.
BOUNDARY_TOL_S = 0.02
AMP_REL_TOL = 0.05
FREQ_TOL_HZ = 0.5
#: Resting Vm from the 1 µV histogram of several windows vs numpy's median of the whole sweep.
RESTING_TOL_MV = 1e-3
TABLES = ("recordings", "oscillations", "spikes")


def _params(window_s: float, margin_s: float = 2.0) -> AnalysisParams:
    return AnalysisParams(windows=WindowParams(window_s=window_s, margin_s=margin_s))


def _assert_same_tables(a, b):
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    sim = simulate_trace(DURATION_S, FS, seed=11, episodes=EPISODES, hum_hz=50, pattern="irregular",
                         rate_hz=3.0)
    path = write_abf(tmp_path_factory.mktemp("windows") / "cell.abf", sim.v, sim.fs)
    return path, analyze(path, params=_params(1000.0)), sim.truth   # one window: the sweep seen whole


@pytest.fixture(scope="module")
def windowed(recording):
    return analyze(recording[0], params=_params(WINDOW_S))


def test_reading_by_window_gives_the_same_tables(recording):
    path = recording[0]
    p = _params(WINDOW_S)
    in_memory = analyze(path, params=p)
    _assert_same_tables(analyze(path, params=p, chunk_s=3.0), in_memory)          # forced lazy reads
    _assert_same_tables(analyze(path, params=p, memory_budget_mb=1.0), in_memory)  # over the budget: lazy


def test_lazy_reads_are_bounded_by_the_window(recording):
    p = _params(WINDOW_S, margin_s=1.0)
    n = int(DURATION_S * FS)
    with open_recording(recording[0], max_samples=0) as opened:
        (sweep,) = opened.items
        assert not sweep.in_memory
        res = drgephys.pipeline.analyze_items([sweep], [], p, file_label="cell")
        reads = sweep._source.accesses
    assert res.recordings["status"].iloc[0] == "ok" and reads
    longest = max(b - a for a, b in reads if b - a < n)       # (the plausibility pass reads 4 M-sample blocks)
    assert longest <= (WINDOW_S + 2 * 1.0) * FS + 1


def test_windowed_spikes_equal_the_whole_sweep(recording, windowed):
    full, res = recording[1].spikes, windowed.spikes
    assert len(res) == len(full) > 20
    for c in ("peak_s", "threshold_s", "threshold_mv", "half_width_ms"):
        np.testing.assert_allclose(res[c].to_numpy(float), full[c].to_numpy(float), rtol=0, atol=1e-9)


def test_episodes_crossing_window_edges_are_joined(recording, windowed):
    """Each true episode, several of them crossing a window edge, is one windowed episode, measured like the
    whole sweep's (the 7-s windows are a harsh case: episodes fill up to 40 % of a window, so per-window
    backgrounds differ from the sweep's by a few dB and may merge a piece the whole sweep kept apart)."""
    full, res = recording[1].oscillations, windowed.oscillations
    edges = np.arange(1, int(DURATION_S / WINDOW_S) + 1) * WINDOW_S
    crossing = ((res["start_s"].to_numpy()[:, None] < edges) & (res["end_s"].to_numpy()[:, None] > edges)).any(1)
    assert crossing.sum() >= 3                                  # the precondition of the test
    truth = pd.DataFrame(recording[2]["episodes"])
    ov = (np.minimum(truth["end_s"].to_numpy()[:, None], res["end_s"].to_numpy()[None, :])
          - np.maximum(truth["start_s"].to_numpy()[:, None], res["start_s"].to_numpy()[None, :]))
    assert np.all((ov > 0).sum(axis=1) == 1) and len(res) == len(EPISODES)   # one detection per true episode
    for (i, r), k in zip(res.iterrows(), np.argmax(ov > 0, axis=0)):
        assert abs(r["frequency_hz"] - truth["frequency_hz"].iloc[k]) <= FREQ_TOL_HZ
        same = full[(full["start_s"] < r["end_s"]) & (full["end_s"] > r["start_s"])]
        if len(same) == 1:                                     # the same episode: the same measures
            for c in ("start_s", "end_s"):
                assert abs(r[c] - same[c].iloc[0]) <= BOUNDARY_TOL_S
            assert r["amplitude_mv"] == pytest.approx(same["amplitude_mv"].iloc[0], rel=AMP_REL_TOL)


def test_sweep_summary_of_windows_equals_the_whole_sweep(recording, windowed):
    a, b = recording[1].recordings.iloc[0], windowed.recordings.iloc[0]
    assert b["status"] == "ok" and "analysed in 9 windows of 7 s" in b["message"]
    assert b["resting_vm_mv"] == pytest.approx(a["resting_vm_mv"], abs=RESTING_TOL_MV)
    for c in ("spike_count", "firing_pattern", "sso_detected", "duration_s", "fs_hz", "file", "channel"):
        assert b[c] == a[c]
    for c in ("sso_frequency_hz", "sso_amplitude_mv", "sso_time_fraction"):
        assert b[c] == pytest.approx(a[c], rel=0.02)


def test_window_edge_exactly_on_a_spike_peak(recording):
    path, full, _ = recording
    spk = full.spikes
    i = int(np.argmin(np.abs(spk["peak_s"].to_numpy() - 9.0)))
    peak_index = int(np.floor(spk["peak_s"].iloc[i] * FS))     # the peak sample (peak_s is sub-sample)
    res = analyze(path, params=_params(peak_index / FS))
    wins = plan_windows(int(DURATION_S * FS), FS, WindowParams(window_s=peak_index / FS))
    assert wins[1].core_start == peak_index                     # a core starts at that spike's peak sample
    assert len(res.spikes) == len(spk)
    np.testing.assert_allclose(res.spikes["peak_s"].to_numpy(), spk["peak_s"].to_numpy(), atol=1e-9, rtol=0)


def test_text_reader_without_lazy_loading_gives_the_same_tables(tmp_path):
    sim = simulate_trace(3.0, 10_000.0, seed=2, pattern="tonic")
    path = tmp_path / "cell.csv"
    t = np.arange(sim.v.size) / sim.fs
    np.savetxt(path, np.column_stack([t, sim.v]), delimiter=",", fmt="%.7f")
    p = _params(1.0, margin_s=1.0)
    _assert_same_tables(analyze(path, params=p, chunk_s=1.0), analyze(path, params=p))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 400_000), fs=st.sampled_from([1000.0, 20_000.0, 50_000.0]),
       window_s=st.floats(0.05, 5.0), margin_s=st.floats(0.01, 2.0))
def test_plan_windows_tiles_the_sweep(n, fs, window_s, margin_s):
    wins = plan_windows(n, fs, WindowParams(window_s=window_s, margin_s=margin_s))
    cs = np.array([w.core_start for w in wins])
    ce = np.array([w.core_end for w in wins])
    ws = np.array([w.start for w in wins])
    we = np.array([w.end for w in wins])
    assert cs[0] == 0 and ce[-1] == n and np.all(cs[1:] == ce[:-1]) and np.all(ce > cs)
    assert np.all(ws <= cs) and np.all(we >= ce) and np.all(ws >= 0) and np.all(we <= n)
    margin = int(np.ceil(margin_s * fs))
    assert np.all(we - ws <= ce - cs + 2 * margin)
    core = max(int(round(window_s * fs)), 1)
    assert np.all(ce - cs <= core + core // 4 + 1)             # the last core takes at most a quarter more


def test_validation_errors():
    with pytest.raises(ValueError, match="`window_s` must be a positive number in s; got 0"):
        WindowParams(window_s=0)
    with pytest.raises(ValueError, match="`margin_s` must be a positive number in s; got 'wide'"):
        WindowParams(margin_s="wide")
    with pytest.raises(ValueError, match="`margin_s` must be at least 0.686 s"):
        AnalysisParams(windows=WindowParams(margin_s=0.1))
    with pytest.raises(ValueError, match="`chunk_s` must be a positive number in s; got 0"):
        Execution(chunk_s=0)
    with pytest.raises(ValueError, match="`memory_budget_mb` must be a positive number in MB"):
        Execution(memory_budget_mb=-5)
    with pytest.raises(TypeError, match="unknown analysis parameter"):
        analyze(drgephys.Trace(np.zeros(100) - 60, 1000.0), sso="window")
    assert min_margin_s(SpikeParams(), OscillationParams()) == pytest.approx(0.686, abs=0.001)


def test_sweep_too_short_for_sso_keeps_spikes_in_every_window():
    from drgephys.spikes import detect_spikes

    sim = simulate_trace(0.2, FS, seed=1, pattern="tonic", rate_hz=20.0)
    res = analyze(drgephys.Trace(sim.v, sim.fs), params=_params(0.05, margin_s=1.0))
    row = res.recordings.iloc[0]
    assert row["status"] == "ok" and "no SSO analysis" in row["message"]
    assert pd.isna(row["sso_detected"]) and len(res.oscillations) == 0
    expected = detect_spikes(sim.v, sim.fs)
    assert row["spike_count"] == len(expected) > 0
    np.testing.assert_allclose(res.spikes["peak_s"].to_numpy(), expected["peak_s"].to_numpy(), atol=1 / FS)


def _table(rows):
    a = np.full((len(rows), len(COLUMNS)), np.nan)
    for k, r in enumerate(rows):
        for c, v in r.items():
            a[k, COLUMNS.index(c)] = v
    return EpisodeTable(a)


def _ep(start, end, f=40.0, amp=2.0, power_db=20.0, period_cv=0.1):
    return {"start_s": start, "end_s": end, "frequency_hz": f, "amplitude_mv": amp, "n_cycles": (end - start) * f,
            "mean_vm_mv": -60.0, "power_db": power_db, "period_cv": period_cv, "amplitude_cv": 0.2,
            "sinusoidality": 0.9}


def test_stitching_joins_pieces_weights_measures_and_drops_unconfirmed_slivers():
    fs = 1000.0
    wins = [Window(0, 0, 10_000, 12_000), Window(8_000, 10_000, 20_000, 20_000)]
    p = OscillationParams()
    a = _table([_ep(2.0, 3.0), _ep(8.0, 11.0, f=40.0, amp=2.0, power_db=20.0),   # crosses t = 10 s
                _ep(9.98, 10.5, f=90.0)])                                      # a sliver of 0.02 s in core 0
    b = _table([_ep(1.0, 4.0, f=42.0, amp=4.0, power_db=30.0, period_cv=np.nan),  # = 9..12 s, crosses too
                _ep(5.0, 6.0, f=41.0)])                                        # = 13..14 s, inside core 1
    out = stitch_episodes([a, b], wins, fs, p).frame()
    assert out["start_s"].tolist() == [2.0, 8.0, 13.0]                  # the 90-Hz sliver is dropped
    joined = out.iloc[1]
    assert joined["end_s"] == 12.0                                      # 8..10 from window 0, 10..12 from 1
    assert joined["frequency_hz"] == pytest.approx(41.0)                # 2 s at 40 Hz, 2 s at 42 Hz
    assert joined["amplitude_mv"] == pytest.approx(3.0)
    assert joined["n_cycles"] == pytest.approx(4.0 * 41.0)
    assert joined["power_db"] == pytest.approx(10 * np.log10((100 + 1000) / 2))
    assert joined["period_cv"] == pytest.approx(0.1)                    # NaN pieces carry no weight
    untouched = out.iloc[0]
    assert untouched["n_cycles"] == 40.0 and untouched["power_db"] == 20.0


def test_one_window_is_passed_through_unchanged():
    t = _table([_ep(1.0, 2.0), _ep(5.0, 7.5)])
    out = stitch_episodes([t], [Window(0, 0, 10_000, 10_000)], 1000.0, OscillationParams())
    assert out is t


REAL_ABFS = Path(__file__).resolve().parents[1] / ".." / "shared" / "real_data" / "swharden__pyABF" / "data" / "abfs"


@pytest.mark.parametrize("name", ["2020_03_02_0000.abf", "171116sh_0019.abf"])
def test_real_multi_sweep_recordings_read_by_window_give_the_same_tables(name):
    """Real pyABF sample recordings (16 sweeps with one flat sweep refused; 22 sweeps with 366 spikes)."""
    path = REAL_ABFS / name
    if not path.exists():
        pytest.skip(f"real recordings not available at {REAL_ABFS} (the shared data folder beside the repository)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the recordings' band-top clipping warning
        _assert_same_tables(analyze(path, chunk_s=2.0), analyze(path))
