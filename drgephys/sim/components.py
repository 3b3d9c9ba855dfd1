"""Vectorized building blocks of a simulated trace: noise, drift, hum, SSO episode envelopes, a dying
cell's depolarization (the AP template is in :mod:`drgephys.sim.action_potential`)."""

from __future__ import annotations

import numpy as np
from scipy import fft as sfft
from scipy.signal import lfilter

#: Raised-cosine ramps of an episode envelope last this share of the episode's half-maximum duration.
RAMP_FRACTION = 0.4


def pink_noise(n: int, fs: float, rms_mv: float, rng, f_lo_hz: float = 1.0) -> np.ndarray:
    """1/f-power noise from ``f_lo_hz`` to Nyquist with the given RMS (mV), by FFT shaping."""
    if rms_mv <= 0 or n < 4:
        return np.zeros(n)
    m = sfft.next_fast_len(n, real=True)
    spec = rng.standard_normal(m // 2 + 1) + 1j * rng.standard_normal(m // 2 + 1)
    f = sfft.rfftfreq(m, 1.0 / fs)
    spec *= 1.0 / np.sqrt(np.maximum(f, f_lo_hz))
    spec[0] = 0.0
    x = sfft.irfft(spec, m)[:n]
    return x * (rms_mv / (x.std() or 1.0))


def slow_drift(n: int, fs: float, sd_mv: float, time_s: float, rng) -> np.ndarray:
    """Smooth random baseline drift (Gaussian process of correlation time ``time_s``, SD ``sd_mv``)."""
    if sd_mv <= 0:
        return np.zeros(n)
    dur = n / fs
    step = time_s / 4.0
    knots = np.arange(-2 * time_s, dur + 2 * time_s + step, step)
    # AR(1) on knots every time_s/4, linear interpolation, then a moving average over one knot step
    a = np.exp(-step / time_s)
    e = rng.standard_normal(knots.size) * np.sqrt(1 - a * a)
    y = lfilter([1.0], [1.0, -a], e, zi=[a * rng.standard_normal()])[0]
    t = np.arange(n) / fs
    x = np.interp(t, knots, y)
    # smooth the piecewise-linear interpolant with a moving average of one knot step
    w = max(1, int(step * fs))
    c = np.cumsum(np.concatenate([[0.0], np.pad(x, (w // 2, w - w // 2), mode="edge")]))
    x = (c[w:] - c[:-w])[:n] / w
    return sd_mv * x


def hum(n: int, fs: float, hum_hz: float | None, amplitude_mv: float, harmonics, rng) -> np.ndarray:
    """Mains hum: constant-amplitude, phase-stable sum of harmonics ``k·hum_hz`` below Nyquist."""
    out = np.zeros(n)
    if hum_hz is None or amplitude_mv <= 0:
        return out
    t = np.arange(n) / fs
    for k, rel in enumerate(harmonics, start=1):
        if k * hum_hz < fs / 2 and rel > 0:
            out += amplitude_mv * rel * np.sin(2 * np.pi * k * hum_hz * t + rng.uniform(0, 2 * np.pi))
    return out


def support(start_s: float, end_s: float) -> tuple[float, float]:
    """Full extent of an episode envelope whose half-maximum points are ``start_s`` and ``end_s``."""
    ramp = RAMP_FRACTION * (end_s - start_s)
    return start_s - ramp / 2, end_s + ramp / 2


def envelope(t: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
    """Raised-cosine (Tukey) envelope, 0.5 exactly at ``start_s`` and ``end_s``, 1 on the plateau."""
    ramp = RAMP_FRACTION * (end_s - start_s)
    a, b = support(start_s, end_s)
    up = np.clip((t - a) / ramp, 0, 1)
    down = np.clip((b - t) / ramp, 0, 1)
    return 0.5 * (1 - np.cos(np.pi * np.minimum(up, down)))


def smooth_noise(t: np.ndarray, corr_s: float, rng) -> np.ndarray:
    """Unit-SD smooth noise on times ``t``: Gaussian values every ``corr_s``, cosine-interpolated."""
    if t.size == 0:
        return t.copy()
    knots = np.arange(t[0] - corr_s, t[-1] + 2 * corr_s, corr_s)
    vals = rng.standard_normal(knots.size)
    pos = (t - knots[0]) / corr_s
    i = np.clip(pos.astype(np.int64), 0, knots.size - 2)
    w = 0.5 * (1 - np.cos(np.pi * (pos - i)))
    return vals[i] * (1 - w) + vals[i + 1] * w


def depolarization(t: np.ndarray, from_mv: float, to_mv: float, onset_s: float, tau_s: float) -> np.ndarray:
    """A dying cell's depolarization (mV, to add to the baseline): 0 before ``onset_s``, then an exponential
    approach ``(to_mv − from_mv)·(1 − e^{−(t−onset_s)/tau_s})`` that stays at ``to_mv − from_mv``.

    ``t`` in s, shape ``(n_samples,)``; returns the same shape.
    """
    s = np.maximum(np.asarray(t, dtype=float) - onset_s, 0.0)
    return (to_mv - from_mv) * -np.expm1(-s / tau_s)
