"""Input validation shared by every core function (``f(v, fs, ...)``).

All checks raise real exceptions (never ``assert``) in one message style.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np


def check_fs(fs) -> float:
    """Return ``fs`` as a float after checking it is a positive, finite rate in Hz."""
    if isinstance(fs, bool) or not isinstance(fs, (Real, np.floating, np.integer)):
        raise TypeError(f"`fs` must be a positive number in Hz; got {fs!r} of type {type(fs).__name__}")
    fs = float(fs)
    if not math.isfinite(fs) or fs <= 0:
        raise ValueError(f"`fs` must be a positive number in Hz; got {fs:g}")
    return fs


def check_v(v, *, name: str = "v", min_samples: int = 1, allow_nan: bool = False) -> np.ndarray:
    """Return ``v`` as a 1-D float64 array in mV after checking shape and finiteness."""
    if hasattr(v, "units") and hasattr(v, "magnitude"):
        raise TypeError(
            f"`{name}` must be a plain array in mV; got a quantities array in {v.units.dimensionality}. "
            f"Convert first, e.g. `{name}.rescale('mV').magnitude`, or use drgephys.from_neo()."
        )
    arr = np.asarray(v, dtype=np.float64)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be a 1-D array of membrane potential in mV; got shape {arr.shape}")
    if arr.size < min_samples:
        raise ValueError(f"`{name}` must hold at least {min_samples} samples; got {arr.size}")
    if not allow_nan and not all_finite(arr):
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise ValueError(
            f"`{name}` must be finite; got {bad} NaN/inf samples of {arr.size}. "
            "Interpolate or trim them before analysis."
        )
    return arr


def all_finite(arr: np.ndarray) -> bool:
    """True when every sample is finite: one summing pass, no trace-length mask (any NaN/inf makes the
    sum non-finite; only a sum overflowing on absurd values needs the exact check)."""
    with np.errstate(over="ignore", invalid="ignore"):
        if math.isfinite(float(np.add.reduce(arr))):
            return True
    return bool(np.isfinite(arr).all())


def check_positive(value, name: str, unit: str = "") -> float:
    """Check a strictly positive finite scalar parameter and return it as float."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a positive number{(' in ' + unit) if unit else ''}; got {value!r}") from None
    if not math.isfinite(x) or x <= 0:
        raise ValueError(f"`{name}` must be a positive number{(' in ' + unit) if unit else ''}; got {value!r}")
    return x


def check_band(band, fs: float, name: str = "band_hz") -> tuple[float, float]:
    """Check a (low, high) frequency band in Hz against the sampling rate."""
    try:
        lo, hi = (float(band[0]), float(band[1]))
    except (TypeError, ValueError, IndexError):
        raise TypeError(f"`{name}` must be a pair (low, high) in Hz; got {band!r}") from None
    if not (0 < lo < hi):
        raise ValueError(f"`{name}` must satisfy 0 < low < high in Hz; got {band!r}")
    if hi >= fs / 2:
        raise ValueError(
            f"`{name}` upper edge must be below the Nyquist frequency ({fs / 2:g} Hz); got {hi:g} Hz. "
            "Lower the band or use a recording sampled faster."
        )
    return lo, hi
