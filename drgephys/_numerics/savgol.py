"""Savitzky-Golay smoothing and derivatives with SciPy's values, faster: `savgol` is
``scipy.signal.savgol_filter(..., mode="interp")`` with the interior computed by ``np.convolve`` (a
contiguous dot-product kernel, 2-4x faster than ``ndimage.convolve1d`` for the 5-25-tap windows used here)
and the edge samples by the same polynomial fits (interior values differ from SciPy's by summation order only,
~1e-16 relative); `savgol_at` and `gradient_at` evaluate only inside windows (`Sampled` signals).

The kernel (`coeffs`) and the edge fits (`edge_fit`) are SciPy's algorithms (``savgol_coeffs`` and
``_fit_edge``: the same design matrices, scalings and ``scipy.linalg.lstsq`` calls) written here on numpy,
so analysing a recording never imports ``scipy.signal`` (0.6 s of start-up, with ``scipy.stats``).
``tests/_numerics/test_exact_helpers.py`` compares them with ``scipy.signal`` bit for bit."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.linalg import lstsq
from scipy.ndimage import convolve1d

from .spans import pieces

__all__ = ["coeffs", "edge_fit", "savgol", "Sampled", "savgol_at", "gradient_at"]


@lru_cache(maxsize=128)
def coeffs(window: int, polyorder: int, deriv: int, delta: float) -> np.ndarray:
    """``scipy.signal.savgol_coeffs(window, polyorder, deriv=deriv, delta=delta)`` (convolution order),
    cached (the same few kernels serve every sweep). Read-only."""
    if deriv > polyorder:
        c = np.zeros(window)
    else:
        half, rem = divmod(window, 2)
        pos = half - 0.5 if rem == 0 else half
        x = np.flip(np.arange(-pos, window - pos, dtype=np.float64))        # reversed: a convolution kernel
        a = x ** np.arange(polyorder + 1, dtype=np.float64).reshape(-1, 1)   # Vandermonde rows 0..polyorder
        y = np.zeros(polyorder + 1)
        y[deriv] = float(math.factorial(deriv)) / (delta ** deriv)
        c = lstsq(a, y, cond=np.finfo(np.float64).eps * max(a.shape))[0]
    c.flags.writeable = False
    return c


def edge_fit(xw: np.ndarray, polyorder: int, deriv: int, delta: float, head: bool) -> np.ndarray:
    """The first (`head`) or last ``window // 2`` values of
    ``savgol_filter(xw, window, polyorder, deriv=deriv, delta=delta, mode="interp")`` for one window
    ``xw`` (float64, length `window`): only that end's polynomial fit (SciPy's ``_fit_edge``: a scaled
    Vandermonde least-squares fit over the window, differentiated `deriv` times, evaluated by Horner's rule;
    savgol_filter would also fit the other end and convolve the window)."""
    w = xw.size
    h = w // 2
    t = np.arange(0, w, dtype=np.float64)
    lhs = t[:, None] ** np.flip(np.arange(polyorder + 1, dtype=np.float64))[None, :]
    scale = np.sqrt(np.sum(lhs * lhs, axis=0))
    lhs /= scale
    p = lstsq(lhs, xw.reshape(w, 1), cond=w * np.finfo(np.float64).eps)[0]
    p = (p.T / scale).T
    if deriv > 0:                                  # d^deriv/dt^deriv of the highest-power-first coefficients
        m = p.shape[0]
        if m <= deriv:
            p = np.zeros_like(p[:1, ...])
        else:
            dp = np.array(p[:-deriv, ...], copy=True)
            for k in range(deriv):
                dp *= np.arange(m - k - 1, deriv - k - 1, -1, dtype=p.dtype).reshape(m - deriv, 1)
            p = dp
    at = np.arange(0, h, dtype=p.dtype) if head else np.arange(w - h, w, dtype=p.dtype)
    at = at.reshape(-1, 1)
    y = np.zeros_like(at)
    for j in range(p.shape[0]):
        y = y * at + p[j, ...]
    return (y / (delta ** deriv)).reshape(-1)


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
    if n < window:
        raise ValueError(f"`x` must hold at least `window` ({window}) samples for an edge fit; got {n}")
    c = coeffs(window, polyorder, deriv, delta)
    if n < 2 * window:     # SciPy's kernel on short traces (its sums, in its order)
        y = convolve1d(x, c, mode="constant")
    else:
        y = np.convolve(x, c, mode="same")
    h = window // 2
    y[:h] = edge_fit(x[:window], polyorder, deriv, delta, True)
    y[n - h:] = edge_fit(x[n - window:], polyorder, deriv, delta, False)
    return y


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
    src, tgt, pos = pieces(starts, stops, n, h)
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
    src, tgt, pos = pieces(starts, stops, n, 1)
    vals = np.gradient(x[src], dx)[pos] if src.size else np.empty(0)
    return Sampled(tgt, vals, n)
