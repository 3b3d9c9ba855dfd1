"""Rho & Prescott 2012 modified Morris-Lecar DRG neuron, re-implemented in numpy.

Rho Y-A, Prescott SA (2012) Identification of molecular pathologies sufficient to
cause neuropathic excitability in primary somatosensory afferents using dynamical
systems theory. PLoS Comput Biol 8:e1002524.

Equations (V in mV, t in ms, conductances in mS/cm2, currents in uA/cm2)::

    C dV/dt = -g_fast m_inf(V) (V - E_Na) - g_slow w (V - E_K)
              - g_leak (V - E_leak) + I_stim + I_noise
    dw/dt   = phi_w (w_inf(V) - w) / tau_w(V)
    m_inf   = 0.5 (1 + tanh((V - beta_m) / gamma_m))
    w_inf   = 0.5 (1 + tanh((V - beta_w) / gamma_w))
    tau_w   = 1 / cosh((V - beta_w) / (2 gamma_w))

with C = 2 uF/cm2, E_Na = 50, E_K = -100, E_leak = -70 mV, g_fast = g_slow = 20,
g_leak = 2 mS/cm2, beta_m = -1.2, gamma_m = 18, gamma_w = 10 mV, phi_w = 0.15
(Rho & Prescott 2012; SCIENCE.md).  beta_w sets the excitability: -21 mV
"normal" (single spike at onset), -19 mV regular SSOs, -13 mV "neuropathic"
(noise-driven SSOs and repetitive spiking near threshold).

Noise: I_noise is an Ornstein-Uhlenbeck current with correlation time
``noise_tau_ms`` and stationary SD ``noise_sd_ua_cm2``.  Prescott's models use
OU-filtered noise; the 5 ms default correlation time is our choice (the exact
value used in the paper's figures could not be checked here), and the SD is a
free argument (default 0: deterministic).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drgephys._validation import check_positive

from .models_common import OUNoise, RateTable, as_cells, broadcast_cells, time_grid


@dataclass(frozen=True)
class RhoPrescottParams:
    """Parameters of the Rho & Prescott (2012) modified Morris-Lecar model.

    All defaults from Rho & Prescott (2012, PLoS Comput Biol 8:e1002524), "normal"
    afferent (``beta_w_mv = -21``).  Presets: :meth:`normal`, :meth:`regular_sso`
    (``beta_w_mv = -19``), :meth:`neuropathic` (``beta_w_mv = -13``).
    """

    c_uf_cm2: float = 2.0
    e_na_mv: float = 50.0
    e_k_mv: float = -100.0
    e_leak_mv: float = -70.0
    g_fast_ms_cm2: float = 20.0
    g_slow_ms_cm2: float = 20.0
    g_leak_ms_cm2: float = 2.0
    beta_m_mv: float = -1.2
    gamma_m_mv: float = 18.0
    beta_w_mv: float = -21.0
    gamma_w_mv: float = 10.0
    phi_w: float = 0.15
    v_init_mv: float = -70.0

    @classmethod
    def normal(cls, **overrides) -> "RhoPrescottParams":
        """Normal afferent, beta_w = -21 mV (onset-only spiking)."""
        return cls(**{"beta_w_mv": -21.0, **overrides})

    @classmethod
    def regular_sso(cls, **overrides) -> "RhoPrescottParams":
        """beta_w = -19 mV: regular subthreshold oscillations near threshold."""
        return cls(**{"beta_w_mv": -19.0, **overrides})

    @classmethod
    def neuropathic(cls, **overrides) -> "RhoPrescottParams":
        """Neuropathic afferent, beta_w = -13 mV (noise-driven SSOs, repetitive spiking)."""
        return cls(**{"beta_w_mv": -13.0, **overrides})


def m_inf(v, p: RhoPrescottParams):
    """Instantaneous activation of the fast inward current."""
    return 0.5 * (1.0 + np.tanh((v - p.beta_m_mv) / p.gamma_m_mv))


def w_inf(v, p: RhoPrescottParams):
    """Steady-state activation of the slow outward current."""
    return 0.5 * (1.0 + np.tanh((v - p.beta_w_mv) / p.gamma_w_mv))


def tau_w_ms(v, p: RhoPrescottParams):
    """Voltage-dependent time scale of ``w`` in ms (before division by ``phi_w``)."""
    return 1.0 / np.cosh((v - p.beta_w_mv) / (2.0 * p.gamma_w_mv))


def steady_state_current(v_mv, params: "RhoPrescottParams" = RhoPrescottParams()):
    """Stimulus current (uA/cm2) that holds the model at ``v_mv`` in steady state.

    ``I_ss(V) = g_fast m_inf (V-E_Na) + g_slow w_inf (V-E_K) + g_leak (V-E_leak)``;
    vectorised over ``v_mv``.
    """
    p = params
    v = np.asarray(v_mv, dtype=np.float64)
    return (p.g_fast_ms_cm2 * m_inf(v, p) * (v - p.e_na_mv)
            + p.g_slow_ms_cm2 * w_inf(v, p) * (v - p.e_k_mv)
            + p.g_leak_ms_cm2 * (v - p.e_leak_mv))


def simulate_rho_prescott(i_inj_ua_cm2, duration_s, *, fs=20000.0, dt_ms=0.025, beta_w_mv=None,
                          noise_sd_ua_cm2=0.0, noise_tau_ms=5.0, seed=None, settle_s=0.0,
                          v_init_mv=None, params: RhoPrescottParams = RhoPrescottParams()):
    """Simulate Rho & Prescott (2012) cells in current clamp, many at once.

    Parameters
    ----------
    i_inj_ua_cm2 : float or array_like, shape (n_cells,)
        Constant stimulus current density per cell in uA/cm2.
    duration_s : float
        Recorded duration in s.
    fs : float
        Output sampling rate in Hz.
    dt_ms : float
        Largest internal step in ms (reduced so that it divides ``1000 / fs``).
    beta_w_mv : float or array_like, shape (n_cells,), optional
        Half-activation of ``w`` per cell (overrides ``params.beta_w_mv``); -21 normal,
        -19 regular SSOs, -13 neuropathic.
    noise_sd_ua_cm2 : float or array_like, shape (n_cells,)
        Stationary SD of the Ornstein-Uhlenbeck noise current (uA/cm2); 0 = deterministic.
    noise_tau_ms : float
        Correlation time of the noise current in ms.
    seed : None, int or sequence of int
        Noise seed(s); see :func:`drgephys.sim.models_common.cell_generators`.
    settle_s : float
        Simulated time discarded before recording starts (s).
    v_init_mv : float or array_like, optional
        Initial potential (``w`` starts at ``w_inf``); default ``params.v_init_mv``.
    params : RhoPrescottParams

    Returns
    -------
    t_s : ndarray, shape (n_samples,)
        Sample times in s from the first recorded sample.
    v : ndarray, shape (n_cells, n_samples)
        Membrane potential in mV.
    """
    if not isinstance(params, RhoPrescottParams):
        raise TypeError(f"`params` must be a RhoPrescottParams; got {type(params).__name__}")
    n_samples, substeps, n_settle, dt = time_grid(duration_s, fs, dt_ms, settle_s)
    tau = check_positive(noise_tau_ms, "noise_tau_ms", "ms")
    cells = {"i_inj_ua_cm2": as_cells(i_inj_ua_cm2, "i_inj_ua_cm2", "uA/cm2"),
             "noise_sd_ua_cm2": as_cells(noise_sd_ua_cm2, "noise_sd_ua_cm2", "uA/cm2"),
             "beta_w_mv": as_cells(params.beta_w_mv if beta_w_mv is None else beta_w_mv,
                                   "beta_w_mv", "mV"),
             "v_init_mv": as_cells(params.v_init_mv if v_init_mv is None else v_init_mv,
                                   "v_init_mv", "mV")}
    if np.any(cells["noise_sd_ua_cm2"] < 0):
        raise ValueError(f"`noise_sd_ua_cm2` must be >= 0 uA/cm2; got {noise_sd_ua_cm2!r}")
    n, cells = broadcast_cells(cells)
    p = params
    noise = OUNoise(cells["noise_sd_ua_cm2"], tau, dt, seed, n)
    # m_inf does not depend on beta_w: tabulate it once.  w depends on (V - beta_w):
    # tabulate w_inf and the decay factor as functions of u = V - beta_w.
    base = RhoPrescottParams(beta_w_mv=0.0, gamma_w_mv=p.gamma_w_mv, beta_m_mv=p.beta_m_mv,
                             gamma_m_mv=p.gamma_m_mv)
    tab = RateTable({
        "m_inf": lambda v: m_inf(v, base),
        "w_inf": lambda u: w_inf(u, base),
        "w_dec": lambda u: np.exp(-dt * p.phi_w / tau_w_ms(u, base)),
    })
    beta_w = cells["beta_w_mv"]
    gf, gs, gl, cap = p.g_fast_ms_cm2, p.g_slow_ms_cm2, p.g_leak_ms_cm2, p.c_uf_cm2
    ena, ek = p.e_na_mv, p.e_k_mv
    glel_i = gl * p.e_leak_mv + cells["i_inj_ua_cm2"]
    v = cells["v_init_mv"].copy()
    w = w_inf(v - beta_w, base)
    out = np.empty((n, n_samples))
    total = n_settle + n_samples * substeps
    rec0 = n_settle + substeps - 1
    two = np.empty((2, n))
    for k in range(total):
        # one population step: w (exponential Euler), then V (exponential Euler)
        two[0] = v
        two[1] = v - beta_w
        r = tab.lookup(two)  # shape (3, 2, n): rows m_inf, w_inf, w_dec at V and at V - beta_w
        w_i = r[1, 1]
        w = w_i + (w - w_i) * r[2, 1]
        g_f = gf * r[0, 0]
        g_s = gs * w
        g = g_f + g_s + gl
        v_inf = (g_f * ena + g_s * ek + glel_i + noise.step()) / g
        v = v_inf + (v - v_inf) * np.exp(-g * (dt / cap))
        j = k - rec0
        if j >= 0 and j % substeps == 0:
            out[:, j // substeps] = v
    t_s = np.arange(n_samples) / float(fs)
    return t_s, out
