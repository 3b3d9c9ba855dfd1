"""Gaps in a trace filled by linear prediction (autoregressive interpolation).

A straight line across a gap (the bridge of a spike's core) cuts the peak off a cycle of an ongoing
oscillation; filters and wavelets then see a distorted waveform. An autoregressive (AR) model of the trace's
own samples outside the gaps predicts the gap from both sides: forward from the samples before it, backward
from those after it (the AR coefficients of a stationary process serve both directions), blended with
weights that fall linearly across the gap (the forward-backward interpolation of Janssen, Veldhuis & Vries
1986, without its iteration). An oscillation is continued through the gap; noise, which the model cannot
predict, decays to the local mean, so filling never invents power the trace does not have nearby.

`ar_fill` fits one model per trace (Yule-Walker on the autocorrelation of the valid samples) and
fills every gap at once: the only loop runs over the steps into the gaps (at most ``max_gap`` of them), each
step a whole-array operation over all gaps.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_toeplitz

from .spans import span_indices

__all__ = ["ar_coefficients", "ar_fill"]


def ar_coefficients(x: np.ndarray, valid: np.ndarray, order: int) -> np.ndarray | None:
    """Yule-Walker AR coefficients ``a`` (``x[t] ≈ sum_k a[k] x[t-1-k]``) of the valid samples of ``x``.

    The autocorrelation is the biased estimate of the mean-removed trace with its gaps set to zero (every
    lag divided by the number of valid samples): a positive semi-definite sequence, so the model is stable
    (its predictions decay, never grow). None when there are too few valid samples or the system is
    singular."""
    xv = np.where(valid, x - np.mean(x[valid]), 0.0) if valid.any() else None
    if xv is None or valid.sum() < 4 * order:
        return None
    n = xv.size        # one dot product per lag (order + 1 of them): ~30x faster than an FFT of 2n here
    acf = np.array([xv[: n - k] @ xv[k:] for k in range(order + 1)])
    if acf[0] <= 0:
        return None
    r = acf / acf[0]
    try:
        a = solve_toeplitz(r[:order], r[1: order + 1])
    except np.linalg.LinAlgError:
        return None
    return a if np.all(np.isfinite(a)) else None


def ar_fill(x: np.ndarray, starts: np.ndarray, ends: np.ndarray, order: int, max_gap: int) -> int:
    """Fill the gaps ``[starts[i], ends[i])`` of ``x`` in place by forward-backward AR prediction.

    Parameters
    ----------
    x : ndarray, shape (n,), float
        The trace; samples inside gaps are overwritten (their values are not read).
    starts, ends : ndarray of int
        Merged, sorted gaps.
    order : int
        AR model order (samples of context each side).
    max_gap : int
        Longer gaps, and gaps closer than ``order`` samples to the trace's ends, are left as they are.

    Returns
    -------
    int
        Number of gaps filled.
    """
    n = x.size
    lengths = ends - starts
    # context: the `order` samples on each side (a neighbouring gap's samples in it are its straight-line
    # bridge, as the caller left them)
    ok = (lengths > 0) & (lengths <= max_gap) & (starts >= order) & (ends + order <= n)
    s, e, L = starts[ok], ends[ok], lengths[ok]
    if s.size == 0:                   # nothing to fill: no model fitted
        return 0
    valid = np.ones(n, bool)
    valid[span_indices(starts, ends, n)] = False
    a = ar_coefficients(x, valid, order)
    if a is None:
        return 0
    mean = float(np.mean(x[valid]))
    k_max = int(L.max())
    lag = np.arange(1, order + 1)
    fwd = np.zeros((s.size, k_max))
    bwd = np.zeros((s.size, k_max))
    # context buffers: the last `order` samples before each gap (forward) and after it, reversed (backward)
    ctx_f = x[s[:, None] - lag[None, :]] - mean                     # ctx_f[:, j] = x[s - 1 - j]
    ctx_b = x[e[:, None] - 1 + lag[None, :]] - mean                 # ctx_b[:, j] = x[e + j]
    for k in range(k_max):                                          # steps into the gaps (<= max_gap)
        pf = ctx_f @ a
        pb = ctx_b @ a
        fwd[:, k], bwd[:, k] = pf, pb
        ctx_f = np.concatenate((pf[:, None], ctx_f[:, :-1]), axis=1)
        ctx_b = np.concatenate((pb[:, None], ctx_b[:, :-1]), axis=1)
    # position k of a gap of length L: forward weight (L - k) / (L + 1), backward prediction from the far end
    k = np.arange(k_max)[None, :]
    inside = k < L[:, None]
    w = (L[:, None] - k) / (L[:, None] + 1.0)
    back_k = np.clip(L[:, None] - 1 - k, 0, k_max - 1)              # step index of the backward run
    b = np.take_along_axis(bwd, back_k, axis=1)
    fill = w * fwd + (1 - w) * b
    # never beyond the swing of the context (a safeguard: a stable model's predictions decay anyway)
    swing = np.maximum(np.abs(x[s[:, None] - lag[None, :]] - mean).max(axis=1),
                       np.abs(x[e[:, None] - 1 + lag[None, :]] - mean).max(axis=1))
    fill = mean + np.clip(fill, -swing[:, None], swing[:, None])
    rows, cols = np.nonzero(inside)
    x[s[rows] + cols] = fill[rows, cols]
    return int(s.size)
