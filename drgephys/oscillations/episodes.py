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

import functools

import numpy as np

from .._numerics.spans import overlap_pairs
from .._lazy import pd

__all__ = ["COLUMNS", "EpisodeTable", "find_candidates", "drop_overlaps", "merge_groups", "empty_episodes"]

COLUMNS = ["start_s", "end_s", "frequency_hz", "amplitude_mv", "n_cycles", "mean_vm_mv", "power_db",
           "period_cv", "amplitude_cv", "sinusoidality", "p_value"]


_COL = {c: i for i, c in enumerate(COLUMNS)}


@functools.cache
def _empty_template() -> pd.DataFrame:
    """The episode table with no rows, built once (on first use: pandas is loaded lazily)."""
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in COLUMNS})


@functools.cache
def _column_index() -> pd.Index:
    return pd.Index(COLUMNS)


def empty_episodes() -> pd.DataFrame:
    """Episode table with no rows and the contract columns (a copy of one template: building it column by
    column costs ~2 ms, called a few times per sweep)."""
    return _empty_template().copy()


class EpisodeTable:
    """SSO episodes of one trace as one float64 array (the named result of the oscillation stage).

    Rows are episodes, columns `COLUMNS` (times in s from the trace's first sample). Selections,
    reorderings and concatenations cost no DataFrame per step (~0.1-1 ms of pandas overhead each);
    `frame` builds the DataFrame of `drgephys.oscillations.detect_oscillations`.

    Parameters
    ----------
    a : array_like, shape (n_episodes, len(COLUMNS))
    attrs : dict, optional
        Facts about the detection (``band_hz``, ``working_fs_hz``, ``mains_lines``), copied to the
        DataFrame's ``attrs``.
    """

    def __init__(self, a, attrs: dict | None = None):
        self.a = np.asarray(a, dtype=np.float64).reshape(-1, len(COLUMNS))
        self.attrs = dict(attrs or {})

    @classmethod
    def empty(cls, attrs: dict | None = None) -> "EpisodeTable":
        return cls(np.empty((0, len(COLUMNS))), attrs)

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> "EpisodeTable":
        """The table of a DataFrame with the `COLUMNS` columns (e.g. `detect_oscillations`' output)."""
        return cls(df[COLUMNS].to_numpy(dtype=np.float64) if len(df) else np.empty((0, len(COLUMNS))),
                   dict(df.attrs))

    def __len__(self) -> int:
        return self.a.shape[0]

    def __getitem__(self, c: str) -> np.ndarray:
        return self.a[:, _COL[c]]

    def rows(self, sel) -> "EpisodeTable":
        return EpisodeTable(self.a[sel], self.attrs)

    def columns(self) -> dict:
        """Each column as an array (views of the block)."""
        return {c: self.a[:, i] for i, c in enumerate(COLUMNS)}

    def frame(self) -> pd.DataFrame:
        # columns from a cached Index (a shallow copy): building it from the list of names costs ~30 µs
        out = pd.DataFrame(self.a, columns=_column_index().copy()) if len(self) else empty_episodes()
        out.attrs.update(self.attrs)
        return out


def find_candidates(power, thr, freqs, valid, fs, params):
    """Candidate episodes ``(starts, ends_exclusive, f_index, mean_ratio)`` at the working rate.

    Per frequency, runs of ``power > thr`` lasting ``min_cycles`` cycles, on valid samples at least one
    wavelet standard deviation away from blanked spans (their cone of influence, Torrence & Compo 1998: the
    straight-line fill and the AHP remnants at its ends distort the power there); connected regions
    of these runs in the time-frequency plane (8-connectivity, found as connected components of a graph of
    runs) are the candidates, each labelled with the frequency of highest mean power/threshold inside it
    (``mean_ratio``); a region's second ridge (the strongest local maximum of that mean over frequency below
    the first, at least `SECOND_RIDGE_MIN_RATIO`) is a candidate too. Candidates may overlap in time (e.g. an SSO and its
    harmonic); the caller keeps the accepted, then more significant, one.
    """
    n_f, n = power.shape
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
    w = n + 1                                          # one False separator column ends every row's runs
    above = np.zeros((n_f, w), bool)
    np.greater(power, thr.astype(power.dtype)[:, None], out=above[:, :n])
    if not valid.all():   # cone of influence around blanked spans: one wavelet SD (cycles / (2 pi f)) each side
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
    length = ce - cs
    run_sum = _run_sums(power, rows, cs, ce).astype(np.float64) / thr[rows]   # mean power / threshold x length
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
    # a second ridge: a region may join an SSO to a spike-locked line at a harmonic of the firing rate
    # (a 52-Hz SSO under 27-Hz firing and the 80-Hz line above it). The residue of the spikes is a comb of
    # such lines that rises over the 1/f background with frequency, so it is the strongest ridge and the
    # higher one: the strongest local maximum *below* it, two grid steps or more away and above the
    # threshold on average, is a candidate too (the caller measures both and keeps the accepted, then more
    # significant, one). Above it, only more of the comb: taking those gave an 87-Hz "episode" on a real
    # cortical cell firing at 25 Hz during a current step (171116sh_0019.abf sweep 13).
    f2, best2, two = _second_ridge(mean_ratio, counts > 0, fi)
    lab_f, lab_b = np.concatenate((fi, f2[two])), np.concatenate((best, best2[two]))
    second = np.full(n_lab, -1)
    second[two] = n_lab + np.arange(int(two.sum()))          # candidate number of each region's second ridge
    s = np.full(lab_f.size, n, np.int64)
    e = np.zeros(lab_f.size, np.int64)
    near = np.abs(rows - fi[lab]) <= 1
    np.minimum.at(s, lab[near], cs[near])
    np.maximum.at(e, lab[near], ce[near])
    c2 = second[lab]
    near = (c2 >= 0) & (np.abs(rows - f2[lab]) <= 1)
    np.minimum.at(s, c2[near], cs[near])
    np.maximum.at(e, c2[near], ce[near])
    order = np.argsort(s, kind="stable")
    return s[order], e[order], lab_f[order], lab_b[order]


#: Mean power / threshold a region's second ridge needs to become a candidate of its own.
SECOND_RIDGE_MIN_RATIO = 1.0


def _second_ridge(mean_ratio, has, fi):
    """Per region (rows of ``mean_ratio``, ``(n_regions, n_freqs)``; ``has``: frequencies with runs): the
    frequency index and mean ratio of its strongest local maximum in frequency below ``fi`` (the region's
    strongest), and whether it counts (`SECOND_RIDGE_MIN_RATIO`, two grid steps or more below ``fi``)."""
    n_lab = mean_ratio.shape[0]
    mr = np.where(has, mean_ratio, -np.inf)
    pad = np.full((n_lab, 1), -np.inf)
    peak = has & (mr >= np.concatenate((pad, mr[:, :-1]), axis=1)) & (mr > np.concatenate((mr[:, 1:], pad), axis=1))
    peak &= np.arange(mr.shape[1])[None, :] < fi[:, None]      # below the strongest only
    mr2 = np.where(peak, mr, -np.inf)
    f2 = np.argmax(mr2, axis=1)
    best2 = mr2[np.arange(n_lab), f2]
    two = np.isfinite(best2) & (np.abs(f2 - fi) >= 2) & (best2 >= SECOND_RIDGE_MIN_RATIO)
    return f2, best2, two


def _run_sums(power: np.ndarray, rows, cs, ce, gather: bool | None = None) -> np.ndarray:
    """Sums of ``power[rows[i], cs[i]:ce[i]]`` (non-empty runs in increasing flat order), by np.add.reduceat
    in the plane's dtype: over the runs' samples gathered end to end when they are a small part of the
    plane (``gather`` None: under a quarter; a few % typically), else over the flattened plane with the
    gaps between runs summed and dropped. The same sums either way (each run's samples, contiguous, in
    order)."""
    n = power.shape[1]
    length = ce - cs
    total = int(length.sum())
    if gather if gather is not None else 4 * total < power.size:
        first = np.cumsum(length) - length
        at = np.arange(total, dtype=np.int64) + np.repeat(rows * n + cs - first, length)
        return np.add.reduceat(power.ravel()[at], first)
    flat = np.empty(2 * rows.size, np.int64)
    flat[0::2], flat[1::2] = rows * n + cs, rows * n + ce
    flat = flat[:-1] if flat[-1] >= power.size else flat
    return np.add.reduceat(power.ravel(), flat)[0::2]


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
    """Keep-mask for episodes: one that overlaps a stronger episode (higher ``power_db``; the earlier one on
    a tie) by more than half of the shorter of the two is dropped (harmonics, two ridges of one
    oscillation). Overlapping pairs come from a sorted sweep (`drgephys._numerics.spans.overlap_pairs`), not
    an all-pairs matrix: O(n log n + pairs)."""
    s, e = np.asarray(s), np.asarray(e)
    power_db = np.asarray(power_db, dtype=np.float64)
    keep = np.ones(s.size, bool)
    i, j = overlap_pairs(s, e, s, e)
    pair = i < j
    i, j = i[pair], j[pair]
    ov = np.minimum(e[i], e[j]) - np.maximum(s[i], s[j])
    big = ov > 0.5 * np.minimum(e[i] - s[i], e[j] - s[j])
    i, j = i[big], j[big]
    j_wins = (power_db[j] > power_db[i]) | ((power_db[j] == power_db[i]) & (j < i))
    keep[np.where(j_wins, i, j)] = False
    return keep


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
