"""Input validation shared by every core function (``f(v, fs, ...)``).

All checks raise real exceptions (never ``assert``) in one message style.
"""

from __future__ import annotations

import math
import sys
import warnings
from numbers import Real

import numpy as np

from .errors import UnitWarning

#: A membrane potential in mV has samples beyond ±1 mV (rest −40…−90 mV); every |value| below this is a
#: trace in volts. Beyond ±MAX_MV it is a current in pA or a potential in µV (ABF artefacts reach ~±250 mV).
VOLTS_MAX_ABS = 1.0
MAX_MV = 1000.0
#: The unit check reads at most this many evenly strided samples, whatever the length: a unit slip shows on
#: every sample (volts) or on the level of a current trace (pA), not in a few. With strides of more than 8
#: samples the check reads a fraction of the trace's cache lines (65 536 samples of a 30 s sweep at 20 kHz
#: read every line: 0.1 ms per sweep).
_UNIT_CHECK_SAMPLES = 8_192


def check_fs(fs) -> float:
    """Return ``fs`` as a float after checking it is a positive, finite rate in Hz."""
    if isinstance(fs, bool) or not isinstance(fs, (Real, np.floating, np.integer)):
        raise TypeError(f"`fs` must be a positive number in Hz; got {fs!r} of type {type(fs).__name__}")
    fs = float(fs)
    if not math.isfinite(fs) or fs <= 0:
        raise ValueError(f"`fs` must be a positive number in Hz; got {fs:g}")
    return fs


def check_v(v, *, name: str = "v", min_samples: int = 1, allow_nan: bool = False,
            check_units: bool = True) -> np.ndarray:
    """Return ``v`` as a 1-D float64 array in mV after checking shape and finiteness (and, unless
    ``check_units=False``, warning on a likely unit slip: `warn_unit_slip`)."""
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
    if check_units:
        warn_unit_slip(arr, name)
    return arr


def _outside_package() -> int:
    """The `warnings.warn` stacklevel of the first caller outside drgephys (the user's line)."""
    frame, level = sys._getframe(2), 2       # level 2: warn_unit_slip's caller; dataclass-generated
    while frame is not None and frame.f_globals.get("__name__", "").startswith("drgephys"):   # code counts too
        frame, level = frame.f_back, level + 1
    return level


def warn_unit_slip(arr: np.ndarray, name: str = "v") -> None:
    """Warn (`drgephys.errors.UnitWarning`) when a trace given in mV looks like volts, pA or µV.

    Reads at most ``_UNIT_CHECK_SAMPLES`` evenly strided samples: every |value| < `VOLTS_MAX_ABS` → volts;
    any |value| > `MAX_MV` → pA or µV. NaN samples are ignored.
    """
    if arr.size == 0:
        return
    sub = arr[::max(1, arr.size // _UNIT_CHECK_SAMPLES)]
    lo, hi = sub.min(), sub.max()          # (any NaN makes both NaN: then the extremes without them)
    if math.isnan(lo):
        sub = sub[~np.isnan(sub)]         # (np.nanmin / np.nanmax's values, without their copies)
        if sub.size == 0:
            return
        lo, hi = sub.min(), sub.max()
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return
    peak = max(abs(lo), abs(hi))
    if 0 < peak < VOLTS_MAX_ABS:      # (all zeros: nothing to tell)
        warnings.warn(f"`{name}` looks like volts, not mV: every |value| is below {VOLTS_MAX_ABS:g} (largest "
                      f"{peak:.3g}). Multiply by 1000 (`{name} * 1e3`), or pass a neo signal through "
                      "drgephys.from_neo(), which converts units.", UnitWarning, stacklevel=_outside_package())
    elif peak > MAX_MV:
        warnings.warn(f"`{name}` looks like a current in pA (or a potential in µV), not mV: values reach "
                      f"{peak:.4g} where a membrane potential stays within ±{MAX_MV:g} mV. Pass the "
                      "membrane-potential channel in mV (µV: divide by 1000).", UnitWarning, stacklevel=_outside_package())


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


def check_windows(windows, name: str = "stimulus_windows_s") -> np.ndarray:
    """Return time windows as a float64 array of shape (k, 2) of ``(start, end)`` pairs in s, sorted by
    start (None → no window)."""
    if windows is None:
        return np.empty((0, 2))
    try:
        w = np.asarray(windows, dtype=np.float64).reshape(-1, 2)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a list of (start, end) pairs in s; got {windows!r}") from None
    if not np.all(np.isfinite(w)) or np.any(w[:, 1] <= w[:, 0]):
        raise ValueError(f"`{name}` must hold finite (start, end) pairs with end > start, in s; got {windows!r}")
    return w[np.argsort(w[:, 0], kind="stable")]
