"""Action-potential detection for spontaneous (and evoked) firing: `detect_spikes`.

Pipeline (vectorized; the only loop runs over merge passes, usually one or two):

1. dV/dt smoothed over a fixed time span (`SpikeParams.detection_smoothing_ms`); candidates start
   where it rises through ``max(detection_dvdt_mv_per_ms, noise_factor × robust SD)``.
2. Hysteresis and refractoriness: a new candidate needs dV/dt to have gone below half the cutoff
   since the last one (IPFX asks for < 0 on a less smoothed slope) and to be `refractory_ms` after it.
3. Merge: while a candidate starts within the previous one's rise window (`max_rise_ms`) and the
   previous peak is not followed by a fall below half its height before it, the two are one spike
   (noise on an upstroke never splits a spike).
   Width adaptation (`SpikeParams.adapt_to_width`): the typical half-width of the merged candidates that
   are clearly spikes raises `max_rise_ms` and `max_repolarization_ms` for broad APs
   (`features.adapted_limits`); when it does, the candidates are merged again under the raised limits.
   Narrow APs keep the given limits, and the rest of the pass is then exactly the fixed-limit one.
4. Features and plausibility (`features.py`): threshold, peak (parabolic sub-sample time),
   half-width; reject peaks below `min_peak_mv`, heights below `min_amplitude_mv`, thresholds not before
   the peak, rises longer than `max_rise_ms` and anything that does not repolarise within
   `max_repolarization_ms`. Each rejected candidate is kept with the first rule it failed
   (`SpikeTable.rejected`, codes of `drgephys.reasons.SPIKE_REJECTIONS`).
5. AHP trough and `end_index` (AHP recovery) bounded by the next accepted spike.

Memory and time: on long regularly sampled traces (≥ 65 536 samples) step 1 is one pass over
cache-sized blocks (`drgephys._numerics.blocked.scan`) that keeps only the samples at or above half the floor and the
counts certifying that the noise term is below it; the feature slope is certified the same way and
then evaluated only in the spike windows. No trace-length array is built (the exact robust SD, over a
stored slope, only when a certificate fails). Results are those of the whole-trace computation, bit
for bit (`tests/_numerics/test_blocked.py`).
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_fs, check_v, check_windows
from .._numerics.blocked import Bracket, BlockSlope, above, robust_sd_exact, scan
from .._numerics.deriv import dvdt, dvdt_at, robust_sd, window_samples
from .._numerics.order import robust_sd_bound
from .._numerics.ragged import Segments
from .features import (Signals, adapted_limits, after_spike, foot_index, rejections, smooth_peaks, smooth_peaks_at,
                       spike_shape, typical_half_width_ms)
from .params import SpikeParams
from .table import COLUMNS, SpikeTable, empty_columns, empty_spikes, in_windows
from .._lazy import pd

#: The AP's foot (pre-spike baseline ends there) starts where the detection dV/dt last rose through
#: this, searched at most FOOT_SEARCH_MS back from threshold (above SSO slopes: 2 mV at 100 Hz ≈ 0.6 mV/ms).
FOOT_DVDT_MV_PER_MS = 1.0
FOOT_SEARCH_MS = 10.0
#: Largest robust SD of the feature dV/dt, as a fraction of `threshold_dvdt_mv_per_ms`.
MAX_FEATURE_NOISE = 0.25


def _check_times(times, n: int) -> np.ndarray:
    t = np.asarray(times, dtype=np.float64).reshape(-1)
    if t.size != n:
        raise ValueError(f"`times` must have one entry per sample of `v` ({n}); got {t.size}")
    if not np.all(np.isfinite(t)):
        raise ValueError("`times` must be finite sample times in s; got NaN/inf values")
    if n > 1 and np.any(np.diff(t) < 0):
        raise ValueError("`times` must be non-decreasing sample times in s; got a decreasing step. "
                         "Sort the samples by time first.")
    return t - t[0] if n else t


class _RegularTimes:
    """``np.arange(n) / fs`` read at integer indices and searched (`searchsorted`), with the same values
    and answers, without building the trace-length array."""

    def __init__(self, fs: float, n: int):
        self.fs, self.size = fs, int(n)

    def __getitem__(self, i):
        return np.asarray(i) / self.fs

    def searchsorted(self, x, side: str = "left", sorter=None) -> np.ndarray:
        """``np.searchsorted(np.arange(n) / fs, x, side)`` (``np.searchsorted(self, ...)`` calls this):
        the estimate ``ceil(x fs)`` is moved until the sample times on both sides satisfy the search's
        inequalities."""
        x = np.asarray(x, dtype=np.float64)
        fs, n = self.fs, self.size
        k = np.minimum(np.maximum(np.ceil(x * fs), 0), n)     # np.clip(np.ceil(np.nan_to_num(...)))'s
        k = np.where(np.isnan(k), n, k).astype(np.int64)      # values (±inf → n / 0, NaN → n)
        # (NaN sorts after every time, as in np.searchsorted; no comparison below moves it)
        while True:
            prev, here = (k - 1) / fs, k / fs
            if side == "left":      # want t[k - 1] < x <= t[k]
                dec, inc = (k > 0) & (prev >= x), (k < n) & (here < x)
            else:                   # want t[k - 1] <= x < t[k]
                dec, inc = (k > 0) & (prev > x), (k < n) & (here <= x)
            if not (dec.any() or inc.any()):
                return k
            k = k - dec + inc


def _onsets(hi: np.ndarray, half, t, params: SpikeParams) -> np.ndarray:
    """Rising edges of the sorted indices `hi` (slope ≥ cutoff), thinned by hysteresis (`half()`: the
    sorted indices with slope ≥ half the cutoff) and refractoriness."""
    # sparse index arrays instead of trace-length masks and cumsums: samples at or above the cutoff (and
    # half of it) are few, so rising edges and "went below half since the last onset" come from them
    on = hi[np.concatenate(([False], np.diff(hi) > 1))] if hi.size and hi[0] == 0 else \
        hi[np.concatenate(([True], np.diff(hi) > 1))] if hi.size else hi
    if on.size > 1:
        half = half()                                       # the complement of "below half the cutoff"
        n_half = np.searchsorted(half, on[1:]) - np.searchsorted(half, on[:-1])
        armed = (on[1:] - on[:-1]) - n_half > 0
        far = t[on[1:]] - t[on[:-1]] >= params.refractory_ms * 1e-3
        on = on[np.concatenate(([True], armed & far))]
    return on


def _candidates(d: np.ndarray, t, params: SpikeParams) -> np.ndarray:
    """Upward crossings of the adaptive detection slope `d`, thinned by hysteresis and refractoriness."""
    floor = params.detection_dvdt_mv_per_ms
    # the noise term matters only when it exceeds the floor: a certified bound often settles that cheaply
    cutoff = floor if params.noise_factor * robust_sd_bound(d) <= floor else \
        max(floor, params.noise_factor * robust_sd(d))
    return _onsets(np.flatnonzero(d >= cutoff), lambda: np.flatnonzero(d >= 0.5 * cutoff), t, params)


def _candidates_blocked(v: np.ndarray, fs: float, t, params: SpikeParams) -> np.ndarray:
    """`_candidates` of a long regularly sampled trace without storing its detection slope: one blocked
    pass certifies that the noise term is below the floor (the usual case; `Bracket`), checks that `v`
    is finite and gathers the samples at or above half the floor, the only ones the onsets need. When
    the noise term may exceed the floor the slope is stored once and its exact robust SD decides."""
    slope = BlockSlope(v, fs, params.detection_smoothing_ms)
    floor = params.detection_dvdt_mv_per_ms
    bracket = Bracket(slope.subsample(), level=floor / params.noise_factor)
    bound, finite, idx, vals = scan(slope, bracket, gather_level=0.5 * floor)
    if not finite:
        check_v(v, check_units=False)   # NaN/inf samples: raises the validation error (else: overflow only)
    if params.noise_factor * bound <= floor:          # cutoff = floor: half the cutoff = gather level
        return _onsets(idx[vals >= floor], lambda: idx, t, params)
    idx = vals = None                # (release the gathered samples before the full slope)
    d = slope.full()
    cutoff = max(floor, params.noise_factor * robust_sd_exact(d))
    return _onsets(above(d, cutoff), lambda: above(d, 0.5 * cutoff), t, params)


def _feature_derivative(v, fs, t_irr, params: SpikeParams, d_det):
    """dV/dt for thresholds and max dV/dt: the lightest smoothing, from `feature_smoothing_ms` up to
    `detection_smoothing_ms` (doubling), whose noise SD is at most `MAX_FEATURE_NOISE` × the threshold
    slope — so noise dips cannot fake a threshold crossing near the peak. Returns (dV/dt, span_ms)."""
    span = params.feature_smoothing_ms
    while span < params.detection_smoothing_ms:
        d = dvdt(v, fs, t_irr, span)
        level = MAX_FEATURE_NOISE * params.threshold_dvdt_mv_per_ms
        if robust_sd_bound(d) <= level or robust_sd(d) <= level:
            return d, span
        span *= 2
    if d_det is None:   # the caller released it (memory): recompute, same values
        d_det = dvdt(v, fs, t_irr, params.detection_smoothing_ms)
    return d_det, params.detection_smoothing_ms


def _feature_derivative_blocked(v, fs, params: SpikeParams, starts, stops):
    """`_feature_derivative` of a long regularly sampled trace. Each tried span's robust-SD certificate
    is counted in one blocked pass that stores nothing (`scan`); the accepted slope is then evaluated
    only inside the windows ``[starts, stops)`` where the features read it (`BlockSlope.at_windows`,
    the whole-trace values). Only when a certificate fails is a span's slope stored, once, for its exact
    robust SD (and returned whole if that accepts it). Same (dV/dt, span_ms) values."""
    level = MAX_FEATURE_NOISE * params.threshold_dvdt_mv_per_ms
    span, out = params.feature_smoothing_ms, None
    while span < params.detection_smoothing_ms:
        if BlockSlope.usable(v.size, fs, span):
            slope = BlockSlope(v, fs, span)
            if scan(slope, Bracket(slope.subsample(), level=level))[0] <= level:
                return slope.at_windows(starts, stops), span
            out = slope.full(out)
        else:
            out = dvdt(v, fs, None, span)
            if robust_sd_bound(out) <= level:
                return out, span
        if robust_sd_exact(out) <= level:
            return out, span
        span *= 2
    span = params.detection_smoothing_ms
    return BlockSlope(v, fs, span).at_windows(starts, stops), span


def _peak_windows(on: np.ndarray, t: np.ndarray, n: int, params: SpikeParams) -> np.ndarray:
    nxt = np.append(on[1:], n)
    cap = np.searchsorted(t, t[on] + params.max_rise_ms * 1e-3, side="right")
    return np.minimum(nxt, cap)


def _merge(v: np.ndarray, t: np.ndarray, on: np.ndarray, params: SpikeParams):
    """Merge candidates not separated by a fall below half height; return (onsets, peaks)."""
    n = v.size
    while True:
        pk = Segments(on, _peak_windows(on, t, n, params), n).argmax(v)
        if on.size < 2:
            return on, pk
        half = 0.5 * (v[on] + v[pk])
        within = t[on[1:]] - t[on[:-1]] <= params.max_rise_ms * 1e-3
        fell = ~within                   # only close pairs need the (short) peak-to-next-onset scan
        pair = np.flatnonzero(within)
        if pair.size:
            between = Segments(pk[pair], on[pair + 1] + 1, n)
            fell[pair] = between.reduce_min(between.take(v)) < half[pair]
        if fell.all():
            return on, pk
        on = on[np.concatenate(([True], fell))]


def detect_spikes(v, fs, *, params: SpikeParams = SpikeParams(), times=None,
                  stimulus_windows_s=None) -> pd.DataFrame:
    """Detect action potentials and measure their features.

    Parameters
    ----------
    v : array_like, shape (n_samples,)
        Membrane potential in mV.
    fs : float
        Sampling rate in Hz (the median rate when `times` is given).
    params : SpikeParams
        Detection and feature parameters.
    times : array_like, shape (n_samples,), optional
        Sample times in s for irregularly sampled traces; derivatives then use the real intervals
        (zero-length intervals allowed). Indices still refer to the given samples; times in the output
        are from the first sample.
    stimulus_windows_s : list of (start, end), optional
        Stimulus windows in s from the first sample; spikes whose threshold falls inside one are marked
        ``evoked``. Spontaneous firing needs none.

    Returns
    -------
    DataFrame
        One row per spike: ``threshold_index``, ``peak_index``, ``trough_index``, ``end_index`` (int
        sample indices; ``end_index`` is where the AHP has recovered, capped at the next threshold and
        `max_end_ms`), ``threshold_s``, ``peak_s`` (s from the first sample; sub-sample), ``threshold_mv``,
        ``peak_mv``, ``amplitude_mv`` (peak − threshold), ``half_width_ms``, ``ahp_mv`` (threshold −
        AHP minimum), ``max_dvdt_mv_per_ms``, ``evoked`` (bool). Empty, with these columns, when there
        are no spikes.

    Raises
    ------
    TypeError, ValueError
        On invalid `v`, `fs`, `params`, `times` or `stimulus_windows_s`.
    """
    return find_spikes(v, fs, params=params, times=times, stimulus_windows_s=stimulus_windows_s).frame()


def find_spikes(v, fs, *, params: SpikeParams = SpikeParams(), times=None, stimulus_windows_s=None) -> SpikeTable:
    """The spike stage: `detect_spikes` as a `SpikeTable`, the same checks and values without building a
    DataFrame (what the pipeline passes on to the SSO and trigger stages; a DataFrame and reading its
    columns back costs ~1 ms per sweep).

    Parameters and errors are those of `detect_spikes`; the trace is checked here (its finiteness inside
    the detection pass), so later stages take it as it is.

    Returns
    -------
    SpikeTable
        The spikes (columns of `detect_spikes`) and, in ``.rejected`` (``.rejected_frame()``), every
        candidate that failed a shape rule: ``index`` (int64 peak sample), ``time_s`` (float64, s from the
        first sample), ``peak_mv`` (float64) and ``code`` (object array of str, the first rule failed, a
        code of `drgephys.reasons.SPIKE_REJECTIONS`). Candidates merged into another spike are not
        rejections.
    """
    fs = check_fs(fs)
    v = check_v(v, allow_nan=True)           # finiteness: below (fused into the detection pass when long)
    if not isinstance(params, SpikeParams):
        raise TypeError(f"`params` must be a SpikeParams; got {type(params).__name__}. "
                        "Build one with drgephys.spikes.SpikeParams(...).")
    windows = check_windows(stimulus_windows_s)
    n = v.size
    t_irr = None if times is None else _check_times(times, n)
    regular = t_irr is None
    blocked = regular and BlockSlope.usable(n, fs, params.detection_smoothing_ms)
    if not blocked:
        check_v(v, check_units=False)
    if n < 5:
        return SpikeTable(empty_columns())

    # regular sampling never builds the time array (`_RegularTimes`: same values, same searches)
    t = _RegularTimes(fs, n) if regular else t_irr
    if blocked:    # long regular traces: no trace-length array until the feature slope
        d_det = None
        on = _candidates_blocked(v, fs, t, params)
    else:
        d_det = dvdt(v, fs, t_irr, params.detection_smoothing_ms)
        on = _candidates(d_det, t, params)
    if on.size == 0:
        return SpikeTable(empty_columns())
    cand = on
    on, pk = _merge(v, t, cand, params)
    if params.adapt_to_width:      # broad APs: limits scaled to the cell's own width (`adapted_limits`)
        wide = adapted_limits(params, typical_half_width_ms(v, t, fs, on, pk, params))
        if wide is not params:
            params = wide
            on, pk = _merge(v, t, cand, params)
    back = max(window_samples(params.detection_smoothing_ms, fs) // 2, 1)
    rise_n = int(math.ceil(params.max_rise_ms * 1e-3 * fs)) + 2
    if blocked:
        # the feature slope is read in [on − back − rise_n, pk + 2) (threshold and upstroke search, and
        # its own derivative there, which needs `margin` more samples, and the trace's first and last
        # samples when a window reaches the edges)
        margin = max(window_samples(params.detection_smoothing_ms, fs) // 2, 1) + 1
        edge = max(window_samples(params.detection_smoothing_ms, fs), 2)
        d_feat, span = _feature_derivative_blocked(
            v, fs, params, np.concatenate((on - back - rise_n - margin, [0, n - edge])),
            np.concatenate((pk + 2 + margin, [edge, n])))
    else:
        if regular:   # release the detection slope before the feature slope exists (one trace-length
            del d_det  # array less at the peak); the foot search below needs it only in short windows
            d_det = None
        d_feat, span = _feature_derivative(v, fs, t_irr, params, d_det)
    if regular:
        # d²V/dt² and the peak-smoothed potential are read only in short windows before and around each
        # peak (threshold kink search, peak refinement): evaluate them there only (same values, stored
        # as Sampled signals the size of those windows, not of the trace)
        d2 = dvdt_at(d_feat, fs, span, on - back - rise_n, pk + 2)
        hw = max(window_samples(params.peak_smoothing_ms, fs) // 2, 1)
        vs = smooth_peaks_at(v, fs, params.peak_smoothing_ms, pk - hw - 2, pk + hw + 3)
    else:
        d2 = dvdt(d_feat, fs, t_irr, span)
        vs = smooth_peaks(v, fs, True, params.peak_smoothing_ms)
    shape = spike_shape(Signals(v, t, fs, d_feat, d2, vs), on, pk, params)
    rejected = rejections(t, shape)
    keep = shape.pop("keep")
    shape.pop("rule")
    if not keep.any():
        return SpikeTable(empty_columns(), rejected=rejected)
    shape = {k: a[keep] for k, a in shape.items()}
    foot_back = int(round(FOOT_SEARCH_MS * 1e-3 * fs))
    if d_det is None:
        thr_i = shape["threshold_index"]
        if span != params.detection_smoothing_ms:
            d_det = dvdt_at(v, fs, params.detection_smoothing_ms, thr_i - foot_back - 1, thr_i + 2)
        elif blocked:     # the feature slope is the detection slope: its values, in the foot windows
            d_det = BlockSlope(v, fs, span).at_windows(thr_i - foot_back - 1, thr_i + 2)
        else:
            d_det = d_feat
    foot = foot_index(d_det, shape["threshold_index"], foot_back, FOOT_DVDT_MV_PER_MS)
    tail = after_spike(v, t, shape, params, foot=foot)

    ts = shape["threshold_s"]
    return SpikeTable({
        "threshold_index": shape["threshold_index"].astype(np.int64),
        "peak_index": shape["peak_index"].astype(np.int64),
        "trough_index": tail["trough_index"].astype(np.int64),
        "end_index": tail["end_index"].astype(np.int64),
        "foot_index": np.minimum(foot, shape["threshold_index"]).astype(np.int64),
        "threshold_s": shape["threshold_s"],
        "peak_s": shape["peak_s"],
        "threshold_mv": shape["threshold_mv"],
        "peak_mv": shape["peak_mv"],
        "amplitude_mv": shape["peak_mv"] - shape["threshold_mv"],
        "half_width_ms": shape["half_width_ms"],
        "ahp_mv": tail["ahp_mv"],
        "max_dvdt_mv_per_ms": shape["max_dvdt_mv_per_ms"],
        "evoked": in_windows(ts, windows),
    }, rejected=rejected)


__all__ = ["detect_spikes", "find_spikes", "SpikeTable", "empty_spikes", "COLUMNS"]
