"""Simulated cohorts: groups × animals × cells with caller-set group effects and animal random effects."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from drgephys._atomic import atomic_text
from drgephys.sim.generator import simulate_trace
from drgephys.sim.spec import TraceSpec
from drgephys.sim.spiketrain import PATTERNS, as_generator
from drgephys.sim.writers import write_abf, write_nwb

#: Firing-rate ranges (Hz) drawn per pattern: DRG ectopic firing 0.25–14 Hz (SCIENCE.md); bursting capped so
#: that bursts of 2–10 spikes keep long silences between them.
RATE_RANGE_HZ = {"tonic": (2.0, 10.0), "bursting": (0.5, 2.5), "irregular": (0.25, 14.0)}


@dataclass(frozen=True)
class GroupEffects:
    """True cell-level parameters of one experimental group.

    Parameters
    ----------
    name : str
        Group label (e.g. ``"control"``, ``"injured"``).
    sso_prevalence : float
        Share of cells with SSOs. Liu et al. 2000 (J Neurophysiol 84:205): ~5 % of control neurons
        oscillate at rest; the share rises after axotomy (the injured default, 0.3, is unverified).
    resting_vm_mean_mv, resting_vm_sd_mv : float
        Cell resting potential distribution (injured cells sit depolarized; defaults −60 ± 4 and −55 ± 4 mV,
        unverified ranges).
    sso_frequency_at_ref_hz : float
        SSO frequency at the cohort's ``ref_vm_mv``. Axotomy lowers SSO frequency at any given potential
        (Liu et al. 2000); defaults 60 Hz control, 45 Hz injured (magnitudes unverified).
    sso_slope_hz_per_mv : float
        Frequency rise per mV, default 3 Hz/mV (Kovalsky et al. 2009).
    sso_amplitude_mv : float
        Nominal SSO peak-to-peak amplitude (0.5–5 mV typical; Rho & Prescott 2012: pathology lowers it).
    pattern_probabilities : tuple of (str, float)
        Probability of each discharge pattern; must sum to 1.
    """

    name: str
    sso_prevalence: float = 0.05
    resting_vm_mean_mv: float = -60.0
    resting_vm_sd_mv: float = 4.0
    sso_frequency_at_ref_hz: float = 60.0
    sso_slope_hz_per_mv: float = 3.0
    sso_amplitude_mv: float = 2.0
    pattern_probabilities: tuple = (("silent", 0.85), ("tonic", 0.05), ("bursting", 0.03), ("irregular", 0.07))

    def __post_init__(self):
        if not 0 <= self.sso_prevalence <= 1:
            raise ValueError(f"`sso_prevalence` must be a share between 0 and 1; got {self.sso_prevalence!r}")
        if self.resting_vm_sd_mv < 0:
            raise ValueError(f"`resting_vm_sd_mv` must be >= 0 mV; got {self.resting_vm_sd_mv!r}")
        if not 10 <= self.sso_frequency_at_ref_hz <= 200:
            raise ValueError(f"`sso_frequency_at_ref_hz` must be between 10 and 200 Hz; got "
                             f"{self.sso_frequency_at_ref_hz!r}")
        names = [p for p, _ in self.pattern_probabilities]
        probs = np.array([q for _, q in self.pattern_probabilities], dtype=float)
        if any(p not in PATTERNS for p in names) or np.any(probs < 0) or abs(probs.sum() - 1) > 1e-6:
            raise ValueError(f"`pattern_probabilities` must be (pattern, probability) pairs over {PATTERNS} "
                             f"summing to 1; got {self.pattern_probabilities!r}")


CONTROL = GroupEffects("control")
INJURED = GroupEffects("injured", sso_prevalence=0.3, resting_vm_mean_mv=-55.0, sso_frequency_at_ref_hz=45.0,
                       sso_amplitude_mv=1.6,
                       pattern_probabilities=(("silent", 0.45), ("tonic", 0.15), ("bursting", 0.2),
                                              ("irregular", 0.2)))


@dataclass(frozen=True)
class CohortSpec:
    """A simulated study: ``groups`` × ``animals_per_group`` × ``cells_per_animal``.

    Parameters
    ----------
    groups : tuple of GroupEffects
        Default control and injured (see :class:`GroupEffects`).
    animals_per_group, cells_per_animal : int
        Design size (default 4 animals × 5 cells).
    ref_vm_mv : float
        Potential at which ``sso_frequency_at_ref_hz`` holds (default −57 mV, Kovalsky et al. 2009).
    animal_sd_resting_vm_mv, animal_sd_sso_frequency_hz, animal_sd_logit_prevalence : float
        Animal random effects (SD) shared by the cells of one animal: resting potential (mV), SSO frequency
        (Hz) and SSO prevalence on the logit scale. Defaults 2 mV, 3 Hz, 0.5.
    cell_sd_sso_frequency_hz : float
        Cell-to-cell SD of SSO frequency at the reference potential (default 4 Hz).
    fs_choices_hz : tuple of float
        Sampling rates drawn uniformly per cell (default 10, 20, 50 kHz; SCIENCE.md: 10–50 kHz).
    hum_share : float
        Share of cells with mains hum (default 0.3); ``hum_choices_hz`` its frequencies (50 or 60 Hz).
    duration_s : float
        Length of every recording (default 20 s).
    sso_depolarization_mv : float
        Depolarization accompanying episodes (default 2 mV); an episode sits at resting + this.
    spike_threshold_mv : float
        AP threshold (default −40 mV); resting potentials are capped 3 mV below it.
    trace : dict
        Further :class:`TraceSpec` fields applied to every cell (e.g. ``{"pink_noise_mv": 0.3}``).
    """

    groups: tuple = (CONTROL, INJURED)
    animals_per_group: int = 4
    cells_per_animal: int = 5
    ref_vm_mv: float = -57.0
    animal_sd_resting_vm_mv: float = 2.0
    animal_sd_sso_frequency_hz: float = 3.0
    animal_sd_logit_prevalence: float = 0.5
    cell_sd_sso_frequency_hz: float = 4.0
    fs_choices_hz: tuple = (10_000.0, 20_000.0, 50_000.0)
    hum_share: float = 0.3
    hum_choices_hz: tuple = (50, 60)
    duration_s: float = 20.0
    sso_depolarization_mv: float = 2.0
    spike_threshold_mv: float = -40.0
    trace: dict = field(default_factory=dict)

    def __post_init__(self):
        if not self.groups or not all(isinstance(g, GroupEffects) for g in self.groups):
            raise TypeError(f"`groups` must be a non-empty tuple of GroupEffects; got {self.groups!r}")
        if len({g.name for g in self.groups}) != len(self.groups):
            raise ValueError(f"`groups` must have distinct names; got {[g.name for g in self.groups]}")
        for name in ("animals_per_group", "cells_per_animal"):
            x = getattr(self, name)
            if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 1:
                raise ValueError(f"`{name}` must be a positive integer; got {x!r}")
        if not 0 <= self.hum_share <= 1:
            raise ValueError(f"`hum_share` must be a share between 0 and 1; got {self.hum_share!r}")
        bad = [k for k in self.trace if k not in {f.name for f in dataclasses.fields(TraceSpec)}]
        if bad:
            raise ValueError(f"`trace` keys must be TraceSpec fields; got unknown {bad}")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["groups"] = [dict(dataclasses.asdict(g), pattern_probabilities=[list(p) for p in g.pattern_probabilities])
                       for g in self.groups]
        return d


def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def simulate_cohort_table(spec: CohortSpec | None = None, seed=None, *, file_format: str = "abf") -> pd.DataFrame:
    """True parameters of every cell of a cohort, one row per cell (fast: no traces).

    Returns
    -------
    pandas.DataFrame
        Columns ``group``, ``animal``, ``cell``, ``file``, ``fs_hz``, ``duration_s``, ``resting_vm_mv``,
        ``sso_cell``, ``pattern``, ``rate_hz`` (NaN when silent), ``hum_hz`` (<NA> when none),
        ``sso_frequency_at_ref_hz``, ``sso_slope_hz_per_mv``, ``sso_amplitude_mv``, ``episode_vm_mv``
        (resting + SSO depolarization), ``sso_frequency_hz`` (expected at ``episode_vm_mv``; SSO columns NaN
        for cells without SSOs) and ``cell_seed`` (seed of the cell's trace).
    """
    spec = CohortSpec() if spec is None else spec
    if file_format not in ("abf", "nwb"):
        raise ValueError(f"`file_format` must be 'abf' or 'nwb'; got {file_format!r}")
    rng = as_generator(seed)
    rows = []
    n_c = spec.cells_per_animal
    for g in spec.groups:
        for a in range(spec.animals_per_group):
            animal = f"{g.name}_a{a + 1:02d}"
            vm_a = rng.normal(0, spec.animal_sd_resting_vm_mv)
            f_a = rng.normal(0, spec.animal_sd_sso_frequency_hz)
            p_a = 1 / (1 + np.exp(-(_logit(g.sso_prevalence) + rng.normal(0, spec.animal_sd_logit_prevalence))))
            if g.sso_prevalence in (0.0, 1.0):
                p_a = g.sso_prevalence
            rest = np.minimum(g.resting_vm_mean_mv + vm_a + rng.normal(0, g.resting_vm_sd_mv, n_c),
                              spec.spike_threshold_mv - 3.0 - spec.sso_depolarization_mv)
            sso = rng.random(n_c) < p_a
            names = [p for p, _ in g.pattern_probabilities]
            pattern = rng.choice(names, size=n_c, p=[q for _, q in g.pattern_probabilities])
            lo = np.array([RATE_RANGE_HZ.get(p, (1, 1))[0] for p in pattern])
            hi = np.array([RATE_RANGE_HZ.get(p, (1, 1))[1] for p in pattern])
            rate = np.exp(rng.uniform(np.log(lo), np.log(hi)))
            has_hum = rng.random(n_c) < spec.hum_share
            hum = rng.choice(np.asarray(spec.hum_choices_hz), size=n_c)
            fs = rng.choice(np.asarray(spec.fs_choices_hz, dtype=float), size=n_c)
            f_ref = np.clip(g.sso_frequency_at_ref_hz + f_a + rng.normal(0, spec.cell_sd_sso_frequency_hz, n_c),
                            10.0, 200.0)
            cell_seed = rng.integers(0, 2**31 - 1, n_c)
            ep_vm = rest + spec.sso_depolarization_mv
            for c in range(n_c):
                rows.append({
                    "group": g.name, "animal": animal, "cell": c + 1,
                    "file": f"{animal}_c{c + 1:02d}.{file_format}", "fs_hz": fs[c], "duration_s": spec.duration_s,
                    "resting_vm_mv": rest[c], "sso_cell": bool(sso[c]), "pattern": str(pattern[c]),
                    "rate_hz": np.nan if pattern[c] == "silent" else rate[c],
                    "hum_hz": int(hum[c]) if has_hum[c] else pd.NA,
                    "sso_frequency_at_ref_hz": f_ref[c] if sso[c] else np.nan,
                    "sso_slope_hz_per_mv": g.sso_slope_hz_per_mv if sso[c] else np.nan,
                    "sso_amplitude_mv": g.sso_amplitude_mv if sso[c] else np.nan,
                    "episode_vm_mv": ep_vm[c] if sso[c] else np.nan,
                    "sso_frequency_hz": (np.clip(f_ref[c] + g.sso_slope_hz_per_mv * (ep_vm[c] - spec.ref_vm_mv),
                                                 10.0, 200.0) if sso[c] else np.nan),
                    "cell_seed": int(cell_seed[c]),
                })
    df = pd.DataFrame(rows)
    df["hum_hz"] = df["hum_hz"].astype("Int64")
    return df


def cell_spec(row, spec: CohortSpec) -> TraceSpec:
    """The :class:`TraceSpec` of one row of :func:`simulate_cohort_table`."""
    sso = bool(row["sso_cell"])
    kw = dict(duration_s=float(row["duration_s"]), fs_hz=float(row["fs_hz"]),
              resting_vm_mv=float(row["resting_vm_mv"]), pattern=str(row["pattern"]),
              hum_hz=None if pd.isna(row["hum_hz"]) else int(row["hum_hz"]), sso=sso,
              sso_depolarization_mv=spec.sso_depolarization_mv, spike_threshold_mv=spec.spike_threshold_mv,
              rate_hz=None if pd.isna(row["rate_hz"]) else float(row["rate_hz"]),
              spike_location="episodes" if sso else "anywhere")
    if sso:
        kw.update(sso_frequency_hz=float(row["sso_frequency_at_ref_hz"]), sso_ref_vm_mv=spec.ref_vm_mv,
                  sso_slope_hz_per_mv=float(row["sso_slope_hz_per_mv"]),
                  sso_amplitude_mv=float(row["sso_amplitude_mv"]))
    kw.update(spec.trace)
    return TraceSpec(**kw)


def simulate_cohort(spec: CohortSpec | None = None, seed=None, out_dir=None, *, format: str = "abf") -> pd.DataFrame:
    """Simulate every cell of :func:`simulate_cohort_table` (same seed → same table) and optionally write it.

    With ``out_dir``: one data file per cell (``format`` ``"abf"`` or ``"nwb"``), its ``<file>.truth.json``,
    ``groups.csv`` (``file``, ``group``, ``animal``, ``cell``) and ``cohort.json`` (spec and seed), each
    written atomically (temporary file + ``os.replace``).

    Returns
    -------
    pandas.DataFrame
        The cohort table plus measured-truth columns ``n_episodes``, ``n_spikes``,
        ``truth_sso_frequency_hz`` / ``truth_sso_amplitude_mv`` / ``truth_episode_vm_mv`` (duration-weighted
        means over the cell's episodes; NaN without episodes) and ``sso_time_fraction``.
    """
    spec = CohortSpec() if spec is None else spec
    if format not in ("abf", "nwb"):
        raise ValueError(f"`format` must be 'abf' or 'nwb'; got {format!r}")
    table = simulate_cohort_table(spec, seed, file_format=format)
    specs = [cell_spec(row, spec) for _, row in table.iterrows()]
    return simulate_rows(table, specs, spec.to_dict(), seed, out_dir=out_dir, format=format)


def simulate_rows(table: pd.DataFrame, specs, spec_dict: dict, seed, *, out_dir, format: str,
                  truth_columns: tuple = ()) -> pd.DataFrame:
    """Simulate one trace per row of a cohort table and optionally write the folder.

    Parameters
    ----------
    table : pandas.DataFrame
        Cohort table with ``file``, ``group``, ``animal``, ``cell`` and ``cell_seed`` columns.
    specs : sequence of TraceSpec
        One spec per row, in table order.
    spec_dict, seed
        What ``cohort.json`` records (the cohort's parameters and seed).
    out_dir : str, Path or None
        Folder for the data files (``format`` ``"abf"`` or ``"nwb"``), their ``<file>.truth.json``,
        ``groups.csv`` and ``cohort.json`` (each written atomically); None writes nothing.
    truth_columns : tuple of str
        Table columns copied into each truth JSON (``file``, ``group``, ``animal`` and ``cell`` always are).

    Returns
    -------
    pandas.DataFrame
        ``table`` plus ``n_episodes``, ``n_spikes``, ``truth_sso_frequency_hz``, ``truth_sso_amplitude_mv``,
        ``truth_episode_vm_mv`` (duration-weighted means over the cell's episodes; NaN without episodes) and
        ``sso_time_fraction``.
    """
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    extra = []
    for (_, row), cell in zip(table.iterrows(), specs):  # one iteration per cell (each builds a whole trace)
        tr = simulate_trace(cell, seed=int(row["cell_seed"]))
        eps = tr.truth["episodes"]
        w = np.array([e["end_s"] - e["start_s"] for e in eps])
        wm = (lambda k: float(np.sum(w * [e[k] for e in eps]) / w.sum())) if eps else (lambda k: np.nan)
        extra.append({"n_episodes": len(eps), "n_spikes": len(tr.truth["spikes"]),
                      "truth_sso_frequency_hz": wm("frequency_hz"), "truth_sso_amplitude_mv": wm("amplitude_mv"),
                      "truth_episode_vm_mv": wm("mean_vm_mv"), "sso_time_fraction": float(w.sum() / tr.duration_s)})
        if out is not None:
            truth = dict(tr.truth, file=row["file"], group=row["group"], animal=row["animal"], cell=int(row["cell"]),
                         **{k: _json_default(row[k]) if isinstance(row[k], np.generic) else row[k]
                            for k in truth_columns})
            writer = write_abf if format == "abf" else write_nwb
            writer(out / row["file"], tr.v, tr.fs, truth=truth)
    result = pd.concat([table, pd.DataFrame(extra, index=table.index)], axis=1)
    if out is not None:
        atomic_text(out / "groups.csv", table[["file", "group", "animal", "cell"]].to_csv(index=False))
        seed_json = seed if isinstance(seed, (int, np.integer)) or seed is None else repr(seed)
        atomic_text(out / "cohort.json", json.dumps({"spec": spec_dict, "seed": seed_json,
                                                      "format": format}, indent=2, default=_json_default))
    return result


def _json_default(x):
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"not JSON-serialisable: {x!r}")

