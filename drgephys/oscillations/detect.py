"""`detect_oscillations` and `summarize_oscillations`: the SSO detector's public entry points."""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .._validation import check_fs, check_v
from .._numerics.spans import fill_spans, merge_spans, runs, spans_to_mask
from . import preprocess as pp
from .assemble import _assemble
from .episodes import find_candidates
from .mains import remove_mains
from .params import OscillationParams
from .tfr import background, morlet_power, wavelet_freqs

__all__ = ["detect_oscillations", "explain_oscillations", "summarize_oscillations", "effective_band"]


def effective_band(fs: float, params: OscillationParams) -> tuple[float, float]:
    """The analysed band: ``band_hz`` with its top clipped to ``fs / max_fs_ratio`` (with a warning).

    Raises
    ------
    ValueError
        When the clipped band spans less than one octave (the recording is too slow for the band).
    """
    lo, hi = params.band_hz
    top = fs / params.max_fs_ratio
    if hi > top:
        if top < 2 * lo:
            raise ValueError(
                f"`fs` is too low for `band_hz` {params.band_hz}: the band top must stay below fs/"
                f"{params.max_fs_ratio:g} = {top:g} Hz and the band must span an octave from {lo:g} Hz; got "
                f"fs = {fs:g} Hz. Lower `band_hz` or use a recording sampled at >= "
                f"{2 * lo * params.max_fs_ratio:g} Hz.")
        warnings.warn(f"band top {hi:g} Hz clipped to {top:g} Hz (fs/{params.max_fs_ratio:g}) for a recording "
                      f"sampled at {fs:g} Hz", UserWarning, stacklevel=3)
        hi = top
    return lo, hi


def _spike_table(v, fs, spikes):
    if spikes is not None:
        return spikes
    try:
        from ..spikes import detect_spikes
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("`spikes=None` needs drgephys.spikes.detect_spikes, which could not be imported; "
                          "pass `spikes=` (a DataFrame with threshold_index and end_index) instead") from exc
    return detect_spikes(v, fs)


def detect_oscillations(v, fs, *, spikes=None, params: OscillationParams = OscillationParams()) -> pd.DataFrame:
    """Detect subthreshold membrane-potential oscillation (SSO) episodes in one sweep.

    Steps (each justified in its module): (1) blank each spike's ``[threshold_index, end_index]`` span
    (plus ``spike_pre_ms`` / ``spike_post_ms``) by straight-line interpolation and keep a mask
    (:mod:`.preprocess`); (2) decimate with an anti-aliasing Kaiser FIR to ``>= working_fs_ratio`` x the band
    top; (3) remove drift with a running median (edge-preserving, so current steps leave no ringing) and
    blank large residual excursions as artifacts; (4) subtract phase-stable mains lines (:mod:`.mains`);
    (5) BOSC on 6-cycle Morlet power with a robust aperiodic background (:mod:`.tfr`); (6) build episodes,
    measure them cycle by cycle and keep those passing the quality minima (:mod:`.episodes`).

    Parameters
    ----------
    v : array_like, shape (n,)
        Membrane potential, mV.
    fs : float
        Sampling rate, Hz.
    spikes : DataFrame or None
        Output of :func:`drgephys.spikes.detect_spikes` on ``v`` (columns ``threshold_index``,
        ``end_index``); ``None`` detects spikes here with default parameters.
    params : OscillationParams

    Returns
    -------
    DataFrame
        One row per episode, sorted by time: ``start_s``, ``end_s`` (s from the first sample),
        ``frequency_hz``, ``amplitude_mv`` (peak-to-peak, 90th percentile of cycles), ``n_cycles``,
        ``mean_vm_mv`` (spikes excluded, drift kept), ``power_db`` (over the aperiodic background),
        ``period_cv``, ``amplitude_cv``, ``sinusoidality`` (0-1). ``df.attrs`` holds ``mains_lines`` (hum
        lines removed), ``band_hz`` (analysed band) and ``working_fs_hz``.

    Raises
    ------
    TypeError, ValueError
        On a non-1-D or non-finite ``v``, a bad ``fs``, a malformed ``spikes`` table or a recording too slow
        for the band.
    """
    return _run(v, fs, spikes, params, keep=False)


def explain_oscillations(v, fs, *, spikes=None, params: OscillationParams = OscillationParams()) -> dict:
    """Run `detect_oscillations` and keep every intermediate step, for teaching and QC.

    Parameters
    ----------
    v, fs, spikes, params
        As for :func:`detect_oscillations`.

    Returns
    -------
    dict
        ``episodes`` (the DataFrame `detect_oscillations` returns) and the steps: ``working_fs_hz``;
        ``filled_mv`` (decimated trace with spikes and artifacts bridged, drift kept; shape (m,));
        ``residual_mv`` (drift- and hum-free trace the wavelets see; shape (m,)); ``valid`` (bool mask of
        usable samples); ``mains_lines`` (hum lines removed); ``freqs_hz`` (wavelet frequencies, shape
        (k,)); ``power`` (Morlet power, mV², shape (k, m)); ``background`` (aperiodic 1/f fit, shape (k,));
        ``threshold`` (BOSC power threshold, shape (k,)); ``band_hz``.

    Examples
    --------
    >>> from drgephys.sim import simulate_trace
    >>> sim = simulate_trace(duration_s=4.0, fs_hz=10000.0, sso=True, seed=2)
    >>> steps = explain_oscillations(sim.v, sim.fs)
    >>> steps["power"].shape[0] == steps["freqs_hz"].size
    True
    """
    return _run(v, fs, spikes, params, keep=True)


def _run(v, fs, spikes, params, keep: bool):
    if not isinstance(params, OscillationParams):
        raise TypeError(f"`params` must be an OscillationParams; got {type(params).__name__}")
    fs = check_fs(fs)
    v = check_v(v)
    lo, hi = _band(v.size, fs, params)
    ss, se = pp.spike_spans(_spike_table(v, fs, spikes), v.size, fs, params.spike_pre_ms, params.spike_post_ms)
    return _detect_checked(v, fs, ss, se, params, lo, hi, keep=keep)


def detect_checked(v: np.ndarray, fs: float, threshold_index: np.ndarray, end_index: np.ndarray,
                   params: OscillationParams = OscillationParams()) -> pd.DataFrame:
    """`detect_oscillations` on inputs the caller has already validated (the array-level core that
    `drgephys.analysis` calls after `detect_spikes`, so the trace is not checked again).

    Parameters
    ----------
    v : ndarray, shape (n,), float64
        Finite membrane potential, mV (checked by the caller, e.g. by `detect_spikes`).
    fs : float
        Sampling rate, Hz (checked).
    threshold_index, end_index : ndarray of int, shape (k,)
        The spikes' ``[threshold_index, end_index]`` spans, ``0 <= threshold_index <= end_index < n``
        (as `detect_spikes` returns them).
    params : OscillationParams

    Returns
    -------
    DataFrame
        As `detect_oscillations`.

    Raises
    ------
    ValueError
        When the trace is too short or too slowly sampled for the band (as `detect_oscillations`).
    """
    lo, hi = _band(v.size, fs, params)
    ss, se = pp.spans_from_indices(np.asarray(threshold_index, np.int64), np.asarray(end_index, np.int64), fs,
                                   params.spike_pre_ms, params.spike_post_ms)
    return _detect_checked(v, fs, ss, se, params, lo, hi, keep=False)


def _band(n: int, fs: float, params: OscillationParams) -> tuple[float, float]:
    """`effective_band`, after checking that ``n`` samples at ``fs`` last `min_cycles` of its bottom."""
    lo, hi = effective_band(fs, params)
    if n / fs < params.min_cycles / lo:
        raise ValueError(f"`v` must last at least {params.min_cycles:g} cycles of the band bottom ({lo:g} Hz), "
                         f"i.e. {params.min_cycles / lo:g} s; got {n / fs:g} s ({n} samples at {fs:g} Hz)")
    return lo, hi


def _detect_checked(v, fs, ss, se, params, lo, hi, keep: bool):
    """Steps 1-6 from the full-rate spike spans ``[ss, se)`` (validated inputs)."""
    y, fw, bs, be = _blank_and_decimate(v, fs, ss, se, params, hi)
    return detect_working(y, fw, bs, be, params, lo, hi, keep=keep)


@functools.lru_cache(maxsize=8)
def _chi2_2_ppf(p: float) -> float:
    """``scipy.stats.chi2.ppf(p, 2)`` (cached: the distribution machinery costs ~0.1 ms per call)."""
    return float(stats.chi2.ppf(p, 2))


def detect_working(y, fw, bs, be, params, lo, hi, *, keep: bool = False):
    """Steps 3-6 on the decimated, spike-bridged working trace (shared with `drgephys.chunked`).

    Parameters
    ----------
    y : ndarray, shape (m,), float32
        Decimated membrane potential with spike spans bridged at full rate, mV (artifact spans are filled in
        place).
    fw : float
        Working rate, Hz.
    bs, be : ndarray of int
        Blanked spans ``[bs, be)`` at the working rate.
    params : OscillationParams
    lo, hi : float
        Analysed band, Hz (`effective_band`).
    keep : bool
        Return every intermediate step (see `explain_oscillations`) instead of the episodes alone.
    """
    r, valid, lines = _clean(y, fw, bs, be, params, lo, hi)
    freqs = wavelet_freqs(lo, hi, params.n_freqs)
    power = morlet_power(r, fw, freqs, params.wavelet_cycles)
    edge = int(math.ceil(2 * params.wavelet_cycles / (2 * math.pi * lo) * fw))
    use = valid.copy()
    if use.size > 4 * edge:                        # background away from the zero-padded trace ends
        use[:edge] = use[use.size - edge:] = False
    bg, _ = background(power, freqs, use, params.background_tolerance_db)
    thr = bg * _chi2_2_ppf(params.power_percentile / 100) / 2
    cand = find_candidates(power, thr, freqs, valid, fw, params)
    if not keep:
        del power
    out = _assemble(cand, r, y, valid, freqs, bg, thr, fw, params, lo, hi)
    out.attrs.update(mains_lines=lines, band_hz=(lo, hi), working_fs_hz=fw)
    if not keep:
        return out
    return {"episodes": out, "working_fs_hz": fw, "filled_mv": y, "residual_mv": r, "valid": valid,
            "mains_lines": lines, "freqs_hz": freqs, "power": power, "background": bg, "threshold": thr,
            "band_hz": (lo, hi)}


def _blank_and_decimate(v, fs, ss, se, params, hi):
    """Steps 1-2: bridge each full-rate spike span ``[ss, se)``, decimate to the working rate.

    Returns ``(y, fw, bs, be)``: the decimated trace (float32 mV, drift kept), the working rate (Hz) and the
    blanked spans at the working rate.
    """
    q = pp.decimation_factor(fs, hi, params.working_fs_ratio)
    fw = fs / q
    y = pp.blank_and_decimate(v, ss, se, fs, q, hi)   # float32 (the caller's array is never modified)
    bs, be = (np.floor(ss / q).astype(np.int64) - 1, np.ceil(se / q).astype(np.int64) + 1)
    return y, fw, bs, be


def _clean(y, fw, bs, be, params, lo, hi):
    """Steps 3-4: remove drift and artifacts, remove hum.

    Returns ``(r, valid, lines)``: the drift- and hum-free trace (mV), the mask of usable samples and the
    hum lines removed (``y`` has its artifact spans filled in place).
    """
    m = y.size
    r, _ = pp.remove_drift(y, fw, params.drift_window_cycles / lo)
    art_s, art_e = runs(np.abs(r) > params.artifact_mv)
    apad = int(math.ceil(params.artifact_pad_s * fw))
    bs, be = merge_spans(np.concatenate((bs, art_s - apad)), np.concatenate((be, art_e + apad)), m)
    if art_s.size:
        fill_spans(y, art_s - apad, art_e + apad)
        r, _ = pp.remove_drift(y, fw, params.drift_window_cycles / lo)
    valid = ~spans_to_mask(bs, be, m, merged=True)
    r = r.astype(np.float64)
    fill_spans(r, bs, be, merged=True)
    r, lines = remove_mains(r, fw, valid, hi, params)
    return r, valid, lines


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cw = np.cumsum(w)
    return float(v[np.searchsorted(cw, 0.5 * cw[-1])])


def summarize_oscillations(episodes: pd.DataFrame, duration_s: float) -> dict:
    """Per-sweep SSO summary from an episode table.

    Parameters
    ----------
    episodes : DataFrame
        Output of :func:`detect_oscillations` (``start_s``, ``end_s``, ``frequency_hz``, ``amplitude_mv``).
    duration_s : float
        Sweep duration, s.

    Returns
    -------
    dict
        ``sso_detected`` (bool), ``sso_frequency_hz`` and ``sso_amplitude_mv`` (duration-weighted medians
        over episodes; NaN when none), ``sso_time_fraction`` (share of the sweep inside episodes, 0-1).
    """
    if not isinstance(episodes, pd.DataFrame):
        raise TypeError(f"`episodes` must be the DataFrame of detect_oscillations; got {type(episodes).__name__}")
    duration_s = float(duration_s) if not isinstance(duration_s, bool) else math.nan
    if not math.isfinite(duration_s) or duration_s <= 0:
        raise ValueError(f"`duration_s` must be a positive number in s; got {duration_s!r}")
    if len(episodes) == 0:
        return {"sso_detected": False, "sso_frequency_hz": math.nan, "sso_amplitude_mv": math.nan,
                "sso_time_fraction": 0.0}
    missing = [c for c in ("start_s", "end_s", "frequency_hz", "amplitude_mv") if c not in episodes.columns]
    if missing:
        raise ValueError(f"`episodes` must have columns start_s, end_s, frequency_hz, amplitude_mv; missing {missing}")
    dur = (episodes["end_s"] - episodes["start_s"]).to_numpy(dtype=float)
    return {"sso_detected": True,
            "sso_frequency_hz": _weighted_median(episodes["frequency_hz"].to_numpy(dtype=float), dur),
            "sso_amplitude_mv": _weighted_median(episodes["amplitude_mv"].to_numpy(dtype=float), dur),
            "sso_time_fraction": float(min(dur.sum() / duration_s, 1.0))}
