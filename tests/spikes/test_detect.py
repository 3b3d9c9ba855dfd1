"""detect_spikes: known answers on analytic traces, invariants, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from drgephys.spikes import COLUMNS, SpikeParams, detect_spikes
from drgephys.spikes.detect import empty_spikes

from ._synth import REST_MV, ap_waveform, make_trace

MATCH_TOL_S = 1e-3          # a detection matches a true spike within ±1 ms
PEAK_ERR_TOL_SAMPLES = 1.0  # median |peak_s − truth| in samples, 10–50 kHz
PEAK_ERR_TOL_S = 20e-6      # elsewhere (1–4 kHz: sub-sample; 200 kHz: the asymmetric synthetic AP top
                            # biases the 0.2-ms smoothing by ~9 µs ≈ 1.8 samples)
HALF_WIDTH_TOL_MS = 0.02
THRESHOLD_TOL_MV = 0.5
F1_MIN = 0.995


def _f1(detected, truth, tol=MATCH_TOL_S):
    d, t = np.asarray(detected), np.asarray(truth)
    if d.size == 0 or t.size == 0:
        return (1.0 if d.size == t.size else 0.0), np.array([])
    dist = np.abs(d[:, None] - t[None, :])
    hit_t = (dist <= tol).any(axis=0)
    hit_d = (dist <= tol).any(axis=1)
    prec, rec = hit_d.mean(), hit_t.mean()
    err = dist.min(axis=1)[hit_d]
    return (2 * prec * rec / (prec + rec) if prec + rec else 0.0), err


def _spike_times(rng, duration_s, n):
    t = np.sort(rng.uniform(0.05, duration_s - 0.25, n))
    return t[np.concatenate(([True], np.diff(t) > 0.012))]


@pytest.mark.parametrize("fs", [1_000, 4_000, 10_000, 20_000, 50_000, 200_000])
@pytest.mark.parametrize("noise_sd_mv", [0.0, 1.0])
def test_detects_every_spike_across_sampling_rates(fs, noise_sd_mv):
    rng = np.random.default_rng(int(fs + 10 * noise_sd_mv))
    dur = 4.0 if fs < 200_000 else 1.5
    truth = _spike_times(rng, dur, 25)
    v = make_trace(fs, dur, truth, noise_sd_mv=noise_sd_mv, sso=(60.0, 3.0, 0.5, 3.0, 0.0), seed=fs)
    s = detect_spikes(v, fs)
    f1, err = _f1(s["peak_s"].to_numpy(), truth)
    assert f1 >= F1_MIN
    if 10_000 <= fs <= 50_000:
        assert np.median(err) * fs <= PEAK_ERR_TOL_SAMPLES
    elif fs > 50_000:
        assert np.median(err) <= PEAK_ERR_TOL_S
    else:
        assert np.median(err) * fs <= 0.5


def test_noise_never_splits_spikes_noisy_pacemaker():
    """eFEL counts 957 'spikes' on a noisy 60-s pacemaker with 103 true ones: noise at threshold must
    not split one spike into many. Here: 3 mV noise, slow broad spikes, 20 s at 20 kHz."""
    fs, dur = 20_000, 20.0
    truth = np.arange(0.2, dur - 0.3, 0.55)
    v = make_trace(fs, dur, truth, noise_sd_mv=3.0, seed=3, amplitude_mv=80.0, rise_ms=0.6, fall_ms=1.5)
    s = detect_spikes(v, fs)
    assert len(s) == truth.size
    assert _f1(s["peak_s"].to_numpy(), truth)[0] == 1.0


def test_pure_noise_and_sso_give_no_spikes():
    fs = 20_000
    v = make_trace(fs, 5.0, [], noise_sd_mv=2.0, sso=(40.0, 5.0, 0.0, 5.0, 0.0), seed=1, rest_mv=-35.0)
    assert len(detect_spikes(v, fs)) == 0


def test_steps_and_plateaus_are_not_spikes():
    """A fast step to a depolarised plateau crosses any dV/dt cutoff but never repolarises."""
    fs = 20_000
    v = np.full(40_000, -70.0)
    v[10_000:30_000] = 20.0
    v[12_000:12_010] += 5.0  # a brief bump on the plateau
    assert len(detect_spikes(v, fs)) == 0


def test_columns_dtypes_and_empty_table():
    fs = 20_000
    v = make_trace(fs, 1.0, [0.3, 0.6])
    s = detect_spikes(v, fs)
    assert list(s.columns) == COLUMNS
    for c in ("threshold_index", "peak_index", "trough_index", "end_index"):
        assert s[c].dtype == np.int64
    assert s["evoked"].dtype == bool
    e = detect_spikes(np.full(1000, -60.0), fs)
    assert list(e.columns) == COLUMNS and len(e) == 0
    pd.testing.assert_frame_equal(e, empty_spikes())


def test_half_width_threshold_and_ahp_known_answers():
    """Continuous waveform, off-grid: interpolated half-width and threshold match the analytic values."""
    fs = 20_000
    tp = 0.5 + 0.37 / fs  # peak between samples
    v = make_trace(fs, 1.0, [tp])
    s = detect_spikes(v, fs, params=SpikeParams(threshold_method="dvdt", threshold_dvdt_mv_per_ms=10.0))
    assert len(s) == 1
    row = s.iloc[0]

    def f(tau_ms):
        return REST_MV + ap_waveform(tau_ms)

    def slope(tau_ms, h=1e-4):
        return (f(tau_ms + h) - f(tau_ms - h)) / (2 * h)

    tau_thr = brentq(lambda x: slope(x) - 10.0, -2.0, -0.3)
    v_thr = f(tau_thr)
    half = v_thr + 0.5 * (f(0.0) - v_thr)
    width = brentq(lambda x: f(x) - half, 0.0, 3.0) - brentq(lambda x: f(x) - half, -2.0, 0.0)
    assert row["threshold_mv"] == pytest.approx(v_thr, abs=THRESHOLD_TOL_MV)
    assert row["half_width_ms"] == pytest.approx(width, abs=HALF_WIDTH_TOL_MS)
    assert abs(row["peak_s"] - tp) * fs < 0.5
    assert row["ahp_mv"] == pytest.approx(v_thr - (REST_MV - 10.0), abs=THRESHOLD_TOL_MV)
    assert row["threshold_index"] < row["peak_index"] < row["trough_index"] <= row["end_index"]
    # end_index: AHP (15 ms decay) recovered within tolerance, well inside the 150 ms cap
    end_s = row["end_index"] / fs
    assert 0.02 < end_s - row["threshold_s"] < 0.15


@pytest.mark.parametrize("method", ["dvdt", "fraction_max_dvdt", "max_d2v"])
def test_threshold_methods_precede_the_upstroke(method):
    fs = 50_000
    v = make_trace(fs, 1.0, [0.3, 0.7], noise_sd_mv=0.2)
    s = detect_spikes(v, fs, params=SpikeParams(threshold_method=method))
    assert len(s) == 2
    up = s["threshold_s"] < s["peak_s"]
    assert up.all()
    assert ((s["peak_s"] - s["threshold_s"]) < 1.5e-3).all()


def test_irregular_times_match_regular_result():
    fs = 20_000
    v = make_trace(fs, 1.0, [0.25, 0.61])
    t = 3.0 + np.arange(v.size) / fs  # times need not start at 0
    a = detect_spikes(v, fs)
    b = detect_spikes(v, fs, times=t)
    np.testing.assert_array_equal(a["peak_index"], b["peak_index"])
    np.testing.assert_allclose(a["peak_s"], b["peak_s"], atol=0.5 / fs)


def test_evoked_flag_from_stimulus_windows():
    fs = 20_000
    v = make_trace(fs, 1.0, [0.2, 0.5, 0.8])
    s = detect_spikes(v, fs, stimulus_windows_s=[(0.4, 0.6)])
    assert s["evoked"].tolist() == [False, True, False]


def test_end_index_capped_at_next_threshold():
    fs = 20_000
    v = make_trace(fs, 1.0, [0.2, 0.215, 0.23, 0.6])
    s = detect_spikes(v, fs)
    assert len(s) == 4
    assert (s["end_index"].to_numpy()[:-1] < s["threshold_index"].to_numpy()[1:]).all()


@settings(max_examples=15, deadline=None)
@given(offsets=st.lists(st.floats(0.0, 1.0), min_size=0, max_size=8, unique=True),
       gain=st.floats(0.9, 1.2), seed=st.integers(0, 1000))
def test_invariants_count_order_and_spans(offsets, gain, seed):
    fs = 10_000
    truth = 0.1 + 0.1 * np.sort(np.asarray(offsets)) * 10 if offsets else np.array([])
    truth = truth[np.concatenate(([True], np.diff(truth) > 0.015))] if truth.size else truth
    v = make_trace(fs, 1.5, truth, noise_sd_mv=0.3, seed=seed, amplitude_mv=95.0 * gain)
    s = detect_spikes(v, fs)
    assert len(s) == truth.size
    if len(s):
        assert (np.diff(s["peak_s"]) > 0).all()
        assert (s["threshold_index"] <= s["peak_index"]).all()
        assert (s["peak_index"] <= s["end_index"]).all()
        assert (s["amplitude_mv"] >= SpikeParams().min_amplitude_mv).all()
        assert (s["half_width_ms"] > 0).all()


# ---- errors ------------------------------------------------------------------------------------------
def test_errors():
    v = np.zeros(100)
    with pytest.raises(ValueError, match=r"`fs` must be a positive number in Hz; got -1"):
        detect_spikes(v, -1)
    with pytest.raises(TypeError, match=r"`fs` must be a positive number"):
        detect_spikes(v, "20k")
    with pytest.raises(ValueError, match=r"`v` must be a 1-D array"):
        detect_spikes(np.zeros((3, 4)), 1000.0)
    with pytest.raises(ValueError, match=r"`v` must be finite"):
        detect_spikes(np.array([0.0, np.nan, 1.0]), 1000.0)
    with pytest.raises(TypeError, match=r"`params` must be a SpikeParams"):
        detect_spikes(v, 1000.0, params={"min_peak_mv": 0})
    with pytest.raises(ValueError, match=r"`times` must have one entry per sample"):
        detect_spikes(v, 1000.0, times=np.arange(10))
    with pytest.raises(ValueError, match=r"`times` must be non-decreasing"):
        detect_spikes(v, 1000.0, times=np.arange(100)[::-1])
    with pytest.raises(ValueError, match=r"`stimulus_windows_s` must hold finite"):
        detect_spikes(v, 1000.0, stimulus_windows_s=[(0.5, 0.1)])
    with pytest.raises(TypeError, match=r"`stimulus_windows_s` must be a list of"):
        detect_spikes(v, 1000.0, stimulus_windows_s="all")


def test_param_errors():
    with pytest.raises(ValueError, match=r"`threshold_method` must be one of"):
        SpikeParams(threshold_method="sekerli")
    with pytest.raises(ValueError, match=r"`refractory_ms` must be a positive number in ms; got -1"):
        SpikeParams(refractory_ms=-1)
    with pytest.raises(ValueError, match=r"`threshold_fraction` must be between 0 and 1"):
        SpikeParams(threshold_fraction=5)
    with pytest.raises(ValueError, match=r"`min_peak_mv` must be a finite potential"):
        SpikeParams(min_peak_mv=float("nan"))


#: White noise SD (mV per sample) up to which subthreshold activity must never yield a spike: above the
#: 0.1-0.5 mV of DRG recordings (SCIENCE.md) with a wide margin.
REALISTIC_NOISE_SD_MV = 1.0
#: Largest share of 2-s sweeps of extreme white noise (2-3 mV SD per sample at 10 kHz, near -20 mV) with a
#: false spike. Measured 1-2 % (100 seeds each): 4-5 sigma noise swings of >10 mV at ~30 mV/ms pass every
#: spike criterion there; no rule separates them from small spikes without changing real detections.
EXTREME_NOISE_FALSE_SWEEP_RATE = 0.05


def _subthreshold(fs, noise_sd_mv, offset_mv, sso_hz, sso_pp_mv, seed):
    if sso_hz >= fs / 2:
        sso_hz = fs / 5
    rng = np.random.default_rng(seed)
    t = np.arange(2 * fs) / fs
    return offset_mv + 0.5 * sso_pp_mv * np.sin(2 * np.pi * sso_hz * t) + rng.normal(0, noise_sd_mv, t.size)


@settings(max_examples=25, deadline=None)
@given(fs=st.sampled_from([1_000, 4_000, 10_000, 20_000, 50_000]),
       noise_sd_mv=st.floats(0.0, REALISTIC_NOISE_SD_MV), offset_mv=st.floats(-80.0, -20.0),
       sso_hz=st.floats(10.0, 200.0), sso_pp_mv=st.floats(0.0, 5.0), seed=st.integers(0, 2**16))
def test_no_spikes_in_noise_and_ssos_at_any_level(fs, noise_sd_mv, offset_mv, sso_hz, sso_pp_mv, seed):
    """Subthreshold activity — white noise up to 1 mV SD plus SSOs up to 5 mV p-p, at any potential
    from −80 to −20 mV — never yields a spike."""
    v = _subthreshold(fs, noise_sd_mv, offset_mv, sso_hz, sso_pp_mv, seed)
    assert len(detect_spikes(v, fs)) == 0


@pytest.mark.parametrize("noise_sd_mv", [2.0, 3.0])
def test_extreme_noise_false_spikes_are_rare(noise_sd_mv):
    """At 2-3 mV SD white noise near -20 mV (the hardest case: 10 kHz, where noise swings reach spike
    levels and slopes), false spikes stay rare — a documented limit, not a "never"."""
    hits = [len(detect_spikes(_subthreshold(10_000, noise_sd_mv, -20.0, 130.0, 3.0, seed), 10_000)) > 0
            for seed in range(100)]
    assert np.mean(hits) <= EXTREME_NOISE_FALSE_SWEEP_RATE
