"""The hard cohort: the cases real labs meet and a benchmark of easy cases hides.

SSO cells firing tonic and bursting at 5–30 Hz with spikes launched from SSO peaks (one spike per 1–4 cycles;
Amir et al. 1999), SSO amplitudes from 0.5 mV, AHPs 3–15 mV deep recovering over 10–80 ms; firing cells without
SSO (tonic 5–30 Hz, bursting) whose AHP remnants put spectral lines at multiples of their rate; noise-only and
hum-only cells; broad, humped APs (C-type nociceptors); dying cells and a recording offset to near 0 mV
(SCIENCE.md, "SSOs in firing cells", "Sweep quality control"). See :class:`HardCohortSpec`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from drgephys.sim.cohort import simulate_rows
from drgephys.sim.spec import TraceSpec
from drgephys.sim.spiketrain import as_generator

#: The cases of the hard cohort and what each poses.
CASES = {
    "sso_silent": "SSO episodes, no spikes",
    "sso_irregular": "SSO episodes, SSO-locked irregular firing at 1-5 Hz",
    "sso_tonic": "SSO episodes, SSO-locked tonic firing at 5-30 Hz (a spike every 1-4 cycles)",
    "sso_bursting": "SSO episodes, SSO-locked bursts of 2-5 spikes on consecutive cycle peaks",
    "tonic_no_sso": "no SSO, tonic firing at 5-30 Hz",
    "bursting_no_sso": "no SSO, bursts of 2-5 spikes",
    "noise_only": "no SSO, no spikes, strong pink + white noise",
    "hum_only": "no SSO, no spikes, mains hum",
    "broad_ap": "no SSO, broad humped APs (half-width 3-15 ms)",
    "dying": "no SSO, fires then depolarises above -20 mV and stays there",
    "offset": "no SSO, recorded with an offset that puts the baseline near 0 mV",
}
#: Cases whose cells have SSO episodes.
SSO_CASES = ("sso_silent", "sso_irregular", "sso_tonic", "sso_bursting")


def _pair(x, name, lo, hi, unit):
    ok = isinstance(x, (tuple, list)) and len(x) == 2 and all(np.isfinite(np.asarray(x, dtype=float)))
    if not (ok and lo <= x[0] <= x[1] <= hi):
        raise ValueError(f"`{name}` must be (low, high) with {lo:g} <= low <= high <= {hi:g} {unit}; got {x!r}")


@dataclass(frozen=True)
class HardCohortSpec:
    """A cohort of hard cases (one group per case; 52 cells of 20 s by default, 17 min in all).

    Parameters
    ----------
    cases : tuple of (str, int)
        Cells per case (``CASES``); default 6 silent SSO, 4 irregular SSO (1–5 Hz), 10 tonic SSO (5–30 Hz),
        6 bursting SSO, 6 tonic without SSO, 4 bursting without SSO, 4 noise-only, 4 hum-only, 4 broad-AP,
        2 dying and 2 offset cells.
    duration_s : float
        Length of every recording, s (default 20).
    fs_choices_hz : tuple of float
        Sampling rates drawn per cell (default 10, 20, 50 kHz).
    hum_share : float
        Share of the cells (hum-only and noise-only aside) with 50 or 60 Hz hum (default 0.3).
    sso_amplitude_mv : (float, float)
        Range of nominal SSO peak-to-peak amplitudes, log-uniform (default 0.5–5 mV).
    sso_frequency_hz : (float, float)
        Range of SSO frequencies at each episode's own potential, log-uniform (default 25–110 Hz).
    sso_rate_hz : (float, float)
        In-episode rates aimed at by SSO-locked tonic cells, uniform (default 5–30 Hz, so that ~40 % of them fire
        at ≥ 20 Hz; the SSO frequency is then drawn so that the rate needs 1–4 cycles per spike where the
        ``sso_frequency_hz`` range allows it, else its lower end).
    sso_burst_rate_hz : (float, float)
        In-episode rates aimed at by SSO-locked bursting cells (default 4–12 Hz).
    cycles_per_spike : (int, int)
        ``TraceSpec.cycles_per_spike`` of SSO cells (default 1–4).
    non_sso_rate_hz : (float, float)
        Rates of tonic cells without SSO, log-uniform (default 5–30 Hz).
    ahp_mv, ahp_tau_ms : (float, float)
        Ranges of AHP depth (default 3–15 mV) and recovery time constant (default 10–80 ms), uniform.
    max_summed_ahp_mv : float
        Cap on depth × τ × rate, the mean hyperpolarization of overlapping AHPs (default 10 mV): τ, then depth,
        is lowered for fast-firing cells so that a 30 Hz cell does not sit tens of mV below rest.
    broad_half_width_ms : (float, float)
        Half-widths of the broad-AP cells, log-uniform (default 3–15 ms; shoulder 0.6–0.85 of the way).
    trace : dict
        Further :class:`TraceSpec` fields applied to every cell.
    """

    cases: tuple = (("sso_silent", 6), ("sso_irregular", 4), ("sso_tonic", 10), ("sso_bursting", 6),
                    ("tonic_no_sso", 6), ("bursting_no_sso", 4), ("noise_only", 4), ("hum_only", 4),
                    ("broad_ap", 4), ("dying", 2), ("offset", 2))
    duration_s: float = 20.0
    fs_choices_hz: tuple = (10_000.0, 20_000.0, 50_000.0)
    hum_share: float = 0.3
    sso_amplitude_mv: tuple = (0.5, 5.0)
    sso_frequency_hz: tuple = (25.0, 110.0)
    sso_rate_hz: tuple = (5.0, 30.0)
    sso_burst_rate_hz: tuple = (4.0, 12.0)
    cycles_per_spike: tuple = (1, 4)
    non_sso_rate_hz: tuple = (5.0, 30.0)
    ahp_mv: tuple = (3.0, 15.0)
    ahp_tau_ms: tuple = (10.0, 80.0)
    max_summed_ahp_mv: float = 10.0
    broad_half_width_ms: tuple = (3.0, 15.0)
    trace: dict = field(default_factory=dict)

    def __post_init__(self):
        names = [c for c, _ in self.cases] if isinstance(self.cases, (tuple, list)) else None
        if not names or any(c not in CASES for c in names) or len(set(names)) != len(names) or any(
                isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0 for _, k in self.cases):
            raise ValueError(f"`cases` must be distinct (case, n_cells) pairs with cases from {', '.join(CASES)} "
                             f"and n_cells >= 0; got {self.cases!r}")
        if sum(k for _, k in self.cases) < 1:
            raise ValueError(f"`cases` must hold at least one cell; got {self.cases!r}")
        if not 0.05 <= self.duration_s <= 3600:
            raise ValueError(f"`duration_s` must be between 0.05 and 3600 s; got {self.duration_s!r}")
        if not 0 <= self.hum_share <= 1:
            raise ValueError(f"`hum_share` must be a share between 0 and 1; got {self.hum_share!r}")
        _pair(self.sso_amplitude_mv, "sso_amplitude_mv", 0.01, 30, "mV")
        _pair(self.sso_frequency_hz, "sso_frequency_hz", 10, 200, "Hz")
        for name in ("sso_rate_hz", "sso_burst_rate_hz", "non_sso_rate_hz"):
            _pair(getattr(self, name), name, 0.1, 50, "Hz")
        _pair(self.cycles_per_spike, "cycles_per_spike", 1, 50, "cycles")
        _pair(self.ahp_mv, "ahp_mv", 0, 30, "mV")
        _pair(self.ahp_tau_ms, "ahp_tau_ms", 2, 500, "ms")
        _pair(self.broad_half_width_ms, "broad_half_width_ms", 1.5, 15, "ms")
        if not self.max_summed_ahp_mv > 0:
            raise ValueError(f"`max_summed_ahp_mv` must be a positive number in mV; got {self.max_summed_ahp_mv!r}")
        bad = [k for k in self.trace if k not in {f.name for f in dataclasses.fields(TraceSpec)}]
        if bad:
            raise ValueError(f"`trace` keys must be TraceSpec fields; got unknown {bad}")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        return {k: [list(x) for x in v] if k == "cases" else list(v) if isinstance(v, tuple) else v
                for k, v in d.items()}


def _logu(rng, lo_hi):
    lo, hi = float(lo_hi[0]), float(lo_hi[1])
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _ahp(rng, spec: HardCohortSpec, rate_hz: float) -> dict:
    """AHP depth and τ, lowered for fast firing so that depth × τ × rate stays under the cap."""
    depth, tau = rng.uniform(*spec.ahp_mv), rng.uniform(*spec.ahp_tau_ms)
    if rate_hz > 0 and depth * tau * 1e-3 * rate_hz > spec.max_summed_ahp_mv:
        tau = max(spec.ahp_tau_ms[0], spec.max_summed_ahp_mv / (depth * rate_hz) * 1e3)
        depth = min(depth, max(spec.ahp_mv[0], spec.max_summed_ahp_mv / (tau * 1e-3 * rate_hz)))
    return {"ahp_mv": float(depth), "ahp_tau_ms": float(tau)}


def _case_fields(case: str, rng, spec: HardCohortSpec) -> dict:
    """TraceSpec fields of one cell of ``case`` (random parts from ``rng``)."""
    lo, hi = spec.cycles_per_spike
    kw: dict = {}
    rate = 0.0
    if case in SSO_CASES:
        f = _logu(rng, spec.sso_frequency_hz)
        kw = dict(sso=True, sso_ref_vm_mv=None, sso_amplitude_mv=_logu(rng, spec.sso_amplitude_mv),
                  sso_time_fraction=0.4, episode_duration_s=(1.0, 3.0), spike_location="episodes",
                  cycles_per_spike=(int(lo), int(hi)))
        if case == "sso_tonic":
            rate = float(rng.uniform(*spec.sso_rate_hz))
            f_lo = max(spec.sso_frequency_hz[0], rate * lo)
            f_hi = min(spec.sso_frequency_hz[1], rate * hi)
            f = f_lo if f_lo >= f_hi else _logu(rng, (f_lo, f_hi))
            kw.update(pattern="tonic", rate_hz=rate)
        elif case == "sso_bursting":
            rate = _logu(rng, spec.sso_burst_rate_hz)
            kw.update(pattern="bursting", rate_hz=rate, burst_size=(2, 5), oscillation_trigger_share=0.8)
        elif case == "sso_irregular":
            rate = _logu(rng, (1.0, 5.0))
            kw.update(pattern="irregular", rate_hz=rate)
        kw["sso_frequency_hz"] = float(f)
    elif case == "tonic_no_sso":
        rate = _logu(rng, spec.non_sso_rate_hz)
        kw = dict(pattern="tonic", rate_hz=rate)
    elif case == "bursting_no_sso":
        rate = float(rng.uniform(2.0, 5.0))
        kw = dict(pattern="bursting", rate_hz=rate, burst_size=(2, 5), intra_burst_isi_ms=float(rng.uniform(10, 30)))
    elif case == "noise_only":
        kw = dict(pink_noise_mv=_logu(rng, (0.3, 0.8)), white_noise_mv=_logu(rng, (0.1, 0.3)))
    elif case == "hum_only":
        kw = dict(hum_hz=int(rng.choice([50, 60])), hum_amplitude_mv=_logu(rng, (0.2, 1.0)))
    elif case == "broad_ap":
        rate = float(rng.uniform(1.0, 5.0))
        kw = dict(pattern=str(rng.choice(["tonic", "irregular"])), rate_hz=rate, resting_vm_mv=float(rng.uniform(-60, -50)),
                  spike_threshold_mv=-30.0, spike_peak_mv=float(rng.uniform(35, 50)),
                  spike_half_width_ms=_logu(rng, spec.broad_half_width_ms),
                  spike_shoulder_fraction=float(rng.uniform(0.6, 0.85)))
    elif case == "dying":
        rate = float(rng.uniform(2.0, 5.0))
        kw = dict(pattern="irregular", rate_hz=rate, dying_vm_mv=float(rng.uniform(-15, 0)),
                  dying_onset_s=float(rng.uniform(0.05, 0.25) * spec.duration_s),
                  dying_tau_s=float(rng.uniform(0.02, 0.1) * spec.duration_s))
    elif case == "offset":
        rate = float(rng.uniform(1.0, 4.0))
        kw = dict(pattern="irregular", rate_hz=rate, spike_peak_mv=40.0)
    if case not in ("noise_only", "hum_only", "sso_silent"):
        kw.update(_ahp(rng, spec, rate))
    return kw


def hard_cohort_table(spec: HardCohortSpec | None = None, seed=None, *, file_format: str = "abf") -> pd.DataFrame:
    """The cells of the hard cohort, one row per cell (fast: no traces).

    Returns
    -------
    pandas.DataFrame
        Columns ``case`` (``CASES``), ``group`` (= ``case``), ``animal`` (``"hard"``), ``cell``, ``file``,
        ``fs_hz``, ``duration_s``, ``resting_vm_mv``, ``sso_cell``, ``pattern``, ``rate_hz`` (aimed-at rate; NaN
        when silent), ``hum_hz`` (<NA> when none), ``sso_frequency_hz``, ``sso_amplitude_mv`` (NaN without SSO),
        ``spike_half_width_ms``, ``ahp_mv``, ``ahp_tau_ms``, ``cell_seed`` and ``trace_spec`` (the cell's
        :class:`TraceSpec`).
    """
    spec = HardCohortSpec() if spec is None else spec
    if file_format not in ("abf", "nwb"):
        raise ValueError(f"`file_format` must be 'abf' or 'nwb'; got {file_format!r}")
    rng = as_generator(seed)
    rows = []
    for case, n in spec.cases:
        for c in range(int(n)):
            kw = dict(duration_s=float(spec.duration_s), fs_hz=float(rng.choice(np.asarray(spec.fs_choices_hz))),
                      resting_vm_mv=float(np.clip(rng.normal(-58.0, 3.0), -70.0, -48.0)))
            kw.update(_case_fields(case, rng, spec))
            if case == "offset":
                kw["offset_mv"] = float(-kw["resting_vm_mv"] + rng.uniform(-5, 5))
            if case not in ("hum_only", "noise_only") and rng.random() < spec.hum_share:
                kw.update(hum_hz=int(rng.choice([50, 60])), hum_amplitude_mv=_logu(rng, (0.1, 0.5)))
            kw.update(spec.trace)
            ts = TraceSpec(**kw)
            rows.append({
                "case": case, "group": case, "animal": "hard", "cell": c + 1,
                "file": f"{case}_c{c + 1:02d}.{file_format}", "fs_hz": ts.fs_hz, "duration_s": ts.duration_s,
                "resting_vm_mv": ts.resting_vm_mv, "sso_cell": bool(ts.sso), "pattern": ts.pattern,
                "rate_hz": np.nan if ts.pattern == "silent" or ts.rate_hz is None else ts.rate_hz,
                "hum_hz": ts.hum_hz if ts.hum_hz is not None else pd.NA,
                "sso_frequency_hz": ts.sso_frequency_hz if ts.sso else np.nan,
                "sso_amplitude_mv": ts.sso_amplitude_mv if ts.sso else np.nan,
                "spike_half_width_ms": ts.spike_half_width_ms, "ahp_mv": ts.ahp_mv, "ahp_tau_ms": ts.ahp_tau_ms,
                "cell_seed": int(rng.integers(0, 2**31 - 1)), "trace_spec": ts,
            })
    df = pd.DataFrame(rows)
    df["hum_hz"] = df["hum_hz"].astype("Int64")
    return df


def simulate_hard_cohort(spec: HardCohortSpec | None = None, seed=None, out_dir=None, *,
                         format: str = "abf") -> pd.DataFrame:
    """Simulate every cell of :func:`hard_cohort_table` (same seed → same cells) and optionally write it.

    With ``out_dir``: one data file per cell, its ``<file>.truth.json`` (with ``case``), ``groups.csv`` and
    ``cohort.json``, as :func:`drgephys.sim.simulate_cohort` writes them.

    Returns
    -------
    pandas.DataFrame
        The table (``trace_spec`` column dropped) plus ``n_episodes``, ``n_spikes``,
        ``truth_sso_frequency_hz``, ``truth_sso_amplitude_mv``, ``truth_episode_vm_mv`` and
        ``sso_time_fraction``.
    """
    spec = HardCohortSpec() if spec is None else spec
    if format not in ("abf", "nwb"):
        raise ValueError(f"`format` must be 'abf' or 'nwb'; got {format!r}")
    table = hard_cohort_table(spec, seed, file_format=format)
    specs = list(table.pop("trace_spec"))
    return simulate_rows(table, specs, spec.to_dict(), seed, out_dir=out_dir, format=format, truth_columns=("case",))
