"""Hand-made current-clamp traces with known SSO episodes: the independent generator of the oscillation
benchmark's accuracy section (a), beside ``drgephys.sim`` in section (b) (the tests use ``drgephys.sim``).

Episodes are sinusoids under a Tukey envelope (raised-cosine ramps over ``ramp`` of the support each side;
episode boundaries are the envelope's half-maximum points; the amplitude given is the peak-to-peak of the
plateau); noise is pink (1/f power) plus white; hum is
a constant sinusoid; spikes are fast rises with an exponential AHP, returned as a ``detect_spikes``-like
table (``threshold_index``, ``end_index``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def pink_noise(n: int, fs: float, rng, sd: float, f_min: float = 0.5) -> np.ndarray:
    """Gaussian noise with power ~ 1/f above ``f_min``, scaled to standard deviation ``sd``."""
    spec = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    f = np.fft.rfftfreq(n, 1 / fs)
    spec /= np.sqrt(np.maximum(f, f_min))
    spec[0] = 0
    x = np.fft.irfft(spec, n)
    return x * (sd / x.std())


def episode_envelope(n: int, fs: float, start_s: float, end_s: float, ramp: float = 0.2) -> np.ndarray:
    """Tukey envelope (0..1) with half-maximum points at ``start_s`` and ``end_s``."""
    return episode_wave(n, fs, start_s, end_s, 0.0, 2.0, phase=np.pi / 2, ramp=ramp)


def episode_wave(n: int, fs: float, start_s: float, end_s: float, freq: float, pp_mv: float,
                 phase: float = 0.0, ramp: float = 0.2) -> np.ndarray:
    """Sinusoid of peak-to-peak ``pp_mv`` under a Tukey envelope whose half-maximum points are ``start_s``
    and ``end_s`` (the simulator's boundary convention); the raised-cosine ramps take ``ramp`` of the
    envelope's full support each."""
    t = np.arange(n) / fs
    full = (end_s - start_s) / (1 - ramp)
    s0 = start_s - ramp * full / 2
    u = (t - s0) / full
    env = np.zeros(n)
    inside = (u >= 0) & (u <= 1)
    env[inside] = 1.0
    up = inside & (u < ramp)
    env[up] = 0.5 * (1 - np.cos(np.pi * u[up] / ramp))
    down = inside & (u > 1 - ramp)
    env[down] = 0.5 * (1 - np.cos(np.pi * (1 - u[down]) / ramp))
    return env * (pp_mv / 2) * np.sin(2 * np.pi * freq * t + phase)


def make_trace(duration_s=5.0, fs=20000.0, *, episodes=(), vm_mv=-60.0, pink_sd=0.3, white_sd=0.1,
               hum_hz=None, hum_pp_mv=0.6, spike_times_s=(), ahp_mv=8.0, ahp_tau_ms=15.0,
               blank_tau_multiple=4.0, depol_mv=0.0, seed=0):
    """Build a trace.

    Parameters
    ----------
    episodes : sequence of (start_s, end_s, frequency_hz, pp_mv)
    depol_mv : float
        Depolarization accompanying each episode, following its envelope (SSOs appear on depolarization).
    spike_times_s : sequence of float
        Spike threshold times; each spike is a 1 ms rise to +30 mV, then an AHP of ``ahp_mv`` decaying with
        ``ahp_tau_ms``; ``end_index`` is put ``blank_tau_multiple`` time constants after the peak.

    Returns
    -------
    v : ndarray (mV), spikes : DataFrame
    """
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * fs))
    v = vm_mv + pink_noise(n, fs, rng, pink_sd) + white_sd * rng.standard_normal(n)
    t = np.arange(n) / fs
    for (s, e, f, a) in episodes:
        v += episode_wave(n, fs, s, e, f, a, phase=rng.uniform(0, 2 * np.pi))
        if depol_mv:
            v += depol_mv * episode_envelope(n, fs, s, e)
    if hum_hz:
        v += hum_pp_mv / 2 * np.sin(2 * np.pi * hum_hz * t + 0.7)
    rows = []
    for ts in spike_times_s:
        i0 = int(round(ts * fs))
        rise = int(round(1e-3 * fs))
        tau = ahp_tau_ms * 1e-3 * fs
        seg_end = min(n, i0 + rise + int(8 * tau))
        k = np.arange(seg_end - i0)
        shape = np.where(k < rise, (30 - vm_mv) * np.sin(0.5 * np.pi * k / rise),
                         (30 - vm_mv + ahp_mv) * np.exp(-(k - rise) / (0.3e-3 * fs)) - ahp_mv
                         * np.exp(-(k - rise) / tau))
        v[i0:seg_end] += shape
        rows.append({"threshold_index": i0, "end_index": min(n - 1, i0 + rise + int(blank_tau_multiple * tau))})
    spikes = pd.DataFrame(rows, columns=["threshold_index", "end_index"]).astype("int64")
    return v, spikes


def overlap_s(a0, a1, b0, b1) -> float:
    """Length of the overlap of two intervals, s."""
    return max(0.0, min(a1, b1) - max(a0, b0))


def match(truth_eps, det: pd.DataFrame, cover: float = 0.5):
    """Project matching rule: a true episode is found when detections cover >= ``cover`` of it; a detection
    is true when >= ``cover`` of it lies inside true episodes. Returns (hits, n_true, true_dets, n_det,
    pairs) where ``pairs`` lists (truth, detection row of largest overlap) for found episodes."""
    hits, pairs = 0, []
    for ep in truth_eps:
        s, e = ep[0], ep[1]
        ov = [overlap_s(s, e, a, b) for a, b in zip(det["start_s"], det["end_s"])]
        if sum(ov) >= cover * (e - s):
            hits += 1
            pairs.append((ep, det.iloc[int(np.argmax(ov))]))
    true_dets = 0
    for a, b in zip(det["start_s"], det["end_s"]):
        inside = sum(overlap_s(a, b, ep[0], ep[1]) for ep in truth_eps)
        true_dets += inside >= cover * (b - a)
    return hits, len(truth_eps), true_dets, len(det), pairs
