"""Pre-processing for SSO detection: spike blanking, anti-aliased decimation, drift and artifact removal.

All steps are vectorized over samples; spans (spikes, artifacts) are handled as index arrays.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import ndimage

from .decimation import decimate, decimation_factor, fir_decimate  # noqa: F401  (re-exported)

__all__ = ["runs", "merge_spans", "spans_to_mask", "fill_spans", "span_fill", "spike_spans", "decimation_factor",
           "decimate", "fir_decimate", "blank_and_decimate", "remove_drift"]


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) indices of the runs of True in a 1-D boolean array."""
    d = np.diff(np.concatenate(([0], mask.view(np.int8) if mask.dtype == bool else mask.astype(np.int8), [0])))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def merge_spans(starts, ends, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Clip spans ``[start, end)`` to ``[0, n)``, sort them and merge overlapping or touching ones."""
    # np.minimum / np.maximum: the values of np.clip on integers without its ~5 µs wrapper
    s = np.minimum(np.maximum(np.asarray(starts, dtype=np.int64), 0), n)
    e = np.minimum(np.maximum(np.asarray(ends, dtype=np.int64), 0), n)
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


def spans_to_mask(starts, ends, n: int, *, merged: bool = False) -> np.ndarray:
    """Boolean mask of length ``n``, True inside the merged spans ``[start, end)`` (``merged``: the spans
    are already the output of `merge_spans`)."""
    s, e = (starts, ends) if merged else merge_spans(starts, ends, n)
    d = np.zeros(n + 1, np.int8)
    d[s] += 1
    d[e] -= 1
    return np.cumsum(d[:n], dtype=np.int8) > 0


def fill_spans(x: np.ndarray, starts, ends, *, merged: bool = False) -> None:
    """Replace ``x`` inside the merged spans ``[start, end)`` by the straight line joining the samples on
    either side (in place). A span touching an edge is filled with the value on its other side
    (``merged``: the spans are already the output of `merge_spans`)."""
    fill = span_fill(lambda i: x[i].astype(np.float64), starts, ends, x.size, merged=merged)
    if fill is not None:
        x[fill[0]] = fill[1]


def span_fill(anchor, starts, ends, n: int, *, merged: bool = False):
    """The samples `fill_spans` writes: ``(idx, values)`` (increasing int64 indices, float64 values), or
    ``None`` when there is no span. ``anchor(indices)`` gives the float64 values of the trace there (the
    anchors lie outside every merged span, so they are original samples; ``merged``: the spans are already
    the output of `merge_spans`)."""
    s, e = (starts, ends) if merged else merge_spans(starts, ends, n)
    if s.size == 0:
        return None
    if s[0] == 0 and e[0] == n:
        return np.arange(n), np.zeros(n)
    left = np.where(s > 0, s - 1, e)          # anchor indices (fall back to the other side at an edge)
    right = np.where(e < n, e, s - 1)
    xl, xr = anchor(left), anchor(right)
    lengths = e - s
    idx = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths) + np.repeat(s, lengths)
    span_left = np.repeat(left, lengths)
    width = np.repeat(np.maximum(right - left, 1), lengths)
    frac = np.minimum(np.maximum((idx - span_left) / width, 0.0), 1.0)   # np.clip (finite values)
    return idx, np.repeat(xl, lengths) + frac * np.repeat(xr - xl, lengths)


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
    return spans_from_indices(thr.astype(np.int64), end.astype(np.int64), fs, pre_ms, post_ms)


def spans_from_indices(threshold_index: np.ndarray, end_index: np.ndarray, fs: float, pre_ms: float,
                       post_ms: float) -> tuple[np.ndarray, np.ndarray]:
    """Full-rate spans ``[threshold_index - pre, end_index + 1 + post)`` (int64 arrays; validated indices)."""
    pre = int(math.ceil(pre_ms * 1e-3 * fs))
    post = int(math.ceil(post_ms * 1e-3 * fs))
    return threshold_index - pre, end_index + 1 + post


def blank_and_decimate(v: np.ndarray, starts, ends, fs: float, q: int, top_hz: float) -> np.ndarray:
    """Steps 1-2: a float32 copy of ``v`` with the spans ``[starts, ends)`` bridged (`fill_spans`),
    decimated by ``q`` (`decimation.decimate`). The same values as ``x = v.astype(np.float32);
    fill_spans(x, starts, ends); decimate(x, fs, q, top_hz)``, without the full-rate copy (the cast and
    the bridges are applied block by block in the first stage)."""
    if q <= 1:
        x = v.astype(np.float32)
        fill_spans(x, starts, ends)
        return x
    fill = span_fill(lambda i: v[i].astype(np.float32).astype(np.float64), starts, ends, v.size)
    return decimate(v, fs, q, top_hz, dtype=np.float32, fill=fill)


def remove_drift(y: np.ndarray, fs: float, window_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Running-median baseline over ``window_s`` and the residual ``y - baseline``.

    A running median leaves monotone segments (steps, RC charging curves) unchanged, so current steps
    leave no ringing in the residual, unlike a linear high-pass filter (Tukey 1977).
    """
    w = max(int(round(window_s * fs)) | 1, 3)
    w = min(w, (y.size | 1) if y.size >= 3 else 3)
    base = _median_filter(y, w)
    return y - base, base


def _load_rank_filter_1d():
    """SciPy's 1-D rank filter core (what ``ndimage.median_filter`` runs for 1-D float arrays) when it gives
    median_filter's values on a probe, else None."""
    try:
        from scipy.ndimage import _rank_filter_1d as rf
        x = np.cos(np.arange(40.0) ** 1.5).astype(np.float32)
        out = np.empty_like(x)
        rf.rank_filter(x, 3, 7, out, 0, np.float32(0.0), 0)
        same = np.array_equal(out, ndimage.median_filter(x, size=7, mode="nearest"))
    except Exception:  # pragma: no cover - depends on the SciPy version
        return None
    return rf if same else None


_RANK_FILTER_1D = _load_rank_filter_1d()


def _median_filter(y: np.ndarray, w: int) -> np.ndarray:
    """``scipy.ndimage.median_filter(y, size=w, mode="nearest")`` of a 1-D float32/float64 array, odd ``w``
    (the call its wrapper makes, without its ~60 µs of footprint and mode handling; a few calls per sweep)."""
    if _RANK_FILTER_1D is None or y.dtype not in (np.float32, np.float64) or y.ndim != 1 or y.size < (w - 1) // 2:
        return ndimage.median_filter(y, size=w, mode="nearest")
    out = np.empty_like(y)
    _RANK_FILTER_1D.rank_filter(y, w // 2, w, out, 0, y.dtype.type(0.0), 0)
    return out
