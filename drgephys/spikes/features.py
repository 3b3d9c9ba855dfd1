"""Per-spike features from merged candidates, computed for all spikes at once (`Segments`).

`spike_shape`: upstroke, threshold (three definitions), sub-sample peak, interpolated half-width and
the plausibility mask with each rejected candidate's rule. `typical_half_width_ms` and `adapted_limits`:
the shape limits scaled to the cell's own AP width. `after_spike`: AHP trough and the AHP-recovery
`end_index`.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from .._numerics.deriv import window_samples
from .._numerics.ragged import Segments, clip, first_crossing, window_argmin
from .._numerics.savgol import savgol, savgol_at
from .params import SpikeParams

#: The shape rules of `spike_shape`, in the order they are checked (a rejected candidate gets the first
#: it fails); codes of `drgephys.reasons.SPIKE_REJECTIONS`.
REJECTION_CODES = ("peak_below_min", "amplitude_below_min", "threshold_after_peak", "rise_too_slow",
                   "no_repolarization")
#: Width estimate (`typical_half_width_ms`): a candidate is clearly a spike when its height above the onset
#: potential is at least this many × `SpikeParams.min_amplitude_mv` (30 mV by default; DRG APs 60-120 mV).
CLEAR_AMPLITUDE_FACTOR = 3.0
#: Broadest half-width (ms) the width estimate takes as an AP (C-type DRG APs reach ~15 ms); the fall below
#: half amplitude is searched this long after the peak.
MAX_HALF_WIDTH_MS = 20.0
#: Adapted limits (`adapted_limits`): ``max_rise_ms ≥ RISE_PER_WIDTH × w`` and
#: ``max_repolarization_ms ≥ REPOLARIZATION_PER_WIDTH × w`` for the typical half-width ``w``
#: (justification: `SpikeParams.adapt_to_width`).
RISE_PER_WIDTH = 1.0
REPOLARIZATION_PER_WIDTH = 3.0


def _interp(t, v, i, j, frac):
    """Linear interpolation between samples i and j (arrays) at fraction `frac` ∈ [0, 1]."""
    return t[i] + frac * (t[j] - t[i]), v[i] + frac * (v[j] - v[i])


def _crossing_frac(a0, a1, level):
    """Fraction in [0, 1] between a0 and a1 where a straight line reaches `level`."""
    den = a1 - a0
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(den != 0, (level - a0) / den, 0.0)
    return np.clip(np.nan_to_num(f), 0.0, 1.0)


def smooth_peaks(v: np.ndarray, fs: float, irregular: bool, span_ms: float) -> np.ndarray:
    """Potential smoothed for peak finding: Savitzky–Golay, order 3, over `span_ms` (keeps the AP top,
    averages sample noise); unchanged when the span is under 5 samples or sampling is irregular."""
    w = window_samples(span_ms, fs)
    if irregular or not w or w > v.size:
        return v
    return savgol(v, w, 3)


def smooth_peaks_at(v: np.ndarray, fs: float, span_ms: float, starts, stops) -> np.ndarray:
    """`smooth_peaks` of a regularly sampled trace, evaluated only inside the windows ``[starts, stops)``
    (a `drgephys._numerics.savgol.Sampled` signal; same values there)."""
    w = window_samples(span_ms, fs)
    if not w or w > v.size:
        return v
    return savgol_at(v, w, 3, starts, stops)


def refine_peak(t: np.ndarray, v: np.ndarray, pk: np.ndarray) -> np.ndarray:
    """Sub-sample peak times (s): vertex of the parabola through the peak sample and its neighbours
    (real sample times, so irregular sampling works); the sample time where that is undefined."""
    n = v.size
    ok = (pk > 0) & (pk < n - 1)
    i0, i2 = clip(pk - 1, 0, n - 1), clip(pk + 1, 0, n - 1)
    x0, x2 = t[i0] - t[pk], t[i2] - t[pk]
    y0, y1, y2 = v[i0], v[pk], v[i2]
    with np.errstate(divide="ignore", invalid="ignore"):
        # parabola through (x0, y0), (0, y1), (x2, y2): y = a x² + b x + y1
        den = x0 * x2 * (x0 - x2)
        a = (x2 * (y0 - y1) - x0 * (y2 - y1)) / den
        b = (x0 * x0 * (y2 - y1) - x2 * x2 * (y0 - y1)) / den
        xv = -b / (2 * a)
    good = ok & (den != 0) & (a < 0) & np.isfinite(xv)
    xv = np.where(good, np.clip(np.nan_to_num(xv), x0, x2), 0.0)
    return t[pk] + xv


class Signals(NamedTuple):
    """The trace and its derivatives the spike features read, all indexed by sample.

    Attributes
    ----------
    v : ndarray, shape (n,)
        Potential, mV.
    t : ndarray-like, shape (n,)
        Sample times, s from the first sample.
    fs : float
        Sampling rate, Hz (the median rate of irregular traces).
    d, d2 : ndarray-like, shape (n,)
        dV/dt (mV/ms) and d²V/dt² (read only in the spike windows).
    vs : ndarray-like or None
        Potential smoothed for peak timing (`smooth_peaks`), or None.
    """

    v: np.ndarray
    t: object
    fs: float
    d: object
    d2: object
    vs: object = None


def _threshold(sig: Signals, up, lo, params: SpikeParams):
    """Threshold index, time (s) and potential (mV) by the configured definition.

    A slope-level definition whose level is never undercut in the search window (the AP rises straight
    out of a fast step or a previous spike's repolarisation) falls back to the ``max_d2v`` kink.
    """
    v, t, d, d2 = sig.v, sig.t, sig.d, sig.d2
    n = v.size
    seg = Segments(lo, up + 1, n)
    flat_d = seg.take(d)
    start = seg.last_true(flat_d <= 0)
    start = np.where(start < 0, lo, start)
    kink = Segments(start, up + 1, n).argmax(d2)
    if params.threshold_method == "max_d2v":
        return kink, t[kink], v[kink]
    level = (np.full(up.size, params.threshold_dvdt_mv_per_ms) if params.threshold_method == "dvdt"
             else params.threshold_fraction * d[up])
    i = seg.last_true(flat_d <= np.repeat(level, seg.lengths))
    found = i >= 0
    i = np.where(found, i, lo)
    j = np.minimum(i + 1, up)
    ts, vs = _interp(t, v, i, j, _crossing_frac(d[i], d[j], level))
    return np.where(found, i, kink), np.where(found, ts, t[kink]), np.where(found, vs, v[kink])


def spike_shape(sig: Signals, on, pk, params: SpikeParams) -> dict:
    """Threshold, peak, half-width and max dV/dt of each candidate plus the plausibility mask ``keep``.

    Parameters
    ----------
    sig : Signals
        Potential, times, dV/dt, d²V/dt² (``"max_d2v"`` thresholds and the fallback of the slope-level
        definitions) and the potential smoothed for peak timing (``vs``: the peak index moves to its
        maximum within half a smoothing span of the raw maximum, and ``peak_mv`` is read from it).
    on, pk : ndarray of int
        Candidate onsets and peak indices after merging.
    """
    v, t, fs, d, vs = sig.v, sig.t, sig.fs, sig.d, sig.vs
    n = v.size
    rise_s = params.max_rise_ms * 1e-3
    prev_pk = np.concatenate(([-1], pk[:-1]))
    # the smoothed detection slope can cross before the upstroke: look back half its span
    back = max(window_samples(params.detection_smoothing_ms, fs) // 2, 1)
    up = Segments(np.maximum(on - back, prev_pk + 1), pk + 1, n).argmax(d)
    lo = np.maximum(prev_pk + 1, np.searchsorted(t, t[up] - rise_s, side="left"))
    lo = np.minimum(lo, up)
    thr_i, thr_s, thr_v = _threshold(sig, up, lo, params)
    if vs is not None and vs is not v:
        hw = max(window_samples(params.peak_smoothing_ms, fs) // 2, 1)
        pk = Segments(np.maximum(pk - hw, up), pk + hw + 1, n).argmax(vs)
    else:
        vs = v
    peak_mv = vs[pk]
    half = thr_v + 0.5 * (peak_mv - thr_v)

    rise = Segments(thr_i, pk + 1, n)
    ir = rise.last_true(rise.take(v) < np.repeat(half, rise.lengths))
    ir = np.where(ir < 0, thr_i, ir)
    jr = np.minimum(ir + 1, pk)
    t_up, _ = _interp(t, v, ir, jr, _crossing_frac(v[ir], v[jr], half))

    nxt_on = np.append(on[1:], n)
    stop = np.minimum(nxt_on, np.searchsorted(t, t[pk] + params.max_repolarization_ms * 1e-3, side="right"))
    fall = Segments(pk, stop, n)
    jf = fall.first_true(fall.take(v) < np.repeat(half, fall.lengths))
    repolarized = jf > 0
    jf = np.where(repolarized, jf, pk)
    i_f = np.maximum(jf - 1, 0)
    t_down, _ = _interp(t, v, i_f, jf, _crossing_frac(v[i_f], v[jf], half))

    # the rules in REJECTION_CODES order; `rule` is the first one failed (len(REJECTION_CODES): none)
    passed = np.stack((peak_mv >= params.min_peak_mv, peak_mv - thr_v >= params.min_amplitude_mv, thr_i < pk,
                       t[pk] - thr_s <= rise_s, repolarized))
    rule = np.where(passed.all(axis=0), len(REJECTION_CODES), np.argmin(passed, axis=0))
    keep = rule == len(REJECTION_CODES)
    return {"keep": keep, "rule": rule, "threshold_index": thr_i, "threshold_s": thr_s, "threshold_mv": thr_v,
            "peak_index": pk, "peak_s": refine_peak(t, vs, pk), "peak_mv": peak_mv,
            "half_width_ms": (t_down - t_up) * 1e3, "max_dvdt_mv_per_ms": d[up], "fall_index": jf}


def rejections(t, shape: dict) -> dict:
    """`SpikeTable.rejected` columns of the candidates `spike_shape` did not keep: peak index, its time (s),
    peak potential (mV) and the code of the first rule failed (`REJECTION_CODES`)."""
    out = np.flatnonzero(~shape["keep"])
    pk = shape["peak_index"][out].astype(np.int64)
    return {"index": pk, "time_s": np.asarray(t[pk], dtype=np.float64),
            "peak_mv": np.asarray(shape["peak_mv"][out], dtype=np.float64),
            "code": np.array(REJECTION_CODES, dtype=object)[shape["rule"][out]]}


def typical_half_width_ms(v, t, fs: float, on, pk, params: SpikeParams) -> float:
    """Median half-width (ms) of the candidates that are clearly spikes, NaN when there are none.

    A cheap first pass on the raw potential (no derivative): the onset potential is read half a detection
    span before each onset ``on`` (the smoothed slope crosses its cutoff after the upstroke starts), the
    height is the potential at the peak ``pk`` above it. Clearly spikes: peak ≥ `min_peak_mv`, height ≥
    `CLEAR_AMPLITUDE_FACTOR` × `min_amplitude_mv`, back below half height before the next onset and within
    `MAX_HALF_WIDTH_MS` of the peak, and a width (linearly interpolated half-height crossings) of at most
    `MAX_HALF_WIDTH_MS`. Windows are bounded by the next onset and the fall is scanned in growing chunks
    (`first_crossing`), so the work follows the spikes, not the trace length.
    """
    n = v.size
    if pk.size == 0:
        return float("nan")
    back = max(window_samples(params.detection_smoothing_ms, fs) // 2, 1)
    prev_pk = np.concatenate(([-1], pk[:-1]))
    base_i = np.minimum(np.maximum(on - back, prev_pk + 1), pk)
    nxt = np.append(on[1:], n)
    top = v[pk]
    half = 0.5 * (v[base_i] + top)
    clear = (top >= params.min_peak_mv) & (top - v[base_i] >= CLEAR_AMPLITUDE_FACTOR * params.min_amplitude_mv)
    if not clear.any():
        return float("nan")
    base_i, pk, nxt, half = base_i[clear], pk[clear], nxt[clear], half[clear]
    rise = Segments(base_i, pk + 1, n)
    ir = rise.last_true(rise.take(v) < np.repeat(half, rise.lengths))
    stop = np.minimum(nxt, np.searchsorted(t, t[pk] + MAX_HALF_WIDTH_MS * 1e-3, side="right"))
    jf = first_crossing(v, pk, np.maximum(stop, pk + 1), half, above=False, inclusive=False)
    ok = (ir >= 0) & (jf > pk)
    if not ok.any():
        return float("nan")
    ir, jf, half = ir[ok], jf[ok], half[ok]
    t_up, _ = _interp(t, v, ir, ir + 1, _crossing_frac(v[ir], v[ir + 1], half))
    t_down, _ = _interp(t, v, jf - 1, jf, _crossing_frac(v[jf - 1], v[jf], half))
    width = (t_down - t_up) * 1e3
    width = width[width <= MAX_HALF_WIDTH_MS]
    return float(np.median(width)) if width.size else float("nan")


def adapted_limits(params: SpikeParams, width_ms: float) -> SpikeParams:
    """`params` with `max_rise_ms` and `max_repolarization_ms` raised to `RISE_PER_WIDTH` and
    `REPOLARIZATION_PER_WIDTH` × the typical half-width `width_ms` where those are larger; `params` itself
    (the same object) when nothing changes, adaptation is off or the width is unknown (NaN)."""
    if not params.adapt_to_width or not np.isfinite(width_ms):
        return params
    rise = max(params.max_rise_ms, RISE_PER_WIDTH * width_ms)
    repol = max(params.max_repolarization_ms, REPOLARIZATION_PER_WIDTH * width_ms)
    if rise == params.max_rise_ms and repol == params.max_repolarization_ms:
        return params
    return dataclasses.replace(params, max_rise_ms=rise, max_repolarization_ms=repol)


def foot_index(d_det: np.ndarray, thr_i: np.ndarray, max_back: int, level_mv_per_ms: float) -> np.ndarray:
    """Start of each AP's foot: the last sample before threshold, at most `max_back` samples back,
    where the smoothed dV/dt was at or below `level_mv_per_ms` (the search start if none)."""
    n = d_det.size
    lo = np.maximum(thr_i - max_back, 0)
    seg = Segments(lo, thr_i + 1, n)
    i = seg.last_true(seg.take(d_det) <= level_mv_per_ms)
    return np.where(i >= 0, i, lo)


def after_spike(v, t, shape: dict, params: SpikeParams, foot=None) -> dict:
    """AHP trough, AHP depth and `end_index` of accepted spikes (bounded by the next threshold).

    The pre-spike baseline is the mean potential over `baseline_window_ms` before the AP's foot
    (`foot`, default the threshold) and after the previous trough; its tolerance is
    `recovery_tolerance_mv` + 2 SD of that window (noise, SSO and drift: "back within the baseline's own
    fluctuation"). `end_index` is the first sample, after the potential has dipped below baseline −
    tolerance, where it is back above it; without such a dip, the first sample back within tolerance
    from above; never before the AHP minimum (trough). It never passes the next spike's threshold − 1
    nor threshold + `max_end_ms`.
    """
    n = v.size
    thr_i, pk, jf = shape["threshold_index"], shape["peak_index"], shape["fall_index"]
    foot = thr_i if foot is None else np.minimum(foot, thr_i)
    nxt = np.append(thr_i[1:], n)
    ahp_stop = np.minimum(nxt, np.searchsorted(t, t[pk] + params.ahp_window_ms * 1e-3, side="right"))
    trough = window_argmin(v, pk, ahp_stop)
    prev_trough = np.concatenate(([0], trough[:-1]))
    b0 = np.maximum(prev_trough, np.searchsorted(t, t[foot] - params.baseline_window_ms * 1e-3))
    b0 = np.minimum(b0, np.maximum(foot - 1, 0))
    base_seg = Segments(b0, np.maximum(foot, b0 + 1), n)
    flat_b = base_seg.take(v)
    baseline = np.add.reduceat(flat_b, base_seg.offsets) / base_seg.lengths
    spread = np.add.reduceat((flat_b - np.repeat(baseline, base_seg.lengths)) ** 2, base_seg.offsets)
    tol = params.recovery_tolerance_mv + 2.0 * np.sqrt(spread / base_seg.lengths)
    cap = np.minimum(nxt, np.searchsorted(t, shape["threshold_s"] + params.max_end_ms * 1e-3, side="right"))
    cap = np.maximum(cap, jf + 1)
    low = baseline - tol
    # first crossings, scanned in growing chunks (the AHP dip and the recovery usually come early in
    # windows up to `max_end_ms` long); back above the low level after a dip, else back within tolerance
    dip = first_crossing(v, jf, cap, low, above=False, inclusive=False)
    has_dip = dip >= 0
    end = np.full(dip.size, -1, dtype=np.int64)
    if has_dip.any():
        end[has_dip] = first_crossing(v, dip[has_dip], cap[has_dip], low[has_dip], above=True, inclusive=True)
    if not has_dip.all():
        nd = ~has_dip
        end[nd] = first_crossing(v, jf[nd], cap[nd], (baseline + tol)[nd], above=False, inclusive=True)
    end = np.where(end < 0, cap - 1, end)
    end = clip(np.maximum(end, trough), jf, n - 1)  # never before the AHP minimum
    return {"trough_index": trough, "ahp_mv": shape["threshold_mv"] - v[trough], "end_index": end}
