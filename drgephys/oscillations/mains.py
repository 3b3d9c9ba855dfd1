"""Mains hum (50/60 Hz and harmonics): identify by phase stability, remove as a phase-locked sinusoid.

Hum is present through the whole recording with constant amplitude and phase; an SSO is episodic, waxes
and wanes, and its phase drifts against the mains. So each candidate line (both 50 and 60 Hz families,
harmonics up to 1.5 x the band top) is demodulated in short blocks (complex amplitude per block); its
frequency is refined within +-1.5 x ``mains_tolerance_hz`` per harmonic order by maximising the coherent
sum of the block amplitudes (an 8x zero-padded FFT over blocks with outlying blocks left out, a mild
Gaussian prior for the nominal frequency against side lobes, then a parabola through the peak); and the hum is the coordinate-wise MEDIAN of the block amplitudes: blocks that
hold an SSO at the same frequency add vectors of drifting phase that do not move the median, so the
subtraction leaves the SSO in place. A line counts as hum when that median stands ``mains_z`` standard
errors from zero and the block phases agree (median cosine of each block's phase difference to the median
vector >= ``mains_min_phase_locking``). The
subtracted amplitude is the running median of the block amplitudes over ``mains_window_s`` (real mains
drift slowly in level and by hundredths of a Hz), linearly interpolated between block centres. This is the
robust, block-wise form of sinusoid subtraction for line noise (cf. Mitra & Pesaran 1999; Mewett, Reynolds
& Nazeran 2004; Keshtkaran & Yang 2014 for adaptive trackers).
"""

from __future__ import annotations

import functools

from typing import NamedTuple

import numpy as np
from scipy import fft as sfft

from .._numerics import small as sm

__all__ = ["remove_mains", "hum_waveform"]


def _trig(freqs, fs, block):
    """``(cos, sin)`` of ``2 pi f t`` over one block, shape (B, L) each."""
    arg = 2 * np.pi * np.outer(np.arange(block), freqs) / fs            # (B, L)
    return np.cos(arg), np.sin(arg)


@functools.lru_cache(maxsize=16)
def _nominal_trig(freqs: tuple, fs: float, block: int):
    """`_trig` at the nominal line frequencies (read-only; cached: a batch shares a few rates)."""
    cos, sin = _trig(np.array(freqs), fs, block)
    cos.flags.writeable = sin.flags.writeable = False
    return cos, sin


@functools.lru_cache(maxsize=16)
def _offsets(m_fft: int) -> np.ndarray:
    """``scipy.fft.fftfreq(m_fft, 1 / m_fft)`` (read-only; cached)."""
    off = sfft.fftfreq(m_fft, 1 / m_fft)
    off.flags.writeable = False
    return off


@functools.lru_cache(maxsize=16)
def _candidate_lines(mains_hz: tuple, top_hz: float, fs: float):
    """``(freqs, harm)``: every harmonic of each mains fundamental up to ``min(1.5 top_hz, 0.45 fs)`` and its
    order (read-only; cached)."""
    cand, harm = [], []
    for base in mains_hz:
        k = np.arange(1, int(min(1.5 * top_hz, 0.45 * fs) // base) + 1)
        cand.append(k * base)
        harm.append(k)
    freqs, harm = np.concatenate(cand), np.concatenate(harm)
    freqs.flags.writeable = harm.flags.writeable = False
    return freqs, harm


@functools.lru_cache(maxsize=16)
def _search_weights(m_fft: int, df: float, tol: float, harm: tuple):
    """``(prior, inside)`` over the offsets of the frequency search, shape (m_fft, L): the Gaussian prior
    for the nominal frequency and the mask of offsets within ``1.5 x tol x harmonic order`` (read-only;
    cached: they depend on the trace length, rate and lines only)."""
    harm = np.array(harm)
    off = _offsets(m_fft) * df
    lim = 1.5 * tol * harm
    prior = np.exp(-0.5 * (off[:, None] / (2 * tol * harm[None, :])) ** 2)
    inside = np.abs(off)[:, None] <= lim[None, :]
    prior.flags.writeable = inside.flags.writeable = False
    return prior, inside


class _Blocks(NamedTuple):
    """The trace cut into blocks of ``block`` samples: the kept blocks' samples ``xb`` (blanked ones zero),
    their valid-sample counts and their indices."""

    xb: np.ndarray
    count: np.ndarray
    block: int
    block_idx: np.ndarray


def _block_amplitudes(blocks: _Blocks, freqs, fs, *, trig=None):
    """Complex amplitude per block and line, phase referenced to sample 0 of the trace (``trig``: the
    `_trig` table of ``freqs``, when known)."""
    xb, count, block, block_idx = blocks
    cos, sin = _trig(freqs, fs, block) if trig is None else trig
    c = (xb @ cos - 1j * (xb @ sin)) * (2.0 / np.maximum(count, 1))[:, None]   # (nb, L)
    starts = block_idx * block
    return c * np.exp(-2j * np.pi * np.outer(starts, freqs) / fs)


#: Samples per row of the phase tables of `hum_waveform` (rows x row: the angle-addition split of the time axis).
HUM_ROW = 128


def hum_waveform(amp: np.ndarray, t_b: np.ndarray, freqs: np.ndarray, n: int, fs: float) -> np.ndarray:
    """``sum_j Re(a_j(t) exp(2 pi i f_j t))`` at the samples ``t = k / fs``, ``k < n``: the hum lines of
    frequencies ``freqs`` (Hz) whose complex amplitudes ``amp`` (``(len(t_b), len(freqs))``, mV) are given at
    the times ``t_b`` (s, increasing) and interpolated linearly between them (``np.interp``).

    No sine or cosine per sample: with ``k = r R + s`` (``R = HUM_ROW``), ``exp(i w k) = exp(i w R r)
    exp(i w s)``, so the cosine and sine of every sample are one small matrix product of two short tables
    per line (angle addition; within a few units of rounding of ``np.cos`` / ``np.sin`` of the whole angle,
    which cost ~10 ns a sample each).

    Returns
    -------
    ndarray, shape (n,), float64
    """
    fit = np.zeros(n)
    t = np.arange(n) / fs
    rows = -(-n // HUM_ROW)
    k_r, k_s = HUM_ROW * np.arange(rows), np.arange(HUM_ROW)
    for i, f in enumerate(freqs):            # a handful of lines, each a whole-array operation
        w = 2 * np.pi * float(f) / fs
        c_r, s_r, c_s, s_s = np.cos(w * k_r), np.sin(w * k_r), np.cos(w * k_s), np.sin(w * k_s)
        cos = (np.stack((c_r, -s_r), axis=1) @ np.stack((c_s, s_s))).reshape(-1)[:n]   # cos(a + b)
        sin = (np.stack((s_r, c_r), axis=1) @ np.stack((c_s, s_s))).reshape(-1)[:n]    # sin(a + b)
        a_t = np.interp(t, t_b, amp[:, i])
        fit += a_t.real * cos
        fit -= a_t.imag * sin
    return fit


def remove_mains(r: np.ndarray, fs: float, valid: np.ndarray, top_hz: float, params) -> tuple[np.ndarray, list]:
    """Subtract phase-stable mains lines from the drift-removed trace ``r`` (working rate ``fs``).

    Parameters
    ----------
    r : ndarray, shape (n,)
        Drift-removed membrane potential, mV.
    fs : float
        Its sampling rate, Hz.
    valid : ndarray of bool, shape (n,)
        False on blanked samples (spikes, artifacts); they take no part in the estimate and are not changed.
    top_hz : float
        Band top, Hz: lines up to 1.5 x this (and below 0.45 fs) are tested, as the top wavelet reaches there.
    params : OscillationParams

    Returns
    -------
    r_clean : ndarray, shape (n,)
        ``r`` with the hum lines removed on valid samples.
    lines : list of dict
        One dict per line found: ``frequency_hz``, ``amplitude_mv`` (peak-to-peak), ``z``, ``phase_locking``.
    """
    block = int(round(params.mains_block_s * fs))
    nb = r.size // block if block > 0 else 0
    if nb < 4 or not params.mains_hz:
        return r, []
    freqs, harm = _candidate_lines(tuple(params.mains_hz), float(top_hz), float(fs))
    if freqs.size == 0:
        return r, []
    wb = valid[: nb * block].reshape(nb, block)
    xb = np.where(wb, r[: nb * block].reshape(nb, block), 0.0)
    count = wb.sum(axis=1)
    good = 2 * count >= block             # wb.mean(axis=1) >= 0.5 (the same test on integers)
    block_idx = np.flatnonzero(good)
    if block_idx.size < 4:
        return r, []
    xb, count = xb[block_idx], count[block_idx]
    # pass 1 at nominal frequencies. The offset from nominal maximises the coherent sum of the block
    # amplitudes after counter-rotation (an 8x zero-padded FFT over blocks: a grid of ~1/(8 T) Hz, T the
    # trace duration, refined by a parabola through the peak), outlying blocks (|c| > 2 x median, e.g. SSO
    # blocks) left out
    blocks = _Blocks(xb, count, block, block_idx)
    c = _block_amplitudes(blocks, freqs, fs, trig=_nominal_trig(tuple(freqs.tolist()), float(fs), block))
    t_b = (block_idx + 0.5) * block / fs
    mod = np.abs(c)
    seq = np.zeros((nb, freqs.size), complex)
    seq[block_idx] = np.where(mod <= 2 * sm.median_cols(mod), c, 0)
    m_fft = sfft.next_fast_len(8 * nb)
    mag = np.abs(sfft.fft(seq, m_fft, axis=0))               # coherent sum at offsets k fs / (m_fft B)
    df = fs / (m_fft * block)
    off = _offsets(m_fft) * df
    # a mild prior for the nominal frequency (Gaussian, SD 2 x tolerance: -12 % at the tolerance) breaks ties
    # between the main lobe and the side lobes that appear when an SSO splits the hum-only blocks into
    # distant groups; offsets beyond 1.5 x tolerance per harmonic order are excluded
    prior, inside = _search_weights(m_fft, df, params.mains_tolerance_hz, tuple(harm.tolist()))
    mag = np.where(inside, mag * prior, -1.0)
    k = np.argmax(mag, axis=0)
    lo_, hi_ = mag[(k - 1) % m_fft, np.arange(freqs.size)], mag[(k + 1) % m_fft, np.arange(freqs.size)]
    mid = mag[k, np.arange(freqs.size)]
    den = lo_ - 2 * mid + hi_
    ok = (lo_ >= 0) & (hi_ >= 0) & (den < 0)
    frac = np.where(ok, 0.5 * (lo_ - hi_) / np.where(ok, den, -1.0), 0.0)
    f_line = freqs + off[k] + np.minimum(np.maximum(frac, -1), 1) * df   # np.clip (finite values)
    # pass 2 at refined frequencies, phase referenced to the trace start
    c = _block_amplitudes(blocks, f_line, fs)
    n_l = f_line.size
    med_ri = sm.median_cols(np.concatenate((c.real, c.imag), axis=1))   # column medians of both at once
    med = med_ri[:n_l] + 1j * med_ri[n_l:]
    spread = sm.median_cols(np.abs(c - med)) / np.sqrt(2 * np.log(2))   # per-coordinate sigma (Rayleigh)
    se = 1.2533 * spread / np.sqrt(c.shape[0])                              # s.e. of a median
    z = np.abs(med) / np.maximum(se, 1e-12)
    # phase agreement: median over blocks of cos(block phase - phase of the median vector); robust to a
    # minority of blocks dominated by an SSO (a mean resultant length is not)
    locking = sm.median_cols(np.cos(np.angle(c) - np.angle(med)[None, :]))
    hum = (z >= params.mains_z) & (locking >= params.mains_min_phase_locking)
    if not hum.any():
        return r, []
    # the hum amplitude may wander slowly (mains frequency and level drift): running median of the block
    # amplitudes over mains_window_s (global when the trace is shorter), linearly interpolated between blocks
    w = int(round(params.mains_window_s / params.mains_block_s)) | 1
    if w < c.shape[0]:
        ch = c[:, hum]
        h = w // 2
        loc = np.empty(ch.shape, complex)
        if h:   # running median over w blocks (scipy.ndimage.median_filter(size=(w, 1)) on full windows)
            loc[h:-h] = sm.window_medians(ch.real, w) + 1j * sm.window_medians(ch.imag, w)
        else:
            loc[:] = ch
        # near the ends the window is kept inside the data (no padding: repeating or mirroring edge blocks
        # would weight them, or an SSO near the edge, twice)
        loc[:h] = sm.median_cols(ch[:w].real) + 1j * sm.median_cols(ch[:w].imag)
        loc[-h:] = sm.median_cols(ch[-w:].real) + 1j * sm.median_cols(ch[-w:].imag)
    else:
        loc = np.broadcast_to(med[hum], (c.shape[0], int(hum.sum())))
    fit = hum_waveform(loc, t_b, f_line[hum], r.size, fs)
    out = r - np.where(valid, fit, 0.0)
    lines = [{"frequency_hz": float(f), "amplitude_mv": float(2 * abs(m)), "z": float(zz),
              "phase_locking": float(pl)}
             for f, m, zz, pl in zip(f_line[hum], med[hum], z[hum], locking[hum])]
    return out, lines
