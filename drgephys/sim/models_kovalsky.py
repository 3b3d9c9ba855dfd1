"""Kovalsky, Amir & Devor 2009 single-compartment DRG neuron, re-implemented in numpy.

Kovalsky Y, Amir R, Devor M (2009) Simulation in sensory neurons reveals a key role
for delayed Na+ current in subthreshold oscillations and ectopic discharge:
implications for neuropathic pain.  J Neurophysiol 102:1430-1442.  Model code:
ModelDB accession 140038 (NEURON: ``DRG_model_Kovalsky_etal.hoc`` with the mechanisms
``shift_hh_6.mod``, ``inter.mod``, ``late2.mod`` and ``kdr7.mod``).  The equations
below were re-implemented from those files (read, not copied).

Equations (V in mV, t in ms, conductances in mS/cm2, currents in uA/cm2)::

    C dV/dt = -I_Na,f - I_Na,i - I_Na,l - I_K - I_K,s - I_leak + I_inj + I_noise

    I_Na,f = g_Na,f m^3 h (V - E_Na)   HH (1952) Na, rates at u = V - 6 mV (shift_hh_6)
    I_Na,i = g_Na,i m_i h_i (V - E_Na) "intermediate" Na, m_i instantaneous (inter)
    I_Na,l = g_Na,l m_l h_l (V - E_Na) "late" Na, m_l instantaneous (late2)
    I_K    = g_K n^4 (V - E_K)         HH delayed rectifier, unshifted (shift_hh_6)
    I_K,s  = g_K,s s (V - E_K)         slow delayed rectifier (kdr7)
    I_leak = g_leak (V - E_leak)

HH rates (multiplied by ``phi = 3 ** ((T - 6.3) / 10)``, 4.50 at 20 degC)::

    alpha_m = 0.1 (u+40) / (1 - exp(-(u+40)/10))    beta_m = 4 exp(-(u+65)/18)
    alpha_h = 0.07 exp(-(u+65)/20)                  beta_h = 1 / (1 + exp(-(u+35)/10))
    alpha_n = 0.01 (V+55) / (1 - exp(-(V+55)/10))   beta_n = 0.125 exp(-(V+65)/80)

Intermediate Na (no temperature factor)::

    m_i = alpha/(alpha+beta), alpha = 0.1 (V+25)/(1 - exp(-(V+25)/10)), beta = 4 exp(-(V+50)/18)
    h_i,inf = 1 / (1 + exp((V+72.5)/8))             tau_h,i = 0.2218 exp(-0.06883 V) ms

Late Na (no temperature factor)::

    m_l = 1 / (1 + exp(-(V+51.8)/4.6))
    h_l,inf = 0.9827 / (1 + exp((V+55.67)/6.552))   tau_h,l = 1/(0.04 exp(V/25.5)) + 63.2 ms

Slow K (kdr7, no temperature factor)::

    s_inf = 1 / (1 + exp(-(V+13.2)/12.5))           tau_s = -23 + 69.46 exp(-0.0142 V) ms

Published parameter values (the hoc file): 50 x 50 um, C 1 uF/cm2, 20 degC, E_Na +62,
E_K -94 mV, g_Na,f 25, g_Na,i 27, g_Na,l 0.128, g_leak 1.42 mS/cm2 at -65.5 mV,
v_init -56.8 mV.  The published cell has **no potassium conductance**: the HH K of
``shift_hh_6`` defaults to 0 and is never set, and ``kdr7`` is inserted with
``gbar = 0`` (its mod default is 2.6 mS/cm2).  Both K currents are kept here as options
(``g_k_ms_cm2``, ``g_k_slow_ms_cm2``, published value 0).  Like NEURON, the rate
functions are tabulated every 1 mV on [-100, 100] mV and linearly interpolated
(``neuron_tables=True``).

Published behaviour (notes in the hoc file; SCIENCE.md) vs this module (deterministic,
published protocol: v_init -56.8 mV, step at 0.1 s; dt 0.025 ms, [dt 0.01 ms]):

* rest at 0 nA: -57.42 vs -57.43 mV;
* SSO at 0.012 nA: 44.66 Hz, 2.3 mV at -57.21 mV vs 44.4 [44.67] Hz, 2.21 [2.29] mV at
  -57.22 [-57.21] mV, sustained without noise.  The SSO coexists with a stable rest
  (subcritical Hopf at 0.0184 nA, :func:`drgephys.sim.models.kovalsky_fixed_points`), so its onset depends
  on the transient: published 0.012 nA, here 0.009 nA with this protocol and 0.012 nA
  when stepping from the exact rest;
* bursting: two bursts at 0.019 nA (reproduced), first intra-burst interval 29.6-31.2
  vs 31.1 [30.9] ms at 0.024 nA (bursts of 8 [9] spikes every 1 s);
* tonic from 0.063 nA at 36 Hz vs tonic at 0.073 nA starting at 36.1 Hz (0.063 nA
  still pauses once at dt 0.025 ms, tonic at dt 0.01 ms);
* highest SSO potential -36.63 mV at 1.62 nA, 109.77 Hz, 1.15 mV vs a supercritical
  Hopf at 1.6218 nA, -36.65 mV, 110.2 Hz (linear analysis) and a simulated 1.15-mV SSO
  at 1.618 nA, -36.67 mV, 109 Hz.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drgephys._validation import check_positive

from .models_common import (OUNoise, RateTable, as_cells, broadcast_cells, nonneg_seconds,
                            time_grid, vtrap)

#: Published injected currents (nA) setting the firing mode (Kovalsky et al. 2009).
KOVALSKY_PUBLISHED_CURRENTS_NA = {"sso": 0.012, "bursting": 0.024, "tonic": 0.073}

#: NEURON rate-table grid of the ModelDB 140038 mechanisms (FROM -100 TO 100 WITH 200).
NEURON_TABLE_MV = np.linspace(-100.0, 100.0, 201)

#: Floor (ms) on the kdr7 time constant, whose formula turns negative above +77 mV.
K_SLOW_MIN_TAU_MS = 0.1


@dataclass(frozen=True)
class KovalskyParams:
    """Parameters of the Kovalsky et al. (2009) DRG model (ModelDB 140038 values).

    Attributes
    ----------
    diameter_um, length_um : float
        Cylinder size; the membrane area is the lateral surface pi*d*L
        (7854 um2, so 1 nA = 12.73 uA/cm2).
    c_uf_cm2 : float
        Specific capacitance (1 uF/cm2).
    temperature_c, q10_hh : float
        Temperature (20 degC) and Q10 (3) of the fast HH rates.
    e_na_mv, e_k_mv : float
        Reversal potentials (+62, -94 mV).
    g_na_fast_ms_cm2, fast_na_shift_mv : float
        Fast HH Na conductance (25) and the rightward shift of its rates (+6 mV).
    g_k_ms_cm2 : float
        HH delayed rectifier of ``shift_hh_6`` (published: 0, never set in the hoc).
    g_k_slow_ms_cm2 : float
        Slow delayed rectifier ``kdr7`` (published: inserted with gbar 0; mod default 2.6).
    g_leak_ms_cm2, e_leak_mv : float
        Leak (1.42 mS/cm2 at -65.5 mV).
    g_na_int_ms_cm2, g_na_late_ms_cm2 : float
        Intermediate (27) and late (0.128) Na conductances.
    v_init_mv : float
        Default initial potential (-56.8 mV, as in the hoc file).
    neuron_tables : bool
        Tabulate the rates every 1 mV on [-100, 100] mV and interpolate linearly, as
        NEURON does for these mechanisms; False evaluates the formulas exactly.
    """

    diameter_um: float = 50.0
    length_um: float = 50.0
    c_uf_cm2: float = 1.0
    temperature_c: float = 20.0
    q10_hh: float = 3.0
    e_na_mv: float = 62.0
    e_k_mv: float = -94.0
    g_na_fast_ms_cm2: float = 25.0
    fast_na_shift_mv: float = 6.0
    g_k_ms_cm2: float = 0.0
    g_k_slow_ms_cm2: float = 0.0
    g_leak_ms_cm2: float = 1.42
    e_leak_mv: float = -65.5
    g_na_int_ms_cm2: float = 27.0
    g_na_late_ms_cm2: float = 0.128
    v_init_mv: float = -56.8
    neuron_tables: bool = True

    def __post_init__(self):
        for name, unit in (("diameter_um", "um"), ("length_um", "um"), ("c_uf_cm2", "uF/cm2"),
                           ("q10_hh", "")):
            check_positive(getattr(self, name), name, unit)
        for name, value in vars(self).items():
            if name.startswith("g_") and not (np.isfinite(value) and value >= 0):
                raise ValueError(f"`{name}` must be a finite conductance >= 0 mS/cm2; got {value!r}")

    @classmethod
    def literal(cls, **overrides) -> "KovalskyParams":
        """The published ModelDB 140038 parameter set (identical to the defaults).

        Kept for backward compatibility; ``overrides`` replace single fields.
        """
        return cls(**overrides)

    @property
    def area_cm2(self) -> float:
        """Lateral membrane area of the cylinder in cm2."""
        return float(np.pi * self.diameter_um * self.length_um * 1e-8)

    @property
    def ua_cm2_per_na(self) -> float:
        """Current density (uA/cm2) of 1 nA injected into this compartment."""
        return 1e-3 / self.area_cm2

    @property
    def phi(self) -> float:
        """Temperature factor of the HH rates."""
        return float(self.q10_hh ** ((self.temperature_c - 6.3) / 10.0))


def hh_na_rates(u):
    """HH (1952) Na rates ``(alpha_m, beta_m, alpha_h, beta_h)`` in 1/ms at 6.3 degC."""
    am = 0.1 * vtrap(u + 40.0, 10.0)
    bm = 4.0 * np.exp(-(u + 65.0) / 18.0)
    ah = 0.07 * np.exp(-(u + 65.0) / 20.0)
    bh = 1.0 / (1.0 + np.exp(-(u + 35.0) / 10.0))
    return am, bm, ah, bh


def hh_k_rates(v):
    """HH (1952) K rates ``(alpha_n, beta_n)`` in 1/ms at 6.3 degC."""
    return 0.01 * vtrap(v + 55.0, 10.0), 0.125 * np.exp(-(v + 65.0) / 80.0)


def na_int_m_inf(v):
    """Instantaneous activation of the intermediate Na current."""
    a = 0.1 * vtrap(v + 25.0, 10.0)
    return a / (a + 4.0 * np.exp(-(v + 50.0) / 18.0))


def na_int_h_inf(v):
    """Steady-state inactivation of the intermediate Na current."""
    return 1.0 / (1.0 + np.exp((v + 72.5) / 8.0))


def na_int_tau_h_ms(v):
    """Inactivation time constant of the intermediate Na current (ms)."""
    return 0.2218 * np.exp(-0.06883 * v)


def na_late_m_inf(v):
    """Instantaneous activation of the late Na current."""
    return 1.0 / (1.0 + np.exp(-(v + 51.8) / 4.6))


def na_late_h_inf(v):
    """Steady-state inactivation of the late Na current."""
    return 0.9827 / (1.0 + np.exp((v + 55.67) / 6.552))


def na_late_tau_h_ms(v):
    """Inactivation time constant of the late Na current (ms)."""
    return 1.0 / (0.04 * np.exp(v / 25.5)) + 63.2


def k_slow_s_inf(v):
    """Steady-state activation of the slow delayed rectifier (kdr7)."""
    return 1.0 / (1.0 + np.exp(-(v + 13.2) / 12.5))


def k_slow_tau_ms(v):
    """Activation time constant of the slow delayed rectifier (ms), floored."""
    return np.maximum(-23.0 + 69.46 * np.exp(-0.0142 * v), K_SLOW_MIN_TAU_MS)


def _steady_states(p: KovalskyParams) -> dict:
    """Steady states and time constants (ms) of every gate as functions of V."""
    phi = p.phi

    def inf_tau(alpha, beta):
        return alpha / (alpha + beta), 1.0 / (phi * (alpha + beta))

    def fast(v):
        am, bm, ah, bh = hh_na_rates(v - p.fast_na_shift_mv)
        return inf_tau(am, bm) + inf_tau(ah, bh)

    return {
        "m": lambda v: fast(v)[0:2], "h": lambda v: fast(v)[2:4],
        "n": lambda v: inf_tau(*hh_k_rates(v)),
        "hi": lambda v: (na_int_h_inf(v), na_int_tau_h_ms(v)),
        "hl": lambda v: (na_late_h_inf(v), na_late_tau_h_ms(v)),
        "s": lambda v: (k_slow_s_inf(v), k_slow_tau_ms(v)),
        "mi": na_int_m_inf, "ml": na_late_m_inf,
    }


def _table(p: KovalskyParams, dt: float, gates) -> RateTable:
    ss = _steady_states(p)
    grid = NEURON_TABLE_MV

    def tabulated(f):
        if not p.neuron_tables:
            return f
        vals = np.asarray(f(grid), dtype=np.float64)
        return lambda v: np.interp(v, grid, vals)

    funcs = {"mi": tabulated(ss["mi"]), "ml": tabulated(ss["ml"])}
    for gate in gates:
        inf = tabulated(lambda v, g=gate: ss[g](v)[0])
        tau = tabulated(lambda v, g=gate: ss[g](v)[1])
        funcs[gate + "_inf"] = inf
        funcs[gate + "_dec"] = lambda v, tau=tau: np.exp(-dt / tau(v))
    return RateTable(funcs)


def simulate_kovalsky(i_inj_na, duration_s, *, fs=20000.0, dt_ms=0.025, noise_sd_na=0.0,
                      noise_tau_ms=5.0, seed=None, settle_s=0.0, v_init_mv=None,
                      step_onset_s=0.0, params: KovalskyParams = KovalskyParams()):
    """Simulate Kovalsky et al. (2009) DRG cells in current clamp, many at once.

    Parameters
    ----------
    i_inj_na : float or array_like, shape (n_cells,)
        Constant injected current per cell in nA (published modes: 0.012 SSO,
        0.024 bursting, 0.073 tonic; see :data:`KOVALSKY_PUBLISHED_CURRENTS_NA`).
    duration_s : float
        Recorded duration in s.
    fs : float
        Output sampling rate in Hz.
    dt_ms : float
        Largest internal step in ms (reduced so that it divides ``1000 / fs``).
    noise_sd_na : float or array_like, shape (n_cells,)
        Stationary SD of the Ornstein-Uhlenbeck noise current in nA (0 = deterministic,
        as in the published model).
    noise_tau_ms : float
        Correlation time of the noise current in ms.
    seed : None, int or sequence of int
        Noise seed(s); see :func:`drgephys.sim.models_common.cell_generators`.
    settle_s : float
        Simulated time discarded before recording starts (s); the current is on
        throughout.
    v_init_mv : float or array_like, optional
        Initial potential (gates start at their steady state there);
        default ``params.v_init_mv``.
    step_onset_s : float
        Time from the start of the simulation (settling included) at which the
        injected current steps on; before it the cell receives 0 nA.  The published
        protocol is ``v_init_mv=-56.8`` with the step at 0.1 s.  Near the lower
        (subcritical) Hopf the SSO coexists with a stable rest, so whether it starts
        depends on this transient.
    params : KovalskyParams

    Returns
    -------
    t_s : ndarray, shape (n_samples,)
        Sample times in s from the first recorded sample.
    v : ndarray, shape (n_cells, n_samples)
        Membrane potential in mV.
    """
    if not isinstance(params, KovalskyParams):
        raise TypeError(f"`params` must be a KovalskyParams; got {type(params).__name__}")
    n_samples, substeps, n_settle, dt = time_grid(duration_s, fs, dt_ms, settle_s)
    k_onset = int(round(nonneg_seconds(step_onset_s, "step_onset_s") * 1000.0 / dt))
    tau = check_positive(noise_tau_ms, "noise_tau_ms", "ms")
    cells = {"i_inj_na": as_cells(i_inj_na, "i_inj_na", "nA"),
             "noise_sd_na": as_cells(noise_sd_na, "noise_sd_na", "nA"),
             "v_init_mv": as_cells(params.v_init_mv if v_init_mv is None else v_init_mv,
                                   "v_init_mv", "mV")}
    if np.any(cells["noise_sd_na"] < 0):
        raise ValueError(f"`noise_sd_na` must be >= 0 nA; got {noise_sd_na!r}")
    n, cells = broadcast_cells(cells)
    scale = params.ua_cm2_per_na
    noise = OUNoise(cells["noise_sd_na"] * scale, tau, dt, seed, n)
    with_k = params.g_k_ms_cm2 > 0 or params.g_k_slow_ms_cm2 > 0
    gates = ("m", "h", "hi", "hl", "n", "s") if with_k else ("m", "h", "hi", "hl")
    tab = _table(params, dt, gates)
    idx = {name: k for k, name in enumerate(tab.names)}
    cap = params.c_uf_cm2
    gnaf, gni, gnl = params.g_na_fast_ms_cm2, params.g_na_int_ms_cm2, params.g_na_late_ms_cm2
    gk, gks, gl = params.g_k_ms_cm2, params.g_k_slow_ms_cm2, params.g_leak_ms_cm2
    ena, ek = params.e_na_mv, params.e_k_mv
    glel_on = gl * params.e_leak_mv + cells["i_inj_na"] * scale
    glel_i = np.full(n, gl * params.e_leak_mv) if k_onset > 0 else glel_on

    v = cells["v_init_mv"].copy()
    r = tab.lookup(v)
    state = {g: r[idx[g + "_inf"]].copy() for g in gates}
    rows = [(g, idx[g + "_inf"], idx[g + "_dec"]) for g in gates]
    i_mi, i_ml = idx["mi"], idx["ml"]
    out = np.empty((n, n_samples))
    total = n_settle + n_samples * substeps
    rec0 = n_settle + substeps - 1
    for k in range(total):
        # one population step: gates (exponential Euler) then V (exponential Euler)
        if k == k_onset:
            glel_i = glel_on
        r = tab.lookup(v)
        for g, i_inf, i_dec in rows:
            state[g] = r[i_inf] + (state[g] - r[i_inf]) * r[i_dec]
        m = state["m"]
        g_na = (gnaf * m * m * m * state["h"] + gni * r[i_mi] * state["hi"]
                + gnl * r[i_ml] * state["hl"])
        if with_k:
            n2 = state["n"] * state["n"]
            g_k = gk * n2 * n2 + gks * state["s"]
            g = g_na + g_k + gl
            num = g_na * ena + g_k * ek + glel_i + noise.step()
        else:
            g = g_na + gl
            num = g_na * ena + glel_i + noise.step()
        v_inf = num / g
        v = v_inf + (v - v_inf) * np.exp(-g * (dt / cap))
        j = k - rec0
        if j >= 0 and j % substeps == 0:
            out[:, j // substeps] = v
    t_s = np.arange(n_samples) / float(fs)
    return t_s, out

