"""Kovalsky, Amir & Devor 2009 single-compartment DRG neuron, re-implemented in numpy.

Kovalsky Y, Amir R, Devor M (2009) Simulation in sensory neurons reveals a key role
for delayed Na+ current in subthreshold oscillations and ectopic discharge:
implications for neuropathic pain. J Neurophysiol 102:1430-1442.

Equations (V in mV, t in ms, conductances in mS/cm2, currents in uA/cm2)::

    C dV/dt = -I_Na,f - I_Na,i - I_Na,l - I_K - I_leak + I_inj + I_noise

    I_Na,f = g_Na,f m^3 h (V - E_Na)      HH (1952) Na, NEURON ``hh`` rates at u = V - shift
    I_K    = g_K n^4 (V - E_K)            HH delayed rectifier, rates at u = V - k_shift
    I_Na,i = g_Na,i m_i h_i (V - E_Na)    "intermediate" Na, instantaneous activation
    I_Na,l = g_Na,l m_i h_l (V - E_Na)    "late" Na
    I_leak = g_leak (V - E_leak)

HH rates (NEURON ``hh.mod`` convention, rest near -65 mV), each multiplied by
``phi = q10 ** ((T - 6.3) / 10)`` with q10 = 3 (Hodgkin & Huxley 1952)::

    alpha_m = 0.1 (u+40) / (1 - exp(-(u+40)/10))    beta_m = 4 exp(-(u+65)/18)
    alpha_h = 0.07 exp(-(u+65)/20)                  beta_h = 1 / (1 + exp(-(u+35)/10))
    alpha_n = 0.01 (u+55) / (1 - exp(-(u+55)/10))   beta_n = 0.125 exp(-(u+65)/80)

Intermediate Na (Kovalsky 2009, as given in SCIENCE.md)::

    alpha_mi = 0.1 (-(V+25)) / (exp(-(V+25)/10) - 1)    beta_mi = 4 exp(-(V+50)/18)
    m_i = alpha_mi / (alpha_mi + beta_mi)                (instantaneous)
    h_inf = 1 / (1 + exp((V+72.5)/8))                   tau_hi = 0.2218 exp(-0.06883 V) ms

Late Na (Kovalsky 2009): tau_hl = 1 / (0.04 exp(V/25.5)) + 63.2 ms.

Re-implementation choices (the ModelDB 140038 NEURON files could not be read here;
every choice below is ours and is stated, none is copied):

* exponent of the intermediate-Na activation: 1 (with m^3 its window current is
  < 0.01 uA/cm2 and cannot shape the subthreshold potential at all);
* late Na uses the intermediate-Na activation ``m_i`` (``na_late_m_exponent = 1``)
  and steady-state inactivation ``h_inf`` with its own slow ``tau_hl`` (SCIENCE.md
  gives only ``tau_hl``);
* no temperature factor on the intermediate/late Na time constants (given in ms);
* fast Na shift ``fast_na_shift_mv = 0`` instead of the published +6 mV, and
  K: HH delayed rectifier, 36 mS/cm2 (HH 1952 / NEURON ``hh`` default) with its
  activation shifted by ``k_shift_mv = 45`` mV so that it stays closed below about
  -40 mV (the unshifted HH K, 0.4-1 mS/cm2 at -60 mV, holds the cell near -68 mV at
  the published currents and abolishes the SSOs).  Both are calibrations of ours.
* noise: an Ornstein-Uhlenbeck injected current (not part of the published model).

What the defaults give (linear stability analysis and simulation, this package):
SSO onset (subcritical Hopf) at -57.6 mV, 48.8 Hz (published SSO 44.7 Hz at
-57.2 mV); from rest the cell stays quiet up to 0.018 nA and fires tonically from
0.020 nA (0.024 nA: ISI 31.0 ms; 0.073 nA: 26.7 ms); the 0.012-nA state is a stable
focus, so SSOs there need noise (published: sustained 2.3-mV SSO).  Depolarized
(supercritical) Hopf at -40.1 mV, 0.98-1.0 nA, 110-115 Hz (published 109.8 Hz at
-36.6 mV).  No bursting regime was found (published: 0.024 nA bursting).

:meth:`KovalskyParams.literal` keeps the published +6 mV fast-Na shift and gives the
late Na no activation gate (an alternative reading of SCIENCE.md).  It matches the
depolarized point (Hopf at -36.8 mV, 117 Hz, 1.7 nA) and puts 0.012 nA at -57.3 mV,
but that state is strongly damped (47 Hz, decay 168/s), the lower Hopf moves to
-49.5 mV / 0.81 nA, and the cell does not spike below 1.7 nA.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drgephys._validation import check_positive

from .models_common import OUNoise, RateTable, as_cells, broadcast_cells, time_grid, vtrap

#: Published injected currents (nA) setting the firing mode (Kovalsky et al. 2009).
KOVALSKY_PUBLISHED_CURRENTS_NA = {"sso": 0.012, "bursting": 0.024, "tonic": 0.073}


@dataclass(frozen=True)
class KovalskyParams:
    """Parameters of the Kovalsky et al. (2009) DRG model.

    Published values (Kovalsky, Amir & Devor 2009, J Neurophysiol 102:1430; see
    ``/work/shared/docs/SCIENCE.md``): 50 x 50 um compartment, C 1 uF/cm2, 20 degC,
    E_Na +62 mV, E_K -94 mV, fast Na 25 mS/cm2, leak 1.42 mS/cm2 at -65.5 mV,
    intermediate Na 27 mS/cm2, late Na 0.128 mS/cm2.  ``g_k_ms_cm2`` is the
    Hodgkin-Huxley (1952) value; ``fast_na_shift_mv``, ``k_shift_mv`` and
    ``na_int_m_exponent`` are choices of this re-implementation (module docstring).

    Attributes
    ----------
    diameter_um, length_um : float
        Cylinder size; the membrane area is the lateral surface pi*d*L
        (7854 um2, so 1 nA = 12.73 uA/cm2, the published conversion).
    c_uf_cm2 : float
        Specific capacitance.
    temperature_c, q10_hh : float
        Temperature and Q10 of the HH rates (factor ``q10**((T-6.3)/10)``).
    """

    diameter_um: float = 50.0
    length_um: float = 50.0
    c_uf_cm2: float = 1.0
    temperature_c: float = 20.0
    q10_hh: float = 3.0
    e_na_mv: float = 62.0
    e_k_mv: float = -94.0
    g_na_fast_ms_cm2: float = 25.0
    fast_na_shift_mv: float = 0.0
    g_k_ms_cm2: float = 36.0
    k_shift_mv: float = 45.0
    g_leak_ms_cm2: float = 1.42
    e_leak_mv: float = -65.5
    g_na_int_ms_cm2: float = 27.0
    na_int_m_exponent: int = 1
    g_na_late_ms_cm2: float = 0.128
    na_late_m_exponent: int = 1
    v_init_mv: float = -58.0

    @classmethod
    def literal(cls, **overrides) -> "KovalskyParams":
        """Published +6 mV fast-Na shift and a late Na without activation gate.

        Reproduces the published depolarized SSO (about 110-117 Hz near -36.7 mV)
        but not the SSO at -57 mV nor the firing modes (module docstring).
        """
        return cls(**{"fast_na_shift_mv": 6.0, "na_late_m_exponent": 0, **overrides})

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


def _hh_rates(u):
    am = 0.1 * vtrap(u + 40.0, 10.0)
    bm = 4.0 * np.exp(-(u + 65.0) / 18.0)
    ah = 0.07 * np.exp(-(u + 65.0) / 20.0)
    bh = 1.0 / (1.0 + np.exp(-(u + 35.0) / 10.0))
    return am, bm, ah, bh


def _hh_n(u):
    return 0.01 * vtrap(u + 55.0, 10.0), 0.125 * np.exp(-(u + 65.0) / 80.0)


def na_int_m_inf(v):
    """Instantaneous activation of the intermediate Na current (Kovalsky 2009)."""
    a = 0.1 * vtrap(v + 25.0, 10.0)
    b = 4.0 * np.exp(-(v + 50.0) / 18.0)
    return a / (a + b)


def na_int_h_inf(v):
    """Steady-state inactivation of the intermediate (and late) Na current."""
    return 1.0 / (1.0 + np.exp((v + 72.5) / 8.0))


def na_int_tau_h_ms(v):
    """Inactivation time constant of the intermediate Na current (ms)."""
    return 0.2218 * np.exp(-0.06883 * v)


def na_late_tau_h_ms(v):
    """Inactivation time constant of the late Na current (ms)."""
    return 1.0 / (0.04 * np.exp(v / 25.5)) + 63.2


def _table(p: KovalskyParams, dt: float) -> RateTable:
    phi = p.phi

    def gate(alpha_beta, shift, which):
        def f(v):
            r = alpha_beta(v - shift)
            a, b = (r[0], r[1]) if which == 0 else (r[2], r[3])
            s = a + b
            return np.stack([a / s, np.exp(-phi * s * dt)])
        return f

    m = gate(_hh_rates, p.fast_na_shift_mv, 0)
    h = gate(_hh_rates, p.fast_na_shift_mv, 1)
    n = gate(_hh_n, p.k_shift_mv, 0)
    funcs = {
        "m_inf": lambda v: m(v)[0], "m_dec": lambda v: m(v)[1],
        "h_inf": lambda v: h(v)[0], "h_dec": lambda v: h(v)[1],
        "n_inf": lambda v: n(v)[0], "n_dec": lambda v: n(v)[1],
        "mi": lambda v: na_int_m_inf(v) ** p.na_int_m_exponent,
        "ml": lambda v: na_int_m_inf(v) ** p.na_late_m_exponent,
        "hi_inf": na_int_h_inf,
        "hi_dec": lambda v: np.exp(-dt / na_int_tau_h_ms(v)),
        "hl_dec": lambda v: np.exp(-dt / na_late_tau_h_ms(v)),
    }
    return RateTable(funcs)


def simulate_kovalsky(i_inj_na, duration_s, *, fs=20000.0, dt_ms=0.025, noise_sd_na=0.0,
                      noise_tau_ms=5.0, seed=None, settle_s=0.0, v_init_mv=None,
                      params: KovalskyParams = KovalskyParams()):
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
        Stationary SD of the Ornstein-Uhlenbeck noise current in nA (0 = deterministic).
    noise_tau_ms : float
        Correlation time of the noise current in ms.
    seed : None, int or sequence of int
        Noise seed(s); see :func:`drgephys.sim.models_common.cell_generators`.
    settle_s : float
        Simulated time discarded before recording starts (s).
    v_init_mv : float or array_like, optional
        Initial potential (gates start at their steady state there);
        default ``params.v_init_mv``.
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
    tau = check_positive(noise_tau_ms, "noise_tau_ms", "ms")
    cells = {"i_inj_na": as_cells(i_inj_na, "i_inj_na", "nA"),
             "noise_sd_na": as_cells(noise_sd_na, "noise_sd_na", "nA"),
             "v_init_mv": as_cells(params.v_init_mv if v_init_mv is None else v_init_mv,
                                   "v_init_mv", "mV")}
    if np.any(cells["noise_sd_na"] < 0):
        raise ValueError(f"`noise_sd_na` must be >= 0 nA; got {noise_sd_na!r}")
    n, cells = broadcast_cells(cells)
    scale = params.ua_cm2_per_na
    i_inj = cells["i_inj_na"] * scale
    noise = OUNoise(cells["noise_sd_na"] * scale, tau, dt, seed, n)
    tab = _table(params, dt)
    cap = params.c_uf_cm2
    gnaf, gk, gl = params.g_na_fast_ms_cm2, params.g_k_ms_cm2, params.g_leak_ms_cm2
    gni, gnl = params.g_na_int_ms_cm2, params.g_na_late_ms_cm2
    ena, ek, el = params.e_na_mv, params.e_k_mv, params.e_leak_mv
    glel_i = gl * el + i_inj

    v = cells["v_init_mv"].copy()
    r = tab.lookup(v)
    m, h, nk, hi, hl = r[0].copy(), r[2].copy(), r[4].copy(), r[8].copy(), r[8].copy()
    out = np.empty((n, n_samples))
    total = n_settle + n_samples * substeps
    rec0 = n_settle + substeps - 1
    for k in range(total):
        # one population step: gates (exponential Euler) then V (exponential Euler)
        m_inf, m_dec, h_inf, h_dec, n_inf, n_dec, mi, ml, hi_inf, hi_dec, hl_dec = tab.lookup(v)
        m = m_inf + (m - m_inf) * m_dec
        h = h_inf + (h - h_inf) * h_dec
        nk = n_inf + (nk - n_inf) * n_dec
        hi = hi_inf + (hi - hi_inf) * hi_dec
        hl = hi_inf + (hl - hi_inf) * hl_dec
        g_na = gnaf * m * m * m * h + gni * mi * hi + gnl * ml * hl
        n2 = nk * nk
        g_k = gk * n2 * n2
        g = g_na + g_k + gl
        v_inf = (g_na * ena + g_k * ek + glel_i + noise.step()) / g
        v = v_inf + (v - v_inf) * np.exp(-g * (dt / cap))
        j = k - rec0
        if j >= 0 and j % substeps == 0:
            out[:, j // substeps] = v
    t_s = np.arange(n_samples) / float(fs)
    return t_s, out
