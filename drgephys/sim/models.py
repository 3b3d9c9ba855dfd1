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

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from .models_common import as_cells
from .models_kovalsky import (KOVALSKY_PUBLISHED_CURRENTS_NA, KovalskyParams, _steady_states,
                              simulate_kovalsky)
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


_ODE_GATES = ("m", "h", "hi", "hl", "n", "s")


def _rhs(p: KovalskyParams, ss: dict, x: np.ndarray, i_ua_cm2: float) -> np.ndarray:
    """Time derivatives (mV/ms and 1/ms) of ``x = (V, m, h, h_i, h_l, n, s)``."""
    v, m, h, hi, hl, n, s = x
    g_na = (p.g_na_fast_ms_cm2 * m ** 3 * h + p.g_na_int_ms_cm2 * ss["mi"](v) * hi
            + p.g_na_late_ms_cm2 * ss["ml"](v) * hl)
    g_k = p.g_k_ms_cm2 * n ** 4 + p.g_k_slow_ms_cm2 * s
    dv = (i_ua_cm2 - g_na * (v - p.e_na_mv) - g_k * (v - p.e_k_mv)
          - p.g_leak_ms_cm2 * (v - p.e_leak_mv)) / p.c_uf_cm2
    rates = [(ss[g](v)[0] - y) / ss[g](v)[1] for g, y in zip(_ODE_GATES, x[1:])]
    return np.array([dv, *rates])


def kovalsky_fixed_points(i_inj_na: float, params: KovalskyParams = KovalskyParams(), *,
                          v_min_mv: float = -100.0, v_max_mv: float = 40.0) -> pd.DataFrame:
    """Resting states of the model at a constant current and their linear stability.

    Uses the exact rate formulas (no tables).  Near a Hopf bifurcation the leading
    eigenvalue pair gives the growth rate and the frequency of small oscillations.

    Parameters
    ----------
    i_inj_na : float
        Injected current in nA.
    params : KovalskyParams
    v_min_mv, v_max_mv : float
        Potential range searched for fixed points (mV).

    Returns
    -------
    pandas.DataFrame
        One row per fixed point, columns ``v_mv``, ``growth_rate_per_s`` (real part of
        the leading eigenvalue; > 0 unstable) and ``frequency_hz`` (its imaginary part
        over 2 pi; 0 for a real eigenvalue).
    """
    if not isinstance(params, KovalskyParams):
        raise TypeError(f"`params` must be a KovalskyParams; got {type(params).__name__}")
    i_ua = float(as_cells(i_inj_na, "i_inj_na", "nA")[0]) * params.ua_cm2_per_na
    ss = _steady_states(params)

    def state(v):
        return np.array([v, *(ss[g](v)[0] for g in _ODE_GATES)])

    def dv(v):
        return float(_rhs(params, ss, state(v), i_ua)[0])

    grid = np.linspace(v_min_mv, v_max_mv, 1401)
    f = _rhs(params, ss, state(grid), i_ua)[0]
    rows = []
    for k in np.flatnonzero(np.sign(f[:-1]) != np.sign(f[1:])):
        x = state(brentq(dv, grid[k], grid[k + 1], xtol=1e-10))
        jac = np.empty((x.size, x.size))
        for j in range(x.size):
            d = np.zeros(x.size)
            d[j] = 1e-6
            jac[:, j] = (_rhs(params, ss, x + d, i_ua) - _rhs(params, ss, x - d, i_ua)) / 2e-6
        w = np.linalg.eigvals(jac)
        lead = w[np.argmax(w.real)]
        rows.append({"v_mv": float(x[0]), "growth_rate_per_s": float(lead.real) * 1e3,
                     "frequency_hz": abs(float(lead.imag)) * 1e3 / (2 * np.pi)})
    return pd.DataFrame(rows, columns=["v_mv", "growth_rate_per_s", "frequency_hz"])
