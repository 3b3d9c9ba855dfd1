"""Known-answer and negative tests of detect_oscillations on synthetic traces (tests/oscillations/synth.py)."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drgephys.oscillations import OscillationParams, detect_oscillations, summarize_oscillations

from .synth import make_trace, match

FS = 20000.0
FREQ_TOL_HZ = 0.3          # project target: median frequency error <= 0.3 Hz
AMP_REL_TOL = 0.10         # project target: median amplitude error <= 10 %
AMP_CASE_TOL = 0.15        # single episode (the 90th percentile of noisy cycles reads high at low SNR)
BOUNDARY_TOL_S = 0.05      # episode start/end vs the envelope's half-maximum points
COLUMNS = ["start_s", "end_s", "frequency_hz", "amplitude_mv", "n_cycles", "mean_vm_mv", "power_db",
           "period_cv", "amplitude_cv", "sinusoidality"]


def _one(det, start, end):
    """The detection overlapping [start, end] most."""
    ov = np.minimum(det["end_s"], end) - np.maximum(det["start_s"], start)
    assert (ov > 0).any(), f"no detection overlaps [{start}, {end}]:\n{det}"
    return det.iloc[int(np.argmax(ov))]


KNOWN = [(15.0, 3.0), (40.0, 2.0), (73.3, 1.5), (120.0, 2.5), (180.0, 3.0)]


def _known(freq, pp):
    start, end = 1.0, 1.0 + max(30 / freq, 0.4)
    v, spikes = make_trace(4.0, FS, episodes=[(start, end, freq, pp)], seed=int(freq))
    return start, end, detect_oscillations(v, FS, spikes=spikes)


@pytest.mark.parametrize("freq, pp", KNOWN)
def test_known_episode_frequency_amplitude_boundaries(freq, pp):
    start, end, det = _known(freq, pp)
    assert list(det.columns) == COLUMNS
    assert len(det) == 1, det
    row = det.iloc[0]
    assert abs(row.frequency_hz - freq) <= FREQ_TOL_HZ
    assert abs(row.amplitude_mv / pp - 1) <= AMP_CASE_TOL
    assert abs(row.start_s - start) <= BOUNDARY_TOL_S and abs(row.end_s - end) <= BOUNDARY_TOL_S
    assert row.n_cycles == pytest.approx((row.end_s - row.start_s) * row.frequency_hz)
    assert row.mean_vm_mv == pytest.approx(-60.0, abs=0.5)
    assert 0.8 <= row.sinusoidality <= 1.0 and row.power_db > 10 and row.period_cv < 0.1


def test_known_episodes_median_amplitude_error():
    errors = [abs(_known(f, pp)[2].iloc[0].amplitude_mv / pp - 1) for f, pp in KNOWN]
    assert np.median(errors) <= AMP_REL_TOL


def test_mean_vm_from_original_trace_not_drift_removed():
    v, spikes = make_trace(4.0, FS, episodes=[(1.0, 2.0, 40.0, 2.0)], vm_mv=-52.0, seed=3)
    v = v + np.linspace(0.0, 8.0, v.size)          # slow drift: -52 at 0 s to -44 at 4 s
    row = _one(detect_oscillations(v, FS, spikes=spikes), 1.0, 2.0)
    assert row.mean_vm_mv == pytest.approx(-52.0 + 8.0 * 1.5 / 4.0, abs=0.3)


def test_several_episodes_all_found_none_false():
    eps = [(0.5, 1.2, 25.0, 2.0), (2.0, 2.5, 60.0, 1.5), (3.2, 3.6, 110.0, 2.0), (4.5, 5.5, 45.0, 1.0)]
    v, spikes = make_trace(6.0, FS, episodes=eps, seed=4)
    det = detect_oscillations(v, FS, spikes=spikes)
    hits, n_true, true_dets, n_det, pairs = match(eps, det)
    assert (hits, true_dets) == (n_true, n_det) == (4, 4)
    for ep, row in pairs:
        assert abs(row.frequency_hz - ep[2]) <= FREQ_TOL_HZ


@pytest.mark.parametrize("seed", range(4))
def test_noise_only_gives_no_episode(seed):
    v, spikes = make_trace(20.0, FS, seed=100 + seed, pink_sd=0.4, white_sd=0.15)
    assert len(detect_oscillations(v, FS, spikes=spikes)) == 0


@pytest.mark.parametrize("hum_hz, offset_hz", [(50.0, 0.0), (50.0, 0.1), (60.0, -0.1), (60.0, 0.05)])
def test_hum_only_gives_no_episode_and_is_reported(hum_hz, offset_hz):
    v, spikes = make_trace(10.0, FS, seed=7, hum_hz=hum_hz + offset_hz, hum_pp_mv=1.0)
    det = detect_oscillations(v, FS, spikes=spikes)
    assert len(det) == 0, det
    lines = det.attrs["mains_lines"]
    assert any(abs(ln["frequency_hz"] - hum_hz - offset_hz) < 0.01 for ln in lines), lines


def test_hum_with_harmonics_gives_no_episode():
    v, spikes = make_trace(10.0, FS, seed=8, hum_hz=60.0, hum_pp_mv=1.0)
    t = np.arange(v.size) / FS
    v = v + 0.3 * np.sin(2 * np.pi * 120.0 * t) + 0.2 * np.sin(2 * np.pi * 180.0 * t + 1.0)
    det = detect_oscillations(v, FS, spikes=spikes)
    assert len(det) == 0, det
    found = sorted(round(ln["frequency_hz"]) for ln in det.attrs["mains_lines"])
    assert found == [60, 120, 180]


@pytest.mark.parametrize("sso_hz, dur_s", [(50.0, 1.0), (60.0, 1.0), (50.0, 3.0), (60.3, 3.0)])
def test_sso_at_mains_frequency_survives_hum_removal(sso_hz, dur_s):
    """Even phase-locked at exactly the mains frequency for 3 s (under half the hum's median window)."""
    hum_hz = round(sso_hz / 10) * 10.0
    eps = [(2.0, 2.0 + dur_s, sso_hz, 2.0)]
    v, spikes = make_trace(12.0, FS, episodes=eps, seed=9, hum_hz=hum_hz, hum_pp_mv=1.0)
    det = detect_oscillations(v, FS, spikes=spikes)
    assert len(det) == 1, det
    row = det.iloc[0]
    assert abs(row.frequency_hz - sso_hz) <= FREQ_TOL_HZ
    assert abs(row.amplitude_mv / 2.0 - 1) <= 2 * AMP_REL_TOL
    assert abs(row.start_s - 2.0) <= BOUNDARY_TOL_S and abs(row.end_s - 2.0 - dur_s) <= BOUNDARY_TOL_S


@pytest.mark.parametrize("rate_hz", [8.0, 12.5, 20.0])
@pytest.mark.parametrize("blank_taus", [1.0, 3.0])
def test_tonic_firing_gives_no_episode(rate_hz, blank_taus):
    """AHP remnants of regular firing must not become episodes at multiples of the rate."""
    times = np.arange(0.2, 9.8, 1 / rate_hz)
    v, spikes = make_trace(10.0, FS, spike_times_s=times, seed=10, blank_tau_multiple=blank_taus)
    assert len(detect_oscillations(v, FS, spikes=spikes)) == 0


def test_episode_with_spikes_on_its_peaks_is_found_once():
    eps = [(1.0, 3.0, 40.0, 3.0)]
    v, spikes = make_trace(4.0, FS, episodes=eps, spike_times_s=[1.5, 1.9, 2.4], seed=11)
    det = detect_oscillations(v, FS, spikes=spikes)
    assert len(det) == 1
    assert abs(det.iloc[0].frequency_hz - 40.0) <= FREQ_TOL_HZ


def test_spikes_none_detects_spikes_itself():
    pytest.importorskip("drgephys.spikes")
    times = np.arange(0.2, 4.8, 1 / 8.0)
    v, spikes = make_trace(5.0, FS, episodes=[(1.0, 2.0, 45.0, 2.0)], spike_times_s=times[times > 2.5], seed=12)
    a = detect_oscillations(v, FS, spikes=spikes)
    b = detect_oscillations(v, FS)
    assert len(a) == len(b) == 1
    assert b.iloc[0].frequency_hz == pytest.approx(a.iloc[0].frequency_hz, abs=0.05)


def test_current_step_edges_give_no_episode():
    v, spikes = make_trace(3.0, FS, seed=13, pink_sd=0.1, white_sd=0.1)
    t = np.arange(v.size) / FS
    tau = 0.02
    on, off = (t >= 0.5), (t >= 2.0)
    for amp in (-100.0, -13.0, 13.0, 300.0):
        step = amp * (on * (1 - np.exp(-(t - 0.5) / tau)) - off * (1 - np.exp(-(t - 2.0) / tau)))
        assert len(detect_oscillations(v + step, FS, spikes=spikes)) == 0, amp
    for amp in (-20.0, 3.0, 20.0):                 # instantaneous jumps (bridge or offset errors)
        assert len(detect_oscillations(v + amp * (on.astype(float) - off), FS, spikes=spikes)) == 0, amp


@pytest.mark.parametrize("fs", [1000.0, 2000.0, 5000.0, 10000.0, 25000.0, 50000.0])
def test_sampling_rates(fs):
    eps = [(1.0, 2.0, 35.0, 2.0), (2.5, 3.0, 120.0, 2.0)]
    v, spikes = make_trace(4.0, fs, episodes=eps, seed=14)
    det = detect_oscillations(v, fs, spikes=spikes)
    hits, n_true, true_dets, n_det, pairs = match(eps, det)
    assert (hits, true_dets, n_det) == (2, 2, 2)
    for ep, row in pairs:
        assert abs(row.frequency_hz - ep[2]) <= FREQ_TOL_HZ


def test_band_top_clipped_below_nyquist_with_warning():
    v, spikes = make_trace(3.0, 1000.0, episodes=[(1.0, 2.0, 35.0, 2.0)], seed=15)
    params = OscillationParams(band_hz=(10.0, 450.0))
    with pytest.warns(UserWarning, match=r"band top 450 Hz clipped to 333\.333 Hz"):
        det = detect_oscillations(v, 1000.0, spikes=spikes, params=params)
    assert det.attrs["band_hz"] == pytest.approx((10.0, 1000.0 / 3))
    assert len(det) == 1


def test_too_slow_recording_raises():
    with pytest.raises(ValueError, match=r"`fs` is too low for `band_hz`"):
        detect_oscillations(np.zeros(1000), 50.0)


@settings(max_examples=5, deadline=None)
@given(scale=st.floats(0.5, 3.0))
def test_frequency_invariant_to_amplitude_scaling(scale):
    v, spikes = make_trace(3.0, 10000.0, episodes=[(1.0, 2.0, 47.0, 2.0)], seed=16)
    ref = detect_oscillations(v, 10000.0, spikes=spikes)
    vm = np.mean(v)
    det = detect_oscillations(vm + scale * (v - vm), 10000.0, spikes=spikes)
    assert len(det) == len(ref) == 1
    assert det.iloc[0].frequency_hz == pytest.approx(ref.iloc[0].frequency_hz, abs=1e-3)
    assert det.iloc[0].amplitude_mv == pytest.approx(scale * ref.iloc[0].amplitude_mv, rel=1e-3)


_LONG = make_trace(5.0, 10000.0, episodes=[(2.5, 3.5, 63.0, 2.0)], seed=17)[0]


@settings(max_examples=5, deadline=None)
@given(shift_s=st.floats(0.0, 1.5))
def test_frequency_invariant_to_time_shift(shift_s):
    k = int(round(shift_s * 10000.0))
    det = detect_oscillations(_LONG[k:k + 30000], 10000.0, spikes=pd.DataFrame(columns=["threshold_index", "end_index"]))
    assert len(det) == 1
    row = det.iloc[0]
    assert abs(row.frequency_hz - 63.0) <= FREQ_TOL_HZ
    assert abs(row.start_s - (2.5 - k / 10000.0)) <= BOUNDARY_TOL_S


def test_params_are_frozen_and_serialisable():
    p = OscillationParams()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.min_cycles = 2  # type: ignore[misc]
    d = dataclasses.asdict(p)
    assert d["band_hz"] == (10.0, 200.0) and d["wavelet_cycles"] == 6.0 and d["min_cycles"] == 3.0


@pytest.mark.parametrize("kwargs, exc, pattern", [
    ({"band_hz": (200.0, 10.0)}, ValueError, r"`band_hz` must be a pair \(low, high\) with 0 < low < high"),
    ({"band_hz": "low"}, TypeError, r"`band_hz` must be a pair"),
    ({"min_cycles": -1.0}, ValueError, r"`min_cycles` must be > 0; got -1.0"),
    ({"n_freqs": 1}, ValueError, r"`n_freqs` must be an integer >= 2"),
    ({"power_percentile": 100.0}, ValueError, r"`power_percentile` must lie in \(0, 100\)"),
    ({"wavelet_cycles": "six"}, TypeError, r"`wavelet_cycles` must be a finite number"),
    ({"max_fs_ratio": 2.0}, ValueError, r"`max_fs_ratio` must be > 2"),
])
def test_params_validation(kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        OscillationParams(**kwargs)


@pytest.mark.parametrize("v, fs, spikes, exc, pattern", [
    (np.zeros(20000), -1.0, None, ValueError, r"`fs` must be a positive number in Hz; got -1"),
    (np.zeros(20000), "fast", None, TypeError, r"`fs` must be a positive number in Hz"),
    (np.zeros((2, 20000)), 20000.0, None, ValueError, r"`v` must be a 1-D array"),
    (np.full(20000, np.nan), 20000.0, None, ValueError, r"`v` must be finite"),
    (np.zeros(100), 20000.0, None, ValueError, r"`v` must last at least 3 cycles"),
    (np.zeros(20000), 20000.0, [1, 2], TypeError, r"`spikes` must be the DataFrame"),
    (np.zeros(20000), 20000.0, pd.DataFrame({"peak_index": [5]}), ValueError, r"missing \['threshold_index', 'end_index'\]"),
    (np.zeros(20000), 20000.0, pd.DataFrame({"threshold_index": [5], "end_index": [20000]}), ValueError,
     r"0 <= threshold_index <= end_index < len\(v\) = 20000"),
    (np.zeros(20000), 20000.0, pd.DataFrame({"threshold_index": [50], "end_index": [10]}), ValueError,
     r"spans must satisfy"),
])
def test_input_validation(v, fs, spikes, exc, pattern):
    with pytest.raises(exc, match=pattern):
        detect_oscillations(v, fs, spikes=spikes)


def test_params_type_checked():
    with pytest.raises(TypeError, match=r"`params` must be an OscillationParams; got dict"):
        detect_oscillations(np.zeros(20000), 20000.0, spikes=None, params={})


def test_flat_trace_gives_empty_table_with_columns():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        det = detect_oscillations(np.full(20000, -60.0), 20000.0,
                                  spikes=pd.DataFrame(columns=["threshold_index", "end_index"]))
    assert len(det) == 0 and list(det.columns) == COLUMNS


def test_summary():
    eps = pd.DataFrame({"start_s": [0.0, 2.0, 5.0], "end_s": [1.0, 2.5, 8.0], "frequency_hz": [40.0, 80.0, 42.0],
                        "amplitude_mv": [1.0, 3.0, 2.0]})
    s = summarize_oscillations(eps, 10.0)
    assert s["sso_detected"] is True
    assert s["sso_frequency_hz"] == 42.0           # durations 1, 0.5, 3 s: weighted median is the 3-s episode
    assert s["sso_amplitude_mv"] == 2.0
    assert s["sso_time_fraction"] == pytest.approx(0.45)
    empty = summarize_oscillations(eps.iloc[:0], 10.0)
    assert empty["sso_detected"] is False and np.isnan(empty["sso_frequency_hz"])
    assert empty["sso_time_fraction"] == 0.0
    with pytest.raises(ValueError, match=r"`duration_s` must be a positive number in s; got -1.0"):
        summarize_oscillations(eps, -1)
    with pytest.raises(TypeError, match=r"`episodes` must be the DataFrame"):
        summarize_oscillations([1, 2], 10.0)
    with pytest.raises(ValueError, match=r"missing \['amplitude_mv'\]"):
        summarize_oscillations(eps.drop(columns="amplitude_mv"), 10.0)



def test_input_untouched_and_output_sorted_and_disjoint():
    eps = [(0.5, 1.2, 25.0, 2.0), (1.6, 2.4, 90.0, 1.5), (3.0, 3.6, 40.0, 2.0)]
    v, spikes = make_trace(4.0, FS, episodes=eps, spike_times_s=[2.0], seed=21)
    before = v.copy()
    det = detect_oscillations(v, FS, spikes=spikes)
    assert np.array_equal(v, before)
    assert len(det) == 3
    assert np.all(np.diff(det["start_s"]) > 0) and np.all(det["start_s"].to_numpy()[1:] >= det["end_s"].to_numpy()[:-1])
