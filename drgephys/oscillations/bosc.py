"""The ``"bosc"`` SSO method: spikes bridged, decimation, drift and hum removal, Morlet power against a 1/f
background (BOSC), candidates measured cycle by cycle.

Steps (each justified in its module): (1) bridge each spike's span by straight-line interpolation and keep
a mask (`drgephys._numerics.spans`); (2) decimate with an anti-aliasing Kaiser FIR to ``>= working_fs_ratio``
x the band top (:mod:`.decimation`); (3) remove drift with a running median (edge-preserving, so current
steps leave no ringing) and blank large residual excursions as artifacts (:mod:`.preprocess`); (4) subtract
phase-stable mains lines (:mod:`.mains`); (5) BOSC on 6-cycle Morlet power with a robust aperiodic
background (:mod:`.tfr`); (6) build episodes, measure them cycle by cycle and keep those passing the
quality minima (:mod:`.episodes`, :mod:`.measure`, :mod:`.assemble`).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import special

from .._numerics.gapfill import ar_fill
from .._numerics.spans import fill_spans, merge_spans, runs, spans_to_mask
from ..spikes.removal import SpikeFree
from . import preprocess as pp
from .assemble import assemble
from .episodes import find_candidates
from .mains import remove_mains
from .working import Working
from .params import OscillationParams
from .tfr import Levels, background, morlet_power, wavelet_freqs

__all__ = ["detect_bosc"]

#: AR model of the gap filling (`drgephys._numerics.gapfill`): 25 ms of context (a cycle of the slower DRG
#: SSOs, 40 Hz; Amir et al. 1999), gaps up to 50 ms (longer ones stay bridged).
AR_ORDER_S = 0.025
AR_MAX_GAP_S = 0.05


def detect_bosc(clean: SpikeFree, fs: float, params: OscillationParams, band, *, keep: bool = False):
    """Steps 1-6 on a validated trace whose spikes were removed.

    Parameters
    ----------
    clean : SpikeFree
        The trace without the spikes' AHPs and the spans still holding spike waveforms
        (`drgephys.spikes.removal.remove_spikes`).
    fs : float
        Sampling rate, Hz.
    params : OscillationParams
    band : (float, float)
        Analysed band, Hz (`drgephys.oscillations.detect.effective_band`).
    keep : bool
        Return every intermediate step (see `drgephys.oscillations.explain_oscillations`) instead of the
        episodes alone.

    Returns
    -------
    EpisodeTable, or dict when `keep`
    """
    lo, hi = band
    x, ss, se = clean.x, clean.starts, clean.ends
    q = pp.decimation_factor(fs, hi, params.working_fs_ratio)
    fw = fs / q
    y = pp.blank_and_decimate(x, ss, se, fs, q, hi)   # float32 (the caller's array is never modified)
    bs, be = (np.floor(ss / q).astype(np.int64) - 1, np.ceil(se / q).astype(np.int64) + 1)
    r, valid, artifact_free, lines = _clean(y, fw, (bs, be), params, band, gap_fill=clean.through)
    freqs = wavelet_freqs(lo, hi, params.n_freqs)
    power = morlet_power(r, fw, freqs, params.wavelet_cycles)
    edge = int(math.ceil(2 * params.wavelet_cycles / (2 * math.pi * lo) * fw))
    use = valid.copy()
    if use.size > 4 * edge:                        # background away from the zero-padded trace ends
        use[:edge] = use[use.size - edge:] = False
    bg, _ = background(power, freqs, use, params.background_tolerance_db)
    levels = Levels(freqs, bg, bg * _chi2_2_ppf(params.power_percentile / 100) / 2)
    # candidates run through the short bridged AP cores when the AHPs were subtracted (no cone of influence
    # around them: the bridge is a few ms of straight line); the measures leave those samples out
    cand_valid = artifact_free if clean.through else valid
    cand = find_candidates(power, levels.threshold, freqs, cand_valid, fw, params)
    if not keep:
        del power
    out = assemble(cand, Working(r, y, valid, fw, levels), params, band)
    out.attrs.update(mains_lines=lines, band_hz=(lo, hi), working_fs_hz=fw)
    if not keep:
        return out
    return {"episodes": out, "working_fs_hz": fw, "filled_mv": y, "residual_mv": r, "valid": valid,
            "mains_lines": lines, "freqs_hz": freqs, "power": power, "background": bg,
            "threshold": levels.threshold, "band_hz": (lo, hi)}


@functools.lru_cache(maxsize=8)
def _chi2_2_ppf(p: float) -> float:
    """``scipy.stats.chi2.ppf(p, 2)``: what it computes, ``2 · gammaincinv(1, p)`` (cached; without
    ``scipy.stats``, whose import costs 0.3 s)."""
    return float(2.0 * special.gammaincinv(1.0, p))


def _clean(y, fw, blanked, params, band, *, gap_fill: bool):
    """Steps 3-4: remove drift and artifacts, remove hum.

    Returns ``(r, valid, artifact_free, lines)``: the drift- and hum-free trace (mV), the mask of samples
    the measures use (neither bridged nor artifact), the mask of samples outside artifacts, and the hum lines
    removed (``y`` has its artifact spans filled in place; ``blanked``: the spike spans at the working rate).
    """
    lo, hi = band
    bs, be = blanked
    m = y.size
    r, _ = pp.remove_drift(y, fw, params.drift_window_cycles / lo)
    art_s, art_e = runs(np.abs(r) > params.artifact_mv)
    apad = int(math.ceil(params.artifact_pad_s * fw))
    bs, be = merge_spans(np.concatenate((bs, art_s - apad)), np.concatenate((be, art_e + apad)), m)
    if art_s.size:
        fill_spans(y, art_s - apad, art_e + apad)
        r, _ = pp.remove_drift(y, fw, params.drift_window_cycles / lo)
    valid = ~spans_to_mask(bs, be, m, merged=True)
    artifact_free = ~spans_to_mask(art_s - apad, art_e + apad, m) if art_s.size else np.ones(m, bool)
    r = r.astype(np.float64)
    fill_spans(r, bs, be, merged=True)
    if gap_fill:   # an ongoing oscillation continued through the (short) AP cores
        ar_fill(r, bs, be, order=max(int(round(AR_ORDER_S * fw)), 4), max_gap=int(round(AR_MAX_GAP_S * fw)))
    r, lines = remove_mains(r, fw, valid, hi, params)
    return r, valid, artifact_free, lines
