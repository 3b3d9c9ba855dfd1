"""Vectorized building blocks of a simulated trace: noise, drift, hum, SSO episodes, AP template.

AP template (deviation from the local baseline, times from the onset where the potential is at threshold):
an exponential pre-potential (slope 10 mV/ms at the onset, half the 20 mV/ms threshold criterion), a spike
kernel ``(1−e^{−t/τr})⁴·e^{−t/τf}`` and an AHP that starts at the kernel peak and recovers exponentially.
:func:`kernel_half_width_ms` calibrates the kernel so that the *measured* half-width (between the 20 mV/ms
threshold point and the peak) equals the requested one, and the amplitude is set so that the peak reaches
the requested potential.
"""

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


def ap_shape(half_width_ms: float):
    """Return ``(tau_rise_s, tau_fall_s)`` of the spike kernel ``(1-exp(-t/τr))^4·exp(-t/τf)`` whose
    width at half maximum is ``half_width_ms``; the ratio τf/τr = 1.2 gives a fast upstroke."""
    ratio = 1.2
    tt = np.linspace(0, 40, 40001)
    g = (1 - np.exp(-tt)) ** 4 * np.exp(-tt / ratio)
    above = tt[g >= g.max() / 2]
    scale = half_width_ms * 1e-3 / (above[-1] - above[0])
    return scale, ratio * scale


def _kernel(t, tr, tf):
    tp = np.where(t > 0, t, 0.0)
    return np.where(t > 0, (1 - np.exp(-tp / tr)) ** 4 * np.exp(-tp / tf), 0.0)


def ap_waveforms(t, onset_s, base_mv, threshold_mv, peak_mv, half_width_ms, ahp_mv, ahp_tau_s, *,
                 with_ahp: bool = True):
    """Action-potential deviation from the local baseline (mV) at times ``t`` (s).

    ``t`` has shape ``(n_spikes, n_window)`` and ``onset_s``/``base_mv`` shape ``(n_spikes, 1)``. The waveform
    is a pre-potential that rises exponentially (``pre_tau_s``: slope 10 mV/ms at the onset) from the baseline
    to ``threshold_mv`` at the onset (then keeps that slope and fades with the spike), then a spike kernel ``(1−e^{−t/τr})⁴·e^{−t/τf}`` scaled so that the sum
    reaches ``peak_mv``, then an AHP from the kernel peak ``∝ (1−e^{−t/τa})·e^{−t/ahp_tau_s}`` (τa = 2·τf) whose minimum is
    ``ahp_mv`` below the baseline. ``half_width_ms`` is the kernel's own width; use
    :func:`kernel_half_width_ms` to get the one that gives a measured half-width. ``with_ahp=False`` leaves
    the AHP out of the sum (it is still accounted for in the amplitude).
    """
    tr, tf = ap_shape(half_width_ms)
    tpk = _peak_time(tr, tf)
    gmax = float(_kernel(np.array([tpk]), tr, tf)[0])
    s = t - onset_s
    delta = np.maximum(threshold_mv - base_mv, 0.0)
    pre_tau = pre_tau_s(delta)
    sp = np.maximum(s, 0)
    # after the onset the pre-potential keeps its slope (C¹ at the onset), then fades with the spike
    pre = delta * np.where(s < 0, np.exp(np.minimum(s, 0) / pre_tau),
                           (1 + sp / pre_tau) * np.exp(-(sp / (3 * tf)) ** 2))
    # the pre-potential has changed and the AHP begun at the kernel peak: compensate so the sum reaches peak_mv
    ahp_at_peak = float(ahp_waveform(np.array([tpk]), half_width_ms, ahp_mv, ahp_tau_s)[0])
    pre_at_peak = delta * (1 + tpk / pre_tau) * np.exp(-(tpk / (3 * tf)) ** 2)
    amp = (peak_mv - base_mv - pre_at_peak - ahp_at_peak) / gmax
    spike = amp * _kernel(s, tr, tf)
    if not with_ahp or ahp_mv == 0:
        return pre + spike
    return pre + spike + ahp_waveform(s, half_width_ms, ahp_mv, ahp_tau_s)


def measured_half_width_ms(kernel_hw_ms, delta_mv, peak_rel_mv, ahp_mv, ahp_tau_s) -> float:
    """Width (ms) at half amplitude between threshold (20 mV/ms point) and peak of the noise-free template."""
    tr, tf = ap_shape(kernel_hw_ms)
    s = np.arange(-1e-3, 8 * tf, 2e-6)[None, :]
    w = ap_waveforms(s, 0.0, 0.0, delta_mv, peak_rel_mv, kernel_hw_ms, ahp_mv, ahp_tau_s)[0]
    i = int(np.argmax(np.diff(w) / 2e-3 >= THRESHOLD_DVDT_MV_PER_MS))
    half = (w[i] + w.max()) / 2
    return float(np.count_nonzero(w[i:] > half) * 2e-3)


def kernel_half_width_ms(target_ms, delta_mv, peak_rel_mv, ahp_mv, ahp_tau_s) -> float:
    """Kernel width that gives a measured half-width of ``target_ms`` (a few fixed-point iterations)."""
    k = float(target_ms)
    for _ in range(4):
        k *= target_ms / measured_half_width_ms(k, delta_mv, peak_rel_mv, ahp_mv, ahp_tau_s)
    return k


def ahp_waveform(s, half_width_ms, ahp_mv, ahp_tau_s):
    """AHP part of the template at times ``s`` (s) from the onset: it starts at the spike-kernel peak, falls
    with τa = 2·τf and recovers with ``ahp_tau_s``; its minimum is ``−ahp_mv``."""
    tr, tf = ap_shape(half_width_ms)
    ta = 2 * tf
    sp = np.maximum(np.asarray(s, dtype=float) - _peak_time(tr, tf), 0)
    a = (1 - np.exp(-sp / ta)) * np.exp(-sp / ahp_tau_s)
    return -ahp_mv * a / _ahp_norm(ta, ahp_tau_s)


def _peak_time(tr, tf):
    tt = np.linspace(0, 20 * tf, 20001)
    return float(tt[np.argmax(_kernel(tt, tr, tf))])


def _ahp_norm(ta, tau):
    tt = np.linspace(0, 10 * tau, 20001)
    return float(np.max((1 - np.exp(-tt / ta)) * np.exp(-tt / tau)))


def pre_tau_s(delta_mv):
    """Time constant (s) of the exponential pre-potential: its slope at the onset is
    ``PRE_SLOPE_MV_PER_MS`` (10 mV/ms, half the 20 mV/ms threshold criterion), at least 0.1 ms."""
    return np.maximum(np.asarray(delta_mv, dtype=float) / PRE_SLOPE_MV_PER_MS * 1e-3, 1e-4)


PRE_SLOPE_MV_PER_MS = 10.0
#: dV/dt that defines the true spike threshold time (IPFX anchor, SCIENCE.md).
THRESHOLD_DVDT_MV_PER_MS = 20.0


def ap_timing(half_width_ms: float, pre_delta_mv, peak_rel_mv, ahp_mv: float = 0.0, ahp_tau_s: float = 1.0):
    """Peak and threshold times (s, relative to the onset) of the template, on a 1 µs grid.

    ``pre_delta_mv`` (threshold − baseline) and ``peak_rel_mv`` (peak − baseline) are arrays of shape
    ``(n_spikes,)``. The threshold time is where dV/dt first reaches ``THRESHOLD_DVDT_MV_PER_MS``;
    the pre-potential alone never reaches it, so it lies just after the onset.
    """
    delta = np.asarray(pre_delta_mv, dtype=float).reshape(-1, 1)
    rel = np.asarray(peak_rel_mv, dtype=float).reshape(-1, 1)
    tr, tf = ap_shape(half_width_ms)
    s = np.arange(0.0, 6 * tf, 1e-6)[None, :]
    peak, thr = np.empty(delta.shape[0]), np.empty(delta.shape[0])
    for i0 in range(0, delta.shape[0], 256):  # chunks bound memory; a handful of iterations
        d, r = delta[i0:i0 + 256], rel[i0:i0 + 256]
        w = ap_waveforms(s, 0.0, 0.0, d, r, half_width_ms, ahp_mv, ahp_tau_s)
        peak[i0:i0 + 256] = s[0, np.argmax(w, axis=1)]
        dv = np.diff(w, axis=1) / 1e-3  # mV/ms between grid points
        thr[i0:i0 + 256] = s[0, np.argmax(dv >= THRESHOLD_DVDT_MV_PER_MS, axis=1)]
    return peak, thr
