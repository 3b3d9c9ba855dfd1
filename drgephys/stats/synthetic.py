"""Analysis-like tables from a simulated cohort's true parameters, for checking the statistics.

:func:`tables_from_cohort` turns :func:`drgephys.sim.simulate_cohort_table` (one row per cell, true values)
into ``recordings`` and ``oscillations`` tables as ``drgephys analyze`` would write them, with measurement
noise; :func:`true_effects` gives the population differences those tables estimate.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from numpy.polynomial.hermite_e import hermegauss
from scipy.special import expit
from scipy.stats import norm

from ..sim.cohort import RATE_RANGE_HZ
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
        Relative error of episode amplitude (log-normal, mean-preserving; default 0.15).
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
    amp = cohort["sso_amplitude_mv"].to_numpy(dtype=float)[cell] * np.exp(
        rng.normal(0, noise.amplitude_cv, cell.size) - noise.amplitude_cv ** 2 / 2)  # mean-preserving
    frac = np.where(sso, rng.uniform(0.1, 0.5, n), 0.0)
    ep_dur = frac[cell] * dur[cell] / n_ep[cell]
    start = np.concatenate([np.arange(k) * dur[i] / max(k, 1) for i, k in enumerate(n_ep)]) if cell.size else []
    osc = pd.DataFrame({"file": cohort["file"].to_numpy()[cell], "sweep": 0, "channel": "0",
                        "start_s": start, "end_s": np.asarray(start) + ep_dur, "frequency_hz": f,
                        "amplitude_mv": amp, "n_cycles": f * ep_dur, "mean_vm_mv": vm,
                        # detector-quality columns of the contract: not simulated here (left empty)
                        "power_db": np.nan, "period_cv": np.nan, "amplitude_cv": np.nan, "sinusoidality": np.nan,
                        "p_value": np.nan})
    w = np.bincount(cell, weights=ep_dur, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        fc = np.bincount(cell, weights=f * ep_dur, minlength=n) / w
        ac = np.bincount(cell, weights=amp * ep_dur, minlength=n) / w
    rate = np.nan_to_num(cohort["rate_hz"].to_numpy(dtype=float))
    count = rng.poisson(rate * dur)
    recs = pd.DataFrame({"file": cohort["file"].to_numpy(), "sweep": 0, "channel": "0", "status": "ok",
                         "qc_flags": "", "message": "", "duration_s": dur, "sweep_start_s": 0.0, "fs_hz": cohort["fs_hz"].to_numpy(),
                         "resting_vm_mv": cohort["resting_vm_mv"].to_numpy(dtype=float)
                         + rng.normal(0, noise.resting_vm_sd_mv, n),
                         "sso_detected": sso, "sso_frequency_hz": np.where(sso, fc, np.nan),
                         "sso_amplitude_mv": np.where(sso, ac, np.nan), "sso_time_fraction": frac,
                         "spike_count": count, "spike_rate_hz": count / dur, "evoked_spike_count": 0, "rejected_candidates": 0,
                         "firing_pattern": cohort["pattern"].to_numpy(), "stimulus_source": "none",
                         "reason_code": None,
                         "noise_floor_mv": np.nan,
                         "group": cohort["group"].to_numpy(), "animal": cohort["animal"].to_numpy()})
    return recs, osc


def _capped_normal_mean(mu: float, sd: float, cap: float) -> float:
    """E[min(X, cap)] for X ~ N(mu, sd²)."""
    if sd <= 0:
        return min(mu, cap)
    a = (cap - mu) / sd
    return float(mu * norm.cdf(a) - sd * norm.pdf(a) + cap * norm.sf(a))


def _logit_normal_mean(p: float, sd: float) -> float:
    """E[expit(logit(p) + sd·Z)], Z standard normal (Gauss–Hermite quadrature, 60 nodes)."""
    if p in (0.0, 1.0) or sd == 0:
        return float(p)
    z, w = hermegauss(60)
    return float(np.sum(w * expit(np.log(p / (1 - p)) + sd * z)) / np.sum(w))


def true_effects(spec, *, reference: str | None = None) -> dict:
    """Population differences (group − reference) that :func:`compare_groups` estimates from such tables.

    Computed exactly from the cohort spec (no simulation): SSO prevalence is the logit-normal mean over
    animals; resting potentials are normal with the simulator's cap below threshold; the raw SSO frequency
    is the cell line at the mean episode potential (frequency clipping to 10–200 Hz ignored); spike rate is
    the log-uniform mean of each pattern's range; the SSO time fraction is 0.3 × prevalence (the uniform
    0.1–0.5 of :func:`tables_from_cohort`); the matched difference is the difference of the lines'
    intercepts at the reference potential (equal slopes give the same value at any potential).

    Returns
    -------
    dict
        ``{group: {metric: true difference}}``.
    """
    names = [g.name for g in spec.groups]
    reference = reference or ("control" if "control" in names else sorted(names)[0])
    cap = spec.spike_threshold_mv - 3.0 - spec.sso_depolarization_mv
    means = {}
    for g in spec.groups:
        prev = _logit_normal_mean(g.sso_prevalence, spec.animal_sd_logit_prevalence)
        rest = _capped_normal_mean(g.resting_vm_mean_mv, float(np.hypot(spec.animal_sd_resting_vm_mv,
                                                                         g.resting_vm_sd_mv)), cap)
        probs = dict(g.pattern_probabilities)
        rate = sum(q * (0.0 if p == "silent" else
                        (RATE_RANGE_HZ[p][1] - RATE_RANGE_HZ[p][0]) / np.log(RATE_RANGE_HZ[p][1] / RATE_RANGE_HZ[p][0]))
                   for p, q in probs.items())
        m = {"sso_prevalence": prev, "sso_time_fraction": 0.3 * prev,
             "sso_frequency_hz": g.sso_frequency_at_ref_hz + g.sso_slope_hz_per_mv
             * (rest + spec.sso_depolarization_mv - spec.ref_vm_mv),
             "sso_amplitude_mv": g.sso_amplitude_mv, "spike_rate_hz": rate, "resting_vm_mv": rest,
             "sso_frequency_hz_at_matched_vm": g.sso_frequency_at_ref_hz}
        for p in PATTERN_VALUES:
            m[f"pattern_share_{p}"] = float(probs.get(p, 0.0))
        means[g.name] = m
    return {g: {k: means[g][k] - means[reference][k] for k in means[g]} for g in names if g != reference}
