"""numpy / scipy statistics with the same values but less per-call overhead, for the SSO detector's many
small arrays: `measure_episode` takes a dozen percentiles, medians, variances and phase unwraps per
episode (numpy's generality costs ~10-30 µs a call), the background a median per wavelet row and a Siegel
line per sweep, mains removal medians over blocks. Each function performs the same floating-point
operations as its counterpart (numpy 2 / scipy 1.17) on the same values, so results are identical, bit
for bit (``tests/_numerics/test_small.py`` compares them). Inputs are finite (the detector's traces are
checked by `check_v`); numpy's NaN propagation is not reproduced.
"""

from __future__ import annotations

import functools
import math

import numpy as np

__all__ = ["percentile", "percentiles", "median", "median_rows", "median_cols", "window_medians", "siegelslopes",
           "mean", "var", "unwrap", "dilate"]


def percentile(x: np.ndarray, q: float) -> float:
    """``numpy.percentile(x, q)`` (linear method) of a non-empty 1-D array."""
    n = x.size
    vi = (n - 1) * (q / 100)
    i = math.floor(vi)
    if vi >= n - 1:
        return float(x.max())
    part = np.partition(x, (i, i + 1))
    return _lerp(part[i], part[i + 1], vi - i)


def percentiles(x: np.ndarray, qs) -> list[float]:
    """``numpy.percentile(x, qs)`` (linear method) of a non-empty 1-D array for several ``qs``, from one
    partition at every order statistic they need (``x`` is not modified)."""
    n = x.size
    vis = [(n - 1) * (q / 100) for q in qs]
    kth = sorted({min(k, n - 1) for vi in vis for k in (math.floor(vi), math.floor(vi) + 1)})
    part = np.partition(x, kth)
    return [float(part[n - 1]) if vi >= n - 1 else _lerp(part[math.floor(vi)], part[math.floor(vi) + 1],
                                                         vi - math.floor(vi)) for vi in vis]


def _lerp(a, b, g: float) -> float:
    """numpy's linear interpolation between neighbouring order statistics ``a <= b`` at ``g`` in [0, 1)."""
    d = b - a
    return float(b - d * (1 - g)) if g >= 0.5 else float(a + d * g)


def median(x: np.ndarray) -> float:
    """``numpy.median(x)`` of a non-empty 1-D array."""
    n = x.size
    h = n // 2
    if n % 2:
        return float(np.partition(x, h)[h])
    part = np.partition(x, (h - 1, h))
    return float((part[h - 1] + part[h]) / 2)


def median_rows(a: np.ndarray) -> np.ndarray:
    """``numpy.median(a, axis=1, overwrite_input=True)`` of a finite 2-D float array (``a`` is partitioned
    in place). One partition at the upper middle (numpy's vectorized single-``kth`` path, ~10x faster than
    the several-``kth`` partition `numpy.median` asks for) and, for an even count, the maximum of the lower
    half; their mean in the array's dtype, as numpy."""
    n = a.shape[1]
    h = n // 2
    a.partition(h, axis=1)
    upper = a[:, h].copy()
    if n % 2:
        return upper
    lower = a[:, :h].max(axis=1)
    return (lower + upper) / 2


def median_cols(a: np.ndarray) -> np.ndarray:
    """``numpy.median(a, axis=0)`` of a finite 2-D float array (``a`` is not modified)."""
    return median_rows(np.array(a.T, order="C"))


def window_medians(a: np.ndarray, w: int) -> np.ndarray:
    """Medians of the ``w`` consecutive rows of a finite 2-D float array for every full window: shape
    ``(rows - w + 1, cols)``, row ``i`` the median over rows ``i .. i + w - 1`` (the values of
    ``scipy.ndimage.median_filter(a, size=(w, 1))`` at rows ``w // 2 .. rows - 1 - w // 2``, odd ``w``)."""
    win = np.lib.stride_tricks.sliding_window_view(a, w, axis=0)        # (rows - w + 1, cols, w)
    return median_rows(np.array(win, order="C").reshape(-1, w)).reshape(win.shape[:2])   # (a copy)


def siegelslopes(y: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """``scipy.stats.siegelslopes(y, x)`` (repeated medians, ``method="hierarchical"``): ``(slope,
    intercept)`` with the same values (scipy's compiled core takes the same quotients and medians; its
    wrapper costs ~0.1-0.3 ms per call). Falls back to scipy when ``x`` has repeated values."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = x.size
    pair = _siegel_pairs(x.tobytes()) if n >= 2 else None
    if pair is None:
        from scipy import stats
        res = stats.siegelslopes(y, x)
        return float(res.slope), float(res.intercept)
    off, dx = pair
    slopes = ((y[:, None] - y)[off] / dx).reshape(n, n - 1)   # row j: slopes from point j
    slope = median(median_rows(slopes))
    return slope, median(y - slope * x)


@functools.lru_cache(maxsize=16)
def _siegel_pairs(xb: bytes):
    """``(off, dx)`` of `siegelslopes` for the float64 abscissae ``xb`` (bytes): the off-diagonal mask and the
    abscissa differences ``(x[:, None] - x)[off]``, or ``None`` when ``x`` has repeated values (cached: the
    background fit uses one set of wavelet frequencies per band)."""
    x = np.frombuffer(xb, dtype=np.float64)
    n = x.size
    if np.unique(x).size != n:
        return None
    off = ~np.eye(n, dtype=bool)
    dx = (x[:, None] - x)[off]
    off.flags.writeable = dx.flags.writeable = False
    return off, dx


def mean(x: np.ndarray) -> float:
    """``numpy.mean(x)`` of a non-empty 1-D float64 or float32 array (pairwise sum in the array's dtype,
    then one division in it), as a Python float."""
    return float(x.sum() / x.size)


def var(x: np.ndarray) -> float:
    """``numpy.var(x)`` of a non-empty 1-D float64 array."""
    d = x - x.sum() / x.size
    return float(np.square(d, out=d).sum() / x.size)


def unwrap(p: np.ndarray) -> np.ndarray:
    """``numpy.unwrap(p)`` of a 1-D float64 array (period 2 pi, discontinuity pi).

    numpy's correction is zero wherever a step is below pi; it is computed (with numpy's operations) at
    the other steps only, about one per cycle for a wrapped phase.
    """
    up = p.copy()
    if p.size < 2:
        return up
    dd = p[1:] - p[:-1]
    jump = np.flatnonzero(np.abs(dd) >= np.pi)
    if jump.size == 0:
        return up
    d = dd[jump]
    dmod = np.mod(d - (-np.pi), 2 * np.pi) + (-np.pi)
    np.copyto(dmod, np.pi, where=(dmod == -np.pi) & (d > 0))
    ph_correct = np.zeros(dd.size)
    ph_correct[jump] = dmod - d
    up[1:] = p[1:] + ph_correct.cumsum()
    return up


def dilate(mask: np.ndarray, iterations: int) -> np.ndarray:
    """``scipy.ndimage.binary_dilation(mask, iterations=iterations)`` of a 1-D boolean array: True within
    ``iterations`` samples of a True sample (outside the array counts as False)."""
    n = mask.size
    c = np.concatenate(([0], np.cumsum(mask, dtype=np.int64)))
    idx = np.arange(n)
    lo = np.maximum(idx - iterations, 0)
    hi = np.minimum(idx + iterations + 1, n)
    return c[hi] > c[lo]
