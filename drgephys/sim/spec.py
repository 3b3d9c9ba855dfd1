"""Parameters (:class:`TraceSpec`) and result (:class:`SimulatedTrace`) of the trace generator."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from drgephys.sim.spiketrain import check_pattern

TRIGGERS = ("oscillation", "other")


@dataclass(frozen=True)
class TraceSpec:
    """Generating parameters of one simulated current-clamp trace (all potentials in mV).

    Defaults describe a large DRG neuron near rest; sources in SCIENCE.md.

    Parameters
    ----------
    duration_s, fs_hz : float
        Length (s) and sampling rate (Hz, 1 kHz–100 kHz). Default 30 s at 20 kHz (spontaneous recordings last
        tens of seconds to minutes, sampled at 10–50 kHz).
    resting_vm_mv : float
        Resting potential, default −60 mV; labs exclude cells above about −40 mV.
    drift_mv : float
        Standard deviation of the slow baseline drift (correlation time ``drift_time_s``), default 0.5 mV.
    pink_noise_mv, white_noise_mv : float
        RMS of the 1/f (1–``fs/2`` Hz) and white noise components, defaults 0.15 and 0.08 mV.
    hum_hz : {None, 50, 60}
        Mains frequency; hum is a constant-amplitude, phase-stable sum of the fundamental and harmonics.
    hum_amplitude_mv : float
        Amplitude (0-to-peak) of the fundamental, default 0.2 mV; harmonics scaled by ``hum_harmonics``.
    sso : bool
        Whether the cell has SSO episodes (Liu et al. 2000: ~5 % of control neurons, more after axotomy).
    episodes : tuple of dict, optional
        Explicit episodes ``{"start_s", "end_s"[, "frequency_hz", "amplitude_mv"]}`` (they make the cell an SSO
        cell whatever ``sso`` says; ``frequency_hz`` is then the frequency at the episode's mean potential and
        ``amplitude_mv`` the nominal peak-to-peak); overrides the random
        placement (``sso_time_fraction``, ``episode_duration_s``). Boundaries are the half-maximum points of
        the envelope (see :func:`drgephys.sim.simulate_trace`).
    sso_frequency_hz : float
        SSO frequency at ``sso_ref_vm_mv`` (10–200 Hz); default 45 Hz at −57 mV (Kovalsky et al. 2009:
        44.7 Hz at −57.2 mV).
    sso_ref_vm_mv : float or None
        Membrane potential at which ``sso_frequency_hz`` holds; ``None`` means at each episode's own mean.
    sso_slope_hz_per_mv : float
        Rise of SSO frequency with membrane potential, default 3 Hz/mV (Kovalsky et al. 2009: 44.7 Hz at
        −57.2 mV, 109.8 Hz at −36.6 mV); applied both across episodes and to the instantaneous frequency
        within an episode.
    sso_amplitude_mv : float
        Nominal peak-to-peak SSO amplitude at the envelope plateau, default 2 mV (0.5–5 mV typical; 2.3 mV in
        Kovalsky et al. 2009).
    sso_depolarization_mv : float
        Depolarization accompanying an episode (SSOs appear on depolarization; Amir et al. 1999), default 2 mV.
    sso_time_fraction : float
        Share of the trace covered by randomly placed episodes, default 0.3.
    episode_duration_s : (float, float)
        Range of random episode durations (log-uniform), default 0.3–3 s; at least 5 cycles.
    period_jitter : float
        Cycle-to-cycle SD of the instantaneous frequency relative to the mean, default 0.05.
    amplitude_modulation : float
        SD of the slow random amplitude modulation relative to the envelope, default 0.2.
    harmonic_fraction : float
        Second-harmonic content of the SSO waveform (a real oscillator, not a pure sine), default 0.1.
    pattern : {"silent", "tonic", "bursting", "irregular"}
        Discharge pattern (:func:`drgephys.sim.spike_train`).
    rate_hz : float, optional
        Mean firing rate (default per pattern, see ``spike_train``).
    spike_location : {"anywhere", "episodes"}
        ``"episodes"`` puts every spike inside SSO episodes (SSO-driven firing; the train of ``pattern`` runs
        over the episodes laid end to end; spikes go anywhere when the trace has no episode); ``"anywhere"``
        spreads them over the trace. Spikes inside an episode are moved to the nearest SSO cycle peak (their onset,
        just before ``threshold_s``, is the peak; trigger ``"oscillation"``); the others are ``"other"``. See
        ``cycles_per_spike`` for SSO-locked firing that skips whole cycles.
    oscillation_trigger_share : float
        Share of the spikes falling inside episodes that are launched from an SSO peak (default 1: all). The
        others stay where the discharge pattern put them, at any SSO phase, with trigger ``"other"`` (e.g.
        burst spikes sustained by depolarizing afterpotentials rather than SSO peaks; Amir et al. 2002).
    spike_threshold_mv, spike_peak_mv : float
        AP threshold (−45..−30 mV) and peak (+20..+50 mV); defaults −40 and +35 mV.
    spike_half_width_ms : float
        AP width at half amplitude between threshold and peak, 0.3–15 ms; default 1.0 ms (0.5–1 ms in large
        A-type neurons; several ms in C-type nociceptors, SCIENCE.md). Above 5 ms the AP needs a shoulder
        (``spike_shoulder_fraction`` > 0): a single fast kernel that broad would rise slower than the 20 mV/ms
        that defines the threshold.
    spike_shoulder_fraction : float
        0 (default) for a fast AP; otherwise a broad, humped AP (DRG C-type nociceptors: a shoulder on the
        falling phase) whose shoulder starts this share of the way from threshold to peak (0.6–0.9, above
        the half-amplitude level where the half-width is measured; it declines slowly, then repolarises). Needs ``spike_half_width_ms`` >= 1.5 ms; the half-width is
        calibrated to the requested one (:mod:`drgephys.sim.action_potential`).
    ahp_mv, ahp_tau_ms : float
        After-hyperpolarization depth below the pre-spike baseline (default 5 mV; 0–30 mV, typically 3–15 mV)
        and its exponential recovery time constant (default 40 ms; 2–500 ms, typically 10–80 ms; AHP tails
        last 20–150 ms).
    cycles_per_spike : (int, int), optional
        SSO-locked firing (needs ``spike_location="episodes"``): every spike inside an episode is launched
        from an SSO cycle peak and the spikes skip whole cycles, so that interspike intervals are whole
        multiples of the SSO period while the oscillation goes on between spikes (Amir et al. 1999). The pair
        ``(low, high)`` bounds the cycles per interval: ``tonic`` uses the two whole numbers around
        ``f_SSO / rate_hz`` clipped to it; ``bursting`` spaces the spikes of a burst ``low`` cycles apart and
        bursts by long silences; ``irregular`` fires on each cycle peak with a fixed probability (intervals
        ``low`` cycles or more, geometric; ``high`` does not apply). ``rate_hz`` is then the in-episode rate
        aimed at (default: ``(low + high) / 2`` cycles per spike); the truth's per-episode
        ``firing_rate_hz`` is the rate obtained. ``None`` (default): the discharge pattern's own train, each
        spike moved to the nearest cycle peak. A trace without episodes has no SSO-locked spikes.
    burst_size : (int, int)
        Inclusive range of spikes per burst of the ``bursting`` pattern, default (2, 10).
    intra_burst_isi_ms : float
        First interval (ms) inside a burst of the ``bursting`` pattern (default 30 ms, Kovalsky et al. 2009;
        later intervals lengthen 10 % per spike; not used by SSO-locked bursting, whose intervals are cycles).
    dying_vm_mv : float, optional
        A dying cell: from ``dying_onset_s`` the baseline approaches this potential (−40 to +20 mV, above
        ``resting_vm_mv``) exponentially with ``dying_tau_s`` and stays there (SCIENCE.md: a cell that
        depolarises above about −20 mV and stays there). Spikes whose onset falls where the baseline is above
        ``spike_threshold_mv`` are not generated (depolarization block). Default ``None``: a healthy cell.
    dying_onset_s, dying_tau_s : float
        Start (s from the trace start, default 0) and time constant (s, default 1) of that depolarization.
    offset_mv : float
        Constant offset (mV, −150 to +150) added to the recorded potential: an amplifier or junction offset
        (e.g. +60 mV puts a −60 mV cell near 0 mV with AP peaks near +95 mV). Default 0. The truth's
        ``mean_vm_mv`` is that of the recorded trace (offset included); ``resting_vm_mv`` is the cell's.
    """

    duration_s: float = 30.0
    fs_hz: float = 20_000.0
    resting_vm_mv: float = -60.0
    drift_mv: float = 0.5
    drift_time_s: float = 5.0
    pink_noise_mv: float = 0.15
    white_noise_mv: float = 0.08
    hum_hz: float | None = None
    hum_amplitude_mv: float = 0.2
    hum_harmonics: tuple[float, ...] = (1.0, 0.3, 0.15)
    sso: bool = False
    episodes: tuple | None = None
    sso_frequency_hz: float = 45.0
    sso_ref_vm_mv: float | None = -57.0
    sso_slope_hz_per_mv: float = 3.0
    sso_amplitude_mv: float = 2.0
    sso_depolarization_mv: float = 2.0
    sso_time_fraction: float = 0.3
    episode_duration_s: tuple[float, float] = (0.3, 3.0)
    period_jitter: float = 0.05
    amplitude_modulation: float = 0.2
    harmonic_fraction: float = 0.1
    pattern: str = "silent"
    rate_hz: float | None = None
    spike_location: str = "anywhere"
    oscillation_trigger_share: float = 1.0
    spike_threshold_mv: float = -40.0
    spike_peak_mv: float = 35.0
    spike_half_width_ms: float = 1.0
    ahp_mv: float = 5.0
    ahp_tau_ms: float = 40.0
    spike_shoulder_fraction: float = 0.0
    cycles_per_spike: tuple[int, int] | None = None
    burst_size: tuple[int, int] = (2, 10)
    intra_burst_isi_ms: float = 30.0
    dying_vm_mv: float | None = None
    dying_onset_s: float = 0.0
    dying_tau_s: float = 1.0
    offset_mv: float = 0.0

    def __post_init__(self):
        validate_spec(self)

    def to_dict(self) -> dict:
        """JSON-serialisable dict of the parameters."""
        d = dataclasses.asdict(self)
        d["hum_harmonics"] = list(self.hum_harmonics)
        d["episode_duration_s"] = list(self.episode_duration_s)
        d["episodes"] = None if self.episodes is None else [dict(e) for e in self.episodes]
        d["cycles_per_spike"] = None if self.cycles_per_spike is None else list(self.cycles_per_spike)
        d["burst_size"] = list(self.burst_size)
        return d


def _range(spec, name, lo, hi, unit=""):
    x = getattr(spec, name)
    try:
        ok = lo <= float(x) <= hi
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a number{' in ' + unit if unit else ''}; got {x!r}") from None
    if not (ok and math.isfinite(float(x))):
        raise ValueError(f"`{name}` must be between {lo:g} and {hi:g}{' ' + unit if unit else ''}; got {x!r}")


def _int_pair(spec, name, lo, hi):
    x = getattr(spec, name)
    ok = isinstance(x, (tuple, list)) and len(x) == 2 and all(
        isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in x)
    if not (ok and lo <= x[0] <= x[1] <= hi):
        raise ValueError(f"`{name}` must be (low, high) whole numbers with {lo} <= low <= high <= {hi}; got {x!r}")


def validate_spec(s: TraceSpec) -> None:
    """Raise ``ValueError``/``TypeError`` for out-of-range parameters (called by ``TraceSpec``)."""
    _range(s, "fs_hz", 1_000, 100_000, "Hz")
    _range(s, "duration_s", 0.05, 3600, "s")
    _range(s, "resting_vm_mv", -100, -20, "mV")
    for name in ("drift_mv", "pink_noise_mv", "white_noise_mv", "hum_amplitude_mv", "period_jitter",
                 "amplitude_modulation", "harmonic_fraction"):
        _range(s, name, 0, 50)
    _range(s, "drift_time_s", 0.01, 1e4, "s")
    if s.hum_hz not in (None, 50, 60):
        raise ValueError(f"`hum_hz` must be None, 50 or 60 (mains frequency in Hz); got {s.hum_hz!r}")
    _range(s, "sso_frequency_hz", 10, 200, "Hz")
    _range(s, "sso_slope_hz_per_mv", 0, 20, "Hz/mV")
    _range(s, "sso_amplitude_mv", 0.01, 30, "mV")
    _range(s, "sso_depolarization_mv", -10, 20, "mV")
    _range(s, "sso_time_fraction", 0, 0.9)
    lo, hi = s.episode_duration_s
    if not 0 < lo <= hi:
        raise ValueError(f"`episode_duration_s` must be (low, high) with 0 < low <= high in s; got "
                         f"{s.episode_duration_s!r}")
    check_pattern(s.pattern)
    if s.spike_location not in ("anywhere", "episodes"):
        raise ValueError(f"`spike_location` must be 'anywhere' or 'episodes'; got {s.spike_location!r}")
    _range(s, "oscillation_trigger_share", 0, 1)
    _range(s, "spike_threshold_mv", -60, -20, "mV")
    _range(s, "spike_peak_mv", -10, 80, "mV")
    _range(s, "spike_half_width_ms", 0.3, 15, "ms")
    _range(s, "spike_shoulder_fraction", 0, 0.9)
    if 0 < s.spike_shoulder_fraction < 0.6:
        raise ValueError(f"`spike_shoulder_fraction` must be 0 (fast AP) or between 0.6 and 0.9 (humped AP); got "
                         f"{s.spike_shoulder_fraction!r}")
    if s.spike_shoulder_fraction == 0 and s.spike_half_width_ms > 5:
        raise ValueError(f"`spike_half_width_ms` must be at most 5 ms for a fast AP; got {s.spike_half_width_ms!r}. "
                         "Broader APs are humped: set `spike_shoulder_fraction` (0.6-0.9)")
    if s.spike_shoulder_fraction > 0 and s.spike_half_width_ms < 1.5:
        raise ValueError(f"`spike_half_width_ms` must be at least 1.5 ms for a humped AP "
                         f"(`spike_shoulder_fraction` > 0); got {s.spike_half_width_ms!r}")
    _range(s, "ahp_mv", 0, 30, "mV")
    _range(s, "ahp_tau_ms", 2, 500, "ms")
    _int_pair(s, "burst_size", 2, 1000)
    _range(s, "intra_burst_isi_ms", 2, 500, "ms")
    if s.cycles_per_spike is not None:
        _int_pair(s, "cycles_per_spike", 1, 50)
        if s.spike_location != "episodes":
            raise ValueError(f"`cycles_per_spike` needs `spike_location='episodes'` (SSO-locked firing); got "
                             f"`spike_location`={s.spike_location!r}")
    if s.dying_vm_mv is not None:
        _range(s, "dying_vm_mv", -40, 20, "mV")
        if s.dying_vm_mv <= s.resting_vm_mv:
            raise ValueError(f"`dying_vm_mv` must be above `resting_vm_mv` ({s.resting_vm_mv:g} mV); got "
                             f"{s.dying_vm_mv:g} mV")
    _range(s, "dying_onset_s", 0, 3600, "s")
    _range(s, "dying_tau_s", 0.001, 1e4, "s")
    _range(s, "offset_mv", -150, 150, "mV")
    if s.spike_threshold_mv <= s.resting_vm_mv:
        raise ValueError(f"`spike_threshold_mv` must be above `resting_vm_mv` ({s.resting_vm_mv:g} mV); got "
                         f"{s.spike_threshold_mv:g} mV")
    if s.episodes is not None:
        for e in s.episodes:
            if not isinstance(e, dict) or "start_s" not in e or "end_s" not in e:
                raise TypeError(f"each of `episodes` must be a dict with 'start_s' and 'end_s'; got {e!r}")
            if not 0 <= e["start_s"] < e["end_s"] <= s.duration_s:
                raise ValueError(f"episode must satisfy 0 <= start_s < end_s <= duration_s "
                                 f"({s.duration_s:g} s); got {e!r}")


@dataclass(frozen=True)
class SimulatedTrace:
    """One simulated trace.

    Attributes
    ----------
    v : numpy.ndarray
        Membrane potential in mV, float64, shape ``(n_samples,)``; sample ``i`` is at ``i / fs``.
    fs : float
        Sampling rate in Hz.
    truth : dict
        JSON-serialisable ground truth (see :func:`drgephys.sim.simulate_trace`).
    components : dict
        Noise-free parts in mV (``"sso"``, ``"spikes"``, ``"hum"``, ``"baseline"``), each like ``v``.
    """

    v: np.ndarray
    fs: float
    truth: dict
    components: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def duration_s(self) -> float:
        return self.v.size / self.fs
