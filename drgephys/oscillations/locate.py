"""First part of the episode measures: each candidate's refined frequency (the slope of its wavelet phase),
6-cycle envelope and half-maximum boundaries, for all candidates of a selection step at once (see
:mod:`.measure`). Elementwise steps run as whole-array operations over all candidates; transforms, sums, dot
products and percentiles stay per candidate, so every value is the one a candidate measured alone gets."""

from __future__ import annotations

import itertools
import math

import numpy as np

from .._numerics import small as sm
from .tfr import SegmentSpectrum
from .working import Working

__all__ = ["locate_many", "morlet_spectra", "split", "unwrap_rows", "ragged_arange"]


def morlet_spectra(specs, f0s, cycles):
    """``[spec.morlet_spectrum(f0, cycles) for spec, f0 in zip(specs, f0s)]`` by one set of whole-array
    operations over all segments (the same elementwise operations on the same values)."""
    f0s = np.asarray(f0s, dtype=np.float64)
    sizes = [sp._f_pos.size for sp in specs]
    f_pos = np.concatenate([sp._f_pos for sp in specs])
    f0 = np.repeat(f0s, sizes)
    sd = np.repeat(f0s / cycles, sizes)
    out = np.concatenate([sp._spec_pos for sp in specs]) * (2.0 * np.exp(-0.5 * ((f_pos - f0) / sd) ** 2))
    return split(out, sizes)


def split(x, sizes):
    """Consecutive views of ``x`` of the given sizes (a list of ints)."""
    ends = list(itertools.accumulate(sizes))
    return [x[e - n:e] for n, e in zip(sizes, ends)]


def unwrap_rows(p, sizes):
    """``np.concatenate([sm.unwrap(row) for row in split(p, sizes)])`` by whole-array operations: the
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


def locate_many(w: Working, starts, ends, f0s, params):
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
    zs = [sp.analytic(m)[0][s - a:e - a] for sp, m, (a, b, s, e) in zip(specs, morlet_spectra(specs, f0s, cyc), lay)]
    phase = unwrap_rows(np.angle(np.concatenate(zs)), sizes)
    # least-squares slope of the unwrapped phase over the valid samples of each candidate
    pos = ragged_arange(starts, sizes)
    vv = valid[pos]
    n_v = [int(x.sum()) for x in split(vv, sizes)]
    t = (pos / fs)[vv]
    phase = phase[vv]
    t_mean = [float(x.sum() / x.size) if x.size else 0.0 for x in split(t, n_v)]          # sm.mean
    ph_mean = [float(x.sum() / x.size) if x.size else 0.0 for x in split(phase, n_v)]
    n_v_arr = np.array(n_v)
    tc = t - np.repeat(t_mean, n_v_arr)
    dev = phase - np.repeat(ph_mean, n_v_arr)
    freqs, bgs = [], []
    for f0, tc_i, dev_i in zip(f0s, split(tc, n_v), split(dev, n_v)):
        freq = f0
        if tc_i.size > 2:
            freq = float(np.dot(tc_i, dev_i) / np.dot(tc_i, tc_i) / (2 * np.pi))
        if not (0.5 * f0 < freq < 2 * f0):
            freq = f0
        freqs.append(freq)
        bgs.append(bg_at(freq))
    z6s = [sp.analytic(m)[0] for sp, m in zip(specs, morlet_spectra(specs, freqs, cyc))]
    n_seg_arr = np.array(n_seg)
    p6 = np.abs(np.concatenate(z6s)) ** 2
    env = 2 * np.sqrt(np.maximum(p6 - np.repeat(bgs, n_seg_arr), 0.0))   # peak-to-peak, noise power removed
    # half-maximum boundaries: amplitude from the valid samples inside each candidate
    seg_start = list(itertools.accumulate([0] + n_seg[:-1]))
    lo = [f + s - a for f, (a, b, s, e) in zip(seg_start, lay)]
    amp0 = [sm.percentile(x, 90) if x.size else 0.0 for x in split(env[ragged_arange(lo, sizes)][vv], n_v)]
    bounds = half_max(env, valid, lay, amp0)
    out = []
    for (a, b, _, _), (s, e), freq, bg, sp, z6, env_i, p6_i in zip(lay, bounds, freqs, bgs, specs, z6s,
                                                                  split(env, n_seg), split(p6, n_seg)):
        v = valid[s:e]
        all_v = bool(v.all())
        any_v = all_v or bool(v.any())
        out.append((a, s, e, freq, bg, sp, z6, env_i, p6_i, v, all_v, any_v))
    return out


def ragged_arange(starts, sizes):
    """``np.concatenate([np.arange(s, s + n) for s, n in zip(starts, sizes)])`` (int64)."""
    sizes = np.asarray(sizes, np.int64)
    first = np.cumsum(sizes) - sizes
    return np.arange(int(sizes.sum()), dtype=np.int64) + np.repeat(np.asarray(starts, np.int64) - first, sizes)


def half_max(env, valid, lay, amp0):
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
    half &= valid[ragged_arange([a for a, b, s, e in lay], n_seg_arr)]
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
