"""Spikes out, SSO kept: each action potential is bridged over its short core and its afterhyperpolarisation
(AHP) is subtracted, so the oscillation stays measurable between and across spikes.

Why not blank the spike and its AHP (the detector's first form): in a cell firing at 10–20 Hz, interspike
intervals are 50–100 ms and AHPs recover over 10–80 ms, so blanking each spike up to its AHP recovery
leaves almost no trace, and the SSO that drives the firing (Amir et al. 1999: spikes ride the SSO's peaks,
intervals near whole multiples of its period) vanishes with it. Here, per spike:

1. The **AP core** — from its foot (where dV/dt last rose through 1 mV/ms before threshold) minus
   `spike_pre_ms`, to its AHP trough — is bridged by a straight line and marked as not measured. A fast AP's
   core lasts a few ms; the bridge is short against an SSO cycle (9–40 ms).
2. The **AHP recovery** — from the trough to the next spike's foot (at most `ahp_fit_max_ms`) — is fitted
   by least squares, over the local baseline, with ``a·exp(-t/τ) + b·exp(-5t/τ)`` (a slow and a fast
   decaying component: the medium and fast AHP), τ chosen per spike from a log grid (`AHP_TAU_GRID_MS`),
   and subtracted. Within an interval the AHPs of all earlier spikes sum to the same two exponentials, so
   summation needs no extra terms. The baseline is a running median (the drift window, 0.5 s) of the trace
   with the AP cores bridged, taken again on the trace without the AHPs (`BASELINE_PASSES`): in a cell
   firing at 10-30 Hz the first one sits inside the AHPs, which never recover fully between spikes (a level
   fitted per spike instead trades off against a slow AHP over a short interval). Two decaying exponentials
   are smooth and monotone in their parts: they follow the AHP and not a 25–110 Hz oscillation riding on it
   (a template of the cell's own average AHP, the alternative, contains the phase-locked SSO itself: spikes
   ride its peaks, so it would be subtracted with the AHP).
3. A recovery shorter than `min_ahp_fit_ms` (burst spikes) is not fitted: it is bridged with its AP core.

The fits run on a strided subsample (about `FIT_RATE_HZ`) of each recovery, as whole-array operations over
all spikes of the trace (zero-padded recoveries times the tabulated exponentials, 2x2 normal equations per
spike).
The AP cores are then filled by linear prediction from both sides (`drgephys._numerics.gapfill`, in
`drgephys.oscillations.bosc`), which continues an ongoing oscillation through them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .._numerics.blas import one_blas_thread
from .._numerics.scipy_private import median_filter
from .._numerics.spans import locate, merge_spans, span_bridge, span_indices
from .params import RemovalSettings

__all__ = ["remove_spikes", "RemovalSettings", "SpikeFree", "AHP_TAU_GRID_MS"]


@dataclass(frozen=True)
class SpikeFree:
    """The named result of spike removal: the trace the SSO and trigger stages read.

    Attributes
    ----------
    x : ndarray, shape (n,), float64
        The trace without the spikes' AHPs (``"subtract"``; a copy) or the trace itself (``"blank"``), mV.
    starts, ends : ndarray of int
        Merged spans ``[starts, ends)`` still holding spike waveforms: to bridge, and to leave out of every
        measure.
    through : bool
        True when the spans are short AP cores (``"subtract"``): detections may run through them.
    """

    x: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    through: bool

#: Slow AHP time constants tried per spike (ms): 5 to 320 ms, log-spaced (AHPs recover over 10-150 ms).
AHP_TAU_GRID_MS = tuple(float(x) for x in np.geomspace(5.0, 320.0, 13))
#: Ratio of the slow to the fast time constant of the AHP model.
FAST_RATIO = 5.0
#: Samples per second the AHP fits read (a strided subsample: the model is smooth).
FIT_RATE_HZ = 2000.0


def remove_spikes(v: np.ndarray, fs: float, spikes, settings: RemovalSettings) -> SpikeFree:
    """The trace without the spikes' AHPs and the spans still holding spike waveforms.

    Parameters
    ----------
    v : ndarray, shape (n,), float64
        Membrane potential, mV (not modified).
    fs : float
        Sampling rate, Hz.
    spikes : mapping of str to ndarray of int, shape (k,) each
        ``threshold_index``, ``trough_index``, ``foot_index`` and ``end_index`` (a `drgephys.spikes.SpikeTable`);
        sorted by time.
    settings : RemovalSettings

    Returns
    -------
    SpikeFree
    """
    n = v.size
    thr = np.asarray(spikes["threshold_index"], np.int64)
    pre = int(math.ceil(settings.pre_ms * 1e-3 * fs))
    if settings.mode == "blank":        # each spike bridged with its whole AHP
        post = int(math.ceil(settings.post_ms * 1e-3 * fs))
        s, e = merge_spans(thr - pre, np.asarray(spikes["end_index"], np.int64) + 1 + post, n)
        return SpikeFree(v, s, e, False)
    if thr.size == 0:
        return SpikeFree(v, np.empty(0, np.int64), np.empty(0, np.int64), True)
    foot = np.minimum(np.asarray(spikes["foot_index"], np.int64), thr)
    trough = np.maximum(np.asarray(spikes["trough_index"], np.int64), thr)
    core_start = np.maximum(foot - pre, 0)
    nxt = np.append(core_start[1:], n)                    # the recovery ends where the next spike's core starts
    stop = np.minimum(nxt, trough + int(round(settings.fit_max_ms * 1e-3 * fs)))
    fit = (stop - trough) >= max(int(round(settings.min_fit_ms * 1e-3 * fs)), 4)
    # cores: foot .. trough; a recovery too short to fit is bridged to the next core
    core_end = np.where(fit, trough + 1, np.minimum(nxt, n))
    s, e = merge_spans(core_start, core_end, n)
    if not fit.any():
        return SpikeFree(v, s, e, True)
    seg = _Segments(trough[fit], stop[fit], fs)
    early, last = (_Baseline(v, seg, (s, e), settings.baseline_window_s, rate)
                   for rate in (EARLY_BASELINE_RATE_HZ, BASELINE_RATE_HZ))
    base = early()
    v_fit = v[seg.idx]
    with one_blas_thread():            # the fits' small products (_numerics.blas)
        for k in range(BASELINE_PASSES):   # AHPs over the baseline, then the baseline of what they leave
            coef, tau = seg.fit(v_fit, base)
            if k < BASELINE_PASSES - 1:    # (the baseline reads the AHP-free trace at its own samples only)
                baseline = last if k == BASELINE_PASSES - 2 else early
                base = baseline((coef, tau))
    x = v.copy()
    seg.subtract(x, coef, tau)
    return SpikeFree(x, s, e, True)


#: Passes of (AHP fit over the local baseline, baseline of the trace without the AHPs): in a cell firing at
#: 10-30 Hz the first baseline sits inside the AHPs (it never recovers fully between spikes); each pass
#: removes more of them from the baseline (4 passes: best recall on the hard cohort of benchmarks/accuracy.py,
#: with 1, 2, 4 and 8 tried).
BASELINE_PASSES = 4
#: Rate of the last baseline's running median (Hz): 250 and 500 Hz left one more false episode on the hard
#: cohort.
BASELINE_RATE_HZ = 1000.0
#: Rate of the earlier passes' baselines (Hz): they only lift the baseline out of the AHPs for the next fit.
#: At 500 Hz the median costs half; on four hard cohorts (seeds 2024, 7, 11, 13) episode F1 was equal or
#: better (0.976, 1.0, 0.981, 0.956 -> 0.968) and no false episode appeared.
EARLY_BASELINE_RATE_HZ = 500.0


class _Baseline:
    """The local baseline the trace returns to: a running median over ``window_s`` (the drift window) of the
    trace ``v`` with the AP cores (merged ``spans``) bridged, on a strided subsample (about ``rate_hz``).
    Calling it (with the AHPs fitted so far, which it leaves out) returns subsample indices and baseline
    values (`_Segments.fit` interpolates them); where it reads is the same in every pass, so it is laid out
    and read once.

    Only the subsample points around the recoveries of `seg` are returned: the two that bracket each fit
    sample. The median runs over those points with half a window on either side, the pieces laid end to
    end: every returned point's window lies inside its piece (or reaches the trace's edge at the edge of
    the first or last piece), so its value is the whole subsample's running median, bit for bit
    (`tests/spikes/test_removal.py` checks it), at the cost of 39 % of the subsample on the benchmark
    cohort (6-100 % per sweep: sparse firing leaves most of the trace unread)."""

    def __init__(self, v: np.ndarray, seg: "_Segments", spans, window_s: float, rate_hz: float):
        n, self.v, self.seg = v.size, v, seg
        stride = max(int(round(seg.fs / rate_hz)), 1)
        m = -(-n // stride)                                      # points of np.arange(0, n, stride)
        w = max(int(round(window_s * seg.fs / stride)) | 1, 3)
        self.w = min(w, (m | 1) if m >= 3 else 3)
        lo, hi = seg.start // stride, (seg.stop - 1) // stride + 2           # subsample points read
        ps, pe = merge_spans(lo - self.w // 2, hi + self.w // 2, m)          # ... with half a window around
        lengths = pe - ps
        self.idx = span_indices(ps, pe, m) * stride                          # the pieces laid end to end
        keep = span_indices(lo, hi, m)
        piece = np.searchsorted(ps, keep, side="right") - 1
        self.pos = (np.cumsum(lengths) - lengths)[piece] + keep - ps[piece]  # the points returned
        self.bridge = span_bridge(*spans, n, self.idx)                       # the cores' bridges there
        self.v_sub, self.where = v[self.idx], seg.where(self.idx)

    def __call__(self, fit=None):
        """The baseline of the trace, or of the trace minus the AHPs ``fit = (coef, tau)`` of `seg`."""
        sub = self.v_sub.copy() if fit is None else self.v_sub - self.seg.model(self.where, *fit)
        if self.bridge is not None:                      # (the bridges' anchors: a few points)
            self.bridge.write(sub, lambda i: self.v[i] - (0.0 if fit is None else self.seg.model_at(i, *fit)))
        return self.idx[self.pos], median_filter(sub, self.w)[self.pos]


class _Segments:
    """The AHP recoveries ``[start, stop)`` of the fitted spikes: their strided fit samples and fits."""

    def __init__(self, start: np.ndarray, stop: np.ndarray, fs: float):
        self.start, self.stop, self.fs = start, stop, fs
        stride = max(int(round(fs / FIT_RATE_HZ)), 1)
        lens = (stop - start + stride - 1) // stride                      # fit samples per spike (>= 2)
        self.lens = lens
        self.offsets = np.cumsum(lens) - lens
        sid = np.repeat(np.arange(start.size), lens)
        self.sid = sid                                                    # spike of each fit sample
        j = np.arange(int(lens.sum())) - self.offsets[sid]
        self.idx = start[sid] + j * stride
        self.j = j                                                        # fit sample number from the trough
        self.t_grid = np.arange(int(lens.max()) if lens.size else 0) * (stride / fs)   # s, by sample number

    @cached_property
    def _blocks(self) -> list:
        """Blocks of spikes whose zero-padded recoveries (``(spikes, L)``, at most `FIT_BLOCK` values) are
        projected at once: ``(a, b, lo, hi, flat, dense)``, spikes ``a:b``, their fit samples ``lo:hi``,
        where those go in the flattened ``dense`` (kept: every pass fills the same places)."""
        k, width = self.start.size, self.t_grid.size
        step = max(FIT_BLOCK // max(width, 1), 1)
        out = []
        for a in range(0, k, step):
            b = min(a + step, k)
            lo, hi = self.offsets[a], self.offsets[b - 1] + self.lens[b - 1]
            flat = (self.sid[lo:hi] - a) * width + self.j[lo:hi]
            out.append((a, b, lo, hi, flat, np.zeros((b - a, width))))
        return out

    @cached_property
    def _gram(self):
        """The τ grid (s), both exponentials tabulated over it (``(n_tau, L)``) and each spike's Gram sums
        and determinant (``(k, n_tau)``): the same in every pass."""
        taus = np.asarray(AHP_TAU_GRID_MS) * 1e-3
        t1 = np.exp(-self.t_grid[None, :] / taus[:, None])                # (n_tau, L)
        t2 = np.exp(-self.t_grid[None, :] * FAST_RATIO / taus[:, None])
        last = self.lens - 1
        g11 = np.cumsum(t1 * t1, axis=1)[:, last].T                       # (k, n_tau)
        g12 = np.cumsum(t1 * t2, axis=1)[:, last].T
        g22 = np.cumsum(t2 * t2, axis=1)[:, last].T
        det = g11 * g22 - g12 * g12
        det = np.where(det > 1e-12 * (g11 * g22 + 1e-300), det, np.inf)
        return taus, t1, t2, g11, g12, g22, det

    def fit(self, x_fit: np.ndarray, base) -> tuple[np.ndarray, np.ndarray]:
        """Per spike, ``(a, b)`` and τ (s) of the best ``a·exp(-t/τ) + b·exp(-5t/τ)`` fit to the trace minus the
        baseline over the whole τ grid (least squares, 2x2 normal equations per spike and τ); ``x_fit`` is
        the trace at the fit samples (``x[self.idx]``, read once for every pass). Every pass
        searches the whole grid: searching only around the previous pass's τ saved 0.16 s on the cohort but
        stuck some spikes in a worse fit (1.6 mV off after one real interneuron spike).

        Every spike samples the same times from its trough, so both exponentials are tabulated once for the
        whole grid (``(n_tau, L)``); the data's projections on them are one matrix product of the spikes'
        zero-padded recoveries (``(k, L)``, in blocks of at most `FIT_BLOCK` values) with those tables, and
        the Gram sums are running sums read at each spike's length (3x faster than one gather and
        ``np.add.reduceat`` per τ)."""
        sub_idx, sub_base = base
        y = x_fit - np.interp(self.idx, sub_idx, sub_base)
        taus, t1, t2, g11, g12, g22, det = self._gram
        k = self.start.size
        r1, r2 = np.empty((k, taus.size)), np.empty((k, taus.size))
        for a, b, lo, hi, flat, dense in self._blocks:                   # blocks of spikes (a few at most)
            dense.reshape(-1)[flat] = y[lo:hi]          # (every pass writes the same places: the rest stays 0)
            r1[a:b], r2[a:b] = dense @ t1.T, dense @ t2.T
        ca = (g22 * r1 - g12 * r2) / det
        cb = (g11 * r2 - g12 * r1) / det
        pick = np.argmax(ca * r1 + cb * r2, axis=1)                       # the largest drop of squared error
        rows = np.arange(k)
        return np.stack([ca[rows, pick], cb[rows, pick]], axis=1), taus[pick]

    def where(self, idx: np.ndarray):
        """Where the sample indices ``idx`` fall: ``(inside, spike, t)``, whether each lies inside a recovery,
        and for those the spike and the time from its trough (s); the same in every pass (`model`)."""
        idx = np.asarray(idx, np.int64)
        inside, kk = locate(self.start, self.stop, idx)
        kk = kk[inside]
        return inside, kk, (idx[inside] - self.start[kk]) / self.fs

    def model(self, where, coef: np.ndarray, tau: np.ndarray) -> np.ndarray:
        """The fitted exponentials at the samples `where` describes (0 outside every recovery)."""
        inside, kk, tt = where
        out = np.zeros(inside.size)
        out[inside] = coef[kk, 0] * np.exp(-tt / tau[kk]) + coef[kk, 1] * np.exp(-tt * FAST_RATIO / tau[kk])
        return out

    def model_at(self, idx: np.ndarray, coef: np.ndarray, tau: np.ndarray) -> np.ndarray:
        """The fitted exponentials at the sample indices ``idx`` (0 outside every recovery)."""
        return self.model(self.where(idx), coef, tau)

    def subtract(self, x: np.ndarray, coef: np.ndarray, tau: np.ndarray) -> None:
        """Subtract the fitted exponentials from ``x`` at full rate over each recovery (in place), in groups of
        spikes covering at most `SUBTRACT_BLOCK` samples (the temporaries stay small; a few iterations).

        Every τ is a grid value, so both exponentials are tabulated once per τ used over the longest recovery
        (``exp(-(k/fs)/τ)``, the same expression as per sample, so the same values) and gathered: a gather
        costs a fraction of an ``exp``."""
        n_full = self.stop - self.start
        grid, which = np.unique(tau, return_inverse=True)
        span = int(n_full.max())
        tk = np.arange(span) / self.fs
        t1 = np.exp(-tk[None, :] / grid[:, None]).ravel()
        t2 = np.exp(-tk[None, :] * FAST_RATIO / grid[:, None]).ravel()
        ends = np.cumsum(n_full)
        cuts = np.searchsorted(ends, np.arange(SUBTRACT_BLOCK, int(ends[-1]), SUBTRACT_BLOCK), side="right")
        for a, b in zip(np.concatenate(([0], cuts)), np.concatenate((cuts, [n_full.size]))):
            if b <= a:
                continue
            nf = n_full[a:b]
            off = np.cumsum(nf) - nf                   # each recovery's first position in the block
            k = np.arange(int(nf.sum()))
            at = np.repeat(which[a:b] * span - off, nf) + k            # table index: tau row, sample number
            model = np.repeat(coef[a:b, 0], nf) * np.take(t1, at)
            model += np.repeat(coef[a:b, 1], nf) * np.take(t2, at)
            x[np.repeat(self.start[a:b] - off, nf) + k] -= model


#: Values per block of zero-padded recoveries whose fits are projected at once.
FIT_BLOCK = 1 << 18
#: Samples per group of spikes whose AHPs are subtracted together.
SUBTRACT_BLOCK = 1 << 18
