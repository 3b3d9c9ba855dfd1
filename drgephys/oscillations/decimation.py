"""Anti-aliased integer decimation for the SSO detector's working trace.

Linear-phase Kaiser FIR stages (>= 60 dB stop band) applied as ``scipy.signal.resample_poly(x, 1, q,
window=h, padtype="line")`` does, but computed as a polyphase matrix product (`fir_decimate`): BLAS runs
the multiply-adds several times faster than resample_poly's C loop (~1 ns each), which was the largest
single cost of SSO detection on long recordings.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import special

from .._numerics.blas import one_blas_thread

__all__ = ["decimation_factor", "stage_filters", "fir_decimate", "decimate"]

#: Input samples per block of `fir_decimate` (float32: 128 KiB): each block's copy, matrix product and
#: additions stay in the processor's cache, so the signal is read once from memory (blocks of 2^15 to
#: 2^20 samples measured within 15 % of each other on the benchmark cohort, 2^15 fastest).
BLOCK_SAMPLES = 1 << 15


def decimation_factor(fs: float, top_hz: float, ratio: float) -> int:
    """Largest integer ``q`` with ``fs / q >= ratio * top_hz`` that splits into stages of at most 12."""
    q_max = max(int(fs // (ratio * top_hz)), 1)
    for q in range(q_max, 0, -1):
        if q <= 12 or any(q % a == 0 and q // a <= 12 for a in range(2, 13)):
            return q
    return 1


def _stages(q: int) -> list[int]:
    """The decimation factors of the stages: ``q`` itself up to 12, else two factors of at most 12, the larger
    first. At the high rate a filter's taps per output are about the same for either order, but the larger
    first factor leaves fewer samples to the second, longer filter (20 kHz -> 625 Hz: 8 x 4 takes 1.3 ms per
    30-s sweep, 4 x 8 took 1.7 ms)."""
    if q <= 12:
        return [q] if q > 1 else []
    a = min(a for a in range(2, 13) if q % a == 0 and q // a <= 12)
    return [q // a, a]


@functools.lru_cache(maxsize=32)
def stage_filters(fs: float, q: int, top_hz: float) -> tuple:
    """``(q_stage, h)`` of each decimation stage, ``h`` a read-only float64 linear-phase Kaiser low-pass FIR.

    Each stage keeps ``[0, 1.1 top_hz]`` flat and stops everything that would alias onto it
    (``>= fs_out - 1.1 top_hz``) by 60 dB. Cached: a batch of recordings shares a few rates.
    """
    f_pass = 1.1 * top_hz
    out = []
    for qs in _stages(q):
        fs_out = fs / qs
        f_stop = fs_out - f_pass
        width = (f_stop - f_pass) / (fs / 2)
        numtaps, beta = kaiser_order(60.0, width)
        numtaps |= 1
        h = kaiser_lowpass(numtaps, (f_pass + f_stop) / 2, beta, fs)
        h.flags.writeable = False
        out.append((qs, h))
        fs = fs_out
    return tuple(out)


def kaiser_order(atten_db: float, width: float) -> tuple[int, float]:
    """``scipy.signal.kaiserord(atten_db, width)``: taps and Kaiser β for a stop band `atten_db` down and a
    transition `width` (fraction of Nyquist), by Kaiser's formulas (Oppenheim & Schafer)."""
    a = abs(atten_db)
    if a > 50:
        beta = 0.1102 * (a - 8.7)
    elif a > 21:
        beta = 0.5842 * (a - 21) ** 0.4 + 0.07886 * (a - 21)
    else:
        beta = 0.0
    return int(math.ceil((a - 7.95) / 2.285 / (np.pi * width) + 1)), beta


def kaiser_lowpass(numtaps: int, cutoff_hz: float, beta: float, fs: float) -> np.ndarray:
    """``scipy.signal.firwin(numtaps, cutoff_hz, window=("kaiser", beta), fs=fs)``: the windowed-sinc
    low-pass, unit gain at 0 Hz (the same operations, so the same taps:
    `tests/oscillations/test_fir_decimate.py`).
    Computed here so that the SSO detector never imports ``scipy.signal`` (0.6 s of start-up)."""
    c = np.atleast_1d(np.asarray(cutoff_hz, dtype=np.float64)) / float(0.5 * fs)
    m = np.arange(0, numtaps, dtype=np.float64) - 0.5 * (numtaps - 1)
    h = c[0] * np.sinc(c[0] * m)
    if numtaps > 1:
        n = np.arange(0, numtaps, dtype=np.float64)
        alpha = (numtaps - 1) / 2.0
        h *= special.i0(beta * np.sqrt(1 - ((n - alpha) / alpha) ** 2.0)) / special.i0(np.asarray(beta, np.float64))
    return h / np.sum(h)


@functools.lru_cache(maxsize=32)
def _polyphase(hb: bytes, dtype: str, q: int) -> np.ndarray:
    """The reversed filter ``hb`` (bytes of ``dtype``) zero-padded to ``m q`` taps, as an ``(m, q)`` array
    (read-only; cached: a batch shares a few filters)."""
    h = np.frombuffer(hb, dtype=dtype)
    m = -(-h.size // q)
    g = np.zeros(m * q, dtype)
    g[:h.size] = h[::-1]
    g = g.reshape(m, q)
    g.flags.writeable = False
    return g


def fir_decimate(x: np.ndarray, q: int, h: np.ndarray, *, dtype=None, fill=None) -> np.ndarray:
    """``scipy.signal.resample_poly(x, 1, q, window=h, padtype="line")`` as a polyphase matrix product.

    Output sample ``k`` is ``sum_t h[t] x[k q + (L - 1) // 2 - t]`` (``L = h.size``), with ``x`` extended
    beyond its ends by the straight line through its first and last samples (upfirdn's ``"line"`` mode),
    for ``k < ceil(n / q)``. The reversed filter, zero-padded to ``m q`` taps, is split into ``m`` blocks
    of ``q``; the extended input, viewed as rows of ``q`` samples, is multiplied by them in one BLAS call
    (``n m`` multiply-adds) and output ``k`` sums block ``j`` of row ``k + j``. The signal is processed in
    blocks of `BLOCK_SAMPLES` (a loop over blocks of ~10^5 samples, each step whole-array), so the
    extended copy is never built in full. Same values as ``resample_poly`` up to the rounding of the
    dtype (checked in ``tests/oscillations/test_fir_decimate.py``).

    Parameters
    ----------
    x : ndarray, shape (n,)
        Signal.
    q : int
        Decimation factor, >= 1.
    h : ndarray, shape (L,)
        FIR filter (odd length, centred on tap ``(L - 1) // 2``), in the working dtype.
    dtype : numpy dtype, optional
        Working and output dtype (default ``x.dtype``); ``x`` is cast block by block, as ``x.astype(dtype)``
        would.
    fill : (idx, values) or None
        Samples replaced after the cast (``x.astype(dtype)[idx] = values``), e.g. the spike bridges of
        `drgephys._numerics.spans.span_fill`; ``idx`` increasing.

    Returns
    -------
    ndarray, shape (ceil(n / q),), of ``dtype``.
    """
    dtype = np.dtype(dtype if dtype is not None else x.dtype)
    n, taps = x.size, h.size
    half = (taps - 1) // 2
    n_out = -(-n // q)
    m = -(-taps // q)
    g = _polyphase(h.astype(dtype, copy=False).tobytes(), dtype.str, q)
    idx, vals = fill if fill is not None else (np.empty(0, np.int64), np.empty(0))
    x0 = dtype.type(vals[0]) if idx.size and idx[0] == 0 else dtype.type(x[0])
    x1 = dtype.type(vals[-1]) if idx.size and idx[-1] == n - 1 else dtype.type(x[n - 1])
    slope = (x1 - x0) / (n - 1) if n > 1 else x0 - x0
    out = np.empty(n_out, dtype)
    step = max(BLOCK_SAMPLES // q, m)               # output samples per block
    with one_blas_thread():
        for k0 in range(0, n_out, step):            # blocks of the extended signal (see above)
            k1 = min(k0 + step, n_out)
            lo, hi = k0 * q - half, (k1 + m - 1) * q - half
            blk = np.empty(hi - lo, dtype)
            a0, a1 = max(lo, 0), min(hi, n)
            blk[a0 - lo:a1 - lo] = x[a0:a1]
            if idx.size:
                i0, i1 = np.searchsorted(idx, (a0, a1))
                blk[idx[i0:i1] - lo] = vals[i0:i1]
            if lo < 0:
                blk[:-lo] = x0 + np.arange(lo, 0, dtype=dtype) * slope
            if hi > n:
                blk[n - lo:] = x1 + np.arange(1, hi - n + 1, dtype=dtype) * slope
            parts = g @ blk.reshape(-1, q).T        # (m, rows): block j of the filter on every row
            o = out[k0:k1]
            np.copyto(o, parts[0, :k1 - k0])
            for j in range(1, m):                   # m ~ 5-15 shifted whole-array additions
                o += parts[j, j:j + k1 - k0]
    return out


def decimate(x: np.ndarray, fs: float, q: int, top_hz: float, *, dtype=None, fill=None) -> np.ndarray:
    """Decimate ``x`` by the integer ``q`` with the FIR stages of `stage_filters` (>= 60 dB stop band).

    As ``scipy.signal.resample_poly(..., padtype="line")`` (computed by `fir_decimate`), the filter delay
    is removed, so output sample ``k`` is input sample ``k q``. ``dtype`` and ``fill`` apply to the input
    of the first stage (see `fir_decimate`); the filters are cast to the working dtype.
    """
    dtype = np.dtype(dtype if dtype is not None else x.dtype)
    for qs, h in stage_filters(float(fs), int(q), float(top_hz)):
        x = fir_decimate(x, qs, h.astype(dtype), dtype=dtype, fill=fill)
        fill = None
    return x
