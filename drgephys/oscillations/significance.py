"""How likely is an episode under noise alone: a p-value per episode and the noise floor of a trace.

Under the null hypothesis — the trace is noise whose power spectrum is the fitted aperiodic background — the
Morlet power at frequency ``f``, divided by the background, is chi-square(2)/2 distributed (mean 1), and
its autocorrelation over time is ``exp(-τ² / (2 σ_t²))`` with ``σ_t = cycles / (2 π f)`` (the squared
autocorrelation of the complex wavelet output; Torrence & Compo 1998). Its integrated correlation time is
``σ_t sqrt(2 π)``, so an episode of ``n`` cycles averages ``N = n sqrt(2 π) / cycles`` (0.42 n for 6-cycle
wavelets) independent values, and its mean power ratio is approximately Gamma(N, 1/N) distributed
(Welch-type averaging of chi-square variables). The one-test p-value of an episode with mean power ratio
``R`` (``power_db``) is the Gamma survival function at ``R``.

A detector that looks everywhere makes many tests: a window of duration ``T`` holds ``T / (σ_t sqrt(2 π))``
independent times at each frequency and ``ln(f_hi / f_lo) cycles / 2`` independent frequencies (wavelets
about two standard deviations ``f / cycles`` apart). `n_tests` counts them; the reported ``p_value`` is the
Bonferroni bound ``min(1, n_tests p)``, the chance that noise alone makes at least one episode this strong
anywhere in the window. An episode is reported only when ``p_value <= max_p_value`` (default 0.01): at most
about one false episode per 100 windows of pure noise, i.e. <= 0.6 per hour with 60-s windows
(`benchmarks/noise_false_rate.py` measures it).

The noise floor of a trace (``noise_floor_mv``) is the peak-to-peak amplitude, in the units of
``amplitude_mv``, of a 10-cycle oscillation at the band's geometric centre that would just reach
``max_p_value`` over that trace's background.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

__all__ = ["effective_samples", "n_tests", "p_values", "noise_floor_mv", "FLOOR_CYCLES"]

#: Length (cycles) of the oscillation that defines the noise floor.
FLOOR_CYCLES = 10.0


def effective_samples(n_cycles, wavelet_cycles: float) -> np.ndarray:
    """Independent wavelet-power values in an episode of ``n_cycles`` cycles (at least 1)."""
    return np.maximum(np.asarray(n_cycles, dtype=np.float64) * math.sqrt(2 * math.pi) / wavelet_cycles, 1.0)


def n_tests(duration_s: float, band, wavelet_cycles: float) -> float:
    """Independent time-frequency tests in ``duration_s`` seconds over ``band`` (Hz): independent frequencies
    (``ln(hi / lo) cycles / 2``, at least 1) times the independent times at each (``T f sqrt(2 π) / cycles``),
    the latter averaged over the band's log-spaced frequencies."""
    lo, hi = float(band[0]), float(band[1])
    n_f = max(math.log(hi / lo) * wavelet_cycles / 2.0, 1.0)
    f_mean = (hi - lo) / math.log(hi / lo)             # mean frequency of a log-uniform spread
    return n_f * max(duration_s * f_mean * math.sqrt(2 * math.pi) / wavelet_cycles, 1.0)


def p_values(power_db, n_cycles, *, wavelet_cycles: float, tests: float) -> np.ndarray:
    """Bonferroni-bounded p-values of episodes with mean power ``power_db`` over the background and
    ``n_cycles`` cycles (NaN where either is NaN)."""
    r = 10.0 ** (np.asarray(power_db, dtype=np.float64) / 10.0)
    n = effective_samples(n_cycles, wavelet_cycles)
    p = special.gammaincc(n, n * r)                    # Gamma(n, 1/n) survival at r
    return np.minimum(1.0, p * tests)


def noise_floor_mv(background_at, band, *, wavelet_cycles: float, tests: float, max_p_value: float) -> float:
    """Peak-to-peak amplitude (mV) of a `FLOOR_CYCLES`-cycle oscillation at the band's geometric centre whose
    mean power over the background just gives ``max_p_value`` (``background_at(f)``: mean background power,
    mV², at ``f`` Hz). Envelope convention of ``amplitude_mv``: ``2 sqrt(P - background)``."""
    f0 = math.sqrt(float(band[0]) * float(band[1]))
    n = float(effective_samples(FLOOR_CYCLES, wavelet_cycles))
    r = special.gammainccinv(n, min(max_p_value / tests, 1.0)) / n
    return 2.0 * math.sqrt(max(r - 1.0, 0.0) * background_at(f0))
