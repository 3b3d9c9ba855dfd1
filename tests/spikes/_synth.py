"""Analytic test traces with known spike times (independent of drgephys.sim).

Each AP is an asymmetric Gaussian (rise SD `rise_ms`, fall SD `fall_ms`) peaking exactly at its given
time, followed by a double-exponential AHP that is zero with zero value at the peak, so the true peak
time is exactly the given time.
"""

from __future__ import annotations

import numpy as np

REST_MV = -60.0


def ap_waveform(tau_ms, *, amplitude_mv=95.0, rise_ms=0.25, fall_ms=0.6, ahp_mv=10.0,
                ahp_rise_ms=1.5, ahp_decay_ms=15.0):
    """AP + AHP relative to rest, as a function of time from the peak (ms)."""
    tau = np.asarray(tau_ms, dtype=float)
    sd = np.where(tau < 0, rise_ms, fall_ms)
    v = amplitude_mv * np.exp(-0.5 * (tau / sd) ** 2)
    post = np.clip(tau, 0, None)
    k = ahp_mv / _ahp_peak(ahp_rise_ms, ahp_decay_ms)
    v = v - np.where(tau > 0, k * (np.exp(-post / ahp_decay_ms) - np.exp(-post / ahp_rise_ms)), 0.0)
    return v


def _ahp_peak(r, d):
    tm = np.log(d / r) * r * d / (d - r)
    return np.exp(-tm / d) - np.exp(-tm / r)


def make_trace(fs, duration_s, peak_times_s, *, noise_sd_mv=0.0, sso=None, seed=0, rest_mv=REST_MV, **ap):
    """Membrane potential (mV) with APs peaking at `peak_times_s`.

    sso : (frequency_hz, peak_to_peak_mv, start_s, end_s, phase0_rad) or None; the SSO is
    ``amp/2 · cos(2π f (t − start) + phase0)`` inside [start, end).
    """
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(duration_s * fs))) / fs
    v = np.full(t.size, rest_mv)
    if sso is not None:
        f, pp, a, b, ph0 = sso
        inside = (t >= a) & (t < b)
        v[inside] += 0.5 * pp * np.cos(2 * np.pi * f * (t[inside] - a) + ph0)
    span = 200e-3
    for tp in np.atleast_1d(peak_times_s):
        i0, i1 = np.searchsorted(t, [tp - 5e-3, tp + span])
        v[i0:i1] += ap_waveform((t[i0:i1] - tp) * 1e3, **ap)
    if noise_sd_mv:
        v = v + rng.normal(0, noise_sd_mv, t.size)
    return v
