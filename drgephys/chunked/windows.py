"""Chunk planning and the per-window steps of `drgephys.chunked.analyze_chunked`.

Windows are ``[window_start, window_end)`` = core ± margin (clipped to the sweep), sample indices of the
sweep; window starts are multiples of the SSO decimation factor ``q``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

#: Episodes starting this close outside a core are also collected (``sso="window"``); an episode found by
#: two windows is then kept from the window where it lies farthest from the window edges (s).
EPISODE_KEEP_TOL_S = 1.0
#: Resting-Vm streaming histogram: bin width and half range (mV); the median is exact to half a bin.
RESTING_BIN_MV = 1e-3
RESTING_RANGE_MV = 1000.0

__all__ = ["plan_windows", "min_margin_s", "decimation", "RestingHistogram", "decimated_core",
           "keep_core_spikes", "window_episodes", "dedupe_episodes", "episodes_in_window", "empty_episodes",
           "EPISODE_KEEP_TOL_S"]


def min_margin_s(params) -> float:
    """Smallest margin (s) for which a core is analysed as in the whole sweep: 3 SD of the band-bottom
    Morlet wavelet + half the drift running-median window + the longest spike span (``max_end_ms``)."""
    osc = params.oscillations
    lo = osc.band_hz[0]
    return (3 * osc.wavelet_cycles / (2 * math.pi * lo) + 0.5 * osc.drift_window_cycles / lo
            + params.spikes.max_end_ms * 1e-3)


def decimation(fs: float, osc) -> tuple[int, float, float]:
    """``(q, band_bottom_hz, band_top_hz)`` of the SSO detector at rate ``fs`` (q = 1 when the band does not
    fit; `detect_oscillations` then raises its own error)."""
    from ..oscillations.detect import effective_band
    from ..oscillations.preprocess import decimation_factor

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lo, hi = effective_band(fs, osc)
    except ValueError as err:
        raise ValueError(str(err)) from None
    return decimation_factor(fs, hi, osc.working_fs_ratio), lo, hi


def plan_windows(n: int, fs: float, chunk_s: float, margin_s: float, q: int = 1) -> np.ndarray:
    """Cores and analysis windows of a sweep of ``n`` samples.

    Returns
    -------
    ndarray, shape (n_chunks, 4), int64
        Rows ``(window_start, core_start, core_end, window_end)``; the cores tile ``[0, n)``; window starts
        are multiples of ``q``. A last core shorter than a quarter chunk joins the previous one.
    """
    core = max(int(round(chunk_s * fs)), 1)
    margin = int(math.ceil(margin_s * fs))
    cs = np.arange(0, n, core, dtype=np.int64)
    if cs.size > 1 and n - cs[-1] < core // 4:
        cs = cs[:-1]
    ce = np.append(cs[1:], n)
    ws = np.maximum(cs - margin, 0) // q * q
    we = np.minimum(ce + margin, n)
    return np.stack([ws, cs, ce, we], axis=1)


def _spans(n: int, spk: pd.DataFrame) -> np.ndarray:
    """Mask of samples outside every ``[threshold_index, end_index]`` span (as `analysis._resting_vm`)."""
    if len(spk) == 0:
        return np.ones(n, bool)
    edges = np.zeros(n + 1, np.int64)
    np.add.at(edges, spk["threshold_index"].to_numpy(np.int64), 1)
    np.add.at(edges, np.minimum(spk["end_index"].to_numpy(np.int64) + 1, n), -1)
    return np.cumsum(edges[:-1]) == 0


class RestingHistogram:
    """Streaming median of the core samples outside spikes (1 µV bins; all core samples as fallback)."""

    def __init__(self):
        size = int(round(2 * RESTING_RANGE_MV / RESTING_BIN_MV)) + 1
        self.rest = np.zeros(size, np.int64)
        self.all = np.zeros(size, np.int64)

    @staticmethod
    def _bins(x):
        k = np.rint((np.clip(x, -RESTING_RANGE_MV, RESTING_RANGE_MV) + RESTING_RANGE_MV) / RESTING_BIN_MV)
        return k.astype(np.int64)

    def add(self, v, ws, cs, ce, spk):
        """Add the core ``[cs, ce)`` of window ``v`` (starting at sample ``ws``) with its spike table."""
        core = slice(cs - ws, ce - ws)
        keep = _spans(v.size, spk)[core]
        self.all += np.bincount(self._bins(v[core]), minlength=self.all.size)
        if keep.any():
            self.rest += np.bincount(self._bins(v[core][keep]), minlength=self.rest.size)

    def median(self) -> float:
        """Median in mV (the mean of the two middle values for an even count, as `numpy.median`)."""
        h = self.rest if self.rest.any() else self.all
        cum = np.cumsum(h)
        total = int(cum[-1])
        lo = int(np.searchsorted(cum, (total - 1) // 2 + 1))
        hi = int(np.searchsorted(cum, total // 2 + 1))
        return 0.5 * (lo + hi) * RESTING_BIN_MV - RESTING_RANGE_MV


def decimated_core(v, fs, ws, cs, ce, spk, q, hi, osc) -> np.ndarray:
    """The core's samples of the SSO detector's working trace: spikes blanked by straight lines at full
    rate, then decimated by ``q`` exactly as `detect_oscillations` does on the whole sweep (decimated
    sample ``j`` is sweep sample ``j q``)."""
    from ..oscillations import preprocess as pp

    ss, se = pp.spike_spans(spk, v.size, fs, osc.spike_pre_ms, osc.spike_post_ms)
    y = pp.blank_and_decimate(v, ss, se, fs, q, hi)
    j0 = -(-cs // q) - ws // q
    j1 = -(-ce // q) - ws // q
    return y[j0:j1]


def keep_core_spikes(spk: pd.DataFrame, fs, ws, cs, ce) -> pd.DataFrame:
    """Spikes whose peak sample lies in the core, with times from the sweep start."""
    pk = spk["peak_index"].to_numpy(np.int64) + ws
    out = spk[(pk >= cs) & (pk < ce)].copy()
    for c in ("peak_s", "threshold_s"):
        out[c] = out[c] + ws / fs
    for c in ("threshold_index", "peak_index", "trough_index", "end_index"):
        if c in out:
            out[c] = out[c] + ws
    return out


def window_episodes(epi: pd.DataFrame, fs, ws, cs, ce, we, n) -> pd.DataFrame:
    """Episodes of a window (``sso="window"``) starting in the core ± `EPISODE_KEEP_TOL_S`, with times from
    the sweep start and their distance ``_interior`` (s) from the window edges (sweep edges count as far)."""
    epi = epi.copy()
    if len(epi) == 0:
        epi["_interior"] = pd.Series(dtype=float)
        return epi
    off = ws / fs
    epi["start_s"] += off
    epi["end_s"] += off
    st = epi["start_s"].to_numpy(float)
    epi = epi[(st >= cs / fs - EPISODE_KEEP_TOL_S) & (st < ce / fs + EPISODE_KEEP_TOL_S)].copy()
    left = np.inf if ws == 0 else 0.0
    right = np.inf if we == n else 0.0
    epi["_interior"] = np.minimum(epi["start_s"] - off + left, we / fs + right - epi["end_s"])
    return epi


def dedupe_episodes(epi: pd.DataFrame) -> pd.DataFrame:
    """One row per episode found by several windows: the one farthest from its window's edges (an episode
    overlapping a better-placed one by more than half of the shorter is dropped)."""
    from ..oscillations.episodes import drop_overlaps

    epi = epi.sort_values("start_s", kind="stable").reset_index(drop=True)
    if len(epi) > 1:
        keep = drop_overlaps(epi["start_s"].to_numpy(float), epi["end_s"].to_numpy(float),
                             epi["_interior"].to_numpy(float))
        epi = epi[keep].reset_index(drop=True)
    return epi.drop(columns="_interior")


def episodes_in_window(epi: pd.DataFrame, ws, we, fs) -> pd.DataFrame:
    """Sweep-level episodes overlapping ``[ws, we)``, with times relative to the window start."""
    if len(epi) == 0:
        return epi
    t0, t1 = ws / fs, we / fs
    sel = epi[(epi["end_s"] > t0) & (epi["start_s"] < t1)].copy()
    sel["start_s"] -= t0
    sel["end_s"] -= t0
    return sel.reset_index(drop=True)


def empty_episodes() -> pd.DataFrame:
    """Episode table of `detect_oscillations` with no rows."""
    from ..oscillations.episodes import empty_episodes as _e

    return _e()

