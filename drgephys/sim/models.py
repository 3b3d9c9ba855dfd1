"""Biophysical DRG neuron models, vectorised over many cells (public entry point).

* :func:`simulate_kovalsky` / :class:`KovalskyParams` - Kovalsky, Amir & Devor 2009
  (J Neurophysiol 102:1430) single-compartment model with fast, "intermediate" and
  "late" Na currents (re-implemented from the published ModelDB 140038 code; see
  :mod:`drgephys.sim.models_kovalsky` for every equation and its source), and
  :func:`kovalsky_fixed_points` (resting states and their linear stability).
* :func:`simulate_rho_prescott` / :class:`RhoPrescottParams` - Rho & Prescott 2012
  (PLoS Comput Biol 8:e1002524) modified Morris-Lecar model; see
  :mod:`drgephys.sim.models_rho_prescott`.

Both return ``(t_s, v)`` with ``v`` of shape ``(n_cells, n_samples)`` in mV sampled at
``fs``; per-cell arguments (current, noise SD, initial potential, ``beta_w_mv``) may be
scalars or arrays of shape ``(n_cells,)``.  Noise is an Ornstein-Uhlenbeck current
with one independent random stream per cell, so a cell simulated inside a batch
equals the same cell simulated alone with the same seed.
"""

from .models_kovalsky import (KOVALSKY_PUBLISHED_CURRENTS_NA, KovalskyParams,
                              kovalsky_fixed_points, simulate_kovalsky)
from .models_rho_prescott import RhoPrescottParams, simulate_rho_prescott, steady_state_current

__all__ = [
    "KOVALSKY_PUBLISHED_CURRENTS_NA",
    "KovalskyParams",
    "RhoPrescottParams",
    "kovalsky_fixed_points",
    "simulate_kovalsky",
    "simulate_rho_prescott",
    "steady_state_current",
]
