"""`drgephys._numerics.gapfill`: an oscillation continues through a gap; noise is never amplified."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drgephys._numerics.gapfill import ar_coefficients, ar_fill

FS = 600.0
#: A 40-Hz sinusoid in light noise, filled over 10-ms gaps: error against the sinusoid (mV, of 1 mV amplitude).
SINE_FILL_TOL_MV = 0.25


def _sine(n=6000, f=40.0, noise=0.02, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / FS
    return np.sin(2 * np.pi * f * t) + noise * rng.standard_normal(n), np.sin(2 * np.pi * f * t)


def test_a_sinusoid_is_continued_through_its_gaps():
    x, clean = _sine()
    s = np.arange(100, 5900, 47)                       # 10-ms gaps every ~78 ms
    e = s + 6
    filled = x.copy()
    for a, b in zip(s, e):                             # straight-line bridges, as the caller leaves them
        filled[a:b] = np.linspace(filled[a - 1], filled[b], b - a + 2)[1:-1]
    line_err = max(np.abs(filled[a:b] - clean[a:b]).max() for a, b in zip(s, e))
    n = ar_fill(filled, s, e, order=15, max_gap=30)
    assert n == s.size
    err = max(np.abs(filled[a:b] - clean[a:b]).max() for a, b in zip(s, e))
    assert err <= SINE_FILL_TOL_MV < line_err           # the bridge cut the peaks off; the fill restores them


def test_long_gaps_and_gaps_at_the_ends_are_left_alone():
    x, _ = _sine()
    before = x.copy()
    s, e = np.array([3, 1000]), np.array([9, 1100])      # too close to the start; longer than max_gap
    assert ar_fill(x, s, e, order=15, max_gap=30) == 0
    np.testing.assert_array_equal(x, before)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), gap=st.integers(1, 30))
def test_noise_fills_stay_within_the_context_swing(seed, gap):
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.standard_normal(3000)) * 0.05 + rng.standard_normal(3000)
    s = np.array([1000, 2000])
    e = s + gap
    ar_fill(x, s, e, order=15, max_gap=30)
    mean = x[np.r_[0:1000, 1000 + gap:2000, 2000 + gap:3000]].mean()
    for a, b in zip(s, e):
        swing = max(np.abs(x[a - 15:a] - mean).max(), np.abs(x[b:b + 15] - mean).max())
        assert np.all(np.abs(x[a:b] - mean) <= swing + 1e-9)


def test_the_model_is_stable():
    x, _ = _sine(noise=0.3)
    valid = np.ones(x.size, bool)
    valid[::50] = False
    a = ar_coefficients(x, valid, 20)
    roots = np.roots(np.concatenate(([1.0], -a)))
    assert np.all(np.abs(roots) < 1.0)                   # predictions decay, never grow
    assert ar_coefficients(x[:30], np.ones(30, bool), 20) is None     # too few samples
