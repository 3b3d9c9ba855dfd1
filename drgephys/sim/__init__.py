"""Ground-truth simulator of DRG current-clamp recordings (the test bed of every accuracy claim).

Public API
----------
- :class:`TraceSpec`, :func:`simulate_trace` → :class:`SimulatedTrace` (one trace with exact truth);
- :func:`spike_train` (discharge patterns alone);
- :class:`CohortSpec`, :class:`GroupEffects`, :func:`simulate_cohort_table`, :func:`simulate_cohort`;
- the hard cases: :func:`preset` / ``PRESETS`` (SSO-locked firing at 5–30 Hz, firing without SSO, noise-only,
  hum-only, broad humped APs, dying and offset cells) and :class:`HardCohortSpec`,
  :func:`hard_cohort_table`, :func:`simulate_hard_cohort` (a cohort of all of them);
- :func:`write_abf`, :func:`write_nwb` (data file + ``<file>.truth.json``);
- :func:`score`, :func:`score_cohort` (detector output against the truth); :func:`episode_outcomes`,
  :func:`false_episodes`, :func:`rate_bin` (recall by in-episode firing rate, false episodes per cell);
- biophysical models: :func:`simulate_kovalsky` (Kovalsky, Amir & Devor 2009) and
  :func:`simulate_rho_prescott` (Rho & Prescott 2012), vectorized over cells (:mod:`drgephys.sim.models`).
"""

from drgephys.sim.cohort import CohortSpec, GroupEffects, simulate_cohort, simulate_cohort_table
from drgephys.sim.generator import simulate_trace
from drgephys.sim.hard_cohort import HardCohortSpec, hard_cohort_table, simulate_hard_cohort
from drgephys.sim.presets import PRESETS, preset
from drgephys.sim.score import episode_outcomes, false_episodes, match_spikes, rate_bin, score, score_cohort
from drgephys.sim.spec import SimulatedTrace, TraceSpec
from drgephys.sim.spiketrain import PATTERNS, spike_train
from drgephys.sim.writers import truth_path, write_abf, write_nwb, write_truth
from drgephys.sim import models
from drgephys.sim.models import (KovalskyParams, RhoPrescottParams, kovalsky_fixed_points, simulate_kovalsky,
                                  simulate_rho_prescott)

__all__ = ["KovalskyParams", "RhoPrescottParams", "kovalsky_fixed_points", "models", "simulate_kovalsky", "simulate_rho_prescott",
           "PATTERNS", "PRESETS", "CohortSpec", "GroupEffects", "episode_outcomes", "false_episodes", "rate_bin", "HardCohortSpec", "hard_cohort_table", "preset",
           "simulate_hard_cohort", "SimulatedTrace", "TraceSpec", "match_spikes", "score",
           "score_cohort", "simulate_cohort",
           "simulate_cohort_table", "simulate_trace", "spike_train", "truth_path", "write_abf", "write_nwb",
           "write_truth"]
