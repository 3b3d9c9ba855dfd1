"""Per-episode measures (`measure_episode`; the definitions are in :mod:`.episodes`) and `screen_episode`,
which settles the acceptance of a candidate from its cheap measures when that is decided without them.

Measures are taken a few hundred times per recording on short segments (median ~150 working-rate samples),
so their cost is per-call overhead. The candidates of one selection step are therefore measured together
(`measure_episodes`, `screen_episodes`), in two parts: `_locate_many` (each segment's spectrum, the refined
frequency, the 6-cycle envelope, the half-maximum boundaries) and `_cycles_many` (the 3-cycle band's
cycles, amplitude, CVs, sinusoidality). Their elementwise steps run as whole-array operations over all
candidates; transforms, sums, dot products, medians and percentiles stay per candidate, so every value is
the one a candidate measured alone gets (``tests/oscillations/test_measure.py`` keeps the one-at-a-time
form and compares bit for bit). The numpy statistics come from `drgephys._numerics.small` (same values, less overhead).

`screen_episode` stops after the first part when the acceptance (see `drgephys.oscillations.assemble`) is
already decided: a candidate whose cycles, frequency or power fail the minima, or one whose power is below
the full rule and whose amplitude is bounded inside ``(0, max_amplitude_mv]`` by its envelope's range (the
amplitude is a percentile of cycle means of that envelope). About half the candidates stop there.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from .._numerics import small as sm
from .tfr import Levels, SegmentSpectrum

__all__ = ["Working", "measure_episode", "measure_episodes", "screen_episode", "screen_episodes"]


@dataclass(frozen=True)
class Working:
    """The working-rate arrays an episode is measured on (what step 6 of the detector reads).

    Attributes
    ----------
    r : ndarray, shape (m,)
        Drift- and hum-free trace, mV.
    y : ndarray, shape (m,)
        Decimated trace before drift removal (spikes bridged), mV, for ``mean_vm_mv``.
    valid : ndarray of bool, shape (m,)
        False on blanked samples (spikes, artifacts).
    fs : float
        Working rate, Hz.
    levels : Levels
        Wavelet frequencies, background power and BOSC threshold.
    """

    r: np.ndarray
    y: np.ndarray
    valid: np.ndarray
    fs: float
    levels: Levels

    def bg_at(self, f: float) -> float:
        """Background mean wavelet power (mV^2) at ``f`` Hz."""
        return self.levels.background_at(f)

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


def measure_episode(w: Working, s: int, e: int, f0: float, params):
    """Measures of one episode ``[s, e)`` (working-rate samples) whose wavelet frequency is ``f0`` (Hz).

    Parameters
    ----------
    w : Working
        The working-rate trace, validity mask, rate and background.
    s, e : int
        Episode bounds.
    f0 : float
        Wavelet frequency of the candidate, Hz.
    params : OscillationParams

    Returns
    -------
    dict with the columns of :data:`drgephys.oscillations.episodes.COLUMNS`.
    """
    return measure_episodes(w, [s], [e], [f0], params)[0]


def measure_episodes(w: Working, starts, ends, f0s, params) -> list:
    """`measure_episode` of several candidates (sequences ``starts``, ``ends``, ``f0s``): a list of dicts,
    the same values (their elementwise steps run as whole-array operations over all of them)."""
    if len(starts) == 0:
        return []
    return _cycles_many(_locate_many(w, starts, ends, f0s, params), w, params)


def screen_episode(w: Working, s: int, e: int, f0: float, params, *, band, need_ok: bool):
    """`measure_episode`, or its cheap part alone when the acceptance does not depend on the rest.

    Parameters
    ----------
    w, s, e, f0, params
        As for `measure_episode`.
    band : (float, float)
        Analysed band, Hz.
    need_ok : bool
        Whether the caller needs the full acceptance rule (else the BOSC-level one alone).

    Returns
    -------
    row : dict
        The columns of `measure_episode`; when ``decided``, ``amplitude_mv``, ``mean_vm_mv``,
        ``period_cv``, ``amplitude_cv`` and ``sinusoidality`` are NaN (not measured).
    decided : tuple of bool or None
        ``(ok, basic)`` as `assemble.acceptance` would give them on the full row, or None when the row was
        measured in full (the caller applies the rule).
    """
    return screen_episodes(w, [s], [e], [f0], params, band=band, need_ok=need_ok)[0]


def screen_episodes(w: Working, starts, ends, f0s, params, *, band, need_ok: bool) -> list:
    """`screen_episode` of several candidates: a list of ``(row, decided)``."""
    if len(starts) == 0:
        return []
    states = _locate_many(w, starts, ends, f0s, params)
    out = [_screen(st, w.fs, params, band, need_ok) for st in states]
    full = [i for i, (_, decided) in enumerate(out) if decided is None]
    for i, row in zip(full, _cycles_many([states[i] for i in full], w, params)):
        out[i] = (row, None)
    return out


def _screen(st, fs, params, band, need_ok):
    """`screen_episode` from the state of `_locate_many` (``decided`` None: the row needs `_cycles_many`)."""
    a, s, e, freq, bg, spec, z6, env, p6, v, all_v, any_v = st
    lo, hi = band
    n_cycles = (e - s) / fs * freq
    power_db = float(10 * np.log10(max(sm.mean(p6[s - a:e - a] if all_v else p6[s - a:e - a][v])
                                       if any_v else 0.0, 1e-30) / bg))
    row = {"start_s": s / fs, "end_s": e / fs, "frequency_hz": freq, "amplitude_mv": np.nan, "n_cycles": n_cycles,
           "mean_vm_mv": np.nan, "power_db": power_db, "period_cv": np.nan, "amplitude_cv": np.nan,
           "sinusoidality": np.nan}
    # the tests of assemble._acceptance, in its order; the amplitude test from the envelope's range
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
    return row, None


def _morlet_spectra(specs, f0s, cycles):
    """``[spec.morlet_spectrum(f0, cycles) for spec, f0 in zip(specs, f0s)]`` by one set of whole-array
    operations over all segments (the same elementwise operations on the same values)."""
    f0s = np.asarray(f0s, dtype=np.float64)
    sizes = [sp._f_pos.size for sp in specs]
    f_pos = np.concatenate([sp._f_pos for sp in specs])
    f0 = np.repeat(f0s, sizes)
    sd = np.repeat(f0s / cycles, sizes)
    out = np.concatenate([sp._spec_pos for sp in specs]) * (2.0 * np.exp(-0.5 * ((f_pos - f0) / sd) ** 2))
    return _split(out, sizes)


def _split(x, sizes):
    """Consecutive views of ``x`` of the given sizes (a list of ints)."""
    ends = list(itertools.accumulate(sizes))
    return [x[e - n:e] for n, e in zip(sizes, ends)]


def _unwrap_rows(p, sizes):
    """``np.concatenate([sm.unwrap(row) for row in _split(p, sizes)])`` by whole-array operations: the
    jumps of all rows at once, their corrections accumulated per row (a row-wise cumulative sum of a
    zero-padded (rows, jumps) array: sequential, as numpy's cumsum of each row) and carried forward to
    the row's later samples (non-empty rows)."""
    n = p.size
    up = p.copy()
    if n < 2:
        return up
    k = len(sizes)
    ends = np.cumsum(sizes)
    dd = p[1:] - p[:-1]
    big = np.abs(dd) >= np.pi
    big[ends[:-1] - 1] = False                       # steps between rows
    jump = np.flatnonzero(big)
    if jump.size == 0:
        return up
    d = dd[jump]
    dmod = np.mod(d - (-np.pi), 2 * np.pi) + (-np.pi)
    np.copyto(dmod, np.pi, where=(dmod == -np.pi) & (d > 0))
    corr = dmod - d
    row_of = np.repeat(np.arange(k), sizes)          # row of each sample
    jrow = row_of[jump]
    cnt = np.bincount(jrow, minlength=k)
    rank = np.arange(jump.size) - (np.cumsum(cnt) - cnt)[jrow]
    mat = np.zeros((k, int(cnt.max())))
    mat[jrow, rank] = corr
    cum = np.cumsum(mat, axis=1)[jrow, rank]          # running correction after each jump
    last = np.zeros(n, np.int64)                       # 1 + the last jump before each sample (0: none)
    last[jump + 1] = np.arange(1, jump.size + 1)
    last = np.maximum.accumulate(last)
    same = np.concatenate(([-1], jrow))[last] == row_of
    add = np.where(same, np.concatenate(([0.0], cum))[last], 0.0)
    # numpy adds the (zero) correction to every sample but the first of a row that has jumps
    has = (cnt > 0)[row_of]
    has[ends - np.asarray(sizes)] = False
    np.add(p, add, out=up, where=has)
    return up


def _locate_many(w: Working, starts, ends, f0s, params):
    """Refined frequency, 6-cycle envelope and half-maximum boundaries of candidates ``[s, e)``.

    One state per candidate, ``(a, s, e, freq, bg, spec, z6, env, p6, v, all_v, any_v)``: the segment's
    first sample ``a`` (its arrays start there), the refined bounds, frequency (Hz) and background power
    (mV^2), the segment's `SegmentSpectrum`, the 6-cycle analytic signal, envelope and power over the
    segment, and the validity of ``[s, e)`` (mask, all, any). The elementwise steps of all candidates
    (Morlet gains, phases, times, envelopes, half-maximum runs) are whole-array operations; transforms,
    sums, dot products and percentiles stay per candidate, on the same values as for one candidate at a
    time (``tests/oscillations/test_measure.py`` keeps that step-by-step form and compares).
    """
    cyc = params.wavelet_cycles
    fs, valid, bg_at = w.fs, w.valid, w.bg_at
    r = np.asarray(w.r, dtype=np.float64)
    starts, ends, f0s = [int(x) for x in starts], [int(x) for x in ends], [float(x) for x in f0s]
    lay, specs = [], []
    for s, e, f0 in zip(starts, ends, f0s):
        pad = int(math.ceil(3 * cyc / (2 * math.pi * f0) * fs))
        a, b = max(s - pad, 0), min(e + pad, r.size)
        specs.append(SegmentSpectrum(r[a:b], fs))
        lay.append((a, b, s, e))
    sizes = [e - s for a, b, s, e in lay]
    n_seg = [b - a for a, b, s, e in lay]
    zs = [sp.analytic(m)[0][s - a:e - a] for sp, m, (a, b, s, e) in zip(specs, _morlet_spectra(specs, f0s, cyc), lay)]
    phase = _unwrap_rows(np.angle(np.concatenate(zs)), sizes)
    # least-squares slope of the unwrapped phase over the valid samples of each candidate
    pos = _ragged_arange(starts, sizes)
    vv = valid[pos]
    n_v = [int(x.sum()) for x in _split(vv, sizes)]
    t = (pos / fs)[vv]
    phase = phase[vv]
    t_mean = [float(x.sum() / x.size) if x.size else 0.0 for x in _split(t, n_v)]          # sm.mean
    ph_mean = [float(x.sum() / x.size) if x.size else 0.0 for x in _split(phase, n_v)]
    n_v_arr = np.array(n_v)
    tc = t - np.repeat(t_mean, n_v_arr)
    dev = phase - np.repeat(ph_mean, n_v_arr)
    freqs, bgs = [], []
    for f0, tc_i, dev_i in zip(f0s, _split(tc, n_v), _split(dev, n_v)):
        freq = f0
        if tc_i.size > 2:
            freq = float(np.dot(tc_i, dev_i) / np.dot(tc_i, tc_i) / (2 * np.pi))
        if not (0.5 * f0 < freq < 2 * f0):
            freq = f0
        freqs.append(freq)
        bgs.append(bg_at(freq))
    z6s = [sp.analytic(m)[0] for sp, m in zip(specs, _morlet_spectra(specs, freqs, cyc))]
    n_seg_arr = np.array(n_seg)
    p6 = np.abs(np.concatenate(z6s)) ** 2
    env = 2 * np.sqrt(np.maximum(p6 - np.repeat(bgs, n_seg_arr), 0.0))   # peak-to-peak, noise power removed
    # half-maximum boundaries: amplitude from the valid samples inside each candidate
    seg_start = list(itertools.accumulate([0] + n_seg[:-1]))
    lo = [f + s - a for f, (a, b, s, e) in zip(seg_start, lay)]
    amp0 = [sm.percentile(x, 90) if x.size else 0.0 for x in _split(env[_ragged_arange(lo, sizes)][vv], n_v)]
    bounds = _half_max(env, valid, lay, amp0)
    out = []
    for (a, b, _, _), (s, e), freq, bg, sp, z6, env_i, p6_i in zip(lay, bounds, freqs, bgs, specs, z6s,
                                                                  _split(env, n_seg), _split(p6, n_seg)):
        v = valid[s:e]
        all_v = bool(v.all())
        any_v = all_v or bool(v.any())
        out.append((a, s, e, freq, bg, sp, z6, env_i, p6_i, v, all_v, any_v))
    return out


def _ragged_arange(starts, sizes):
    """``np.concatenate([np.arange(s, s + n) for s, n in zip(starts, sizes)])`` (int64)."""
    sizes = np.asarray(sizes, np.int64)
    first = np.cumsum(sizes) - sizes
    return np.arange(int(sizes.sum()), dtype=np.int64) + np.repeat(np.asarray(starts, np.int64) - first, sizes)


def _half_max(env, valid, lay, amp0):
    """Boundaries at half each episode's amplitude ``amp0`` (the simulator's half-maximum convention): the
    first and last valid half-maximum samples inside the candidate ``[s, e)``, extended outwards while the
    envelope (of the segment ``[a, b)``) stays above half and valid; kept when at least 3 samples long.
    ``env``: the segments' envelopes end to end (``lay``: ``(a, b, s, e)`` per candidate). Returns a list of
    ``(s, e)``."""
    n_seg = [b - a for a, b, s, e in lay]
    n_seg_arr = np.array(n_seg)
    seg_start = list(itertools.accumulate([0] + n_seg[:-1]))
    lo = [f + s - a for f, (a, b, s, e) in zip(seg_start, lay)]
    sizes = [e - s for a, b, s, e in lay]
    half = env >= np.repeat(0.5 * np.asarray(amp0), n_seg_arr)
    half &= valid[_ragged_arange([a for a, b, s, e in lay], n_seg_arr)]
    lo = np.asarray(lo, np.int64)
    hi = lo + np.asarray(sizes, np.int64)
    inner = np.flatnonzero(half)
    first = np.searchsorted(inner, lo)                  # first half-maximum sample inside each window
    last = np.searchsorted(inner, hi) - 1               # last one
    found = first <= last
    i0 = inner[np.minimum(first, max(inner.size - 1, 0))] if inner.size else lo
    i1 = inner[np.maximum(last, 0)] if inner.size else lo
    low = np.flatnonzero(~half)
    seg_s = np.asarray(seg_start, np.int64)
    seg_e = seg_s + n_seg_arr
    j = np.searchsorted(low, i0) - 1                     # last non-half sample before i0
    lj = low[np.maximum(j, 0)] if low.size else seg_s
    s2 = np.where((j >= 0) & (lj >= seg_s), lj + 1, seg_s) - seg_s
    j = np.searchsorted(low, i1 + 1)                     # first one after i1
    hj = low[np.minimum(j, max(low.size - 1, 0))] if low.size else seg_e
    e2 = np.where((j < low.size) & (hj < seg_e), hj, seg_e) - seg_s
    take = found & (e2 - s2 >= 3)
    return [(a + int(x), a + int(y)) if tk else (s, e)
            for (a, b, s, e), x, y, tk in zip(lay, s2.tolist(), e2.tolist(), take.tolist())]

def _cycles_many(states, w: Working, params) -> list:
    """The full rows of `measure_episode` from states of `_locate_many`: the 3-cycle and broad-band copies'
    spectra, phases and trough crossings of all candidates as whole-array operations, the cycle statistics
    per candidate."""
    if not states:
        return []
    cyc = params.wavelet_cycles
    specs = [st[5] for st in states]
    freqs = np.array([st[3] for st in states])
    pairs = [sp.analytic(m3, mb) for sp, m3, mb in
             zip(specs, _morlet_spectra(specs, freqs, cyc / 2), _band_spectra(specs, freqs / 2, 2 * freqs))]
    segs = [slice(st[1] - st[0], st[2] - st[0]) for st in states]
    z3s = [pair[0][seg] for pair, seg in zip(pairs, segs)]
    sizes = [z.size for z in z3s]
    ph3 = _unwrap_rows(np.angle(np.concatenate(z3s)), sizes)
    crossings = _crossings_rows(ph3, sizes, np.pi)             # troughs of the 3-cycle band signal
    return [_cycle_row(st, z3, pair[1][seg], bounds, w, params)
            for st, z3, pair, seg, bounds in zip(states, z3s, pairs, segs, crossings)]


def _band_spectra(specs, los, his):
    """``[spec.band_spectrum(lo, hi) ...]`` by whole-array operations over all segments (same values)."""
    sizes = [sp._f_pos.size for sp in specs]
    f_pos = np.concatenate([sp._f_pos for sp in specs])
    gain = np.where((f_pos >= np.repeat(los, sizes)) & (f_pos <= np.repeat(his, sizes)), 2.0, 0.0)
    return _split(np.concatenate([sp._spec_pos for sp in specs]) * gain, sizes)


def _crossings_rows(phase, sizes, offset):
    """``[_crossings(row, offset) for row in _split(phase, sizes)]`` (non-empty rows) by whole-array
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
    return _split(local + frac, np.bincount(row_of[idx], minlength=len(sizes)).tolist())


def _cycle_row(st, z3, broad, bounds, w: Working, params):
    """One candidate's full row from its `_locate_many` state, its 3-cycle and broad-band copies over the
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
    }
