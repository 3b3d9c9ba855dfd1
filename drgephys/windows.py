"""Analysis windows: how a sweep is cut into windows and how their results are stitched back together.

A sweep is analysed in *windows* of ``window_s`` seconds (its *cores*, which tile the sweep) read with
``margin_s`` seconds of data on each side, whether its samples are in memory or on disk: the windows are
part of the analysis (`WindowParams`, saved with every result), never of the execution mode, so a
recording gives the same tables analysed in memory or read window by window, and every step costs time
and memory in proportion to the window, not to the recording. A sweep shorter than ``1.25 window_s`` is
one window (its core is the whole sweep), so the detectors see it whole.

Stitching rules (each core owns its samples):

- **Spikes** found in a window are kept when their peak sample lies in its core; cores tile the sweep,
  so each spike is kept once. Detection is local (0.5 ms slopes, 5 ms rise, 150 ms AHP end), so a margin
  above `min_margin_s` finds the same spikes near a core edge from either side.
- **Episodes** found in a window are clipped to its core. Pieces from neighbouring windows whose unclipped
  extents overlap and whose frequencies lie within the wavelet's bandwidth (``1 / wavelet_cycles``) are
  one episode seen from both sides: they are joined (start of the first, end of the last; frequency,
  amplitude, mean potential and the shape measures weighted by each piece's duration in its core; power
  averaged in linear units; cycles = duration x frequency). A clipped piece left alone and shorter than
  ``min_cycles`` cycles is dropped (the rest of it was not confirmed by the neighbouring window). An
  episode within one core is exactly what the detector measured. Edge effects at the window ends stay in
  the margins (at least `min_margin_s`: three wavelet SDs at the band bottom, half the drift window and
  the longest spike span).
- **Resting potential**: the median of the core samples outside spike spans; exact (``np.median``) for a
  one-window sweep, from a streaming 1 µV histogram (exact to 0.5 µV) when there are several windows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._numerics.order import median
from ._numerics.spans import merge_spans, overlap_pairs, spans_to_mask
from .oscillations.episodes import COLUMNS, EpisodeTable

__all__ = ["WindowParams", "Window", "plan_windows", "min_margin_s", "core_spikes", "stitch_episodes",
           "RestingVm", "RESTING_BIN_MV"]

#: Resting-Vm streaming histogram: bin width and half range (mV); the median is exact to half a bin.
RESTING_BIN_MV = 1e-3
RESTING_RANGE_MV = 1000.0


@dataclass(frozen=True)
class WindowParams:
    """How a sweep is cut into analysis windows (see the module docstring).

    Attributes
    ----------
    window_s : float, default 60.0
        Core length, s. The SSO background and the spike noise level are estimated per window: a minute
        holds thousands of cycles of the slowest SSO (10 Hz) and follows slow changes of noise over an
        hour. 60 s at 50 kHz is 3 M samples (24 MB as float64). A last core shorter than a quarter window
        joins the previous one, so sweeps up to 75 s are one window.
    margin_s : float, default 2.0
        Data read on each side of a core, s; at least `min_margin_s` of the other parameters (0.69 s with
        the defaults: three SDs of the 10-Hz wavelet, half the drift window, the longest spike span).
    """

    window_s: float = 60.0
    margin_s: float = 2.0

    def __post_init__(self):
        for name in ("window_s", "margin_s"):
            val = getattr(self, name)
            if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val) or val <= 0:
                raise ValueError(f"`{name}` must be a positive number in s; got {val!r}")


@dataclass(frozen=True)
class Window:
    """One window of a sweep: samples ``[start, end)`` read, core ``[core_start, core_end)`` kept."""

    start: int
    core_start: int
    core_end: int
    end: int


def min_margin_s(spikes, oscillations) -> float:
    """Smallest margin (s) for which a core is analysed as in the whole sweep: 3 SD of the band-bottom
    Morlet wavelet + half the drift running-median window + the longest spike span (``max_end_ms``)."""
    lo = oscillations.band_hz[0]
    return (3 * oscillations.wavelet_cycles / (2 * math.pi * lo) + 0.5 * oscillations.drift_window_cycles / lo
            + spikes.max_end_ms * 1e-3)


def plan_windows(n: int, fs: float, params: WindowParams) -> list[Window]:
    """The windows of a sweep of ``n`` samples at ``fs`` Hz: cores tile ``[0, n)``; a last core shorter than
    a quarter window joins the previous one."""
    core = max(int(round(params.window_s * fs)), 1)
    margin = int(math.ceil(params.margin_s * fs))
    cs = np.arange(0, n, core, dtype=np.int64)
    if cs.size > 1 and n - cs[-1] < core // 4:
        cs = cs[:-1]
    ce = np.append(cs[1:], n)
    return [Window(int(max(a - margin, 0)), int(a), int(b), int(min(b + margin, n))) for a, b in zip(cs, ce)]


def core_spikes(columns: dict, win: Window, fs: float) -> dict:
    """The spike columns of one window (indices and times from the window start) restricted to spikes whose
    peak lies in its core, with indices and times from the sweep start."""
    pk = columns["peak_index"] + win.start
    keep = (pk >= win.core_start) & (pk < win.core_end)
    out = {}
    for c, a in columns.items():
        a = a[keep] if not keep.all() else a
        if c.endswith("_index"):
            a = a + win.start
        elif c in ("peak_s", "threshold_s"):
            a = a + win.start / fs
        out[c] = a
    return out


class _Pieces:
    """Episode pieces of all windows, clipped to their cores, in sweep time (s)."""

    def __init__(self):
        self.rows, self.unclipped, self.window, self.clipped = [], [], [], []

    def add(self, table: EpisodeTable, win: Window, fs: float) -> None:
        if len(table) == 0:
            return
        a = table.a.copy()
        off = win.start / fs
        a[:, 0] += off
        a[:, 1] += off
        c0, c1 = win.core_start / fs, win.core_end / fs
        inside = (a[:, 1] > c0) & (a[:, 0] < c1)
        a = a[inside]
        s0, e0 = a[:, 0].copy(), a[:, 1].copy()
        clip = (a[:, 0] < c0) | (a[:, 1] > c1)
        a[:, 0] = np.maximum(a[:, 0], c0)
        a[:, 1] = np.minimum(a[:, 1], c1)
        self.rows.append(a)
        self.unclipped.append(np.stack([s0, e0], axis=1))
        self.window.append(np.full(a.shape[0], win.core_start, np.int64))
        self.clipped.append(clip)


def stitch_episodes(tables: list[EpisodeTable], windows: list[Window], fs: float, params) -> EpisodeTable:
    """One episode table for the sweep from each window's table (times from the window start), by the
    rules of the module docstring.

    Parameters
    ----------
    tables : list of EpisodeTable
        One per window, in window order.
    windows : list of Window
    fs : float
        Sampling rate, Hz.
    params : OscillationParams
        ``wavelet_cycles`` (frequency tolerance of a join) and ``min_cycles``.

    Returns
    -------
    EpisodeTable
        Times in s from the sweep start, sorted by start.
    """
    if len(windows) == 1:
        return tables[0]
    pieces = _Pieces()
    for tab, win in zip(tables, windows):
        pieces.add(tab, win, fs)
    if not pieces.rows:
        return EpisodeTable.empty()
    a = np.concatenate(pieces.rows)
    unc = np.concatenate(pieces.unclipped)
    core = np.concatenate(pieces.window)
    clipped = np.concatenate(pieces.clipped)
    order = np.argsort(a[:, 0], kind="stable")
    a, unc, core, clipped = a[order], unc[order], core[order], clipped[order]
    # pieces of neighbouring cores whose unclipped extents overlap, at matching frequencies: one episode
    i, j = overlap_pairs(unc[:, 0], unc[:, 1], unc[:, 0], unc[:, 1])
    f = a[:, COLUMNS.index("frequency_hz")]
    tol = math.log1p(1.0 / params.wavelet_cycles)
    # (pieces of different cores overlap only when one of them was clipped)
    link = (core[i] < core[j]) & (np.abs(np.log(f[i] / f[j])) <= tol)
    i, j = i[link], j[link]
    label = _components(a.shape[0], i, j)
    out = _join(a, label, clipped)
    joined = np.bincount(label) > 1
    lone_clipped = np.zeros(joined.size, bool)
    lone_clipped[label[clipped]] = True
    short = lone_clipped & ~joined & (out[:, COLUMNS.index("n_cycles")] < params.min_cycles)
    out = out[~short]
    return EpisodeTable(out[np.argsort(out[:, 0], kind="stable")])


def _components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Labels of the connected components of ``n`` nodes with edges ``i -- j`` (minimum-label propagation,
    a few rounds: chains are short)."""
    lab = np.arange(n)
    while i.size:
        low = np.minimum(lab[i], lab[j])
        new = lab.copy()
        np.minimum.at(new, i, low)
        np.minimum.at(new, j, low)
        new = new[new]
        if np.array_equal(new, lab):
            break
        lab = new
    return np.unique(lab, return_inverse=True)[1]


def _join(a: np.ndarray, label: np.ndarray, clipped: np.ndarray) -> np.ndarray:
    """One row per label: a row alone keeps its measured values (its cycles recounted when it was
    clipped); rows sharing a label are joined as the module docstring says."""
    col = {c: k for k, c in enumerate(COLUMNS)}
    n_lab = int(label.max()) + 1
    size = np.bincount(label, minlength=n_lab)
    out = np.empty((n_lab, a.shape[1]))
    alone = size[label] == 1
    out[label[alone]] = a[alone]
    recount = label[alone & clipped]
    out[recount, col["n_cycles"]] = (out[recount, col["end_s"]] - out[recount, col["start_s"]]) \
        * out[recount, col["frequency_hz"]]
    many = np.flatnonzero(size > 1)
    if many.size == 0:
        return out
    sel = ~alone
    lab, rows = label[sel], a[sel]
    dur = np.maximum(rows[:, 1] - rows[:, 0], 0.0)
    for c, k in col.items():
        if c in ("start_s", "end_s", "n_cycles"):
            continue
        x = 10 ** (rows[:, k] / 10) if c == "power_db" else rows[:, k]     # power averaged in linear units
        ok = np.isfinite(x)                                                  # (CVs are NaN below 3 cycles)
        wk = np.bincount(lab, weights=np.where(ok, dur, 0.0), minlength=n_lab)[many]
        mean = np.bincount(lab, weights=np.where(ok, x * dur, 0.0), minlength=n_lab)[many] / np.where(wk > 0, wk, 1.0)
        mean = np.where(wk > 0, mean, np.nan)
        out[many, k] = 10 * np.log10(np.maximum(mean, 1e-30)) if c == "power_db" else mean
    start, end = np.full(n_lab, np.inf), np.full(n_lab, -np.inf)
    np.minimum.at(start, lab, rows[:, 0])
    np.maximum.at(end, lab, rows[:, 1])
    out[many, col["start_s"]], out[many, col["end_s"]] = start[many], end[many]
    out[many, col["n_cycles"]] = (end[many] - start[many]) * out[many, col["frequency_hz"]]
    return out


class RestingVm:
    """The resting potential of a sweep: the median of its core samples outside spike spans (all core
    samples when spikes cover them); exact for one window, from a 1 µV histogram for several."""

    def __init__(self, n_windows: int):
        self.exact = n_windows == 1
        self.value = np.nan
        if not self.exact:
            size = int(round(2 * RESTING_RANGE_MV / RESTING_BIN_MV)) + 1
            self.rest = np.zeros(size, np.int64)
            self.all = np.zeros(size, np.int64)

    def add(self, v: np.ndarray, win: Window, threshold_index: np.ndarray, end_index: np.ndarray) -> None:
        """Add a window's samples ``v`` (from ``win.start``) with its spikes' ``[threshold_index,
        end_index]`` spans (window indices)."""
        s, e = merge_spans(threshold_index, end_index + 1, v.size)
        if self.exact:
            self.value = median(v) if int(np.sum(e - s)) >= v.size else median(v, outside=(s, e))
            return
        core = slice(win.core_start - win.start, win.core_end - win.start)
        keep = ~spans_to_mask(s, e, v.size, merged=True)[core]
        x = v[core]
        self.all += np.bincount(self._bins(x), minlength=self.all.size)
        if keep.any():
            self.rest += np.bincount(self._bins(x[keep]), minlength=self.rest.size)

    @staticmethod
    def _bins(x):
        k = np.rint((np.clip(x, -RESTING_RANGE_MV, RESTING_RANGE_MV) + RESTING_RANGE_MV) / RESTING_BIN_MV)
        return k.astype(np.int64)

    def median(self) -> float:
        """The resting potential, mV (the mean of the two middle values for an even count, as np.median)."""
        if self.exact:
            return self.value
        h = self.rest if self.rest.any() else self.all
        cum = np.cumsum(h)
        total = int(cum[-1])
        lo = int(np.searchsorted(cum, (total - 1) // 2 + 1))
        hi = int(np.searchsorted(cum, total // 2 + 1))
        return 0.5 * (lo + hi) * RESTING_BIN_MV - RESTING_RANGE_MV
