"""Second part of the episode measures: the cycles of each located candidate on a broader (3-cycle) band —
amplitude, period and amplitude variability, sinusoidality — for all candidates at once (see
:mod:`.measure`)."""

from __future__ import annotations

import math

import numpy as np

from .._numerics import small as sm
from .locate import morlet_spectra, split, unwrap_rows
from .working import Working

__all__ = ["cycles_many", "crossings", "crossings_rows"]


def crossings(phase: np.ndarray, offset: float) -> np.ndarray:
    """Fractional sample positions where the unwrapped ``phase`` passes ``offset + 2 pi k``, one per k."""
    k = np.floor((phase - offset) / (2 * np.pi))
    k = np.maximum.accumulate(k)
    idx = np.flatnonzero(k[1:] > k[:-1])
    target = offset + 2 * np.pi * k[idx + 1]
    p0 = phase[idx]
    dphi = phase[idx + 1] - p0
    frac = np.minimum(np.maximum((target - p0) / np.where(dphi > 0, dphi, 1.0), 0.0), 1.0)   # np.clip
    return idx + frac


def cycles_many(states, w: Working, params) -> list:
    """The full rows of `measure_episode` from states of `locate_many`: the 3-cycle and broad-band copies'
    spectra, phases and trough crossings of all candidates as whole-array operations, the cycle statistics
    per candidate."""
    if not states:
        return []
    cyc = params.wavelet_cycles
    specs = [st[5] for st in states]
    freqs = np.array([st[3] for st in states])
    pairs = [sp.analytic(m3, mb) for sp, m3, mb in
             zip(specs, morlet_spectra(specs, freqs, cyc / 2), band_spectra(specs, freqs / 2, 2 * freqs))]
    segs = [slice(st[1] - st[0], st[2] - st[0]) for st in states]
    z3s = [pair[0][seg] for pair, seg in zip(pairs, segs)]
    sizes = [z.size for z in z3s]
    ph3 = unwrap_rows(np.angle(np.concatenate(z3s)), sizes)
    crossings = crossings_rows(ph3, sizes, np.pi)             # troughs of the 3-cycle band signal
    return [cycle_row(st, z3, pair[1][seg], bounds, w, params)
            for st, z3, pair, seg, bounds in zip(states, z3s, pairs, segs, crossings)]


def band_spectra(specs, los, his):
    """``[spec.band_spectrum(lo, hi) ...]`` by whole-array operations over all segments (same values)."""
    sizes = [sp._f_pos.size for sp in specs]
    f_pos = np.concatenate([sp._f_pos for sp in specs])
    gain = np.where((f_pos >= np.repeat(los, sizes)) & (f_pos <= np.repeat(his, sizes)), 2.0, 0.0)
    return split(np.concatenate([sp._spec_pos for sp in specs]) * gain, sizes)


def crossings_rows(phase, sizes, offset):
    """``[crossings(row, offset) for row in split(phase, sizes)]`` (non-empty rows) by whole-array
    operations: each row's running maximum of the cycle index is taken on the index shifted by the row
    number times a span larger than every row's range (integers in float64: exact), so rows do not mix."""
    k = np.floor((phase - offset) / (2 * np.pi))
    ends = np.cumsum(sizes)
    row_of = np.repeat(np.arange(len(sizes)), sizes)
    span = float(k.max() - k.min()) + 1.0 if k.size else 1.0
    shift = row_of * span
    k = np.maximum.accumulate(k + shift) - shift
    step = k[1:] > k[:-1]
    step[ends[:-1] - 1] = False                              # between rows
    idx = np.flatnonzero(step)
    target = offset + 2 * np.pi * k[idx + 1]
    p0 = phase[idx]
    dphi = phase[idx + 1] - p0
    frac = np.minimum(np.maximum((target - p0) / np.where(dphi > 0, dphi, 1.0), 0.0), 1.0)   # np.clip
    local = idx - (ends - np.asarray(sizes))[row_of[idx]]
    return split(local + frac, np.bincount(row_of[idx], minlength=len(sizes)).tolist())


def cycle_row(st, z3, broad, bounds, w: Working, params):
    """One candidate's full row from its `locate_many` state, its 3-cycle and broad-band copies over the
    episode and the trough crossings of the former."""
    a, s, e, freq, bg, spec, z6, env, p6, v, all_v, any_v = st
    y, fs = w.y, w.fs
    cyc = params.wavelet_cycles
    seg = slice(s - a, e - a)
    z6, env, p6 = z6[seg], env[seg], p6[seg]
    ib = np.ceil(bounds).astype(np.int64)
    keep = ib < e - s
    keep[1:] &= ib[1:] > ib[:-1]
    ib, bounds = ib[keep], bounds[keep]
    period_cv = amplitude_cv = amplitude = np.nan
    by_cycle = False                       # amplitude from whole cycles (else from the valid samples)
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
            by_cycle = True
    if not by_cycle and any_v:
        amplitude = sm.percentile(env if all_v else env[v], 90)
    broad = np.ascontiguousarray(broad.real)
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
        "p_value": np.nan,       # (`assemble` fills it: it needs the trace's number of tests)
    }
