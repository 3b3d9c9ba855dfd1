"""Exact, faster replacements for two hot whole-trace operations (same results as the library calls).

- `median`: the exact ``np.median`` of a long 1-D array without partitioning (and, for ``np.median``'s
  ``axis=None`` path, copying) the whole array: a strided subsample brackets the middle ranks, one pass
  over cache-sized blocks counts the samples below the bracket and gathers those inside it, and only
  those few percent are partitioned. Samples can be left out by a mask or by spans (a sweep's spikes). When the bracket misses the middle ranks (e.g. a subsample aliased with a periodic
  signal) it falls back to ``np.median``, so the result is always ``np.median``'s, bit for bit.
- `savgol`: ``scipy.signal.savgol_filter(..., mode="interp")`` with the interior computed by
  ``np.convolve`` (a contiguous dot-product kernel, 2-4x faster than ``ndimage.convolve1d`` for the
  5-25-tap windows used here) and the edge samples by SciPy itself on the first and last windows (the
  same polynomial fits SciPy makes). Interior values differ from SciPy's only by summation order
  (~1e-16 relative).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.ndimage import convolve1d
from scipy.signal import savgol_coeffs, savgol_filter

from ..oscillations.preprocess import merge_spans

try:  # SciPy's own edge fit (what savgol_filter(mode="interp") calls for each end); public path if moved
    from scipy.signal._savitzky_golay import _fit_edge as _scipy_fit_edge
except ImportError:  # pragma: no cover - depends on the SciPy version
    _scipy_fit_edge = None

#: Arrays shorter than this go straight to ``np.median`` (no gain below).
MIN_FAST = 65_536
#: Size of the strided subsample that brackets the middle ranks.
SUBSAMPLE = 16_384
#: Half-width of the bracket, as a fraction of the subsample (±5 % of ranks around its median).
BRACKET = 0.05
#: `robust_sd_bound` certifies arrays from this size; below it (and below `MIN_FAST`) its subsample
#: has about `SHORT_SUBSAMPLE` samples (sorting it costs far less than the exact MAD's partitions).
MIN_BOUND = 256
SHORT_SUBSAMPLE = 2048


def median(x: np.ndarray, where: np.ndarray | None = None, *, outside=None) -> float:
    """``float(np.median(x))`` (or ``np.median(x[where])``) for a finite 1-D array, without sorting
    (or copying) the whole array.

    Parameters
    ----------
    x : ndarray, shape (n,)
        Finite values.
    where : ndarray of bool, shape (n,), optional
        Samples to include (at least one True).
    outside : (ndarray of int, ndarray of int), optional
        Spans ``[starts, stops)`` to leave out instead of a mask (e.g. the spikes of a sweep; any order,
        overlapping or clipped; at least one sample must remain): the same value as
        ``where=~spans_to_mask(starts, stops, n)`` without a trace-length mask.

    Returns
    -------
    float
        Exactly ``np.median`` of the included samples (mean of the two middle values when their
        number is even).
    """
    x = np.asarray(x).reshape(-1)
    if where is not None and outside is not None:
        raise ValueError("`where` and `outside` both select samples; pass one of them")
    excl = None
    if outside is not None:
        excl = _span_indices(*outside, x.size)
        excl = excl if excl.size else None
    if where is not None:
        n = int(np.count_nonzero(where))
    else:
        n = x.size - (excl.size if excl is not None else 0)
    if n < MIN_FAST:
        return float(np.median(_included(x, where, excl)))
    step = x.size // SUBSAMPLE
    sub = x[::step]
    if where is not None:
        sub = sub[where[::step]]
    elif excl is not None:
        sub = np.delete(sub, excl[excl % step == 0] // step)     # the excluded subsample positions
    sub = np.sort(sub)
    m = sub.size
    if m < 16:
        return float(np.median(_included(x, where, excl)))
    half = int(MEDIAN_BRACKET * m) + 1
    lo, hi = sub[max(m // 2 - half, 0)], sub[min(m // 2 + half, m - 1)]
    below, inside = _bracket(x, lo, hi, where, excl)
    r0, r1 = (n - 1) // 2 - below, n // 2 - below
    if r0 < 0 or r1 >= inside.size:          # bracket missed the middle: the plain (exact) way
        return float(np.median(_included(x, where, excl)))
    if r0 == r1:
        inside.partition(r0)
        return float(inside[r0])
    inside.partition((r0, r1))
    return float(np.mean(inside[[r0, r1]]))


#: Samples per block of `median`'s counting pass (512 KiB of float64: the block and its masks stay in
#: cache, so the trace is read from memory once).
MEDIAN_BLOCK = 1 << 16
#: Half-width of `median`'s bracket, as a fraction of the subsample: ±2 % of ranks, ~5 standard errors of
#: the subsample median's rank (0.5 / sqrt(16 384)); a miss only costs the exact fallback. Narrower than
#: `BRACKET`: the values inside are gathered and partitioned (cohort resting Vm 0.12 -> 0.075 s).
MEDIAN_BRACKET = 0.02


def _bracket(x, lo, hi, where, excl):
    """Count of included samples below `lo` and the included values in ``[lo, hi]`` (a new array), in one
    blocked pass. Excluded samples (`excl`, sorted indices) are set to +inf in a cached copy of their
    block, so they are never below `lo` nor inside."""
    n, b = x.size, MEDIAN_BLOCK
    lt = np.empty(min(b, n), bool)
    ib = np.empty(min(b, n), bool)
    cuts = np.searchsorted(excl, np.arange(0, n + b, b)) if excl is not None else None
    below, parts = 0, []
    for k, a in enumerate(range(0, n, b)):       # one iteration per block; each step is whole-block work
        blk = x[a:a + b]
        c = blk.size
        l_, i_ = lt[:c], ib[:c]
        if cuts is not None and cuts[k + 1] > cuts[k]:
            blk = blk.copy()
            blk[excl[cuts[k]:cuts[k + 1]] - a] = np.inf
        np.less(blk, lo, out=l_)
        np.less_equal(blk, hi, out=i_)
        if where is not None:
            w = where[a:a + b]
            np.logical_and(l_, w, out=l_)
            np.logical_and(i_, w, out=i_)
        below += int(np.count_nonzero(l_))
        np.logical_xor(i_, l_, out=i_)           # below lo implies at most hi: the xor is lo <= x <= hi
        parts.append(blk[i_])
    return below, np.concatenate(parts)


def _span_indices(starts, stops, n: int) -> np.ndarray:
    """Sorted distinct sample indices inside the union of the spans ``[starts, stops)`` clipped to
    ``[0, n)``."""
    s, e = merge_spans(np.reshape(starts, -1), np.reshape(stops, -1), n)   # (no index twice)
    lengths = e - s
    return np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(s - (np.cumsum(lengths) - lengths), lengths)


def _included(x, where, excl):
    """The included samples of `x` (a copy unless all are)."""
    if where is not None:
        return x[where]
    if excl is not None:
        return np.delete(x, excl)
    return x


@lru_cache(maxsize=128)
def coeffs(window: int, polyorder: int, deriv: int, delta: float) -> np.ndarray:
    """``scipy.signal.savgol_coeffs(window, polyorder, deriv=deriv, delta=delta)``, cached (it costs
    ~0.15 ms per call; the same few kernels serve every sweep). Read-only."""
    c = savgol_coeffs(window, polyorder, deriv=deriv, delta=delta)
    c.flags.writeable = False
    return c


def edge_fit(xw: np.ndarray, polyorder: int, deriv: int, delta: float, head: bool) -> np.ndarray:
    """The first (`head`) or last ``window // 2`` values of
    ``savgol_filter(xw, window, polyorder, deriv=deriv, delta=delta, mode="interp")`` for one window
    ``xw`` (float64, length `window`): only that end's polynomial fit, by SciPy's own ``_fit_edge`` (the
    same call savgol_filter makes, so the same values; savgol_filter would also fit the other end and
    convolve the window). Falls back to savgol_filter when SciPy moves that function."""
    w = xw.size
    h = w // 2
    if _scipy_fit_edge is None:
        y = savgol_filter(xw, w, polyorder, deriv=deriv, delta=delta, mode="interp")
    elif head:
        y = _scipy_fit_edge(xw, 0, w, 0, h, 0, polyorder, deriv, delta, np.empty(w))
    else:
        y = _scipy_fit_edge(xw, 0, w, w - h, w, 0, polyorder, deriv, delta, np.empty(w))
    return y[:h] if head else y[w - h:]


def savgol(x: np.ndarray, window: int, polyorder: int, *, deriv: int = 0, delta: float = 1.0) -> np.ndarray:
    """``scipy.signal.savgol_filter(x, window, polyorder, deriv=deriv, delta=delta, mode="interp")``.

    Parameters
    ----------
    x : ndarray, shape (n,)
        float64 samples, ``n >= window``.
    window : int
        Odd window length in samples.
    polyorder, deriv : int
        Polynomial order and derivative order.
    delta : float
        Sample spacing (for derivatives).

    Returns
    -------
    ndarray, shape (n,)
        The filtered signal (float64).
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    if n < 2 * window:
        return savgol_filter(x, window, polyorder, deriv=deriv, delta=delta, mode="interp")
    c = coeffs(window, polyorder, deriv, delta)
    y = np.convolve(x, c, mode="same")
    h = window // 2
    y[:h] = edge_fit(x[:window], polyorder, deriv, delta, True)
    y[n - h:] = edge_fit(x[n - window:], polyorder, deriv, delta, False)
    return y


def robust_sd_bound(x: np.ndarray) -> float:
    """A cheap certified upper bound of ``1.4826 × MAD`` of `x` (`robust_sd`), ``inf`` when not certified.

    A strided subsample proposes a bracket ``[a, b]`` of the median (its 47th and 53rd percentiles) and
    a radius ``r`` (its 54th-percentile absolute deviation from ``c = (a + b) / 2``, plus ``(b − a) / 2``).
    Counting passes over `x` then prove (i) the median lies in ``[a, b]`` (at most ``(n − 1) // 2``
    samples below `a`, at most ``n − 1 − n // 2`` above `b`) and (ii) at least ``n // 2 + 1`` samples lie
    in ``[b − r, a + r]``, hence within `r` of the median, so both middle absolute deviations, and the
    MAD, are at most `r`. Tight (~1.1–1.3 × the robust SD for Gaussian noise): used to skip the exact MAD
    (two partitions) when only "is it below a level?" matters and the answer is certain. ``inf`` below
    `MIN_BOUND` samples or when a count fails. (The certificate holds whatever the subsample: it only
    picks `a`, `b`, `r`.)
    """
    x = np.asarray(x).reshape(-1)
    n = x.size
    if n < MIN_BOUND:
        return np.inf
    sub = np.sort(x[:: n // SUBSAMPLE] if n >= MIN_FAST else x[:: max(n // SHORT_SUBSAMPLE, 1)])
    m = sub.size
    a, b = sub[int(0.47 * m)], sub[min(int(0.53 * m), m - 1)]
    if not (np.isfinite(a) and np.isfinite(b)):
        return np.inf
    c = 0.5 * (a + b)
    dev = np.sort(np.abs(sub - c))
    r = float(dev[min(int(0.54 * m), m - 1)] + 0.5 * (b - a))
    if int(np.count_nonzero(x < a)) > (n - 1) // 2 or int(np.count_nonzero(x > b)) > n - 1 - n // 2:
        return np.inf
    lo, hi = b - r, a + r
    if int(np.count_nonzero((x >= lo) & (x <= hi))) < n // 2 + 1:
        return np.inf
    # rounding of b − r, a + r, the median and x − median: a margin far above float64 error
    slack = 1e-13 * (abs(a) + abs(b) + r)
    return float(1.4826 * (r + slack)) * (1.0 + 1e-12)


def _pieces(starts, stops, n: int, margin: int):
    """Merged windows ``[s, e)`` inside ``[0, n)`` and, for the pieces ``[s - margin, e + margin)``
    (clipped) laid end to end, the trace indices of the pieces and where each window's samples sit."""
    s = np.minimum(np.maximum(np.asarray(starts, dtype=np.int64), 0), n)   # np.clip's values, less overhead
    e = np.minimum(np.maximum(np.asarray(stops, dtype=np.int64), 0), n)
    ok = e > s
    s, e = s[ok], e[ok]
    order = np.argsort(s, kind="stable")
    s, e = s[order], e[order]
    if s.size:                                   # merge overlapping windows (their pieces would repeat)
        reach = np.maximum.accumulate(e)
        new = np.ones(s.size, bool)
        new[1:] = s[1:] > reach[:-1]
        s, e = s[new], np.maximum.reduceat(e, np.flatnonzero(new))
    a, b = np.maximum(s - margin, 0), np.minimum(e + margin, n)
    lengths = b - a
    offsets = np.cumsum(lengths) - lengths
    src = np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(a - offsets, lengths)
    wl = e - s
    tgt = np.arange(int(wl.sum()), dtype=np.int64) + np.repeat(s - (np.cumsum(wl) - wl), wl)
    pos = tgt - np.repeat(a - offsets, wl)       # where each target sample sits in the laid-out pieces
    return src, tgt, pos


class Sampled:
    """Values of a trace-length signal known only at sorted sample indices (`savgol_at`, `gradient_at`).

    Indexing with integer arrays (or ints) returns the values like an ndarray would; asking for a sample
    outside the evaluated windows raises ``IndexError`` (an internal error, never silent garbage). Storing
    only the windows keeps memory at their size (a trace-length ``np.empty`` filled sparsely is not enough:
    numpy backs large arrays with transparent huge pages, committed 2 MB at a time).
    """

    def __init__(self, index: np.ndarray, values: np.ndarray, n: int):
        self.index, self.values, self.size = index, values, int(n)
        self.shape, self.dtype, self.ndim = (self.size,), values.dtype, 1

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i):
        i = np.asarray(i)
        pos = np.minimum(np.searchsorted(self.index, i), max(self.index.size - 1, 0))
        if self.index.size == 0 or np.any(self.index[pos] != i):
            raise IndexError("sample outside the evaluated windows of a Sampled signal")
        return self.values[pos]


def savgol_at(x: np.ndarray, window: int, polyorder: int, starts, stops, *, deriv: int = 0,
              delta: float = 1.0):
    """`savgol` evaluated only inside the windows ``[starts[k], stops[k])``, as a `Sampled` signal.

    Inside the windows the values equal `savgol` (same ``np.convolve`` dot products on the same
    samples; the first and last ``window // 2`` samples of the trace from SciPy's edge fits). `x` may
    itself be a `Sampled` signal known wherever the windows (plus ``window // 2`` samples, and the first
    and last `window` samples when a window reaches them) need it.
    """
    if not isinstance(x, Sampled):
        x = np.asarray(x, dtype=np.float64)
    n = x.size
    if n < 2 * window:
        return savgol(x, window, polyorder, deriv=deriv, delta=delta)
    h = window // 2
    src, tgt, pos = _pieces(starts, stops, n, h)
    vals = np.empty(tgt.size)
    if src.size:
        c = coeffs(window, polyorder, deriv, delta)
        # SciPy's own kernel (ndimage.convolve1d, as savgol_filter) on the pieces: the same sums, in the
        # same order, as the full-length filter, so ties between samples break the same way
        vals[:] = convolve1d(x[src], c, mode="constant")[pos]
        head, tail = tgt < h, tgt >= n - h
        if head.any():
            edge = edge_fit(np.asarray(x[np.arange(window)], dtype=np.float64), polyorder, deriv, delta, True)
            vals[head] = edge[tgt[head]]
        if tail.any():
            edge = edge_fit(np.asarray(x[np.arange(n - window, n)], dtype=np.float64), polyorder, deriv, delta,
                            False)
            vals[tail] = edge[tgt[tail] - (n - h)]
    return Sampled(tgt, vals, n)


def gradient_at(x: np.ndarray, dx: float, starts, stops):
    """``np.gradient(x, dx)`` evaluated only inside the windows, as a `Sampled` signal (`x` may be a
    `Sampled` signal known inside the windows plus one sample)."""
    if not isinstance(x, Sampled):
        x = np.asarray(x, dtype=np.float64)
    n = x.size
    if n < 4:
        return np.gradient(x, dx)
    src, tgt, pos = _pieces(starts, stops, n, 1)
    vals = np.gradient(x[src], dx)[pos] if src.size else np.empty(0)
    return Sampled(tgt, vals, n)
