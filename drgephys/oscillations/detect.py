"""`detect_oscillations` and `summarize_oscillations`: the SSO detector's public entry points."""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._validation import check_fs, check_v
from ..spikes.detect import find_spikes
from ..spikes.removal import SpikeFree, remove_spikes
from . import methods
from . import preprocess as pp
from .bosc import detect_bosc
from .episodes import EpisodeTable
from .params import OscillationParams
from .._lazy import pd

__all__ = ["detect_oscillations", "explain_oscillations", "find_episodes", "summarize_oscillations",
           "summarize", "effective_band"]


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


def detect_oscillations(v, fs, *, spikes=None, params: OscillationParams = OscillationParams()) -> pd.DataFrame:
    """Detect subthreshold membrane-potential oscillation (SSO) episodes in one sweep.

    The method is `params.method` (a name in `drgephys.oscillations.methods.METHODS`; default ``"bosc"``:
    spikes bridged, drift and hum removed, Morlet power above a 1/f background, episodes measured cycle
    by cycle; see :mod:`drgephys.oscillations.bosc`).

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
    v, fs, spk, band = _checked(v, fs, spikes, params)
    clean = remove_spikes(v, fs, spk, params.removal())
    return methods.get(params.method).detect(clean, fs, params, band).frame()


def explain_oscillations(v, fs, *, spikes=None, params: OscillationParams = OscillationParams()) -> dict:
    """Run the ``"bosc"`` detector and keep every intermediate step, for teaching and QC.

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
    v, fs, spk, band = _checked(v, fs, spikes, params)
    out = detect_bosc(remove_spikes(v, fs, spk, params.removal()), fs, params, band, keep=True)
    out["episodes"] = out["episodes"].frame()
    return out


def _checked(v, fs, spikes, params):
    """Validated ``(v, fs, spike columns, band)`` for the public entry points."""
    if not isinstance(params, OscillationParams):
        raise TypeError(f"`params` must be an OscillationParams; got {type(params).__name__}")
    fs = check_fs(fs)
    v = check_v(v)
    band = _band(v.size, fs, params)
    if spikes is None:
        return v, fs, find_spikes(v, fs), band
    return v, fs, pp.spike_columns(spikes, v.size), band


def find_episodes(v: np.ndarray, fs: float, spikes, params: OscillationParams = OscillationParams(), *,
                  band: tuple | None = None, clean: SpikeFree | None = None) -> EpisodeTable:
    """The oscillation stage on validated inputs: `detect_oscillations` as an `EpisodeTable` (what the
    pipeline calls after spike detection, so the trace is not checked again).

    Parameters
    ----------
    v : ndarray, shape (n,), float64
        Finite membrane potential, mV (checked by the caller, e.g. by spike detection).
    fs : float
        Sampling rate, Hz (checked).
    spikes : mapping of column name to ndarray of int, shape (k,) each
        The spikes' ``threshold_index``, ``foot_index``, ``trough_index`` and ``end_index`` (a
        `drgephys.spikes.SpikeTable`), inside the trace.
    params : OscillationParams
    band : (float, float), optional
        The analysed band (Hz) when the caller has computed it (`effective_band`, with its warning, and the
        length check); None computes and checks it here.
    clean : SpikeFree, optional
        The spikes already removed with ``params.removal()`` (the pipeline shares it with the trigger stage);
        None removes them here.

    Returns
    -------
    EpisodeTable
        As `detect_oscillations` (times in s from the first sample).

    Raises
    ------
    ValueError
        When the trace is too short or too slowly sampled for the band (as `detect_oscillations`).
    """
    band = _band(v.size, fs, params) if band is None else band
    clean = remove_spikes(v, fs, spikes, params.removal()) if clean is None else clean
    return methods.get(params.method).detect(clean, fs, params, band)


def _band(n: int, fs: float, params: OscillationParams) -> tuple[float, float]:
    """`effective_band`, after checking that ``n`` samples at ``fs`` last `min_cycles` of its bottom."""
    lo, hi = effective_band(fs, params)
    if n / fs < params.min_cycles / lo:
        raise ValueError(f"`v` must last at least {params.min_cycles:g} cycles of the band bottom ({lo:g} Hz), "
                         f"i.e. {params.min_cycles / lo:g} s; got {n / fs:g} s ({n} samples at {fs:g} Hz)")
    return lo, hi


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
    missing = [c for c in ("start_s", "end_s", "frequency_hz", "amplitude_mv") if c not in episodes.columns]
    if len(episodes) and missing:
        raise ValueError(f"`episodes` must have columns start_s, end_s, frequency_hz, amplitude_mv; missing {missing}")
    cols = {c: episodes[c].to_numpy(dtype=float) for c in ("start_s", "end_s", "frequency_hz", "amplitude_mv")} \
        if len(episodes) else {}
    return summarize(cols, duration_s)


def summarize(episodes, duration_s: float) -> dict:
    """`summarize_oscillations` of an `EpisodeTable` (or any mapping of the four columns to arrays; no
    checks: the pipeline's form)."""
    if len(episodes) == 0 or len(episodes["start_s"]) == 0:
        return {"sso_detected": False, "sso_frequency_hz": math.nan, "sso_amplitude_mv": math.nan,
                "sso_time_fraction": 0.0}
    dur = episodes["end_s"] - episodes["start_s"]
    return {"sso_detected": True,
            "sso_frequency_hz": _weighted_median(episodes["frequency_hz"], dur),
            "sso_amplitude_mv": _weighted_median(episodes["amplitude_mv"], dur),
            "sso_time_fraction": float(min(dur.sum() / duration_s, 1.0))}
