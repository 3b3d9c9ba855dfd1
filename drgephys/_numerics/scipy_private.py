"""The few SciPy internals drgephys calls directly, each behind one tested wrapper with the public call as
fallback.

Each private function is what a public SciPy call runs after its argument checks and dispatch; calling it
directly saves microseconds that add up over thousands of small calls per recording. Each is probe-checked
at import against the public call on a small input and replaced by the public call (same values, slower)
when SciPy moves or changes it. ``tests/_numerics/test_scipy_private.py`` compares every wrapper with the
public call, so a SciPy upgrade that changes a signature shows as a fallback, never as different numbers.

- `median_filter`: ``scipy.ndimage._rank_filter_1d.rank_filter``, the 1-D core of ``ndimage.median_filter``.
- `rfft`, `ifft_rows`: ``scipy.fft._pocketfft.pypocketfft`` ``r2c`` / ``c2c`` with the arguments
  ``scipy.fft.rfft`` / ``ifft`` pass.
"""

from __future__ import annotations

import numpy as np
from scipy import fft as sfft
from scipy import ndimage

__all__ = ["median_filter", "rfft", "ifft_rows", "RANK_FILTER_1D", "POCKETFFT"]

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


RANK_FILTER_1D = _load_rank_filter_1d()


def median_filter(y: np.ndarray, w: int) -> np.ndarray:
    """``scipy.ndimage.median_filter(y, size=w, mode="nearest")`` of a 1-D float32/float64 array, odd ``w``
    (the call its wrapper makes, without its ~60 µs of footprint and mode handling; a few calls per sweep)."""
    if RANK_FILTER_1D is None or y.dtype not in (np.float32, np.float64) or y.ndim != 1 or y.size < (w - 1) // 2:
        return ndimage.median_filter(y, size=w, mode="nearest")
    out = np.empty_like(y)
    RANK_FILTER_1D.rank_filter(y, w // 2, w, out, 0, y.dtype.type(0.0), 0)
    return out


# `drgephys.oscillations.tfr.SegmentSpectrum`'s transforms run a few hundred times per recording on ~100-2000 points, where scipy.fft's
# dispatch and argument checks (~3-5 µs a call) cost as much as the transform: its pocketfft core is called
# directly (the same function with the arguments scipy.fft.rfft / ifft pass it: identical values, tested),
# falling back to scipy.fft if SciPy moves it.
def _load_pocketfft():
    """scipy's pocketfft module when its calls give scipy.fft's values on a probe (else None)."""
    try:
        from scipy.fft._pocketfft import pypocketfft as pf
        x = np.cos(np.arange(30.0))
        c = np.exp(1j * np.arange(30.0)).reshape(2, 15)
        c64 = c.astype(np.complex64)
        same = (np.array_equal(pf.r2c(x.copy(), (0,), True, 0, None, 1), sfft.rfft(x))
                and np.array_equal(pf.c2c(c.copy(), (1,), False, 2, None, 1), sfft.ifft(c, axis=1))
                and np.array_equal(pf.c2c(c64.copy(), (1,), False, 2, None, 1), sfft.ifft(c64, axis=1)))
    except Exception:  # pragma: no cover - depends on the SciPy version
        return None
    return pf if same else None


POCKETFFT = _load_pocketfft()


def rfft(x: np.ndarray) -> np.ndarray:
    """``scipy.fft.rfft(x)`` of a 1-D float64 array."""
    if POCKETFFT is None:  # pragma: no cover
        return sfft.rfft(x)
    return POCKETFFT.r2c(x, (0,), True, 0, None, 1)


def ifft_rows(buf: np.ndarray) -> np.ndarray:
    """``scipy.fft.ifft(buf, axis=1, overwrite_x=True)`` of a 2-D complex64/complex128 array (in place)."""
    if POCKETFFT is None:  # pragma: no cover
        return sfft.ifft(buf, axis=1, overwrite_x=True)
    return POCKETFFT.c2c(buf, (1,), False, 2, buf, 1)
