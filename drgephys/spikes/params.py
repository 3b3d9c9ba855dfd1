"""Parameters of spike detection (`SpikeParams`), of the SSO-trigger rule (`TriggerParams`) and of spike removal
before the SSO detector (`RemovalSettings`, built by `drgephys.oscillations.OscillationParams.removal`).

`SpikeParams` and `TriggerParams` are frozen dataclasses (``dataclasses.asdict(params)`` is saved with every
result); `RemovalSettings` is derived from the saved `OscillationParams`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

THRESHOLD_METHODS = ("dvdt", "fraction_max_dvdt", "max_d2v")


def _positive(name: str, value, unit: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"`{name}` must be a positive number in {unit}; got {value!r}")


@dataclass(frozen=True)
class SpikeParams:
    """Action-potential detection and feature parameters.

    Detection runs on dV/dt smoothed over a fixed *time* span (a Savitzky–Golay slope over
    `detection_smoothing_ms`), so it behaves the same from 1 kHz to 200 kHz. A candidate starts where
    that slope rises through ``max(detection_dvdt_mv_per_ms, noise_factor × robust SD of dV/dt)`` and
    must then pass plausibility checks before it counts as a spike.

    Attributes
    ----------
    threshold_method : {"dvdt", "fraction_max_dvdt", "max_d2v"}
        AP threshold definition (Sekerli et al. 2004, IEEE Trans Biomed Eng 51:1665, compare them):
        ``"dvdt"`` — where dV/dt rises through `threshold_dvdt_mv_per_ms`; ``"fraction_max_dvdt"`` —
        where dV/dt rises through `threshold_fraction` × the spike's own maximum upstroke (IPFX,
        5 %); ``"max_d2v"`` — the maximum of d²V/dt² on the rising phase.
    threshold_dvdt_mv_per_ms : float
        Level of the ``"dvdt"`` definition. Default 10 mV/ms, eFEL's ``DerivativeThreshold``: low
        enough to catch the slow-rising spikes of small DRG neurons and recordings sampled at a few kHz
        (where the sampled upstroke is blunted), high enough to sit well above SSO slopes
        (a 5 mV, 100 Hz SSO peaks at ~1.6 mV/ms).
    threshold_fraction : float
        Fraction of the maximum upstroke for ``"fraction_max_dvdt"`` (IPFX default 0.05).
    detection_dvdt_mv_per_ms : float
        Absolute floor of the detection slope (10 mV/ms, eFEL; IPFX uses 20 on a 10 kHz-filtered
        derivative — our detection derivative is smoothed more, which blunts peaks, hence the lower floor).
    noise_factor : float
        The detection slope is at least this many robust SDs (1.4826 × MAD) of the detection dV/dt, so
        noisy traces raise their own cutoff (5: < 1 false crossing per 10⁶ samples of Gaussian noise).
    detection_smoothing_ms : float
        Span of the Savitzky–Golay slope used to find candidates (0.5 ms: averages sample noise while
        keeping the upstroke of a 1-ms spike).
    feature_smoothing_ms : float
        Span of the slope used for thresholds and max dV/dt (0.1 ms ≈ a 10 kHz low-pass, the IPFX
        Bessel filter's corner, but scaled with fs instead of fixed). Below 5 samples no smoothing.
        On noisy traces the span doubles (up to `detection_smoothing_ms`) until the slope's noise SD
        is ≤ ¼ of `threshold_dvdt_mv_per_ms`.
    peak_smoothing_ms : float
        Span of the order-3 Savitzky–Golay smoothing of the potential used to time the peak (0.2 ms:
        averages sample noise at ≥ 25 kHz without flattening an AP top; off below 5 samples). The
        peak time is then refined by a parabola through the three samples around the maximum.
    refractory_ms : float
        Candidates closer than this to the previous one belong to the same spike (absolute refractory
        period of mammalian neurons, 1–2 ms).
    min_peak_mv : float
        Peaks below this are not spikes (IPFX ``min_peak`` −30 mV).
    min_amplitude_mv : float
        Minimum peak − threshold (IPFX uses 2 mV inside a stimulus window; spontaneous recordings have
        no such window, so 10 mV keeps spikelets and artefacts out while keeping spikes near
        depolarisation block).
    max_rise_ms : float
        Maximum time from threshold to peak (IPFX ``max_interval`` 5 ms). Raised for broad APs, see
        `adapt_to_width`.
    max_repolarization_ms : float
        The potential must fall back below half amplitude within this time after the peak; steps and
        plateaus never do. Raised for broad APs, see `adapt_to_width`.
    adapt_to_width : bool
        Scale the shape limits with the cell's own AP width (default True). DRG C-type nociceptors fire
        broad APs with a shoulder on the falling phase, half-widths of several ms up to ~15 ms (Harper &
        Lawson 1985, J Physiol 359:47; Fang et al. 2005, J Physiol 565:927), which fixed 5/10-ms limits
        drop; narrow APs (A-type, 0.3–2 ms) keep the fixed limits. A first pass over the candidates measures
        the typical half-width ``w`` (median, robust to a few odd candidates) of those that are clearly
        spikes: peak ≥ `min_peak_mv`, peak − onset potential ≥ 3 × `min_amplitude_mv` (30 mV by default;
        DRG APs are 60–120 mV, spikelets a few mV) and back below half amplitude within 20 ms of the peak
        (the broadest APs, ~15 ms, with a margin; a step or plateau never is, so it cannot widen the limits
        by itself). Then ``max_rise_ms = max(max_rise_ms, 1 × w)``: threshold to peak is shorter than the
        half-width (0.6–0.75 × it for a single-kernel AP, ~0.4 ms for a humped one), and
        ``max_repolarization_ms = max(max_repolarization_ms, 3 × w)``: peak to half-amplitude fall is shorter
        than the half-width, and 3 × leaves room for APs broader than the median (trains broaden them) —
        the defaults' own ratio for a 3-ms AP. Cells with ``w`` ≤ 3.3 ms therefore keep the fixed limits
        exactly. `ahp_window_ms` and `max_end_ms` are not scaled: they bound measurement windows, reject
        nothing, and already cover the AHP of a 15-ms AP. False turns the adaptation off (fixed limits).
    ahp_window_ms : float
        The AHP minimum (trough) is searched up to this long after the peak (or the next spike).
    max_end_ms : float
        Longest span, from threshold, that `end_index` may cover (AHP tails last 50–150 ms).
    baseline_window_ms : float
        Pre-spike baseline window for AHP recovery (median potential).
    recovery_tolerance_mv : float
        The AHP has recovered when the potential is back within this (plus 2 noise SDs) of the baseline.
    """

    threshold_method: str = "dvdt"
    threshold_dvdt_mv_per_ms: float = 10.0
    threshold_fraction: float = 0.05
    detection_dvdt_mv_per_ms: float = 10.0
    noise_factor: float = 5.0
    detection_smoothing_ms: float = 0.5
    feature_smoothing_ms: float = 0.1
    peak_smoothing_ms: float = 0.2
    refractory_ms: float = 2.0
    min_peak_mv: float = -30.0
    min_amplitude_mv: float = 10.0
    max_rise_ms: float = 5.0
    max_repolarization_ms: float = 10.0
    adapt_to_width: bool = True
    ahp_window_ms: float = 100.0
    max_end_ms: float = 150.0
    baseline_window_ms: float = 20.0
    recovery_tolerance_mv: float = 1.0

    def __post_init__(self):
        if self.threshold_method not in THRESHOLD_METHODS:
            raise ValueError(f"`threshold_method` must be one of {THRESHOLD_METHODS}; got "
                             f"{self.threshold_method!r}")
        if not 0 < float(self.threshold_fraction) < 1:
            raise ValueError(f"`threshold_fraction` must be between 0 and 1; got {self.threshold_fraction!r}")
        for name, unit in (("threshold_dvdt_mv_per_ms", "mV/ms"), ("detection_dvdt_mv_per_ms", "mV/ms"),
                           ("noise_factor", "robust SDs"), ("detection_smoothing_ms", "ms"),
                           ("feature_smoothing_ms", "ms"), ("peak_smoothing_ms", "ms"), ("refractory_ms", "ms"),
                           ("min_amplitude_mv", "mV"), ("max_rise_ms", "ms"), ("max_repolarization_ms", "ms"),
                           ("ahp_window_ms", "ms"), ("max_end_ms", "ms"), ("baseline_window_ms", "ms"),
                           ("recovery_tolerance_mv", "mV")):
            _positive(name, getattr(self, name), unit)
        if not math.isfinite(self.min_peak_mv):
            raise ValueError(f"`min_peak_mv` must be a finite potential in mV; got {self.min_peak_mv!r}")
        if not isinstance(self.adapt_to_width, bool):
            raise TypeError(f"`adapt_to_width` must be True or False; got {self.adapt_to_width!r}")


@dataclass(frozen=True)
class TriggerParams:
    """Rule deciding whether a spike arose from an SSO peak (Amir et al. 1999, J Neurosci 19:8589:
    spikes arise when an SSO peak reaches threshold; Liu et al. 2000, J Neurophysiol 84:205: spikes
    ride the depolarising phase).

    The SSO phase at each spike's threshold time comes from a least-squares quadrature fit (cos, sin at
    the episode frequency, plus a quadratic trend) to the trace around the spike, with Gaussian weights of
    SD `fit_sd_cycles` SSO cycles and every spike's own span left out — the analytic-signal phase of a
    narrow band around the episode frequency, without the spikes leaking into it the way they do through
    a band-pass. 0 = SSO peak, ±π = trough. (On 48 simulated traces at 10–50 kHz: balanced accuracy 0.976
    with a 2-cycle pre-spike fit vs 0.936 with linear-interpolation blanking + Butterworth band-pass
    f ± 40 % + Hilbert phase; on the hard cohort of SSO cells firing at 10-30 Hz, `fit_sd_cycles` = 3
    centred vs that pre-spike fit: pooled balanced accuracy 0.887 -> 0.93, see `drgephys.spikes.trigger`.)

    A spike is ``"oscillation"``-triggered when its threshold lies inside an SSO episode (extended by
    `episode_margin_s`), at least `min_fit_coverage` of its window's weight is usable, the fit explains
    at least `min_fit_r2` of the window's variance, and |phase| ≤ `max_abs_phase_rad` (π/4: threshold
    within an eighth of a cycle of the SSO peak — the cycle was rising into the spike). A spike whose
    window is not measurable (phase NaN) takes the decision of the spike before it in the same episode
    (Amir et al. 2002: an SSO peak triggers the first spike of a burst). Otherwise ``"other"``.

    Attributes
    ----------
    band_hz : tuple of float
        SSO band (default 10–200 Hz, as `OscillationParams`); the geometric centre is the fallback
        frequency of an episode without one, and episode frequencies are clipped to it.
    fit_sd_cycles : float
        SD of the fit's Gaussian weights around the spike, in SSO cycles (±3 SD read). 3: on two hard
        cohorts (seeds 2024, 11) pooled balanced accuracy 0.93 / 0.92 (2: 0.92 / 0.91; 4: 0.93 / 0.93 at
        r² ≥ 0; longer windows reach further into neighbouring episodes and drifting phase).
    blank_before_ms : float
        Samples this close before a spike's span (its foot on a raw trace, its AP core on the
        AHP-subtracted one) are left out of the fit.
    foot_dvdt_mv_per_ms : float
        The foot (regenerative ramp into the AP) starts where dV/dt last rose through this before
        threshold (1 mV/ms: above the slope of a 2 mV, 100 Hz SSO, 0.6 mV/ms; well below spike slopes).
    max_foot_ms : float
        Longest foot searched back from threshold.
    max_abs_phase_rad : float
        Maximum |phase| at threshold for an SSO-peak trigger. π/4: spikes launched from simulated SSO
        peaks have |phase| < 0.7 rad in 95 % of cases; spikes at random phases pass π/4 one time in
        four (π/2: one in two). Measured trigger balanced accuracy: simulated cohort (160 cells,
        detected episodes) π/2 0.947, π/3 0.945, π/4 0.934; traces where half the in-episode spikes
        sit at random SSO phases π/2 0.890, π/3 0.926, π/4 0.938 — π/4 has the best worst case (with the
        centred fit on the hard cohort's SSO cells: π/6 0.82, π/4 0.82, π/3 0.78, π/2 0.69).
    min_fit_coverage : float
        Minimum usable share of the window's weight; below it the phase is NaN and the spike inherits the
        decision of the previous spike in the same episode (burst continuation).
    min_fit_r2 : float
        Minimum share of the window's variance explained by the sinusoid (no oscillation → ``"other"``).
        0.05: fits to 0.3 mV white + pink noise alone, at 20-120 Hz, reach r² 0.00-0.07 (95 % below
        0.05); 5 % of the hard cohort's SSO-launched spikes fit below it (0.2, the pre-spike fit's
        threshold, would drop a quarter of them: the long window carries more noise variance).
    episode_margin_s : float
        Episodes are extended by this much on both sides: spikes and their AHPs are blanked before SSO
        detection (`SpikeParams.max_end_ms` = 150 ms; AHP tails last 50–150 ms), so detected episodes
        stop up to that far short of the spikes that interrupt them. On simulated cohorts 0.15 s gave
        trigger balanced accuracy 0.98 with detected episodes (0.91 with 0.05 s) at 0.975 with true
        ones (0.99 with 0.05 s).
    """

    band_hz: tuple = (10.0, 200.0)
    fit_sd_cycles: float = 3.0
    blank_before_ms: float = 0.5
    foot_dvdt_mv_per_ms: float = 1.0
    max_foot_ms: float = 10.0
    max_abs_phase_rad: float = math.pi / 4
    min_fit_coverage: float = 0.25
    min_fit_r2: float = 0.05
    episode_margin_s: float = 0.15

    def __post_init__(self):
        try:
            lo, hi = float(self.band_hz[0]), float(self.band_hz[1])
        except (TypeError, ValueError, IndexError):
            raise TypeError(f"`band_hz` must be a pair (low, high) in Hz; got {self.band_hz!r}") from None
        if not 0 < lo < hi:
            raise ValueError(f"`band_hz` must satisfy 0 < low < high in Hz; got {self.band_hz!r}")
        for name, unit in (("fit_sd_cycles", "cycles"), ("blank_before_ms", "ms"), ("max_abs_phase_rad", "rad"),
                           ("foot_dvdt_mv_per_ms", "mV/ms"), ("max_foot_ms", "ms")):
            _positive(name, getattr(self, name), unit)
        if not 0 < float(self.min_fit_coverage) <= 1:
            raise ValueError(f"`min_fit_coverage` must be in (0, 1]; got {self.min_fit_coverage!r}")
        if not 0 <= float(self.min_fit_r2) < 1:
            raise ValueError(f"`min_fit_r2` must be in [0, 1); got {self.min_fit_r2!r}")
        if not float(self.episode_margin_s) >= 0:
            raise ValueError(f"`episode_margin_s` must be ≥ 0 s; got {self.episode_margin_s!r}")


class RemovalSettings(NamedTuple):
    """How spikes leave the trace (`drgephys.oscillations.OscillationParams.removal` builds it).

    Attributes
    ----------
    mode : {"subtract", "blank"}
        AHPs subtracted and AP cores bridged, or each spike bridged with its whole AHP.
    pre_ms, post_ms : float
        Margins before each spike's foot (its threshold with "blank") and, with "blank", after its end.
    fit_max_ms, min_fit_ms : float
        Longest stretch after the AHP trough fitted; shortest recovery fitted (shorter: bridged).
    baseline_window_s : float
        Window of the running median the AHPs return to (the SSO detector's drift window).
    """

    mode: str
    pre_ms: float
    post_ms: float
    fit_max_ms: float
    min_fit_ms: float
    baseline_window_s: float
