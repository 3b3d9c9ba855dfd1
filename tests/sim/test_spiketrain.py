"""Discharge-pattern generator: known statistics of each pattern and its invariants."""

import numpy as np
import pytest
from elephant.statistics import cv
from hypothesis import given, settings
from hypothesis import strategies as st

from drgephys.sim import spike_train

TONIC_CV_MAX = 0.2          # "regular" firing (SCIENCE.md)
IRREGULAR_CV_RANGE = (0.8, 1.2)  # Poisson-like, 1000+ ISIs
RATE_REL_TOL = 0.1          # mean rate within 10 % over a long train
FIRST_INTRA_ISI_S = (0.027, 0.033)  # median first intra-burst interval ≈ 30 ms (Kovalsky et al. 2009)


def test_silent_is_empty():
    assert spike_train("silent", 10, seed=0).size == 0


def test_tonic_is_regular_at_the_rate():
    t = spike_train("tonic", 200, rate_hz=5, seed=1)
    assert cv(np.diff(t)) < TONIC_CV_MAX
    assert t.size / 200 == pytest.approx(5, rel=RATE_REL_TOL)


def test_irregular_is_poisson_like():
    t = spike_train("irregular", 500, rate_hz=4, seed=2)
    assert IRREGULAR_CV_RANGE[0] < cv(np.diff(t)) < IRREGULAR_CV_RANGE[1]
    assert t.size / 500 == pytest.approx(4, rel=RATE_REL_TOL)


def test_bursting_has_short_intra_and_long_inter_intervals():
    t = spike_train("bursting", 600, rate_hz=2, seed=3)
    isi = np.diff(t)
    short = isi < 0.1
    assert np.all((isi < 0.1) | (isi > 0.25)), "no intervals between burst and silence scales"
    first = isi[np.flatnonzero(short & np.concatenate([[True], ~short[:-1]]))]
    assert FIRST_INTRA_ISI_S[0] < np.median(first) < FIRST_INTRA_ISI_S[1]
    # bursts of 2-10 spikes: runs of short intervals of length 1-9
    edges = np.flatnonzero(np.diff(np.concatenate([[0], short.astype(int), [0]])))
    runs = edges[1::2] - edges[::2]
    assert runs.min() >= 1 and runs.max() <= 9
    assert t.size / 600 == pytest.approx(2, rel=0.2)


def test_sso_period_snapping_gives_whole_multiples():
    period = 1 / 45.0
    t = spike_train("irregular", 60, rate_hz=5, seed=4, sso_period_s=period)
    ratio = np.diff(t) / period
    np.testing.assert_allclose(ratio, np.round(ratio), atol=1e-9)
    assert ratio.min() >= 1 - 1e-9


def test_seeded_and_reproducible():
    a = spike_train("irregular", 30, seed=5)
    np.testing.assert_array_equal(a, spike_train("irregular", 30, seed=5))
    assert not np.array_equal(a, spike_train("irregular", 30, seed=6))
    np.testing.assert_array_equal(a, spike_train("irregular", 30, seed=np.random.default_rng(5)))


@settings(max_examples=40, deadline=None)
@given(pattern=st.sampled_from(["tonic", "bursting", "irregular"]), rate=st.floats(0.25, 14),
       dur=st.floats(0.5, 30), seed=st.integers(0, 2**31))
def test_invariants(pattern, rate, dur, seed):
    if pattern == "bursting":
        rate = min(rate, 2.5)
    t = spike_train(pattern, dur, rate_hz=rate, seed=seed)
    assert np.all(np.diff(t) >= 0.005 - 1e-12)
    assert t.size == 0 or (t[0] >= 0 and t[-1] < dur)


@pytest.mark.parametrize("kwargs, match", [
    (dict(pattern="chaotic", duration_s=1), "`pattern` must be one of"),
    (dict(pattern="tonic", duration_s=-1), "`duration_s` must be a positive number"),
    (dict(pattern="tonic", duration_s=1, rate_hz=0), "`rate_hz` must be a positive number"),
    (dict(pattern="tonic", duration_s=1, rate_hz=150), "`rate_hz` must be well below"),
    (dict(pattern="bursting", duration_s=1, rate_hz=10), "too high for bursts"),
    (dict(pattern="bursting", duration_s=1, burst_size=(1, 3)), "`burst_size` must be"),
])
def test_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        spike_train(**kwargs)


def test_seed_type():
    with pytest.raises(TypeError, match="`seed` must be an int"):
        spike_train("tonic", 1, seed="abc")
