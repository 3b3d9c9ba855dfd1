"""discharge_features: known answers, NaN safety, SSO locking, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drgephys.spikes import MODEL_FEATURES, discharge_features

POISSON_TOL = 0.1   # CV and LV of a 2000-spike Poisson train
EXACT_TOL = 1e-9


@pytest.mark.parametrize("n", [0, 1, 2])
def test_nan_safe_for_few_spikes(n):
    f = discharge_features(np.arange(n) * 0.3 + 0.1, 10.0)
    assert f["n_spikes"] == n
    assert f["rate_hz"] == pytest.approx(n / 10.0)
    for k in ("cv", "cv2", "lv", "log_isi_sd", "bimodality", "burst_fraction", "sso_locking"):
        assert math.isnan(f[k]), k
    assert set(MODEL_FEATURES) <= set(f)
    if n == 0:
        assert math.isnan(f["log10_rate_hz"]) and math.isnan(f["mean_isi_s"])
    if n == 2:
        assert f["mean_isi_s"] == pytest.approx(0.3)


def test_regular_train_known_answers():
    f = discharge_features(np.arange(50) * 0.1, 5.0)
    assert f["rate_hz"] == pytest.approx(10.0)
    assert f["log10_rate_hz"] == pytest.approx(1.0)
    for k in ("cv", "cv2", "lv", "log_isi_sd"):
        assert f[k] == pytest.approx(0.0, abs=1e-6)
    assert f["burst_fraction"] == 0.0 and f["n_bursts"] == 0


def test_cv2_hand_computed():
    # ISIs 0.1, 0.2: CV2 = 2|0.2 − 0.1| / (0.2 + 0.1) = 2/3; LV = 3 (0.1/0.3)² = 1/3
    f = discharge_features([0.0, 0.1, 0.3], 1.0)
    assert f["cv2"] == pytest.approx(2 / 3, abs=EXACT_TOL)
    assert f["lv"] == pytest.approx(1 / 3, abs=EXACT_TOL)
    assert f["cv"] == pytest.approx(np.std([0.1, 0.2]) / 0.15, abs=EXACT_TOL)


def test_poisson_train_cv_and_lv_near_one():
    rng = np.random.default_rng(0)
    st_ = np.cumsum(rng.exponential(0.1, 2000))
    f = discharge_features(st_, float(st_[-1]) + 0.1)
    assert f["cv"] == pytest.approx(1.0, abs=POISSON_TOL)
    assert f["lv"] == pytest.approx(1.0, abs=POISSON_TOL)


def test_bursts_found_by_log_isi_valley():
    bursts = np.arange(20) * 1.0
    st_ = (bursts[:, None] + np.arange(5)[None, :] * 0.005).ravel()
    f = discharge_features(st_, 20.0)
    assert f["n_bursts"] == 20
    assert f["burst_fraction"] == pytest.approx(1.0)
    assert 0.005 < f["burst_isi_threshold_s"] < 0.98
    assert f["bimodality"] > 0.9
    assert f["lv"] > 1.0


def test_sso_locking():
    rng = np.random.default_rng(1)
    period = 1 / 50.0
    locked = np.cumsum(rng.integers(1, 8, 300) * period + rng.normal(0, 0.02 * period, 300))
    f = discharge_features(locked, float(locked[-1]) + 0.1, sso_frequency_hz=50.0)
    assert f["sso_locking"] > 0.95 and f["sso_locking_index"] > 0.9
    free = np.cumsum(rng.uniform(0.5, 7.5, 3000) * period)
    g = discharge_features(free, float(free[-1]) + 0.1, sso_frequency_hz=50.0)
    assert g["sso_locking"] == pytest.approx(0.4, abs=0.05)  # chance: ±0.2 period of 1 period
    assert math.isnan(discharge_features(locked, 100.0)["sso_locking"])
    assert math.isnan(discharge_features(locked, 100.0, sso_frequency_hz=float("nan"))["sso_locking"])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.0, 10.0, allow_nan=False), max_size=40))
def test_invariants_order_free_and_bounded(times):
    a = discharge_features(times, 10.0)
    b = discharge_features(list(reversed(times)), 10.0)
    assert a.keys() == b.keys()
    for k in a:
        assert (a[k] == b[k]) or (isinstance(a[k], float) and math.isnan(a[k]) and math.isnan(b[k]))
    if not math.isnan(a["burst_fraction"]):
        assert 0.0 <= a["burst_fraction"] <= 1.0
    if not math.isnan(a["bimodality"]):
        assert 0.0 <= a["bimodality"] <= 1.0 + 1e-12


def test_errors():
    with pytest.raises(ValueError, match=r"`duration_s` must be a positive number in s; got 0"):
        discharge_features([0.1], 0)
    with pytest.raises(ValueError, match=r"`spike_times_s` must be finite"):
        discharge_features([0.1, np.nan], 1.0)
    with pytest.raises(ValueError, match=r"`sso_frequency_hz` must be a positive number in Hz"):
        discharge_features([0.1, 0.2], 1.0, sso_frequency_hz=-5)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(1e-4, 10.0), min_size=2, max_size=60))
def test_regularity_equals_elephant_bit_for_bit(isi):
    """The in-house CV/CV2/LV are elephant.statistics' values exactly (same operations, no quantities)."""
    import warnings

    from drgephys.spikes.discharge import _elephant_stats

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from elephant import statistics as es

        x = np.asarray(isi)
        ref = (float(es.cv(x)), float(es.cv2(x, with_nan=True)), float(es.lv(x, with_nan=True)))
    assert _elephant_stats(x) == ref


def test_default_model_fast_path_predicts_like_the_estimator():
    """classify_discharge's direct evaluation of the shipped model gives the estimator's class on random
    feature vectors spread over ±3 training SDs (identical predictions required)."""
    from drgephys.spikes import classify_discharge
    from drgephys.spikes.classifier import DischargePatternClassifier
    from drgephys.spikes.model_file import default_arrays as _default_model

    m, d = DischargePatternClassifier.default(), _default_model()
    rng = np.random.default_rng(7)
    X = rng.normal(m.mean_, 3 * m.scale_, size=(5000, m.mean_.size))
    logits = ((X - d["mean"]) / d["scale"]) @ d["coef_t"] + d["intercept"]
    assert np.array_equal(np.asarray(d["classes"])[np.argmax(logits, axis=1)], m.predict(X))
    times = np.sort(rng.uniform(0, 10, size=(40, 12)), axis=1)
    for t in times:
        assert classify_discharge(t, 10.0) == classify_discharge(t, 10.0, model=m)
    assert not d["mean"].flags.writeable     # the cached model cannot be changed by a caller
