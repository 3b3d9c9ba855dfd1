"""Morlet wavelet power, aperiodic background and the BOSC power threshold.

Method: BOSC (Caplan et al. 2001; Whitten, Hughes, Dickson & Caplan 2011): complex Morlet wavelets of 6
cycles; the background is a straight line of log power against log frequency; a pixel is "oscillatory"
when its power exceeds the ``power_percentile`` of chi-square(2)/2 times the background mean power
(wavelet power of Gaussian noise is chi-square(2)/2-distributed about its mean), for at least
``min_cycles`` cycles. Here the per-frequency mean power is estimated robustly from the MEDIAN over time
(mean = median / ln 2 for chi-square(2)), so episodes occupying less than half the trace do not inflate it,
and the line is fitted with Siegel's repeated medians; the background is the per-frequency estimate
clipped to ``background_tolerance_db`` above that line, so a long-lasting SSO cannot raise its own
threshold while a curved (knee, white floor) aperiodic spectrum is still followed (the failure of a
single line that fBOSC, Seymour, Alexander & Mauritz 2022, fixes with FOOOF).

Wavelets are applied in the frequency domain (Gaussian ``exp(-(f'-f)^2 / (2 (f/c)^2))``, analytic, gain 1
at ``f``) on one zero-padded FFT whose length comes from ``scipy.fft.next_fast_len``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft

from .._numerics import small as sm
from .._numerics.scipy_private import ifft_rows, rfft

__all__ = ["wavelet_freqs", "morlet_gain", "morlet_power", "background", "Levels", "SegmentSpectrum"]


@dataclass(frozen=True)
class Levels:
    """The BOSC levels of one trace, per wavelet frequency.

    Attributes
    ----------
    freqs : ndarray, shape (n_freqs,)
        Wavelet centre frequencies, Hz.
    background : ndarray, shape (n_freqs,)
        Aperiodic background mean power (`background`), mV^2.
    threshold : ndarray, shape (n_freqs,)
        Power threshold (``power_percentile`` of chi-square(2)/2 times the background), mV^2.
    """

    freqs: np.ndarray
    background: np.ndarray
    threshold: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "_lf", np.log10(self.freqs))
        object.__setattr__(self, "_lbg", np.log10(self.background))

    def background_at(self, f: float) -> float:
        """Background mean power (mV^2) at ``f`` Hz (log-log interpolation)."""
        return float(10 ** np.interp(math.log10(f), self._lf, self._lbg))


def wavelet_freqs(lo: float, hi: float, n: int) -> np.ndarray:
    """``n`` log-spaced centre frequencies from ``lo`` to ``hi`` Hz (``numpy.geomspace``)."""
    return _geomspace(float(lo), float(hi), int(n)).copy()


@functools.lru_cache(maxsize=32)
def _geomspace(lo: float, hi: float, n: int) -> np.ndarray:
    """Cached ``numpy.geomspace`` (~15-40 µs a call; a batch shares a few bands)."""
    return np.geomspace(lo, hi, n)


def morlet_gain(f_axis: np.ndarray, f0, cycles: float) -> np.ndarray:
    """Analytic Morlet frequency response (gain 2 on positive frequencies so a sinusoid of amplitude A
    gives a complex output of modulus A); broadcasts ``f0`` against ``f_axis``."""
    f0 = np.asarray(f0, dtype=np.float64)
    sd = f0 / cycles
    g = 2.0 * np.exp(-0.5 * ((f_axis - f0) / sd) ** 2)
    return np.where(f_axis > 0, g, 0.0)


#: Longest FFT whose Morlet gain table is cached (~8 MB at 2^18; a 1-h sweep's table would hold ~85 MB,
#: and a batch of long files of different lengths would keep 16 of them).
CACHE_NFFT = 1 << 18


def _morlet_bank(nfft: int, fs: float, freqs: tuple, cycles: float) -> tuple:
    """``(k0, k1, gain)`` per frequency: the rfft bins of the Gaussian's support (+-6 SD) and the gain there
    (read-only; cached up to `CACHE_NFFT`: recordings of one protocol share the FFT length)."""
    if nfft <= CACHE_NFFT:
        return _morlet_bank_cached(nfft, fs, freqs, cycles)
    return _make_bank(nfft, fs, freqs, cycles)


@functools.lru_cache(maxsize=16)
def _morlet_bank_cached(nfft: int, fs: float, freqs: tuple, cycles: float) -> tuple:
    return _make_bank(nfft, fs, freqs, cycles)


def _make_bank(nfft: int, fs: float, freqs: tuple, cycles: float) -> tuple:
    f_axis = np.arange(nfft // 2 + 1) * fs / nfft
    df = fs / nfft
    bank = []
    for f0 in freqs:
        k0 = max(int((f0 - 6 * f0 / cycles) / df), 1)
        k1 = min(int((f0 + 6 * f0 / cycles) / df) + 2, f_axis.size)
        g = morlet_gain(f_axis[k0:k1], f0, cycles)
        g.flags.writeable = False
        bank.append((k0, k1, g))
    return tuple(bank)


@functools.lru_cache(maxsize=16)
def _bank_chunks(nfft: int, fs: float, freqs: tuple, cycles: float, chunk: int) -> tuple:
    """`_morlet_bank` grouped by ``chunk`` frequencies: per group ``(c, pos, col, gain)``, the flat positions
    in a ``(c, nfft)`` buffer of every support bin, their rfft bins and gains, so a group's spectra are
    written by one fancy-indexed product (read-only; cached with the bank; used for short transforms only,
    ``nfft <= SCATTER_NFFT``, where the loop over frequencies costs more than the products)."""
    bank = _morlet_bank(nfft, fs, freqs, cycles)
    out = []
    for i in range(0, len(bank), chunk):
        part = bank[i:i + chunk]
        col = np.concatenate([np.arange(k0, k1) for k0, k1, _ in part])
        row = np.repeat(np.arange(len(part)), [k1 - k0 for k0, k1, _ in part])
        gain = np.concatenate([g for _, _, g in part])
        pos = row * nfft + col
        for a in (pos, col, gain):
            a.flags.writeable = False
        out.append((len(part), pos, col, gain))
    return tuple(out)


#: Complex64 values per inverse-FFT batch of `morlet_power` below which more than ``chunk`` frequencies are
#: transformed together (512 KiB): short traces then take one or two calls instead of six (the batch size
#: does not change pocketfft's values: each row is transformed alike).
SMALL_BATCH = 1 << 16

#: Longest FFT whose batches are filled by one scatter (`_bank_chunks`) instead of a loop over frequencies
#: (on longer ones the scatter is slower than the slice products: cohort 0.133 s vs 0.120 s).
SCATTER_NFFT = 1 << 12


def morlet_power(r: np.ndarray, fs: float, freqs: np.ndarray, cycles: float, chunk: int = 4) -> np.ndarray:
    """Wavelet power ``|W(f, t)|^2`` in mV^2, float32 array of shape ``(len(freqs), len(r))``.

    The FFT length is ``next_fast_len(len(r) + pad)`` with ``pad`` three wavelet standard deviations of
    the lowest frequency, so circular wrap-around does not reach the trace. The inverse FFTs run on
    ``chunk`` frequencies at a time, or more when they fit in `SMALL_BATCH` values.
    """
    n = r.size
    pad = int(math.ceil(3 * cycles / (2 * math.pi * freqs.min()) * fs))
    nfft = _fast_len(n + pad)
    chunk = max(int(chunk), SMALL_BATCH // nfft, 1)
    spec = sfft.rfft(r - sm.mean(r), nfft)           # sm.mean: r.mean() without its wrapper
    key = (nfft, float(fs), tuple(np.asarray(freqs, dtype=np.float64).tolist()), float(cycles))
    bank = _morlet_bank(*key)
    small = nfft <= SCATTER_NFFT     # short traces: a group's spectra by one scatter (see `_bank_chunks`)
    chunks = _bank_chunks(*key, chunk) if small else range(0, freqs.size, chunk)
    out = np.empty((freqs.size, n), np.float32)
    buf = np.empty((min(chunk, freqs.size), nfft), np.complex64)   # zeroed outside the supports below
    i = 0
    for ch in chunks:                           # loop over frequency chunks; each step is whole-array
        c = ch[0] if small else min(chunk, freqs.size - i)
        b = buf[:c]
        if small:
            b[:] = 0
            b.reshape(-1)[ch[1]] = spec[ch[2]] * ch[3]
        else:
            for j, (k0, k1, g) in enumerate(bank[i:i + c]):   # only the Gaussian's support is non-zero
                b[j, :k0] = 0
                np.multiply(spec[k0:k1], g, out=b[j, k0:k1])     # complex128 product, rounded on writing
                b[j, k1:] = 0
        w = ifft_rows(b).view(np.float32)[:, : 2 * n]   # (re, im) pairs
        np.square(w, out=w)
        np.add(w[:, 0::2], w[:, 1::2], out=out[i:i + c])
        i += c
    return out


def background(power: np.ndarray, freqs: np.ndarray, use: np.ndarray, tolerance_db: float):
    """Aperiodic background mean power per frequency (mV^2) and the fitted line.

    Parameters
    ----------
    power : ndarray, shape (n_freqs, n)
    freqs : ndarray, shape (n_freqs,)
    use : ndarray of bool, shape (n,)
        Samples that enter the estimate (not blanked, away from the trace edges).
    tolerance_db : float

    Returns
    -------
    bg : ndarray, shape (n_freqs,)
        Background mean power, mV^2.
    line : ndarray, shape (n_freqs,)
        Robust straight-line fit of log10 power against log10 frequency, evaluated at ``freqs`` (mV^2).
    """
    idx = np.flatnonzero(use)
    if idx.size < 16:
        idx = np.arange(power.shape[1])
    # every 4th sample: wavelet power is correlated over a wavelet SD (>= 3 samples at the band top at the
    # working rate), so little is lost and the copy stays small
    sel = power[:, idx[::4]]
    measured = sm.median_rows(sel).astype(np.float64) / math.log(2.0)   # np.median(sel, axis=1)
    measured = np.maximum(measured, 1e-30)
    lf, lp = np.log10(freqs), np.log10(measured)
    slope, intercept = sm.siegelslopes(lp, lf)                       # scipy.stats.siegelslopes
    line = 10 ** (intercept + slope * lf)
    bg = np.minimum(measured, line * 10 ** (tolerance_db / 10))
    return bg, line


@functools.lru_cache(maxsize=4096)
def _fast_len(n: int) -> int:
    """``scipy.fft.next_fast_len(n)`` (cached)."""
    return sfft.next_fast_len(n)


#: Longest segment FFT whose positive frequencies are cached (at most 512 tables of <= 16 KB).
CACHE_SEGMENT_NFFT = 4096


def _positive_freqs(nfft: int, fs: float) -> np.ndarray:
    """The positive part of ``scipy.fft.fftfreq(nfft, 1 / fs)``, as fftfreq computes it (bin index x
    ``1 / (nfft / fs)``); read-only, cached up to `CACHE_SEGMENT_NFFT` (a recording's segments share a few
    hundred lengths)."""
    if nfft <= CACHE_SEGMENT_NFFT:
        return _positive_freqs_cached(nfft, fs)
    return np.arange(1, (nfft - 1) // 2 + 1) * (1.0 / (nfft * (1 / fs)))


@functools.lru_cache(maxsize=512)
def _positive_freqs_cached(nfft: int, fs: float) -> np.ndarray:
    f = np.arange(1, (nfft - 1) // 2 + 1) * (1.0 / (nfft * (1 / fs)))
    f.flags.writeable = False
    return f

class SegmentSpectrum:
    """FFT of a short segment (mean removed, padded to a fast length), to band-pass it several times.

    The analytic band-pass copies keep the positive frequencies only (``f_axis > 0``), so each gain is
    evaluated there alone, and several copies are inverted by one 2-D inverse FFT (`analytic`); the values
    equal those of one inverse FFT per copy of the full gain (`morlet_gain` or the flat band).
    """

    def __init__(self, seg: np.ndarray, fs: float):
        n = self.n = seg.size
        nfft = self.nfft = _fast_len(n)
        self._fs = fs
        self._centred = seg - sm.mean(seg)
        self._pos = slice(1, (nfft - 1) // 2 + 1)          # f_axis > 0
        # scipy.fft.fft of a real input is its rfft mirrored (pocketfft's r2c): the same positive half
        buf = np.zeros(nfft)
        buf[:n] = self._centred
        self._spec_pos = rfft(buf)[self._pos]
        self._f_pos = _positive_freqs(nfft, float(fs))

    @property
    def spec(self) -> np.ndarray:
        """``scipy.fft.fft`` of the mean-removed segment, zero-padded to ``nfft`` (complex, shape (nfft,))."""
        return sfft.fft(self._centred, self.nfft)

    @property
    def f_axis(self) -> np.ndarray:
        """``scipy.fft.fftfreq(nfft, 1 / fs)``, Hz."""
        return sfft.fftfreq(self.nfft, 1 / self._fs)

    def morlet_spectrum(self, f0: float, cycles: float) -> np.ndarray:
        """Positive-frequency spectrum of the Morlet-band copy (see `morlet_gain`)."""
        sd = f0 / cycles
        return self._spec_pos * (2.0 * np.exp(-0.5 * ((self._f_pos - f0) / sd) ** 2))

    def band_spectrum(self, lo: float, hi: float) -> np.ndarray:
        """Positive-frequency spectrum of the flat-band copy ``[lo, hi]`` Hz (gain 2, analytic)."""
        return self._spec_pos * np.where((self._f_pos >= lo) & (self._f_pos <= hi), 2.0, 0.0)

    def analytic(self, *spectra: np.ndarray) -> np.ndarray:
        """Inverse FFT of positive-frequency spectra (from `morlet_spectrum` / `band_spectrum`): complex
        array of shape ``(len(spectra), n)``."""
        buf = np.zeros((len(spectra), self.nfft), complex)
        for i, sp in enumerate(spectra):
            buf[i, self._pos] = sp
        return ifft_rows(buf)[:, : self.n]

    def morlet(self, f0: float, cycles: float) -> np.ndarray:
        """Analytic Morlet-band copy (gain 1 at ``f0`` for the analytic amplitude)."""
        return self.analytic(self.morlet_spectrum(f0, cycles))[0]

    def band(self, lo: float, hi: float) -> np.ndarray:
        """Analytic copy restricted to the flat band ``[lo, hi]`` Hz."""
        return self.analytic(self.band_spectrum(lo, hi))[0]
