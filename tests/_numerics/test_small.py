"""`drgephys._numerics.small`: the same values as the numpy / scipy functions they stand in for (bit for bit)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage, stats

from drgephys._numerics import small as sm

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


def _same(a, b) -> bool:
    return np.array_equal(np.asarray(a), np.asarray(b))


@settings(max_examples=300, deadline=None)
@given(arrays(np.float64, st.integers(1, 300), elements=finite), st.sampled_from([0.0, 10.0, 50.0, 90.0, 97.5, 100.0]))
def test_percentile_equals_numpy(x, q):
    assert _same(sm.percentile(x.copy(), q), np.percentile(x, q))


@settings(max_examples=300, deadline=None)
@given(arrays(np.float64, st.integers(1, 300), elements=finite),
       st.lists(st.sampled_from([0.0, 0.5, 1.0, 50.0, 97.5, 99.0, 99.5, 100.0]), min_size=1, max_size=6))
def test_percentiles_equal_numpy(x, qs):
    before = x.copy()
    assert _same(sm.percentiles(x, qs), np.percentile(x, qs))
    assert _same(x, before)


@settings(max_examples=300, deadline=None)
@given(arrays(np.float64, st.integers(1, 300), elements=finite))
def test_median_mean_var_equal_numpy(x):
    assert _same(sm.median(x), np.median(x))
    assert _same(sm.mean(x), np.mean(x))
    assert _same(sm.var(x), np.var(x))


@pytest.mark.parametrize("n", [1, 2, 7, 128, 1000, 20000])
def test_reductions_on_long_and_strided_inputs(n):
    rng = np.random.default_rng(n)
    z = rng.normal(size=n) + 1j * rng.normal(size=n)
    x = np.ascontiguousarray(z.real) * 1e3 - 55.0
    assert _same(sm.var(x), np.var(x)) and _same(sm.mean(x), np.mean(x))
    assert _same(sm.percentile(x, 90), np.percentile(x, 90)) and _same(sm.median(x), np.median(x))


@settings(max_examples=300, deadline=None)
@given(arrays(np.float64, st.integers(0, 300), elements=st.floats(-20, 20)))
def test_unwrap_equals_numpy(steps):
    phase = np.angle(np.exp(1j * np.cumsum(steps)))       # wrapped phase with steps of any size
    assert _same(sm.unwrap(phase), np.unwrap(phase))
    assert _same(sm.unwrap(steps), np.unwrap(steps))


def test_unwrap_boundary_steps_of_exactly_pi():
    p = np.array([0.0, np.pi, 0.0, -np.pi, 2 * np.pi, 0.0, 3 * np.pi])
    assert _same(sm.unwrap(p), np.unwrap(p))


@settings(max_examples=200, deadline=None)
@given(arrays(np.bool_, st.integers(1, 200)), st.integers(1, 40))
def test_dilate_equals_binary_dilation(mask, k):
    assert _same(sm.dilate(mask, k), ndimage.binary_dilation(mask, iterations=k))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (3, 2), (24, 4687), (24, 4688), (5, 101)])
def test_median_rows_equals_numpy(dtype, shape):
    rng = np.random.default_rng(shape[1])
    a = (rng.chisquare(2, size=shape) * rng.uniform(0.01, 10.0, size=(shape[0], 1))).astype(dtype)
    a[0, : shape[1] // 2] = a[0, 0]                                  # ties
    expected = np.median(a, axis=1)
    got = sm.median_rows(a.copy())
    assert got.dtype == expected.dtype
    assert _same(got, expected)


@pytest.mark.parametrize("shape", [(4, 1), (150, 9), (151, 3), (50, 2)])
def test_median_cols_equals_numpy(shape):
    rng = np.random.default_rng(shape[0])
    z = rng.normal(size=shape) + 1j * rng.normal(size=shape)
    for a in (z.real, np.abs(z), np.cos(np.angle(z))):
        before = a.copy()
        assert _same(sm.median_cols(a), np.median(a, axis=0))
        assert _same(a, before)


@settings(max_examples=300, deadline=None)
@given(st.integers(2, 40), st.floats(-4, 1), st.floats(0.001, 2.0), st.integers(0, 2**32 - 1), st.booleans())
def test_siegelslopes_equals_scipy(n, slope, noise, seed, ties):
    rng = np.random.default_rng(seed)
    x = np.log10(np.geomspace(10.0, 200.0, n))
    y = slope * x + rng.normal(0.0, noise, n)
    if ties:
        y[rng.integers(0, n, n // 2)] = y[0]
    ref = stats.siegelslopes(y, x)
    assert _same(sm.siegelslopes(y, x), (ref.slope, ref.intercept))


def test_siegelslopes_repeated_x_falls_back_to_scipy():
    x, y = np.array([1.0, 1.0, 2.0, 3.0]), np.array([0.0, 1.0, 2.0, 2.5])
    ref = stats.siegelslopes(y, x)
    assert _same(sm.siegelslopes(y, x), (ref.slope, ref.intercept))


@pytest.mark.parametrize("rows, cols, w", [(60, 3, 51), (51, 1, 51), (150, 9, 51), (20, 2, 3), (9, 4, 7)])
def test_window_medians_equal_median_filter_on_full_windows(rows, cols, w):
    rng = np.random.default_rng(rows * cols)
    a = rng.normal(size=(rows, cols))
    a[::7] = a[0]                                                     # ties
    h = w // 2
    expected = ndimage.median_filter(a, size=(w, 1), mode="nearest")[h:rows - h]
    assert _same(sm.window_medians(a, w), expected)


@settings(max_examples=300, deadline=None)
@given(arrays(np.float32, st.integers(1, 3000), elements=st.floats(-200, 200, width=32)))
def test_mean_of_float32_equals_numpy(x):
    assert _same(sm.mean(x), np.mean(x))
