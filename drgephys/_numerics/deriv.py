"""Time derivatives of the membrane potential whose smoothing is a fixed *time* span, not a fixed
number of samples, so the same parameters work from 1 kHz to 200 kHz (IPFX's fixed 10 kHz Bessel
filter cannot be built at ≤ 20 kHz)."""

from __future__ import annotations

import numpy as np

from .order import median
from .savgol import gradient_at, savgol, savgol_at


def window_samples(span_ms: float, fs: float) -> int:
    """Odd Savitzky–Golay window covering `span_ms`; 0 when shorter than 3 samples (no smoothing)."""
    w = int(round(span_ms * 1e-3 * fs))
    w += (w % 2 == 0)
    return w if w >= 5 else 0


def dvdt(v: np.ndarray, fs: float, t_s: np.ndarray | None, span_ms: float) -> np.ndarray:
    """dV/dt in mV/ms at every sample.

    Regular sampling: least-squares slope over `span_ms` (Savitzky–Golay, order 2, first derivative),
    central difference when the span is under 5 samples. Irregular sampling (`t_s` given): slopes of
    the real intervals (zero-length intervals take their neighbour's slope), averaged onto samples.
    """
    n = v.size
    if n < 2:
        return np.zeros(n)
    if t_s is None:
        dt_ms = 1e3 / fs
        w = window_samples(span_ms, fs)
        if w and w <= n:
            return savgol(v, w, 2, deriv=1, delta=dt_ms)
        return _gradient(v, dt_ms)
    dt = np.diff(t_s) * 1e3
    ok = dt > 0
    slope = np.zeros(dt.size)
    slope[ok] = np.diff(v)[ok] / dt[ok]
    if not ok.all():
        if not ok.any():
            return np.zeros(n)
        src = np.where(ok, np.arange(dt.size), -1)
        np.maximum.accumulate(src, out=src)
        src[src < 0] = np.flatnonzero(ok)[0]
        slope = slope[src]
    out = np.empty(n)
    out[0], out[-1] = slope[0], slope[-1]
    out[1:-1] = 0.5 * (slope[:-1] + slope[1:])
    return out


def _gradient(v: np.ndarray, dx: float) -> np.ndarray:
    """``np.gradient(v, dx)`` (same operations, same values) written into one array, without its two
    trace-length temporaries."""
    out = np.empty(v.size)
    np.subtract(v[2:], v[:-2], out=out[1:-1])
    out[1:-1] /= 2.0 * dx
    out[0] = (v[1] - v[0]) / dx
    out[-1] = (v[-1] - v[-2]) / dx
    return out


def robust_sd(x: np.ndarray) -> float:
    """1.4826 × median absolute deviation (the SD for Gaussian data, blind to a few % of spikes)."""
    if x.size == 0:
        return 0.0
    dev = np.subtract(x, median(x))
    np.abs(dev, out=dev)                       # one temporary, not two
    return float(1.4826 * median(dev))


def dvdt_at(v: np.ndarray, fs: float, span_ms: float, starts, stops) -> np.ndarray:
    """`dvdt` of a regularly sampled trace, evaluated only inside the windows ``[starts, stops)``
    (a `drgephys._numerics.savgol.Sampled` signal; same values there)."""
    n = v.size
    if n < 2:
        return np.zeros(n)
    dt_ms = 1e3 / fs
    w = window_samples(span_ms, fs)
    if w and w <= n:
        return savgol_at(v, w, 2, starts, stops, deriv=1, delta=dt_ms)
    return gradient_at(v, dt_ms, starts, stops)
