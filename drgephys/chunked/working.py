"""SSO detection on an already decimated working trace (the ``sso="decimated"`` pass of `analyze_chunked`).

`drgephys.oscillations.detect_oscillations` takes a full-rate trace: it blanks spikes, decimates, then runs
steps 3-6 at the working rate. The chunked analysis builds the decimated, spike-blanked trace window by
window (`windows.decimated_core`), so it needs steps 3-6 alone. They are called here from the oscillation
package's own building blocks in the order of ``detect_oscillations`` / ``_prepare`` (drift and artifacts,
mains, Morlet power, background, candidates, ``_assemble``), so the output equals the in-memory analysis
(checked by ``tests/test_chunked.py`` against ``drgephys.analyze``). Calling ``detect_oscillations`` on the
decimated trace instead would re-fill the blanked spans at the working rate and change the drift baseline
around every spike (frequencies moved by up to 0.08 Hz, amplitudes by up to 3 % on a simulated minute).

TODO(oscillations owner): a public ``detect_oscillations_working(y, fw, blank_starts, blank_ends, params)``
that ``detect_oscillations`` itself calls after decimation would remove this mirror.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = ["detect_on_working"]


def detect_on_working(y: np.ndarray, fw: float, bs: np.ndarray, be: np.ndarray, params, lo: float, hi: float):
    """Steps 3-6 of `detect_oscillations` on the decimated trace ``y`` (spikes already filled).

    Parameters
    ----------
    y : ndarray, shape (m,), float32
        Decimated membrane potential with spike spans filled at full rate, mV (modified in place by
        artifact filling, as in ``detect_oscillations``).
    fw : float
        Working rate, Hz.
    bs, be : ndarray of int
        Blanked spans ``[bs, be)`` at the working rate (``floor(ss / q) - 1``, ``ceil(se / q) + 1``).
    params : OscillationParams
    lo, hi : float
        Analysed band (`drgephys.oscillations.detect.effective_band` at the full rate), Hz.

    Returns
    -------
    DataFrame
        As `detect_oscillations` (times in s from the first sample).

    Raises
    ------
    ValueError
        When the trace is shorter than ``min_cycles`` cycles of the band bottom.
    """
    from ..oscillations import preprocess as pp
    from ..oscillations.detect import _assemble
    from ..oscillations.episodes import find_candidates
    from ..oscillations.mains import remove_mains
    from ..oscillations.tfr import background, morlet_power, wavelet_freqs

    m = y.size
    if m / fw < params.min_cycles / lo:
        raise ValueError(f"the sweep must last at least {params.min_cycles:g} cycles of the band bottom "
                         f"({lo:g} Hz), i.e. {params.min_cycles / lo:g} s; got {m / fw:g} s")
    # step 3 (as detect._prepare after decimation): drift, artifacts, blank mask
    r, _ = pp.remove_drift(y, fw, params.drift_window_cycles / lo)
    art_s, art_e = pp.runs(np.abs(r) > params.artifact_mv)
    apad = int(math.ceil(params.artifact_pad_s * fw))
    bs, be = pp.merge_spans(np.concatenate((bs, art_s - apad)), np.concatenate((be, art_e + apad)), m)
    if art_s.size:
        pp.fill_spans(y, art_s - apad, art_e + apad)
        r, _ = pp.remove_drift(y, fw, params.drift_window_cycles / lo)
    valid = ~pp.spans_to_mask(bs, be, m)
    r = r.astype(np.float64)
    pp.fill_spans(r, bs, be)
    # step 4: mains
    r, lines = remove_mains(r, fw, valid, hi, params)
    # steps 5-6 (as detect_oscillations)
    freqs = wavelet_freqs(lo, hi, params.n_freqs)
    power = morlet_power(r, fw, freqs, params.wavelet_cycles)
    edge = int(math.ceil(2 * params.wavelet_cycles / (2 * math.pi * lo) * fw))
    use = valid.copy()
    if use.size > 4 * edge:
        use[:edge] = use[use.size - edge:] = False
    bg, _ = background(power, freqs, use, params.background_tolerance_db)
    thr = bg * stats.chi2.ppf(params.power_percentile / 100, 2) / 2
    cand = find_candidates(power, thr, freqs, valid, fw, params)
    del power
    out = _assemble(cand, r, y, valid, freqs, bg, thr, fw, params, lo, hi)
    out.attrs.update(mains_lines=lines, band_hz=(lo, hi), working_fs_hz=fw)
    return out
