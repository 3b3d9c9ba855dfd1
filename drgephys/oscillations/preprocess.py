"""Pre-processing for SSO detection: spike blanking, anti-aliased decimation, drift and artifact removal.

All steps are vectorized over samples; spans (spikes, artifacts) are handled as index arrays.
"""

from __future__ import annotations

import math

import numpy as np

from .._numerics.scipy_private import median_filter
from .._numerics.spans import fill_spans, span_fill
from .decimation import decimate, decimation_factor, fir_decimate  # noqa: F401  (re-exported)
from .._lazy import pd

__all__ = ["spike_columns", "spans_from_indices", "decimation_factor",
           "decimate", "fir_decimate", "blank_and_decimate", "remove_drift"]


def spike_columns(spikes, n: int) -> dict:
    """The index columns the SSO detector reads from a spike table, validated and sorted by time.

    ``threshold_index`` and ``end_index`` are required; ``trough_index`` (AHP minimum) defaults to
    ``peak_index`` (else the threshold) and ``foot_index`` to the threshold for tables written without them.

    Raises
    ------
    TypeError, ValueError
        When ``spikes`` is not a DataFrame with finite integer ``threshold_index`` and ``end_index`` columns
        inside the trace and ``end_index >= threshold_index``.
    """
    if not isinstance(spikes, pd.DataFrame):
        raise TypeError("`spikes` must be the DataFrame returned by drgephys.spikes.detect_spikes (or None to "
                        f"detect spikes here); got {type(spikes).__name__}")
    names = ("threshold_index", "end_index", "trough_index", "foot_index")
    if len(spikes) == 0:
        return {c: np.empty(0, np.int64) for c in names}
    missing = [c for c in ("threshold_index", "end_index") if c not in spikes.columns]
    if missing:
        raise ValueError(f"`spikes` must have columns 'threshold_index' and 'end_index' (sample indices); "
                         f"missing {missing}. Pass the output of drgephys.spikes.detect_spikes.")
    cols = {c: spikes[c].to_numpy(dtype=np.float64) for c in names[:2]}
    thr, end = cols["threshold_index"], cols["end_index"]
    if not (np.all(np.isfinite(thr)) and np.all(np.isfinite(end))):
        raise ValueError("`spikes` 'threshold_index' and 'end_index' must be finite sample indices; got NaN")
    if np.any(thr < 0) or np.any(end >= n) or np.any(end < thr):
        raise ValueError(f"`spikes` spans must satisfy 0 <= threshold_index <= end_index < len(v) = {n}; got "
                         f"threshold_index in [{thr.min():g}, {thr.max():g}], end_index in [{end.min():g}, "
                         f"{end.max():g}]. Were the spikes detected on this trace?")
    trough = next((spikes[c] for c in ("trough_index", "peak_index") if c in spikes.columns), spikes["threshold_index"])
    foot = spikes["foot_index"] if "foot_index" in spikes.columns else spikes["threshold_index"]
    order = np.argsort(thr, kind="stable")
    out = {"threshold_index": thr, "end_index": end, "trough_index": trough.to_numpy(dtype=np.float64),
           "foot_index": foot.to_numpy(dtype=np.float64)}
    return {c: np.clip(np.nan_to_num(a[order], nan=0.0), 0, n - 1).astype(np.int64) for c, a in out.items()}


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
    base = median_filter(y, w)
    return y - base, base


