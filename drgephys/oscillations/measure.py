"""Per-episode measures (`measure_episode`, the definitions are in :mod:`.episodes`) and `screen_episode`,
which settles the acceptance of a candidate from its cheap measures when that is decided without them.

`measure_episode` is called a few hundred times per recording on short segments (median ~150 working-rate
samples), so its cost is per-call overhead: the numpy statistics come from `_small` (same values, less
overhead) and plain slices replace masks when no sample is blanked. It runs in two parts: `_locate` (the
segment's spectrum, the refined frequency, the 6-cycle envelope, the half-maximum boundaries and the mean
power) and `_cycles` (the 3-cycle band's cycles, amplitude, CVs, sinusoidality). `screen_episode` stops after
`_locate` when the acceptance (see `drgephys.oscillations.detect`) is already decided: a candidate
whose cycles, frequency or power fail the minima, or one whose power is below the full rule and whose
amplitude is bounded inside ``(0, max_amplitude_mv]`` by its envelope's range (the amplitude is a
percentile of cycle means of that envelope). About half the candidates of a recording stop there.
"""

from __future__ import annotations

import math

import numpy as np

from . import _small as sm
from .tfr import SegmentSpectrum

__all__ = ["measure_episode", "screen_episode"]

#: Relative margin of the amplitude bounds in `screen_episode` (the cycle means and the percentile's
#: interpolation round within a few ulps of the envelope's range; anything closer is measured in full).
BOUND_RTOL = 1e-6


def _crossings(phase: np.ndarray, offset: float) -> np.ndarray:
    """Fractional sample positions where the unwrapped ``phase`` passes ``offset + 2 pi k``, one per k."""
    k = np.floor((phase - offset) / (2 * np.pi))
    k = np.maximum.accumulate(k)
    idx = np.flatnonzero(k[1:] > k[:-1])
    target = offset + 2 * np.pi * k[idx + 1]
    p0 = phase[idx]
    dphi = phase[idx + 1] - p0
    frac = np.minimum(np.maximum((target - p0) / np.where(dphi > 0, dphi, 1.0), 0.0), 1.0)   # np.clip
    return idx + frac


def measure_episode(r, y, valid, s, e, f0, bg_at, fs, params):
    """Measures of one episode ``[s, e)`` (working-rate samples) whose wavelet frequency is ``f0``.

    Parameters
    ----------
    r : ndarray
        Drift- and hum-free trace, mV (working rate).
    y : ndarray
        Decimated trace before drift removal (spikes blanked), mV, for ``mean_vm_mv``.
    valid : ndarray of bool
        False on blanked samples.
    s, e : int
        Episode bounds.
    f0 : float
        Wavelet frequency of the candidate, Hz.
    bg_at : callable
        Background mean wavelet power (mV^2) at a frequency.
    fs : float
        Working rate, Hz.
    params : OscillationParams

    Returns
    -------
    dict with the columns of :data:`drgephys.oscillations.episodes.COLUMNS`.
    """
    return _cycles(_locate(r, valid, s, e, f0, bg_at, fs, params), y, valid, fs, params)


def screen_episode(r, y, valid, s, e, f0, bg_at, fs, params, lo, hi, need_ok):
    """`measure_episode`, or its cheap part alone when the acceptance does not depend on the rest.

    Parameters
    ----------
    r, y, valid, s, e, f0, bg_at, fs, params
        As for `measure_episode`.
    lo, hi : float
        Analysed band, Hz.
    need_ok : bool
        Whether the caller needs the full acceptance rule (else the BOSC-level one alone).

    Returns
    -------
    row : dict
        The columns of `measure_episode`; when ``decided``, ``amplitude_mv``, ``mean_vm_mv``,
        ``period_cv``, ``amplitude_cv`` and ``sinusoidality`` are NaN (not measured).
    decided : tuple of bool or None
        ``(ok, basic)`` as `detect._acceptance` would give them on the full row, or None when the row was
        measured in full (the caller applies the rule).
    """
    st = _locate(r, valid, s, e, f0, bg_at, fs, params)
    a, s, e, freq, bg, spec, z6, env, p6, v, all_v, any_v = st
    n_cycles = (e - s) / fs * freq
    power_db = float(10 * np.log10(max(sm.mean(p6[s - a:e - a] if all_v else p6[s - a:e - a][v])
                                       if any_v else 0.0, 1e-30) / bg))
    row = {"start_s": s / fs, "end_s": e / fs, "frequency_hz": freq, "amplitude_mv": np.nan, "n_cycles": n_cycles,
           "mean_vm_mv": np.nan, "power_db": power_db, "period_cv": np.nan, "amplitude_cv": np.nan,
           "sinusoidality": np.nan}
    # the tests of detect._acceptance, in its order; the amplitude test from the envelope's range
    if not (n_cycles >= params.min_cycles and lo <= freq <= hi):
        return row, (False, False)
    if power_db < params.min_power_db - params.extend_margin_db:
        return row, (False, False)
    if not (need_ok and power_db >= params.min_power_db) and any_v:
        env_seg = env[s - a:e - a]
        low, high = float(env_seg.min()), float(env_seg.max())
        if low > 0 and high * (1 + BOUND_RTOL) <= params.max_amplitude_mv:
            return row, (False, True)
        if low * (1 - BOUND_RTOL) > params.max_amplitude_mv:
            return row, (False, False)
    return _cycles(st, y, valid, fs, params), None


def _locate(r, valid, s, e, f0, bg_at, fs, params):
    """Refined frequency, 6-cycle envelope and half-maximum boundaries of a candidate ``[s, e)``.

    Returns ``(a, s, e, freq, bg, spec, z6, env, p6, v, all_v, any_v)``: the segment's first sample ``a``
    (its arrays start there), the refined bounds, frequency (Hz) and background power (mV^2), the segment's
    `SegmentSpectrum`, the 6-cycle analytic signal, envelope and power, and the validity of ``[s, e)``.
    """
    cyc = params.wavelet_cycles
    pad = int(math.ceil(3 * cyc / (2 * math.pi * f0) * fs))
    a, b = max(s - pad, 0), min(e + pad, r.size)
    spec = SegmentSpectrum(np.asarray(r[a:b], dtype=np.float64), fs)
    v = valid[s:e]
    all_v = bool(v.all())
    any_v = all_v or bool(v.any())
    t = np.arange(s, e) / fs if all_v else np.arange(s, e)[v] / fs
    z = spec.morlet(f0, cyc)[s - a:e - a]
    phase = sm.unwrap(np.angle(z))
    if not all_v:
        phase = phase[v]
    freq = f0
    if t.size > 2:   # least-squares slope of the unwrapped phase
        tc = t - sm.mean(t)
        freq = float(np.dot(tc, phase - sm.mean(phase)) / np.dot(tc, tc) / (2 * np.pi))
    if not (0.5 * f0 < freq < 2 * f0):
        freq = f0
    bg = bg_at(freq)
    # (each row of a batched inverse FFT equals its own transform: z6 alone here, z3 and broad in `_cycles`)
    z6 = spec.morlet(freq, cyc)
    p6 = np.abs(z6) ** 2
    env = 2 * np.sqrt(np.maximum(p6 - bg, 0.0))   # peak-to-peak, noise power removed
    # boundaries at half the episode's amplitude (the simulator's half-maximum convention): first and last
    # half-maximum samples inside the candidate, extended outwards while the envelope stays above it
    if any_v:
        amp0 = sm.percentile(env[s - a:e - a] if all_v else env[s - a:e - a][v], 90)
    else:
        amp0 = 0.0
    half = env >= 0.5 * amp0
    half &= valid[a:b]
    inner = np.flatnonzero(half[s - a:e - a])
    if inner.size:
        i0, i1 = inner[0] + s - a, inner[-1] + s - a
        lows = np.flatnonzero(~half[:i0])
        highs = np.flatnonzero(~half[i1 + 1:])
        s2 = a + (lows[-1] + 1 if lows.size else 0)
        e2 = a + (i1 + 1 + highs[0] if highs.size else b - a)
        if e2 - s2 >= 3:
            s, e = int(s2), int(e2)
            v = valid[s:e]
            all_v = bool(v.all())
            any_v = all_v or bool(v.any())
    return a, s, e, freq, bg, spec, z6, env, p6, v, all_v, any_v


def _cycles(st, y, valid, fs, params):
    """The full row of `measure_episode` from the state of `_locate`."""
    a, s, e, freq, bg, spec, z6, env, p6, v, all_v, any_v = st
    cyc = params.wavelet_cycles
    z3, broad = spec.analytic(spec.morlet_spectrum(freq, cyc / 2), spec.band_spectrum(freq / 2, 2 * freq))
    seg = slice(s - a, e - a)
    z6, env, p6, z3 = z6[seg], env[seg], p6[seg], z3[seg]
    ph3 = sm.unwrap(np.angle(z3))
    bounds = _crossings(ph3, np.pi)                        # troughs of the 3-cycle band signal
    ib = np.ceil(bounds).astype(np.int64)
    keep = ib < e - s
    keep[1:] &= ib[1:] > ib[:-1]
    ib, bounds = ib[keep], bounds[keep]
    period_cv = amplitude_cv = np.nan
    env_v = env if all_v else env[v]
    amplitude = sm.percentile(env_v, 90) if any_v else np.nan
    if ib.size >= 3:
        if all_v:
            periods = (bounds[1:] - bounds[:-1]) / fs
            clean = slice(None)
        else:
            blank_cum = np.concatenate(([0], np.cumsum(~v)))
            clean = (blank_cum[ib[1:]] - blank_cum[ib[:-1]]) == 0
            periods = (bounds[1:] - bounds[:-1])[clean] / fs
        if periods.size >= 2:
            x3 = z3.real
            pp = (np.maximum.reduceat(x3, ib)[:-1] - np.minimum.reduceat(x3, ib)[:-1])[clean]
            env_cyc = (np.add.reduceat(env, ib)[:-1] / (ib[1:] - ib[:-1]))[clean]
            med = sm.median(periods)
            period_cv = float(1.4826 * sm.median(np.abs(periods - med)) / med)
            mean_pp = sm.mean(pp)
            amplitude_cv = float(math.sqrt(sm.var(pp)) / mean_pp) if mean_pp > 0 else np.nan
            amplitude = sm.percentile(env_cyc, 90)
    broad = np.ascontiguousarray(broad[seg].real)
    # sinusoidality away from blanked spans: the straight-line fill and its corners are broadband and
    # would dilute the narrow band's share (only where at least one cycle of such samples remains)
    core = v
    if not all_v:
        guard = int(math.ceil(cyc / (2 * math.pi * freq) * fs))
        core = ~sm.dilate(~v, guard) if guard > 0 else v
        if core.sum() < fs / freq:
            core = v
        any_core = bool(core.any())
        broad_c, z6_c = broad[core], z6.real[core]
    else:
        any_core = core.size > 0
        broad_c, z6_c = broad, np.ascontiguousarray(z6.real)
    var_b = sm.var(broad_c) if any_core else 0.0
    sinus = min(max(sm.var(z6_c) / var_b, 0.0), 1.0) if var_b > 0 else 0.0
    y_se = y[s:e]
    return {
        "start_s": s / fs, "end_s": e / fs, "frequency_hz": freq, "amplitude_mv": amplitude,
        "n_cycles": (e - s) / fs * freq,
        "mean_vm_mv": sm.mean(y_se if all_v else y_se[v]) if any_v else sm.mean(y_se),
        "power_db": float(10 * np.log10(max(sm.mean(p6 if all_v else p6[v]) if any_v else 0.0, 1e-30) / bg)),
        "period_cv": period_cv, "amplitude_cv": amplitude_cv, "sinusoidality": sinus,
    }
