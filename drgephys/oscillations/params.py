"""Parameters of the SSO detector (:class:`OscillationParams`).

Every default is tied to a published method or to the range of DRG subthreshold oscillations
(Amir, Michaelis & Devor 1999; Liu et al. 2000; Kovalsky, Amir & Devor 2009); see the field notes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from ..spikes.params import RemovalSettings


@dataclass(frozen=True)
class OscillationParams:
    """Settings of :func:`drgephys.oscillations.detect_oscillations` (units in the field names).

    Attributes
    ----------
    method : str, default "bosc"
        The detection method, a name in `drgephys.oscillations.methods.METHODS` (``"bosc"``: BOSC on Morlet
        power with spikes bridged; Whitten, Wood & Caplan 2011). The fields below are its settings.
    band_hz : tuple of float, default (10.0, 200.0)
        SSO search band in Hz. DRG SSOs run from tens of Hz to ~110 Hz (Amir et al. 1999; Liu et al. 2000);
        the Kovalsky, Amir & Devor (2009) model moves ~3 Hz per mV, from 45 Hz at -57 mV to 110 Hz at
        -37 mV, so 10-200 Hz leaves an octave of margin each side. The top edge is clipped to
        ``fs / max_fs_ratio`` when the recording is too slow (a warning says so).
    max_fs_ratio : float, default 3.0
        The band top must stay below ``fs / max_fs_ratio``: a 6-cycle Morlet wavelet at ``f`` reaches
        ``f (1 + 3/6)`` at 3 standard deviations, which must stay below Nyquist (``fs/2``).
    working_fs_ratio : float, default 3.0
        The trace is decimated (anti-aliasing FIR, >= 60 dB) to the lowest rate ``fs/q`` (integer ``q``)
        that is at least ``working_fs_ratio`` times the band top (200 Hz -> >= 600 Hz).
    spike_removal : {"subtract", "blank"}, default "subtract"
        How spikes leave the trace before any spectral step (`drgephys.oscillations.spike_removal`):
        ``"subtract"`` bridges each AP's core (foot to AHP trough) and subtracts its fitted AHP, so the SSO
        stays measurable between spikes of a cell firing at 10-30 Hz (Amir et al. 1999: spikes ride the SSO's
        peaks); ``"blank"`` bridges each spike with its whole AHP (``threshold_index - spike_pre_ms`` to
        ``end_index + spike_post_ms``), the detector's first form.
    spike_pre_ms, spike_post_ms : float, default 1.0 and 5.0
        Margins added before each spike's foot (``"subtract"``; its threshold with ``"blank"``) and, with
        ``"blank"``, after its ``end_index``; AHP tails last 50-150 ms and their remnants leave lines at
        multiples of the firing rate.
    ahp_fit_max_ms : float, default 300.0
        ``"subtract"``: longest stretch after the AHP trough fitted by the AHP model (medium AHPs recover
        within 50-150 ms; beyond, the local baseline is the drift removal's job).
    min_ahp_fit_ms : float, default 6.0
        ``"subtract"``: a recovery shorter than this (burst spikes, 100-300 Hz within a burst) is not fitted
        but bridged with the AP core.
    drift_window_cycles : float, default 5.0
        Slow drift is a running median over ``drift_window_cycles / band_hz[0]`` seconds (0.5 s at 10 Hz).
        A running median leaves monotone pieces (steps, RC charging curves) untouched (Tukey 1977;
        Gallagher & Wise 1981, root signals), so current steps do not ring into the wavelet band as they
        would after a linear high-pass filter.
    artifact_mv : float, default 10.0
        Samples whose drift-removed value departs by more than this from the baseline are artifacts
        (unsharp step corners, missed spikes) and are blanked like spikes: SSOs are ~0.5-5 mV
        peak-to-peak (Amir et al. 1999), far below +/-10 mV.
    artifact_pad_s : float, default 0.02
        Margin blanked around each artifact.
    mains_hz : tuple of float, default (50.0, 60.0)
        Candidate mains fundamentals; each is tested with its harmonics inside the band.
    mains_tolerance_hz : float, default 0.1
        Largest offset of the mains fundamental from nominal that is tracked (harmonic ``k`` gets ``k`` times
        it).
    mains_block_s : float, default 0.2
        Block length for the per-block complex amplitudes of a mains line (10 cycles at 50 Hz).
    mains_window_s : float, default 10.0
        Window of the running median of the per-block amplitudes, which follows slow drift of the mains
        level and frequency (hundredths of a Hz over minutes). An SSO phase-locked to the mains at exactly its
        frequency for more than half of it would be taken for hum; one whose phase drifts never is.
    mains_z : float, default 6.0
        A line is hum when the median of its per-block complex amplitudes lies ``mains_z`` standard errors
        from zero (chi-square(2) tail ``exp(-z^2/2)`` = 1.5e-8 at 6) and its per-block phases agree
        (mean resultant length >= ``mains_min_phase_locking``). An SSO at the same frequency has phases
        that drift against the mains and its blocks do not move the median.
    mains_min_phase_locking : float, default 0.5
        Minimum phase agreement of a hum line: median over blocks of the cosine of each block's phase
        difference to the median vector (1 = all blocks in phase; 0.5 = half of them within +-60 degrees).
    n_freqs : int, default 24
        Log-spaced wavelet centre frequencies across the band (~5.5 per octave for 10-200 Hz, well inside
        the 39 % full-width of a 6-cycle wavelet).
    wavelet_cycles : float, default 6.0
        Morlet width (BOSC, Whitten, Wood & Caplan 2011; Caplan et al. 2001).
    power_percentile : float, default 95.0
        Power threshold: this percentile of chi-square(2)/2 times the background mean power (BOSC: 95th,
        ~3x the background).
    background_tolerance_db : float, default 3.0
        The aperiodic background is the per-frequency median power (converted to a mean: median/ln 2 for
        chi-square(2)), clipped to at most this many dB above a robust (Siegel repeated-median) straight-line
        fit of log power against log frequency (BOSC). The median ignores episodes shorter than half the
        trace; the clip keeps longer ones from raising their own threshold (cf. fBOSC, Seymour et al. 2022).
    min_cycles : float, default 3.0
        Duration threshold in cycles (BOSC; fBOSC 2-3; bycycle ``min_n_cycles`` 3).
    max_gap_cycles : float, default 1.5
        Neighbouring detections at the same frequency are merged across gaps up to this many cycles.
    max_blank_gap_s : float, default 0.25
        ... and across blanked spans (a spike and its AHP: AHPs last 20-150 ms) up to this long; measures
        never use the blanked samples.
    min_power_db : float, default 10.0
        Acceptance: mean wavelet power over the episode at least this far above the background. Noise
        excursions that pass the BOSC 95 % / 3-cycle rule average 5-9.5 dB (measured on pink + white noise
        and on real subthreshold recordings, see ``benchmarks/results/oscillations.md``); 10 dB is a
        sinusoid of peak-to-peak ``2 sqrt(9 x background)``.
    extend_margin_db : float, default 4.0
        Hysteresis: a piece that passes only the BOSC-level rules (``min_cycles``, power at least
        ``min_power_db - extend_margin_db`` = 6 dB, i.e. above the 95 % crossing level of ~4.8 dB) joins an
        accepted neighbour at the same frequency across a mergeable gap (dual-threshold burst detection,
        e.g. NeuroDSP's ``dual_threshold``); on its own it is never reported.
    min_sinusoidality : float, default 0.65
        Acceptance: share of the episode's 2-octave-band variance (f/2..2f) carried by the 6-cycle wavelet
        band around its frequency: 1 for a sinusoid; noise excursions that pass the power rules measure
        0.4-0.69 (pink/white/OU noise and a real passive-cell recording), synthetic SSOs at 0.5-4 mV in
        0.3 mV noise >= 0.75 (Dodson, Pastoll & Nolan 2011: a spectral peak alone does not make an
        oscillator).
    long_episode_cycles, min_sinusoidality_long : float, default 25 and 0.4
        Episodes of at least `long_episode_cycles` cycles need only `min_sinusoidality_long`. In cells firing
        at 10-30 Hz the residual of the AHP subtraction (a few tenths of a mV, locked to the spikes, at the
        firing rate and its harmonics) adds broadband variance, and true SSO episodes of 0.5-1 mV measure
        0.45-0.63 (hard cohort: 11 of the 17 missed episodes, all 28-103 cycles long, p < 1e-6, period CV
        <= 0.09); the noise excursions and spike remnants that pass the power rules last 3-21 cycles
        (0.01-0.62 there; noise-only and firing cells without SSO gave none of >= 25 cycles). Sustained
        phase-regular power over >= 25 cycles is itself the evidence the sinusoidality rule stands for.
    min_power_db_long : float, default 8.0
        ... and at least this power over the background instead of `min_power_db`. With a spike on every
        1-2 SSO peaks the AHP fit takes part of each cycle: a 0.8 mV, 27 Hz SSO under 17 Hz firing measures
        0.4-0.5 mV and 8-10.6 dB over its 2-s episode (unseen hard cohort, seed 11: 9 of its 10 missed
        episodes). 25 cycles at 8 dB have p < 1e-9 after a 60-s window's ~4,800 tests (`significance`);
        pure noise still gives 0.5 false episodes per hour and the firing cells without SSO of four hard
        cohorts (seeds 2024, 7, 11, 13) none. Neighbouring pieces at the same frequency that together span
        `long_episode_cycles` are measured as one episode even when none passed alone
        (`drgephys.oscillations.assemble`).
    max_period_cv : float, default 0.25
        Acceptance: robust coefficient of variation of the cycle periods measured on a broader (3-cycle)
        band. bycycle's period consistency >= 0.5 (neighbouring periods within a factor 2) is looser.
    max_amplitude_cv : float, default 1.0
        Acceptance: coefficient of variation of cycle peak-to-peak amplitudes; bycycle's amplitude
        consistency >= 0.5 allows neighbouring cycles to differ two-fold, and a waxing and waning SSO
        varies by ~0.2-0.4.
    max_amplitude_mv : float, default 20.0
        Acceptance: episodes larger than this peak-to-peak are not subthreshold oscillations.
    max_p_value : float, default 0.01
        Acceptance: the chance that noise alone (the fitted aperiodic background) makes an episode at least
        this strong and this long anywhere in the analysis window, Bonferroni-bounded over the window's
        independent time-frequency tests (`drgephys.oscillations.significance`). 0.01: at most ~0.6 false
        episodes per hour of noise with 60-s windows.
    """

    method: str = "bosc"
    band_hz: tuple = (10.0, 200.0)
    max_fs_ratio: float = 3.0
    working_fs_ratio: float = 3.0
    spike_removal: str = "subtract"
    spike_pre_ms: float = 1.0
    spike_post_ms: float = 5.0
    ahp_fit_max_ms: float = 300.0
    min_ahp_fit_ms: float = 6.0
    drift_window_cycles: float = 5.0
    artifact_mv: float = 10.0
    artifact_pad_s: float = 0.02
    mains_hz: tuple = (50.0, 60.0)
    mains_tolerance_hz: float = 0.1
    mains_block_s: float = 0.2
    mains_window_s: float = 10.0
    mains_z: float = 6.0
    mains_min_phase_locking: float = 0.5
    n_freqs: int = 24
    wavelet_cycles: float = 6.0
    power_percentile: float = 95.0
    background_tolerance_db: float = 3.0
    min_cycles: float = 3.0
    max_gap_cycles: float = 1.5
    max_blank_gap_s: float = 0.25
    min_power_db: float = 10.0
    extend_margin_db: float = 4.0
    min_sinusoidality: float = 0.65
    long_episode_cycles: float = 25.0
    min_sinusoidality_long: float = 0.4
    min_power_db_long: float = 8.0
    max_period_cv: float = 0.25
    max_amplitude_cv: float = 1.0
    max_amplitude_mv: float = 20.0
    max_p_value: float = 0.01

    def __post_init__(self):
        try:
            lo, hi = float(self.band_hz[0]), float(self.band_hz[1])
        except (TypeError, ValueError, IndexError):
            raise TypeError(f"`band_hz` must be a pair (low, high) in Hz; got {self.band_hz!r}") from None
        if len(self.band_hz) != 2 or not (0 < lo < hi) or not math.isfinite(hi):
            raise ValueError(f"`band_hz` must be a pair (low, high) with 0 < low < high in Hz; got {self.band_hz!r}")
        object.__setattr__(self, "band_hz", (lo, hi))
        object.__setattr__(self, "mains_hz", tuple(float(m) for m in self.mains_hz))
        nonneg = {"spike_pre_ms", "spike_post_ms", "artifact_pad_s", "max_blank_gap_s", "max_gap_cycles",
                  "min_power_db", "min_sinusoidality", "min_sinusoidality_long", "extend_margin_db",
                  "min_power_db_long"}
        if not isinstance(self.method, str) or not self.method:
            raise TypeError(f"`method` must be the name of an SSO method, e.g. 'bosc'; got {self.method!r}")
        if self.spike_removal not in ("subtract", "blank"):
            raise ValueError(f"`spike_removal` must be 'subtract' or 'blank'; got {self.spike_removal!r}")
        for f in fields(self):
            if f.name in ("method", "spike_removal", "band_hz", "mains_hz"):
                continue
            val = getattr(self, f.name)
            if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val):
                raise TypeError(f"`{f.name}` must be a finite number; got {val!r}")
            if val < 0 or (val == 0 and f.name not in nonneg):
                raise ValueError(f"`{f.name}` must be {'>= 0' if f.name in nonneg else '> 0'}; got {val!r}")
        if self.n_freqs < 2 or int(self.n_freqs) != self.n_freqs:
            raise ValueError(f"`n_freqs` must be an integer >= 2; got {self.n_freqs!r}")
        if not 0 < self.power_percentile < 100:
            raise ValueError(f"`power_percentile` must lie in (0, 100); got {self.power_percentile!r}")
        if self.max_fs_ratio <= 2 or self.working_fs_ratio < 2:
            raise ValueError("`max_fs_ratio` must be > 2 and `working_fs_ratio` >= 2 (Nyquist); got "
                             f"{self.max_fs_ratio!r} and {self.working_fs_ratio!r}")
        if not 0 < self.max_p_value <= 1:
            raise ValueError(f"`max_p_value` must lie in (0, 1]; got {self.max_p_value!r}")
        if not 0 <= self.mains_min_phase_locking <= 1 or self.min_sinusoidality > 1:
            raise ValueError("`mains_min_phase_locking` and `min_sinusoidality` must lie in [0, 1]; got "
                             f"{self.mains_min_phase_locking!r} and {self.min_sinusoidality!r}")
        if self.min_power_db_long > self.min_power_db:
            raise ValueError("`min_power_db_long` must not exceed `min_power_db` (long episodes need less, not "
                             f"more); got {self.min_power_db_long!r} > {self.min_power_db!r}")
        if self.min_sinusoidality_long > self.min_sinusoidality:
            raise ValueError("`min_sinusoidality_long` must not exceed `min_sinusoidality` (long episodes need "
                             f"less, not more); got {self.min_sinusoidality_long!r} > {self.min_sinusoidality!r}")

    def power_minimum_db(self, n_cycles):
        """The acceptance rule's power minimum (dB) of episodes of `n_cycles` cycles (scalar or array):
        `min_power_db_long` from `long_episode_cycles` cycles, else `min_power_db`. The one place the rule
        lives: the full acceptance, the cheap screen and the pre-selection all read it (the screen once kept
        the 10-dB minimum for long episodes and dropped them before their full measure)."""
        return np.where(np.asarray(n_cycles) >= self.long_episode_cycles, self.min_power_db_long,
                        self.min_power_db)

    def removal(self) -> RemovalSettings:
        """The spike-removal settings of these parameters (`drgephys.spikes.removal.remove_spikes`)."""
        return RemovalSettings(self.spike_removal, self.spike_pre_ms, self.spike_post_ms, self.ahp_fit_max_ms,
                               self.min_ahp_fit_ms, self.drift_window_cycles / self.band_hz[0])
