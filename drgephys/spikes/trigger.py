"""Did a spike arise from an SSO peak? `classify_triggers` adds ``sso_phase_rad`` and ``trigger``.

The phase comes from a weighted least-squares quadrature fit centred on each spike, solved for all spikes at
once (normal equations assembled with ``np.add.reduceat`` and solved as a batch of 5 × 5 systems): for
spike k with episode frequency f_k and threshold time t_k, with Gaussian weights of SD `fit_sd_cycles`
cycles around t_k (±3 SD read),

    v(t) ≈ a cos(2π f_k (t − t_k)) + b sin(2π f_k (t − t_k)) + c + d τ + e τ²,   τ = f_k (t − t_k),

so the SSO component at threshold is A cos(2π f_k (t − t_k) + φ) with φ = atan2(−b, a): 0 when the SSO
peaks at threshold, ±π at its trough. The quadratic trend absorbs slow drift; samples inside any spike's
span get zero weight (with the AHP-subtracted trace of `drgephys.spikes.removal`: its short AP cores, from
`blank_before_ms` before them; on a raw trace: from `blank_before_ms` before each AP's foot to its end). The
foot is where the (0.5-ms smoothed) dV/dt last rose through `foot_dvdt_mv_per_ms` before threshold (at most
`max_foot_ms` back): the regenerative ramp into the AP would otherwise look like an SSO rising into its peak.

Why centred and long (Gaussian SD 3 cycles, both sides of the spike) rather than the cycles just before it:
an SSO of 0.5-1 mV in 0.3 mV pink + white noise is phase-coherent over its episode, but two cycles of it
are not enough to read its phase — on the hard cohort of ``benchmarks/accuracy.py`` (27-54 Hz SSOs, spikes
on every 2nd-3rd peak) the 2-cycle pre-spike fit missed the true phase (from the simulator's noise-free
SSO) by more than π/4 at 59 % of one cell's spikes; the centred fit at 3 %, with the spikes' cores left
out. A spike whose window is less than `min_fit_coverage` usable (weighted) has no measurable phase and
takes the decision of the spike before it in the same episode (Amir et al. 2002: an SSO peak triggers the
first spike of a burst, depolarising afterpotentials sustain the rest).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .._validation import check_fs, check_v
from .._numerics.deriv import dvdt_at
from .._numerics.spans import in_spans, merge_spans, overlap_pairs
from .features import foot_index
from .params import TriggerParams
from .removal import SpikeFree
from .._lazy import pd

_SPIKE_COLS = ("threshold_index", "threshold_s", "end_index")
_EPISODE_COLS = ("start_s", "end_s", "frequency_hz")
_MIN_FIT_SAMPLES = 8
SAMPLES_PER_CYCLE = 40      # fit points per SSO cycle (the window is strided down to about this)
BLOCK_SAMPLES = 2_000_000   # flat-array size per block of spikes


def _require(df, cols, name):
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"`{name}` must be a pandas DataFrame; got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"`{name}` must have columns {list(cols)}; missing {missing}. "
                         f"Pass the output of {'detect_spikes' if name == 'spikes' else 'detect_oscillations'}.")


class _Spans:
    """The union of spans ``[start, stop)`` read at sample indices: ``spans[idx]`` equals
    ``spans_to_mask(start, stop, n)[idx]`` without building the trace-length mask (the fits read a few
    thousand samples per spike, not the trace)."""

    def __init__(self, starts, stops, n: int):
        self.s, self.e = merge_spans(starts, stops, n)

    def __getitem__(self, idx) -> np.ndarray:
        return in_spans(self.s, self.e, np.asarray(idx))


def _excluded(n, first_index, end_index, blank_n) -> _Spans:
    """Samples inside any spike's [first (foot or threshold) − blank, end] span (no loop), as `_Spans`
    (which clips the spans to the trace and merges them)."""
    return _Spans(first_index - blank_n, end_index + 1, n)


def _batched_solve(G, r):
    """Solve G x = r for a stack of small symmetric systems; NaN where singular."""
    out = np.full(r.shape, np.nan)
    scale = np.trace(G, axis1=1, axis2=2)
    ok = np.isfinite(scale) & (scale > 0)
    if ok.any():
        Gk = G[ok] + 1e-12 * scale[ok, None, None] * np.eye(G.shape[1])
        try:
            out[ok] = np.linalg.solve(Gk, r[ok][..., None])[..., 0]
        except np.linalg.LinAlgError:
            for i in np.flatnonzero(ok):
                out[i] = np.linalg.lstsq(G[i], r[i], rcond=None)[0]
    return out


def foot_times(v, fs, threshold_index, params: TriggerParams) -> np.ndarray:
    """Start of each AP's foot (s): the last sample before threshold, within `max_foot_ms`, where the
    0.5-ms smoothed dV/dt was at or below `foot_dvdt_mv_per_ms` (the search start if none)."""
    thr = np.asarray(threshold_index, dtype=np.int64)
    back = int(round(params.max_foot_ms * 1e-3 * fs))
    d = dvdt_at(v, fs, 0.5, thr - back - 1, thr + 2)   # the slope only where the foot is searched
    return foot_index(d, thr, back, params.foot_dvdt_mv_per_ms) / fs


def sso_phase(v, fs, threshold_s, frequency_hz, excluded, params: TriggerParams):
    """Phase (rad, 0 = SSO peak) at each threshold time and the variance share explained by the SSO.

    Parameters
    ----------
    v : ndarray, shape (n,)
        Membrane potential in mV (the AHP-subtracted trace in the pipeline).
    fs : float
        Sampling rate in Hz.
    threshold_s, frequency_hz : ndarray, shape (k,)
        Threshold times (s from the first sample) and SSO frequencies (Hz).
    excluded : ndarray of bool, shape (n,), or `_Spans`
        Samples to leave out of the fits (every spike's span, its own included); read only at the fit
        samples.
    params : TriggerParams
        ``fit_sd_cycles`` sets the window (Gaussian weights, ±3 SD read).

    Returns
    -------
    phase_rad, r2 : ndarray, shape (k,)
        NaN where fewer than 8 usable samples lie in the window.
    coverage : ndarray, shape (k,)
        Usable share of the window's Gaussian weight (samples not excluded).
    """
    n = v.size
    k = threshold_s.size
    half_s = 3.0 * params.fit_sd_cycles / frequency_hz
    i0 = np.clip(np.ceil((threshold_s - half_s) * fs), 0, n).astype(np.int64)
    i1 = np.clip(np.floor((threshold_s + half_s) * fs) + 1, 0, n).astype(np.int64)
    # ≥ SAMPLES_PER_CYCLE points per SSO cycle are plenty for a quadrature fit: stride through the rest
    stride = np.maximum(np.floor(fs / (SAMPLES_PER_CYCLE * frequency_hz)), 1).astype(np.int64)
    lens = np.maximum((i1 - i0 + stride - 1) // stride, 0)
    valid = lens >= _MIN_FIT_SAMPLES
    lens = np.where(valid, lens, 1)
    phase, r2, n_used, coverage = np.full(k, np.nan), np.full(k, np.nan), np.zeros(k), np.zeros(k)
    # blocks of spikes bound the memory of the flat arrays (a few iterations, not one per spike)
    block = np.searchsorted(np.cumsum(lens), np.arange(1, int(lens.sum() // BLOCK_SAMPLES) + 2) * BLOCK_SAMPLES)
    edges = np.unique(np.concatenate(([0], np.minimum(block, k), [k])))
    for a, b in zip(edges[:-1], edges[1:]):
        sl = slice(a, b)
        plan = _FitPlan(threshold_s[sl], frequency_hz[sl], i0[sl], stride[sl], lens[sl])
        phase[sl], r2[sl], n_used[sl], coverage[sl] = _fit_block(v, fs, plan, excluded, params.fit_sd_cycles)
    bad = ~valid | (n_used < _MIN_FIT_SAMPLES) | ~np.isfinite(phase)
    phase[bad] = np.nan
    r2[bad] = np.nan
    return phase, r2, np.where(valid, coverage, 0.0)


class _FitPlan(NamedTuple):
    """Where each spike's fit reads: threshold times (s), SSO frequencies (Hz), first sample, stride and
    number of samples."""

    threshold_s: np.ndarray
    frequency_hz: np.ndarray
    i0: np.ndarray
    stride: np.ndarray
    lens: np.ndarray


def _fit_block(v, fs, plan: _FitPlan, excluded, sd_cycles: float):
    """Quadrature + quadratic-trend fits of one block of spikes, Gaussian-weighted around each threshold
    (flat arrays, ``reduceat`` sums): phase, r², usable samples and usable share of the weight."""
    threshold_s, frequency_hz, i0, stride, lens = plan
    n, k = v.size, threshold_s.size
    offsets = np.concatenate(([0], np.cumsum(lens)[:-1]))

    def each(a):                     # a per-spike value at each of its samples (np.repeat, not a gather)
        return np.repeat(a, lens)

    idx = np.minimum(each(i0) + each(stride) * (np.arange(int(lens.sum())) - each(offsets)), n - 1)
    usable = ~excluded[idx]
    tau = idx / fs - each(threshold_s)
    cyc = tau * each(frequency_hz)
    g = np.exp(-0.5 * (cyc / sd_cycles) ** 2)
    w = np.where(usable, g, 0.0)
    # regressors as rows (p, N): each product below reads contiguous rows (2x faster than columns)
    X = np.stack([np.cos(2 * np.pi * cyc), np.sin(2 * np.pi * cyc), np.ones_like(cyc), cyc, cyc * cyc])
    y = v[idx]

    def sums(a):
        return np.add.reduceat(a, offsets, axis=-1)

    p = X.shape[0]
    G = np.empty((k, p, p))
    r = np.empty((k, p))
    for i in range(p):  # 15 products of regressor pairs, each reduced at once
        wx = w * X[i]
        r[:, i] = sums(wx * y)
        for j in range(i, p):
            G[:, i, j] = G[:, j, i] = sums(wx * X[j])
    beta = _batched_solve(G, r)
    res_full = sums(w * (y - (X * np.repeat(beta.T, lens, axis=1)).sum(axis=0)) ** 2)
    beta_trend = _batched_solve(G[:, 2:, 2:], r[:, 2:])
    res_trend = sums(w * (y - (X[2:] * np.repeat(beta_trend.T, lens, axis=1)).sum(axis=0)) ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(res_trend > 0, 1.0 - res_full / res_trend, np.nan)
    return (np.arctan2(-beta[:, 1], beta[:, 0]), r2, sums(usable.astype(float)),
            sums(w) / np.maximum(sums(g), 1e-300))


def classify_triggers(v, fs, spikes: pd.DataFrame, episodes: pd.DataFrame | None, *,
                      params: TriggerParams = TriggerParams()) -> pd.DataFrame:
    """Label each spike as triggered by an SSO peak (``"oscillation"``) or not (``"other"``).

    Parameters
    ----------
    v : array_like, shape (n_samples,)
        Membrane potential in mV.
    fs : float
        Sampling rate in Hz.
    spikes : DataFrame
        Output of `detect_spikes` (needs ``threshold_index``, ``threshold_s``, ``end_index``).
    episodes : DataFrame or None
        SSO episodes (``start_s``, ``end_s``, ``frequency_hz``; s from the first sample), e.g. from
        `drgephys.oscillations.detect_oscillations`. Empty or None: every spike is ``"other"``.
    params : TriggerParams
        The decision rule (see its docstring).

    Returns
    -------
    DataFrame
        A copy of `spikes` with ``sso_phase_rad`` (phase of the SSO at threshold, 0 = SSO peak, ±π =
        trough; NaN outside episodes) and ``trigger`` (``"oscillation"`` | ``"other"``).
    """
    fs = check_fs(fs)
    v = check_v(v)
    if not isinstance(params, TriggerParams):
        raise TypeError(f"`params` must be a TriggerParams; got {type(params).__name__}")
    _require(spikes, _SPIKE_COLS, "spikes")
    if episodes is None:
        episodes = pd.DataFrame({c: pd.Series(dtype=float) for c in _EPISODE_COLS})
    _require(episodes, _EPISODE_COLS, "episodes")
    lab = label_triggers(
        v, fs, {"threshold_s": spikes["threshold_s"].to_numpy(float),
                "threshold_index": spikes["threshold_index"].to_numpy(np.int64),
                "end_index": spikes["end_index"].to_numpy(np.int64)},
        {c: episodes[c].to_numpy(float) for c in _EPISODE_COLS}, params)
    return _labelled(spikes, lab)


@dataclass(frozen=True)
class TriggerLabels:
    """The named result of the trigger stage, one entry per spike.

    Attributes
    ----------
    phase_rad : ndarray of float, shape (k,)
        ``sso_phase_rad``: phase of the SSO at spike onset (0 = peak, ±π = trough); NaN where not measurable.
    oscillation : ndarray of bool, shape (k,)
        True where the spike is labelled ``"oscillation"`` (launched from an SSO peak).
    """

    phase_rad: np.ndarray
    oscillation: np.ndarray

    def labels(self) -> np.ndarray:
        """The ``trigger`` column: ``"oscillation"`` or ``"other"`` (object array)."""
        return np.where(self.oscillation, "oscillation", "other").astype(object)


def label_triggers(v, fs, spikes, episodes, params: TriggerParams = TriggerParams(), *,
                   clean: SpikeFree | None = None) -> TriggerLabels:
    """The trigger stage on validated inputs: the array-level core of `classify_triggers` (no table is
    copied or built).

    Parameters
    ----------
    v : ndarray, shape (n,), float64
        Finite membrane potential, mV.
    fs : float
        Sampling rate, Hz.
    spikes : mapping of column name to ndarray, shape (k,) each
        ``threshold_s``, ``threshold_index``, ``end_index`` (a `drgephys.spikes.SpikeTable`, or a dict).
    episodes : mapping of column name to ndarray, shape (m,) each
        ``start_s``, ``end_s``, ``frequency_hz``, start-sorted (a `drgephys.oscillations.EpisodeTable`, or a
        dict); empty: every spike is ``"other"``.
    params : TriggerParams
    clean : SpikeFree, optional
        The trace without the spikes' AHPs (`drgephys.spikes.removal.remove_spikes`): the phases are fitted
        on it, leaving out only the spans still holding spike waveforms (in a cell firing at 10-30 Hz the
        AHPs cover most of the trace). None: fitted on ``v``, leaving out each spike from its foot to its
        ``end_index``.

    Returns
    -------
    TriggerLabels
    """
    thr_s, thr_i = spikes["threshold_s"], spikes["threshold_index"]
    k_spikes = thr_s.size
    none = TriggerLabels(np.full(k_spikes, np.nan), np.zeros(k_spikes, dtype=bool))
    if k_spikes == 0 or len(episodes) == 0 or len(episodes["start_s"]) == 0:
        return none
    lo, hi = float(params.band_hz[0]), float(params.band_hz[1])
    start = episodes["start_s"] - params.episode_margin_s
    stop = episodes["end_s"] + params.episode_margin_s
    # the first episode (in table order) whose margins hold each spike's threshold: the pairs of a sorted
    # sweep (point vs interval, closed at both ends), not a spikes x episodes matrix
    si, ei = overlap_pairs(thr_s, np.nextafter(thr_s, np.inf), start, np.nextafter(stop, np.inf))
    ep = np.full(k_spikes, np.iinfo(np.int64).max)
    np.minimum.at(ep, si, ei)
    has = ep < np.iinfo(np.int64).max
    if not has.any():
        return none
    ep = np.where(has, ep, 0)
    f = episodes["frequency_hz"][ep]
    f = np.clip(np.where(np.isfinite(f) & (f > 0), f, np.sqrt(lo * hi)), lo, min(hi, fs / 4))
    blank_n = int(round(params.blank_before_ms * 1e-3 * fs))
    if clean is None:   # the raw trace: each spike left out from its foot (the AHP-subtracted one: its core)
        foot = foot_times(v, fs, thr_i, params)
        x, excluded = v, _excluded(v.size, np.round(foot * fs).astype(np.int64), spikes["end_index"], blank_n)
    else:
        x, excluded = clean.x, _Spans(clean.starts - blank_n, clean.ends, v.size)
    phase = np.full(k_spikes, np.nan)
    r2 = np.full(k_spikes, np.nan)
    cov = np.zeros(k_spikes)
    sel = np.flatnonzero(has)
    phase[sel], r2[sel], cov[sel] = sso_phase(x, fs, thr_s[sel], f[sel], excluded, params)
    measurable = has & np.isfinite(phase) & (cov >= params.min_fit_coverage)
    phase[~measurable] = np.nan
    decided = measurable & (r2 >= params.min_fit_r2) & (np.abs(phase) <= params.max_abs_phase_rad)
    # burst continuation: an unmeasurable spike right after a spike of the same episode takes that
    # spike's decision (forward fill of the last measurable or chain-breaking spike's index)
    k = np.arange(k_spikes)
    cont = np.zeros(k_spikes, dtype=bool)
    cont[1:] = has[1:] & has[:-1] & (ep[1:] == ep[:-1])
    src = np.maximum.accumulate(np.where(measurable | ~cont, k, -1))
    return TriggerLabels(phase, has & decided[src])


def _labelled(spikes: pd.DataFrame, lab: TriggerLabels) -> pd.DataFrame:
    """A copy of `spikes` with ``sso_phase_rad`` and ``trigger`` (each column set once: pandas column
    insertion, and the string column's conversion, cost more than the fits on most sweeps)."""
    out = spikes.copy()
    out["sso_phase_rad"] = lab.phase_rad
    out["trigger"] = lab.labels()
    return out
