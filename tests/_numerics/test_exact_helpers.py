"""The speed helpers of `drgephys._numerics` (order, savgol, ragged, deriv) give the same answers as the plain
library calls they replace (exactly, or to summation-order float noise where stated)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import savgol_filter

from drgephys._numerics.deriv import _gradient, dvdt, dvdt_at, robust_sd, window_samples
from drgephys._numerics.spans import spans_to_mask
from drgephys._numerics.order import MIN_FAST, median, robust_sd_bound
from drgephys._numerics.savgol import Sampled, gradient_at, savgol, savgol_at
from drgephys._numerics.ragged import Segments, first_crossing

#: np.convolve and ndimage.convolve1d sum the same products in a different order.
SUM_ORDER_RTOL = 1e-12


def _signals(rng, n):
    noise = rng.normal(size=n)
    return {
        "white": noise,
        "walk": np.cumsum(noise),
        "ties": np.round(noise, 1),
        # periodic with the subsample stride: the bracket can miss the middle, forcing the fallback
        "aliased": np.sin(np.arange(n) * 2 * np.pi / (n // 16384 + 0.5)),
    }


@pytest.mark.parametrize("n", [10, MIN_FAST + 1, 300_000, 300_001])
def test_median_equals_numpy(n):
    rng = np.random.default_rng(n)
    for name, x in _signals(rng, n).items():
        assert median(x) == np.median(x), name
        keep = rng.random(n) < 0.3
        keep[: n // 2] = False
        if keep.any():
            assert median(x, where=keep) == np.median(x[keep]), name
        # spans left out (overlapping, clipped, empty), as the resting potential leaves out the spikes
        starts = rng.integers(-50, n, 25)
        stops = starts + rng.integers(-3, max(n // 20, 2), 25)
        keep = ~spans_to_mask(starts, stops, n)
        if keep.any():
            assert median(x, outside=(starts, stops)) == np.median(x[keep]), name
        assert median(x, outside=(np.empty(0, int), np.empty(0, int))) == np.median(x), name


def test_median_takes_one_selection():
    with pytest.raises(ValueError, match="`where` and `outside` both select samples; pass one of them"):
        median(np.zeros(10), np.ones(10, bool), outside=([0], [1]))


@pytest.mark.parametrize("n", [300, 20_000, MIN_FAST + 3, 400_000])
def test_robust_sd_bound_is_an_upper_bound(n):
    rng = np.random.default_rng(7)
    for name, x in _signals(rng, n).items():
        bound = robust_sd_bound(x)
        assert robust_sd(x) <= bound, name
    assert robust_sd_bound(np.zeros(10)) == np.inf   # short arrays: no certificate


@pytest.mark.parametrize("window, order, deriv", [(5, 2, 1), (11, 3, 0), (25, 2, 1)])
def test_savgol_matches_scipy(window, order, deriv):
    x = np.cumsum(np.random.default_rng(1).normal(size=5000))
    ref = savgol_filter(x, window, order, deriv=deriv, delta=0.05, mode="interp")
    got = savgol(x, window, order, deriv=deriv, delta=0.05)
    np.testing.assert_allclose(got, ref, rtol=SUM_ORDER_RTOL, atol=SUM_ORDER_RTOL * np.abs(ref).max())
    h = window // 2
    np.testing.assert_array_equal(got[:h], ref[:h])          # edges: SciPy's own fits
    np.testing.assert_array_equal(got[-h:], ref[-h:])


@pytest.mark.parametrize("fs, span_ms", [(50_000.0, 0.5), (20_000.0, 0.1), (10_000.0, 0.2)])
def test_windowed_derivative_equals_full_inside_windows(fs, span_ms):
    rng = np.random.default_rng(3)
    v = np.cumsum(rng.normal(size=20_000))
    full = dvdt(v, fs, None, span_ms)
    starts = np.concatenate(([-5, 0], rng.integers(0, v.size, 40), [v.size - 3]))
    stops = starts + rng.integers(1, 300, starts.size)
    part = dvdt_at(v, fs, span_ms, starts, stops)
    seg = Segments(np.clip(starts, 0, None), np.minimum(stops, v.size), v.size)
    w = window_samples(span_ms, fs)
    scipy_ref = (savgol_filter(v, w, 2, deriv=1, delta=1e3 / fs, mode="interp") if w
                 else np.gradient(v, 1e3 / fs))
    np.testing.assert_array_equal(seg.take(part), seg.take(scipy_ref))     # bit for bit with SciPy
    np.testing.assert_allclose(seg.take(part), seg.take(full), rtol=SUM_ORDER_RTOL,
                               atol=SUM_ORDER_RTOL * np.abs(full).max())
    assert isinstance(part, Sampled)
    outside = np.setdiff1d(np.arange(v.size), seg.idx)[:1]
    with pytest.raises(IndexError, match="outside the evaluated windows"):
        part[outside]


def test_gradient_equals_numpy():
    x = np.cumsum(np.random.default_rng(4).normal(size=1001))
    np.testing.assert_array_equal(_gradient(x, 0.05), np.gradient(x, 0.05))
    part = gradient_at(x, 0.05, [0, 500, 990], [3, 520, 1001])
    idx = np.r_[0:3, 500:520, 990:1001]
    np.testing.assert_array_equal(part[idx], np.gradient(x, 0.05)[idx])


def test_first_crossing_equals_segments():
    rng = np.random.default_rng(5)
    for _ in range(200):
        n = int(rng.integers(1, 3000))
        x = np.cumsum(rng.normal(size=n))
        k = int(rng.integers(0, 20))
        starts = rng.integers(-5, n + 5, k)
        stops = starts + rng.integers(-3, 2000, k)
        level = rng.normal(0, 5, k) + x[np.clip(starts, 0, n - 1)]
        seg = Segments(starts, stops, n)
        flat, lev = seg.take(x), np.repeat(level, seg.lengths)
        for above, inclusive, mask in ((True, True, flat >= lev), (True, False, flat > lev),
                                       (False, True, flat <= lev), (False, False, flat < lev)):
            got = first_crossing(x, starts, stops, level, above=above, inclusive=inclusive,
                                 first_chunk=int(rng.integers(1, 100)))
            np.testing.assert_array_equal(got, seg.first_true(mask))


def test_window_argmin_equals_segments_argmin():
    """Long sorted windows (reduceat on the trace + first_crossing) and overlapping ones (fallback)
    give `Segments.argmin`'s first minimum, with its clipping (empty / reversed / out-of-range)."""
    from drgephys._numerics.ragged import window_argmin

    rng = np.random.default_rng(11)
    x = np.round(rng.normal(size=50_000), 1)          # many ties: the first minimum must be found
    n = x.size
    starts = np.sort(rng.choice(n, 60, replace=False))
    stops = np.minimum(np.append(starts[1:], n), starts + rng.integers(1, 3000, 60))
    stops[-1] = n + 10                                 # last window clipped to the end
    cases = {"sorted": (starts, stops), "overlapping": (starts, starts + 5000),
             "empty": (starts, starts), "edges": (np.array([-3, n - 1]), np.array([2, n + 5]))}
    for name, (s, e) in cases.items():
        np.testing.assert_array_equal(window_argmin(x, s, e), Segments(s, e, n).argmin(x), err_msg=name)


@settings(max_examples=150, deadline=None)
@given(st.integers(256, 5000), st.integers(0, 2**32 - 1), st.sampled_from(["normal", "ties", "cauchy", "sine"]))
def test_robust_sd_bound_never_below_exact(n, seed, kind):
    """The certificate is a proof: whenever it is finite it is at least the exact robust SD (ties,
    heavy tails and periodic signals included)."""
    rng = np.random.default_rng(seed)
    x = {"normal": rng.normal(size=n), "ties": rng.integers(0, 4, n).astype(float),
         "cauchy": rng.standard_cauchy(n), "sine": np.sin(np.arange(n) * 0.37) - 60.0}[kind]
    assert robust_sd(x) <= robust_sd_bound(x)
