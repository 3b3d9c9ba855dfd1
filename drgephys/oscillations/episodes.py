"""Episode building from the thresholded wavelet power, and per-episode measures.

Detection follows BOSC (power above threshold for >= ``min_cycles`` cycles at that frequency); runs at
neighbouring frequencies that touch in time form one candidate (a connected region of the time-frequency
plane), spanning the times of its runs within one grid step of its dominant frequency. Boundaries are then
moved to the half-maximum of the episode's amplitude envelope, the convention of ``drgephys.sim``
(a threshold crossing of power depends on the noise level, half-maximum does not). Accepted neighbours at
the same frequency merge across short gaps and blanked spikes, and weaker BOSC-level pieces may extend them
(hysteresis, as in dual-threshold burst detectors). Each episode is measured cycle by cycle, as bycycle
does (Cole & Voytek 2019), to tell an oscillator from filtered noise (Dodson, Pastoll & Nolan 2011):

- ``frequency_hz``: least-squares slope of the unwrapped phase of the 6-cycle wavelet output over the
  episode (sub-bin: the phase of any wavelet near the oscillation advances at the oscillation frequency).
- ``amplitude_mv``: 90th percentile of cycle peak-to-peak, each cycle's from the wavelet envelope at the
  measured frequency with the background (noise) power removed: ``2 sqrt(|W|^2 - background)``.
- ``period_cv``: robust coefficient of variation (1.4826 MAD / median, insensitive to the few noisy cycles
  of the waxing and waning ends) of cycle periods, from phase crossings on a broader 3-cycle band where
  noise makes irregular cycles; ``amplitude_cv``: std / mean of cycle peak-to-peak on that band.
- ``sinusoidality``: share of the episode's variance in the 2-octave band ``f/2 .. 2f`` carried by the
  6-cycle band around ``f`` (1 for a sinusoid).
- ``power_db``: mean wavelet power over the episode relative to the background.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import _small as sm
from .tfr import SegmentSpectrum

__all__ = ["COLUMNS", "find_candidates", "drop_overlaps", "merge_groups", "measure_episode", "empty_episodes"]

COLUMNS = ["start_s", "end_s", "frequency_hz", "amplitude_mv", "n_cycles", "mean_vm_mv", "power_db",
           "period_cv", "amplitude_cv", "sinusoidality"]


_EMPTY = pd.DataFrame({c: pd.Series(dtype="float64") for c in COLUMNS})


def empty_episodes() -> pd.DataFrame:
    """Episode table with no rows and the contract columns (a copy of one template: building it column by
    column costs ~2 ms, called a few times per sweep)."""
    return _EMPTY.copy()


def find_candidates(power, thr, freqs, valid, fs, params):
    """Candidate episodes ``(starts, ends_exclusive, f_index, mean_ratio)`` at the working rate.

    Per frequency, runs of ``power > thr`` lasting ``min_cycles`` cycles, on valid samples at least one
    wavelet standard deviation away from blanked spans (their cone of influence, Torrence & Compo 1998: the
    straight-line fill and the AHP remnants at its ends distort the power there); connected regions
    of these runs in the time-frequency plane (8-connectivity, found as connected components of a graph of
    runs) are the candidates, each labelled with the frequency of highest mean power/threshold inside it
    (``mean_ratio``). Candidates may overlap in time (e.g. an SSO and its harmonic); the caller keeps the
    stronger.
    """
    n_f, n = power.shape
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
    w = n + 1                                          # one False separator column ends every row's runs
    above = np.zeros((n_f, w), bool)
    np.greater(power, thr.astype(power.dtype)[:, None], out=above[:, :n])
    if valid.all():
        above[:, :n] &= valid[None, :]
    else:   # cone of influence around blanked spans: one wavelet SD (cycles / (2 pi f)) on each side
        dist = _distance_to_blank(valid)
        guard = params.wavelet_cycles / (2 * np.pi * freqs) * fs
        above[:, :n] &= dist[None, :] > guard[:, None]
    flat = above.ravel()
    starts, ends = _run_edges(flat)                     # the separator column ends each row's last run
    del above, flat
    rows, cs, ce = starts // w, starts % w, ends % w
    keep = (ce - cs) >= np.ceil(params.min_cycles * fs / freqs)[rows]
    rows, cs, ce = rows[keep], cs[keep], ce[keep]
    if rows.size == 0:
        return empty
    # mean power / threshold of each run (sums over the flattened power array)
    flat = np.empty(2 * rows.size, np.int64)
    flat[0::2], flat[1::2] = rows * n + cs, rows * n + ce
    flat = flat[:-1] if flat[-1] >= power.size else flat
    run_sum = np.add.reduceat(power.ravel(), flat)[0::2].astype(np.float64) / thr[rows]   # float32 sums: no copy
    length = ce - cs
    # connected regions: runs in neighbouring rows that overlap or touch diagonally (8-connectivity)
    key_s, key_e = rows * (n + 2) + cs, rows * (n + 2) + ce
    lo = np.searchsorted(key_e, (rows + 1) * (n + 2) + cs, side="left")
    hi = np.searchsorted(key_s, (rows + 1) * (n + 2) + ce, side="right")
    cnt = np.maximum(hi - lo, 0)
    src = np.repeat(np.arange(rows.size), cnt)
    dst = np.repeat(lo, cnt) + (np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt))
    n_lab, lab = _components(rows.size, src, dst)
    # dominant frequency: highest mean power / threshold within the region
    key = lab * n_f + rows
    sums = np.bincount(key, weights=run_sum, minlength=n_lab * n_f).reshape(n_lab, n_f)
    counts = np.bincount(key, weights=length, minlength=n_lab * n_f).reshape(n_lab, n_f)
    mean_ratio = sums / np.maximum(counts, 1)
    fi = np.argmax(mean_ratio, axis=1)
    best = mean_ratio[np.arange(n_lab), fi]
    # time extent: the region's runs within one grid step of that frequency (a chain of noise runs at
    # other frequencies must not stretch the episode)
    near = np.abs(rows - fi[lab]) <= 1
    s = np.full(n_lab, n, np.int64)
    e = np.zeros(n_lab, np.int64)
    np.minimum.at(s, lab[near], cs[near])
    np.maximum.at(e, lab[near], ce[near])
    order = np.argsort(s, kind="stable")
    return s[order], e[order], fi[order], best[order]


def _run_edges(flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and (exclusive) ends of the runs of True in a 1-D boolean array ending in False, from one pass
    over it (no int8 diff copy): the changes alternate rising / falling, the first rising unless the array
    starts inside a run."""
    edges = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    if flat[0]:
        return np.concatenate(([0], edges[1::2])), edges[0::2]
    return edges[0::2], edges[1::2]


def _distance_to_blank(valid: np.ndarray) -> np.ndarray:
    """``scipy.ndimage.distance_transform_edt(valid)`` of a 1-D mask with at least one False: distance in
    samples (float64) to the nearest False sample (the same values without the n-D transform's ~25 µs)."""
    n = valid.size
    i = np.arange(n)
    blank = np.flatnonzero(~valid)
    k = np.searchsorted(blank, i)                          # first blank sample at or after i
    right = np.where(k < blank.size, blank[np.minimum(k, blank.size - 1)] - i, 2 * n)
    left = np.where(k > 0, i - blank[np.maximum(k - 1, 0)], 2 * n)
    return np.minimum(left, right).astype(np.float64)


def _components(n_nodes: int, src: np.ndarray, dst: np.ndarray) -> tuple[int, np.ndarray]:
    """Connected components of the undirected graph with edges ``src[i] -- dst[i]``: ``(n, labels)``
    numbered in the order of each component's smallest node, as
    ``scipy.sparse.csgraph.connected_components(..., directed=False)`` numbers them (its sparse-matrix
    construction and checks cost ~50-100 µs per sweep).

    Minimum-label propagation with pointer jumping: every node holds a node of its component no larger
    than itself; each round lowers both ends of every edge to their minimum and jumps each label to its
    label's label, until nothing changes (then every component holds its smallest node). A loop over
    rounds (a few; at most the component diameter), each whole-array.
    """
    lab = np.arange(n_nodes)
    if src.size == 0:
        return n_nodes, lab
    while True:
        low = np.minimum(lab[src], lab[dst])
        new = lab.copy()
        np.minimum.at(new, src, low)
        np.minimum.at(new, dst, low)
        new = new[new]
        if np.array_equal(new, lab):
            break
        lab = new
    roots, lab = np.unique(lab, return_inverse=True)
    return roots.size, lab


def drop_overlaps(s, e, power_db) -> np.ndarray:
    """Keep-mask for episodes: one that overlaps a stronger episode (higher ``power_db``) by more than half
    of the shorter of the two is dropped (harmonics, two ridges of one oscillation)."""
    ov = np.minimum(e[:, None], e[None, :]) - np.maximum(s[:, None], s[None, :])
    short = np.minimum((e - s)[:, None], (e - s)[None, :])
    idx = np.arange(s.size)
    stronger = (power_db[None, :] > power_db[:, None]) | ((power_db[None, :] == power_db[:, None])
                                                          & (idx[None, :] < idx[:, None]))
    return ~np.any((ov > 0.5 * short) & stronger, axis=1)


def merge_groups(s, e, freq, valid, fs, params) -> np.ndarray:
    """Group labels for time-sorted episodes ``[s, e)``.

    Neighbours whose frequencies differ by less than the wavelet's relative bandwidth (``1 /
    wavelet_cycles``, 17 %: not resolvable as two oscillations) merge across a gap when its blanked part is
    at most ``max_blank_gap_s`` and its unblanked part at most ``max_gap_cycles`` cycles of the slower one,
    plus, for each blanked span in the gap, the cone of influence on both its sides (``wavelet_cycles / pi``
    cycles) where no detection can start (e.g. the short spans between the spikes of a burst).
    """
    if s.size < 2:
        return np.zeros(s.size, np.int64)
    # blanked samples before p, and blank runs starting before p, at the gap ends only (from the blank runs:
    # the same counts as cumulative sums over the trace, without two trace-length int64 arrays)
    d = np.diff((~valid).view(np.int8), prepend=np.int8(0), append=np.int8(0))
    b0, b1 = np.flatnonzero(d == 1), np.flatnonzero(d == -1)          # blank runs [b0, b1)
    cum_len = np.concatenate(([0], np.cumsum(b1 - b0)))

    def blank_cum(p):
        j = np.searchsorted(b1, p, side="right")                     # runs ending at or before p
        partial = np.where(j < b0.size, p - b0[np.minimum(j, max(b0.size - 1, 0))], 0) if b0.size else 0
        return cum_len[j] + np.maximum(partial, 0)

    gap = s[1:] - e[:-1]
    blanked = blank_cum(s[1:]) - blank_cum(e[:-1])
    n_blanks = np.maximum(np.searchsorted(b0, s[1:]) - np.searchsorted(b0, e[:-1]), (blanked > 0).astype(np.int64))
    period = fs / np.minimum(freq[1:], freq[:-1])
    same_f = np.abs(np.log(freq[1:] / freq[:-1])) <= np.log1p(1.0 / params.wavelet_cycles)
    allowed = (params.max_gap_cycles + n_blanks * params.wavelet_cycles / np.pi) * period
    ok_gap = ((gap - blanked) <= allowed) & (blanked <= params.max_blank_gap_s * fs)
    return np.cumsum(np.concatenate(([True], ~(same_f & ok_gap)))) - 1


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
    dict with the columns of :data:`COLUMNS`.
    """
    # called a few hundred times per recording on short segments: the numpy statistics come from `_small`
    # (same values, less per-call overhead) and plain slices replace masks when no sample is blanked
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
    z6, z3, broad = spec.analytic(spec.morlet_spectrum(freq, cyc), spec.morlet_spectrum(freq, cyc / 2),
                                  spec.band_spectrum(freq / 2, 2 * freq))
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
