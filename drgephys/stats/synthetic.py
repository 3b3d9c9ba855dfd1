"""Analysis-like tables from a simulated cohort's true parameters, for checking the statistics.

:func:`tables_from_cohort` turns :func:`drgephys.sim.simulate_cohort_table` (one row per cell, true values)
into ``recordings`` and ``oscillations`` tables as ``drgephys analyze`` would write them, with measurement
noise; :func:`true_effects` gives the population differences those tables estimate.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ..tables import PATTERN_VALUES


@dataclasses.dataclass(frozen=True)
class MeasurementNoise:
    """Measurement error added to true cell values (defaults: plausible detector errors, unverified).

    Parameters
    ----------
    episode_vm_sd_mv : float
        Spread of episode mean potentials around the cell's episode potential (default 1 mV).
    frequency_sd_hz : float
        Error of an episode's frequency (default 2 Hz).
    amplitude_cv : float
        Relative error of episode amplitude (default 0.15).
    resting_vm_sd_mv : float
        Error of the resting potential (default 0.5 mV).
    mean_episodes : float
        Mean number of episodes of an SSO cell (1 + Poisson; default 4).
    """

    episode_vm_sd_mv: float = 1.0
    frequency_sd_hz: float = 2.0
    amplitude_cv: float = 0.15
    resting_vm_sd_mv: float = 0.5
    mean_episodes: float = 4.0


def tables_from_cohort(cohort: pd.DataFrame, *, seed=0, ref_vm_mv: float = -57.0,
                       noise: MeasurementNoise = MeasurementNoise()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(recordings, oscillations)`` for the cells of ``cohort`` (one ok sweep per cell).

    Episode frequency follows the cell's line ``sso_frequency_at_ref_hz + slope·(vm − ref_vm_mv)`` at the
    episode's potential, plus noise; the SSO time fraction of an SSO cell is uniform in 0.1–0.5.
    """
    rng = np.random.default_rng(seed)
    n = len(cohort)
    sso = cohort["sso_cell"].to_numpy(dtype=bool)
    dur = cohort["duration_s"].to_numpy(dtype=float)
    n_ep = np.where(sso, 1 + rng.poisson(noise.mean_episodes - 1, n), 0)
    cell = np.repeat(np.arange(n), n_ep)
    vm = cohort["episode_vm_mv"].to_numpy(dtype=float)[cell] + rng.normal(0, noise.episode_vm_sd_mv, cell.size)
    f = (cohort["sso_frequency_at_ref_hz"].to_numpy(dtype=float)[cell]
         + cohort["sso_slope_hz_per_mv"].to_numpy(dtype=float)[cell] * (vm - ref_vm_mv)
         + rng.normal(0, noise.frequency_sd_hz, cell.size))
    amp = cohort["sso_amplitude_mv"].to_numpy(dtype=float)[cell] * np.exp(rng.normal(0, noise.amplitude_cv,
                                                                                    cell.size))
    frac = np.where(sso, rng.uniform(0.1, 0.5, n), 0.0)
    ep_dur = frac[cell] * dur[cell] / n_ep[cell]
    start = np.concatenate([np.arange(k) * dur[i] / max(k, 1) for i, k in enumerate(n_ep)]) if cell.size else []
    osc = pd.DataFrame({"file": cohort["file"].to_numpy()[cell], "sweep": 0, "channel": "0",
                        "start_s": start, "end_s": np.asarray(start) + ep_dur, "frequency_hz": f,
                        "amplitude_mv": amp, "n_cycles": f * ep_dur, "mean_vm_mv": vm})
    w = np.bincount(cell, weights=ep_dur, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        fc = np.bincount(cell, weights=f * ep_dur, minlength=n) / w
        ac = np.bincount(cell, weights=amp * ep_dur, minlength=n) / w
    rate = np.nan_to_num(cohort["rate_hz"].to_numpy(dtype=float))
    count = rng.poisson(rate * dur)
    recs = pd.DataFrame({"file": cohort["file"].to_numpy(), "sweep": 0, "channel": "0", "status": "ok",
                         "message": "", "duration_s": dur, "fs_hz": cohort["fs_hz"].to_numpy(),
                         "resting_vm_mv": cohort["resting_vm_mv"].to_numpy(dtype=float)
                         + rng.normal(0, noise.resting_vm_sd_mv, n),
                         "sso_detected": sso, "sso_frequency_hz": np.where(sso, fc, np.nan),
                         "sso_amplitude_mv": np.where(sso, ac, np.nan), "sso_time_fraction": frac,
                         "spike_count": count, "spike_rate_hz": count / dur,
                         "firing_pattern": cohort["pattern"].to_numpy(),
                         "group": cohort["group"].to_numpy(), "animal": cohort["animal"].to_numpy()})
    return recs, osc


def true_effects(spec, *, reference: str | None = None, n_animals: int = 4000, seed: int = 12345) -> dict:
    """Population differences (group − reference) that :func:`compare_groups` estimates from such tables.

    Means over a very large simulated cohort (``n_animals`` per group) of the true per-cell values, and the
    exact difference of the frequency–potential lines (equal slopes give the same value at any potential).

    Returns
    -------
    dict
        ``{group: {metric: true difference}}``.
    """
    from ..sim import simulate_cohort_table  # noqa: PLC0415

    big = simulate_cohort_table(dataclasses.replace(spec, animals_per_group=n_animals), seed)
    names = [g.name for g in spec.groups]
    reference = reference or ("control" if "control" in names else sorted(names)[0])
    by = {g.name: g for g in spec.groups}
    means = {}
    for name, d in big.groupby("group"):
        s = d["sso_cell"].to_numpy(dtype=bool)
        m = {"sso_prevalence": s.mean(), "sso_time_fraction": 0.3 * s.mean(),
             "sso_frequency_hz": d.loc[s, "sso_frequency_hz"].mean(),
             "sso_amplitude_mv": by[name].sso_amplitude_mv,
             "spike_rate_hz": np.nan_to_num(d["rate_hz"].to_numpy(dtype=float)).mean(),
             "resting_vm_mv": d["resting_vm_mv"].mean(),
             "sso_frequency_hz_at_matched_vm": by[name].sso_frequency_at_ref_hz}
        for p in PATTERN_VALUES:
            m[f"pattern_share_{p}"] = float((d["pattern"] == p).mean())
        means[name] = m
    return {g: {k: means[g][k] - means[reference][k] for k in means[g]} for g in names if g != reference}
