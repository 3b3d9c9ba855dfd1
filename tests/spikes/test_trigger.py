"""classify_triggers: SSO phase at threshold and the oscillation / other rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drgephys.spikes import TriggerParams, classify_triggers, detect_spikes

from ._synth import make_trace

PHASE_TOL_RAD = 0.35
PHASE_INVARIANCE_TOL_RAD = 1e-6
BALANCED_ACCURACY_MIN = 0.9
THRESHOLD_BEFORE_PEAK_S = 0.77e-3  # 10 mV/ms point of the synthetic AP (rise SD 0.25 ms, 95 mV)


def _episodes(*rows):
    return pd.DataFrame(rows, columns=["start_s", "end_s", "frequency_hz"])


def _scene(fs=20_000, f=50.0, seed=0, noise=0.3):
    """SSO (4 mV p-p) in [0.5, 4.5) s; spikes at SSO peaks, at SSO troughs and outside the episode."""
    rng = np.random.default_rng(seed)
    period = 1 / f
    a = 0.5
    peaks = a + period * np.arange(10, 190, 9)[:12] + rng.uniform(-0.1, 0.05, 12) * period  # within ±π/4 of the peak
    troughs = a + period * (np.arange(15, 190, 9)[:12] + 0.5)
    outside = np.array([0.1, 0.25, 4.7, 4.85])
    thr = np.concatenate([peaks, troughs, outside])
    label = np.array(["oscillation"] * peaks.size + ["other"] * (troughs.size + outside.size))
    order = np.argsort(thr)
    v = make_trace(fs, 5.0, thr + THRESHOLD_BEFORE_PEAK_S, noise_sd_mv=noise, sso=(f, 4.0, a, 4.5, 0.0),
                   seed=seed)
    return v, fs, thr[order], label[order], _episodes((a, 4.5, f))


@pytest.mark.parametrize("fs,f", [(10_000, 30.0), (20_000, 50.0), (50_000, 100.0)])
def test_balanced_accuracy_on_synthetic_scene(fs, f):
    v, fs, thr, label, epi = _scene(fs=fs, f=f, seed=int(f))
    s = detect_spikes(v, fs)
    assert len(s) == thr.size
    out = classify_triggers(v, fs, s, epi)
    pred = out["trigger"].to_numpy()
    bal = np.mean([np.mean(pred[label == c] == c) for c in ("oscillation", "other")])
    assert bal >= BALANCED_ACCURACY_MIN


def test_phase_is_zero_at_sso_peak_and_pi_at_trough():
    fs, f = 20_000, 40.0
    thr_peak, thr_trough = 1.0, 2.0 + 0.5 / f  # SSO phase0 = 0 at 0.5 s → peaks at 0.5 + k/f
    v = make_trace(fs, 3.0, [thr_peak + THRESHOLD_BEFORE_PEAK_S, thr_trough + THRESHOLD_BEFORE_PEAK_S],
                   sso=(f, 4.0, 0.5, 3.0, 0.0))
    s = detect_spikes(v, fs)
    out = classify_triggers(v, fs, s, _episodes((0.5, 3.0, f)))
    ph = out["sso_phase_rad"].to_numpy()
    # the detected threshold sits within ~0.1 ms of the nominal one: allow that much phase
    assert abs(ph[0]) < PHASE_TOL_RAD
    assert abs(abs(ph[1]) - np.pi) < PHASE_TOL_RAD
    assert out["trigger"].tolist() == ["oscillation", "other"]


def test_no_episodes_means_all_other_and_nan_phase():
    v, fs, thr, label, _ = _scene()
    s = detect_spikes(v, fs)
    for epi in (None, _episodes()):
        out = classify_triggers(v, fs, s, epi)
        assert (out["trigger"] == "other").all()
        assert out["sso_phase_rad"].isna().all()
        pd.testing.assert_frame_equal(out.drop(columns=["trigger", "sso_phase_rad"]), s)


def test_flat_trace_inside_episode_is_other():
    """An 'episode' without an oscillation in the trace: the fit explains nothing → other."""
    fs = 20_000
    v = make_trace(fs, 2.0, [0.5, 1.2], noise_sd_mv=0.3)
    s = detect_spikes(v, fs)
    out = classify_triggers(v, fs, s, _episodes((0.0, 2.0, 50.0)))
    assert (out["trigger"] == "other").all()


def test_empty_spikes_table():
    fs = 20_000
    v = np.full(20_000, -60.0)
    s = detect_spikes(v, fs)
    out = classify_triggers(v, fs, s, _episodes((0.0, 1.0, 50.0)))
    assert len(out) == 0 and {"trigger", "sso_phase_rad"} <= set(out.columns)


def test_errors():
    v = np.zeros(100)
    s = detect_spikes(v, 1000.0)
    with pytest.raises(ValueError, match=r"`spikes` must have columns .* missing \['end_index'\]"):
        classify_triggers(v, 1000.0, s.drop(columns=["end_index"]), None)
    with pytest.raises(TypeError, match=r"`spikes` must be a pandas DataFrame"):
        classify_triggers(v, 1000.0, [1, 2], None)
    with pytest.raises(ValueError, match=r"`episodes` must have columns"):
        classify_triggers(v, 1000.0, s, pd.DataFrame({"start_s": [0.0]}))
    with pytest.raises(TypeError, match=r"`params` must be a TriggerParams"):
        classify_triggers(v, 1000.0, s, None, params={})
    with pytest.raises(ValueError, match=r"`fs` must be a positive number in Hz"):
        classify_triggers(v, 0, s, None)
    with pytest.raises(ValueError, match=r"`band_hz` must satisfy 0 < low < high"):
        TriggerParams(band_hz=(100.0, 10.0))
    with pytest.raises(ValueError, match=r"`min_fit_r2` must be in \[0, 1\)"):
        TriggerParams(min_fit_r2=1.5)


@settings(max_examples=10, deadline=None)
@given(offset_mv=st.floats(-20.0, 20.0), gain=st.floats(0.5, 2.0))
def test_phase_invariant_to_offset_and_gain(offset_mv, gain):
    """The fit has its own offset and the rule no absolute level: shifting or scaling the potential
    (with the same spike table) leaves phases and labels unchanged."""
    v, fs, thr, label, epi = _scene(seed=3)
    s = detect_spikes(v, fs)
    a = classify_triggers(v, fs, s, epi)
    b = classify_triggers(gain * (v - v.mean()) + v.mean() + offset_mv, fs, s, epi,
                          params=TriggerParams(foot_dvdt_mv_per_ms=gain * TriggerParams().foot_dvdt_mv_per_ms))
    np.testing.assert_allclose(a["sso_phase_rad"], b["sso_phase_rad"], atol=PHASE_INVARIANCE_TOL_RAD)
    assert a["trigger"].tolist() == b["trigger"].tolist()


def test_excluded_spans_read_like_the_mask():
    """`_Spans` (no trace-length mask) answers like `spans_to_mask` at any sample index."""
    from drgephys._numerics.spans import spans_to_mask
    from drgephys.spikes.trigger import _Spans

    rng = np.random.default_rng(5)
    n = 10_000
    starts = rng.integers(-50, n, 40)
    stops = starts + rng.integers(-5, 400, 40)          # overlapping, empty and clipped spans
    idx = np.arange(n)
    np.testing.assert_array_equal(_Spans(starts, stops, n)[idx], spans_to_mask(starts, stops, n))
    np.testing.assert_array_equal(_Spans([], [], n)[idx], np.zeros(n, bool))
