"""Pre-processing for SSO detection: spike blanking, anti-aliased decimation, drift and artifact removal.

All steps are vectorized over samples; spans (spikes, artifacts) are handled as index arrays.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import ndimage, signal

__all__ = ["runs", "merge_spans", "spans_to_mask", "fill_spans", "spike_spans", "decimation_factor",
           "decimate", "fir_decimate", "remove_drift"]


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) indices of the runs of True in a 1-D boolean array."""
    d = np.diff(np.concatenate(([0], mask.view(np.int8) if mask.dtype == bool else mask.astype(np.int8), [0])))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def merge_spans(starts, ends, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Clip spans ``[start, end)`` to ``[0, n)``, sort them and merge overlapping or touching ones."""
    s = np.clip(np.asarray(starts, dtype=np.int64), 0, n)
    e = np.clip(np.asarray(ends, dtype=np.int64), 0, n)
    keep = e > s
    s, e = s[keep], e[keep]
    if s.size == 0:
        return s, e
    order = np.argsort(s, kind="stable")
    s, e = s[order], e[order]
    reach = np.maximum.accumulate(e)
    new = np.ones(s.size, bool)
    new[1:] = s[1:] > reach[:-1]
    return s[new], np.maximum.reduceat(e, np.flatnonzero(new))


def spans_to_mask(starts, ends, n: int) -> np.ndarray:
    """Boolean mask of length ``n``, True inside the merged spans ``[start, end)``."""
    s, e = merge_spans(starts, ends, n)
    d = np.zeros(n + 1, np.int8)
    d[s] += 1
    d[e] -= 1
    return np.cumsum(d[:n], dtype=np.int8) > 0


def fill_spans(x: np.ndarray, starts, ends) -> None:
    """Replace ``x`` inside the merged spans ``[start, end)`` by the straight line joining the samples on
    either side (in place). A span touching an edge is filled with the value on its other side."""
    n = x.size
    s, e = merge_spans(starts, ends, n)
    if s.size == 0:
        return
    if s[0] == 0 and e[0] == n:
        x[:] = 0.0
        return
    left = np.where(s > 0, s - 1, e)          # anchor indices (fall back to the other side at an edge)
    right = np.where(e < n, e, s - 1)
    xl, xr = x[left].astype(np.float64), x[right].astype(np.float64)
    lengths = e - s
    idx = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths) + np.repeat(s, lengths)
    span_left = np.repeat(left, lengths)
    width = np.repeat(np.maximum(right - left, 1), lengths)
    frac = np.clip((idx - span_left) / width, 0.0, 1.0)
    x[idx] = np.repeat(xl, lengths) + frac * np.repeat(xr - xl, lengths)


def spike_spans(spikes, n: int, fs: float, pre_ms: float, post_ms: float) -> tuple[np.ndarray, np.ndarray]:
    """Full-rate spans ``[threshold_index - pre, end_index + 1 + post)`` of a spike table.

    Raises
    ------
    TypeError, ValueError
        When ``spikes`` is not a DataFrame with integer ``threshold_index`` and ``end_index`` columns
        inside the trace and ``end_index >= threshold_index``.
    """
    if not isinstance(spikes, pd.DataFrame):
        raise TypeError("`spikes` must be the DataFrame returned by drgephys.spikes.detect_spikes (or None to "
                        f"detect spikes here); got {type(spikes).__name__}")
    if len(spikes) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    missing = [c for c in ("threshold_index", "end_index") if c not in spikes.columns]
    if missing:
        raise ValueError(f"`spikes` must have columns 'threshold_index' and 'end_index' (sample indices); "
                         f"missing {missing}. Pass the output of drgephys.spikes.detect_spikes.")
    thr = spikes["threshold_index"].to_numpy(dtype=np.float64)
    end = spikes["end_index"].to_numpy(dtype=np.float64)
    if not (np.all(np.isfinite(thr)) and np.all(np.isfinite(end))):
        raise ValueError("`spikes` 'threshold_index' and 'end_index' must be finite sample indices; got NaN")
    if np.any(thr < 0) or np.any(end >= n) or np.any(end < thr):
        raise ValueError(f"`spikes` spans must satisfy 0 <= threshold_index <= end_index < len(v) = {n}; got "
                         f"threshold_index in [{thr.min():g}, {thr.max():g}], end_index in [{end.min():g}, "
                         f"{end.max():g}]. Were the spikes detected on this trace?")
    pre = int(math.ceil(pre_ms * 1e-3 * fs))
    post = int(math.ceil(post_ms * 1e-3 * fs))
    return thr.astype(np.int64) - pre, end.astype(np.int64) + 1 + post


def decimation_factor(fs: float, top_hz: float, ratio: float) -> int:
    """Largest integer ``q`` with ``fs / q >= ratio * top_hz`` that splits into stages of at most 12."""
    q_max = max(int(fs // (ratio * top_hz)), 1)
    for q in range(q_max, 0, -1):
        if q <= 12 or any(q % a == 0 and q // a <= 12 for a in range(2, 13)):
            return q
    return 1


def _stages(q: int) -> list[int]:
    if q <= 12:
        return [q] if q > 1 else []
    a = max(a for a in range(2, 13) if q % a == 0 and q // a <= 12)
    return [q // a, a]  # the larger factor first: its filter runs at the high rate but is short


def _stage_filters(fs: float, q: int, top_hz: float) -> list[tuple[int, np.ndarray]]:
    """``(q_stage, h)`` of each decimation stage: a linear-phase Kaiser low-pass FIR (float64)."""
    f_pass = 1.1 * top_hz
    out = []
    for qs in _stages(q):
        fs_out = fs / qs
        f_stop = fs_out - f_pass
        width = (f_stop - f_pass) / (fs / 2)
        numtaps, beta = signal.kaiserord(60.0, width)
        numtaps |= 1
        out.append((qs, signal.firwin(numtaps, (f_pass + f_stop) / 2, window=("kaiser", beta), fs=fs)))
        fs = fs_out
    return out


_CONTROLLER = []


def _one_blas_thread():
    """Context limiting BLAS to one thread (threadpoolctl, a scikit-learn dependency). The decimation
    products are memory-bound: a second BLAS thread gains little on an idle machine, and on a loaded one
    its spin-waiting doubled the process time and made the wall time erratic (0.9-2.4 s for the cohort)."""
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


def fir_decimate(x: np.ndarray, q: int, h: np.ndarray) -> np.ndarray:
    """``scipy.signal.resample_poly(x, 1, q, window=h, padtype="line")`` as a polyphase matrix product.

    Output sample ``k`` is ``sum_t h[t] x[k q + (L - 1) // 2 - t]`` (``L = h.size``), with ``x`` extended
    beyond its ends by the straight line through its first and last samples (upfirdn's ``"line"`` mode),
    for ``k < ceil(n / q)``. The reversed filter, zero-padded to ``m q`` taps, is split into ``m`` blocks
    of ``q``; the extended input, viewed (no copy) as rows of ``q`` samples, is multiplied by them in one
    BLAS call (``n m`` multiply-adds) and output ``k`` sums block ``j`` of row ``k + j``. Same values as
    ``resample_poly`` up to the rounding of the dtype (its C loop runs at ~1 ns per multiply-add).

    Parameters
    ----------
    x : ndarray, shape (n,)
        Signal (float32 or float64; the result has its dtype).
    q : int
        Decimation factor, >= 1.
    h : ndarray, shape (L,)
        FIR filter (odd length, centred on tap ``(L - 1) // 2``).

    Returns
    -------
    ndarray, shape (ceil(n / q),)
    """
    dtype = x.dtype
    n, taps = x.size, h.size
    half = (taps - 1) // 2
    n_out = -(-n // q)
    m = -(-taps // q)
    g = np.zeros(m * q, dtype)
    g[:taps] = h[::-1]
    rows = n_out + m - 1
    xe = np.empty(rows * q, dtype)                  # x with the line extension on both sides
    x0, x1 = x[0], x[-1]
    slope = (x1 - x0) / (n - 1) if n > 1 else x0 - x0
    xe[half:half + n] = x
    xe[:half] = x0 + np.arange(-half, 0, dtype=dtype) * slope
    xe[half + n:] = x1 + np.arange(1, xe.size - half - n + 1, dtype=dtype) * slope
    with _one_blas_thread():
        parts = g.reshape(m, q) @ xe.reshape(rows, q).T  # (m, rows): block j of the filter on every row
    out = parts[0, :n_out].copy()
    for j in range(1, m):                           # m ~ 5-15 shifted whole-array additions
        out += parts[j, j:j + n_out]
    return out


def decimate(x: np.ndarray, fs: float, q: int, top_hz: float) -> np.ndarray:
    """Decimate ``x`` by the integer ``q`` with linear-phase Kaiser FIR stages (>= 60 dB stop band).

    Each stage keeps ``[0, 1.1 top_hz]`` flat and stops everything that would alias onto it
    (``>= fs_out - 1.1 top_hz``); as ``scipy.signal.resample_poly(..., padtype="line")`` (computed by
    `fir_decimate`), the filter delay is removed, so output sample ``k`` is input sample ``k q``.
    """
    for qs, h in _stage_filters(fs, q, top_hz):
        x = fir_decimate(x, qs, h.astype(x.dtype))
    return x


def remove_drift(y: np.ndarray, fs: float, window_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Running-median baseline over ``window_s`` and the residual ``y - baseline``.

    A running median leaves monotone segments (steps, RC charging curves) unchanged, so current steps
    leave no ringing in the residual, unlike a linear high-pass filter (Tukey 1977).
    """
    w = max(int(round(window_s * fs)) | 1, 3)
    w = min(w, (y.size | 1) if y.size >= 3 else 3)
    base = ndimage.median_filter(y, size=w, mode="nearest")
    return y - base, base
