"""The simulated action-potential template: fast APs and broad, humped APs (C-type nociceptors).

Template (deviation from the local baseline; times from the onset, where the potential is at threshold):
an exponential pre-potential (slope 10 mV/ms at the onset, half the 20 mV/ms threshold criterion), a spike
kernel and an AHP that recovers exponentially.

- **Fast** AP (``shoulder == 0``): kernel ``(1−e^{−t/τr})⁴·e^{−t/τf}`` (τf = 1.2·τr); the AHP starts at the
  kernel peak and falls with τa = 2·τf.
- **Humped** AP (``shoulder > 0``): a narrow fast kernel (``HUMP_SPIKE_KERNEL_MS``) on a shoulder
  ``L·(1−e^{−3t/τr})⁴·e^{−0.2·t/T}/(1+e^{(t−T)/w})`` (``w = HUMP_EDGE_SHARE·T``) that takes over from the
  pre-potential; ``L`` lies ``shoulder`` of the way from threshold to peak. After the peak the potential
  falls fast to the shoulder, declines slowly along it, then repolarises around ``T`` — the broad AP with a
  shoulder on its falling phase of DRG C-type nociceptors (SCIENCE.md). The AHP starts at ``T`` and falls
  with τa = ``w``.

:func:`calibrate` sets the kernel (fast) or the shoulder length ``T`` (humped) so that the *measured*
half-width (width at half amplitude between the 20 mV/ms threshold point and the peak) equals the requested
one; the amplitude is set so that the peak reaches the requested potential.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

#: dV/dt that defines the true spike threshold time (IPFX anchor, SCIENCE.md).
THRESHOLD_DVDT_MV_PER_MS = 20.0
#: Slope of the pre-potential at the onset, mV/ms (half the threshold criterion: it never reaches it alone).
PRE_SLOPE_MV_PER_MS = 10.0
#: Kernel width (ms) of the fast spike riding on the shoulder of a humped AP.
HUMP_SPIKE_KERNEL_MS = 0.5
#: Width of the shoulder's repolarising edge as a share of the shoulder length ``T``.
HUMP_EDGE_SHARE = 0.15
#: Slow decline of the shoulder: ``e^{−HUMP_DECLINE·t/T}`` (an inflection on the falling phase, not a plateau).
HUMP_DECLINE = 0.2
#: Grid step of the half-width measurements, in s and in ms.
HALF_WIDTH_GRID_S = 2e-6
_HALF_WIDTH_GRID_MS = 2e-3


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


def _peak_time(tr, tf):
    tt = np.linspace(0, 20 * tf, 20001)
    return float(tt[np.argmax(_kernel(tt, tr, tf))])


@dataclass(frozen=True)
class APShape:
    """Shape of the AP template.

    Parameters
    ----------
    kernel_ms : float
        Width at half maximum (ms) of the fast spike kernel.
    shoulder : float
        0 for a fast AP; otherwise the shoulder's starting height as a share of the way from threshold to peak.
    shoulder_s : float
        Shoulder length ``T`` (s): its repolarising edge is centred there (ignored when ``shoulder == 0``).
    """

    kernel_ms: float
    shoulder: float = 0.0
    shoulder_s: float = 0.0

    @functools.cached_property
    def taus(self) -> tuple[float, float]:
        """``(tau_rise_s, tau_fall_s)`` of the fast kernel."""
        return ap_shape(self.kernel_ms)

    @property
    def humped(self) -> bool:
        return self.shoulder > 0

    @property
    def edge_s(self) -> float:
        """Width (s) of the shoulder's repolarising edge."""
        return HUMP_EDGE_SHARE * self.shoulder_s

    def kernel(self, t):
        """Fast spike kernel ``(1−e^{−t/τr})⁴·e^{−t/τf}`` at times ``t`` (s from the onset)."""
        tr, tf = self.taus
        return _kernel(t, tr, tf)

    def rise(self, t):
        """Rise of the shoulder ``(1−e^{−3t/τr})⁴`` (0 before the onset, → 1; three times the kernel's)."""
        tp = np.where(t > 0, t, 0.0)
        return np.where(t > 0, (1 - np.exp(-3 * tp / self.taus[0])) ** 4, 0.0)

    def profile(self, t):
        """Shoulder time course (peak ≈ 1): rise × slow decline ``e^{−0.2t/T}`` × repolarising edge at ``T``."""
        tp = np.where(t > 0, t, 0.0)
        edge = 1 + np.exp(np.minimum((tp - self.shoulder_s) / self.edge_s, 700.0))
        return self.rise(t) * np.exp(-HUMP_DECLINE * tp / self.shoulder_s) / edge

    @functools.cached_property
    def peak_time_s(self) -> float:
        """Time (s) of the fast kernel's maximum."""
        return _peak_time(*self.taus)

    @property
    def ahp_start_s(self) -> float:
        """Time (s) at which the AHP starts: the kernel peak (fast) or the shoulder's edge (humped)."""
        return self.shoulder_s if self.humped else self.peak_time_s

    @property
    def ahp_rise_s(self) -> float:
        """Fall time constant (s) of the AHP's onset: 2·τf (fast) or the shoulder's edge width (humped)."""
        return self.edge_s if self.humped else 2 * self.taus[1]

    @property
    def extent_s(self) -> float:
        """Time (s) after the onset by which the spike (AHP aside) has returned to the baseline."""
        tf = self.taus[1]
        return 12 * tf + (self.shoulder_s + 12 * self.edge_s if self.humped else 0.0)


def pre_tau_s(delta_mv):
    """Time constant (s) of the exponential pre-potential: its slope at the onset is
    ``PRE_SLOPE_MV_PER_MS`` (10 mV/ms, half the 20 mV/ms threshold criterion), at least 0.1 ms."""
    return np.maximum(np.asarray(delta_mv, dtype=float) / PRE_SLOPE_MV_PER_MS * 1e-3, 1e-4)


def ahp_waveform(s, shape: APShape, ahp_mv, ahp_tau_s):
    """AHP part of the template at times ``s`` (s) from the onset: it starts at ``shape.ahp_start_s``, falls
    with ``shape.ahp_rise_s`` and recovers with ``ahp_tau_s``; its minimum is ``−ahp_mv``."""
    ta = shape.ahp_rise_s
    sp = np.maximum(np.asarray(s, dtype=float) - shape.ahp_start_s, 0)
    a = (1 - np.exp(-sp / ta)) * np.exp(-sp / ahp_tau_s)
    return -ahp_mv * a / _ahp_norm(ta, ahp_tau_s)


def _ahp_norm(ta, tau):
    tt = np.linspace(0, 10 * tau, 20001)
    return float(np.max((1 - np.exp(-tt / ta)) * np.exp(-tt / tau)))


def ap_waveforms(t, onset_s, base_mv, threshold_mv, peak_mv, shape: APShape, *, ahp_mv, ahp_tau_s,
                 with_ahp: bool = True):
    """Action-potential deviation from the local baseline (mV) at times ``t`` (s).

    ``t`` has shape ``(n_spikes, n_window)`` and ``onset_s``/``base_mv`` shape ``(n_spikes, 1)``. The waveform
    is a pre-potential that rises exponentially (``pre_tau_s``: slope 10 mV/ms at the onset) from the baseline
    to ``threshold_mv`` at the onset (then keeps that slope and fades with the spike — a humped AP hands it
    over to the shoulder, ``APShape.profile``, which starts ``shape.shoulder`` of the way from threshold to
    peak), then the fast spike kernel scaled so that the sum reaches ``peak_mv``, then the AHP
    (:func:`ahp_waveform`) whose minimum is ``ahp_mv`` below the baseline. ``with_ahp=False`` leaves the AHP out of the sum (it is still accounted
    for in the amplitude).
    """
    tr, tf = shape.taus
    tpk = shape.peak_time_s
    gmax = float(shape.kernel(np.array([tpk]))[0])
    s = t - onset_s
    delta = np.maximum(threshold_mv - base_mv, 0.0)
    pre_tau = pre_tau_s(delta)
    sp = np.maximum(s, 0)
    # after the onset the pre-potential keeps its slope (C¹ at the onset), then fades with the spike
    pre = delta * np.where(s < 0, np.exp(np.minimum(s, 0) / pre_tau),
                           (1 + sp / pre_tau) * np.exp(-(sp / (3 * tf)) ** 2))
    # the pre-potential has changed and the AHP begun at the kernel peak: compensate so the sum reaches peak_mv
    ahp_at_peak = float(ahp_waveform(np.array([tpk]), shape, ahp_mv, ahp_tau_s)[0])
    pre_at_peak = delta * (1 + tpk / pre_tau) * np.exp(-(tpk / (3 * tf)) ** 2)
    if shape.humped:  # the pre-potential hands over to the shoulder, which starts at its level and declines
        level = delta + shape.shoulder * (peak_mv - base_mv - delta)
        pre = pre * (1 - shape.rise(s)) + level * shape.profile(s)
        pk = np.array([tpk])
        pre_at_peak = pre_at_peak * (1 - shape.rise(pk)[0]) + level * shape.profile(pk)[0]
    amp = (peak_mv - base_mv - pre_at_peak - ahp_at_peak) / gmax
    spike = amp * shape.kernel(s)
    if not with_ahp or ahp_mv == 0:
        return pre + spike
    return pre + spike + ahp_waveform(s, shape, ahp_mv, ahp_tau_s)


def _half_widths(w):
    """Half-width (ms) of each row of ``w`` (noise-free templates on the ``HALF_WIDTH_GRID_S`` grid)."""
    dv = np.diff(w, axis=1) / _HALF_WIDTH_GRID_MS
    i = np.argmax(dv >= THRESHOLD_DVDT_MV_PER_MS, axis=1)
    rows = np.arange(w.shape[0])
    half = (w[rows, i] + w.max(axis=1)) / 2
    after = np.arange(w.shape[1])[None, :] >= i[:, None]
    return np.count_nonzero((w > half[:, None]) & after, axis=1) * _HALF_WIDTH_GRID_MS


def measured_half_width_ms(shape: APShape, delta_mv, peak_rel_mv, ahp_mv, ahp_tau_s) -> float:
    """Width (ms) at half amplitude between threshold (20 mV/ms point) and peak of the noise-free template."""
    tr, tf = shape.taus
    end = 8 * tf + (shape.shoulder_s + 10 * shape.edge_s if shape.humped else 0.0)
    s = np.arange(-1e-3, end, HALF_WIDTH_GRID_S)[None, :]
    w = ap_waveforms(s, 0.0, 0.0, delta_mv, peak_rel_mv, shape, ahp_mv=ahp_mv, ahp_tau_s=ahp_tau_s)[0]
    i = int(np.argmax(np.diff(w) / _HALF_WIDTH_GRID_MS >= THRESHOLD_DVDT_MV_PER_MS))
    half = (w[i] + w.max()) / 2
    return float(np.count_nonzero(w[i:] > half) * _HALF_WIDTH_GRID_MS)


def kernel_half_width_ms(target_ms, delta_mv, peak_rel_mv, ahp_mv, ahp_tau_s) -> float:
    """Fast-kernel width that gives a measured half-width of ``target_ms`` (a few fixed-point iterations)."""
    k = float(target_ms)
    for _ in range(4):
        k *= target_ms / measured_half_width_ms(APShape(k), delta_mv, peak_rel_mv, ahp_mv, ahp_tau_s)
    return k


def calibrate(half_width_ms: float, shoulder_fraction: float, delta_mv: float, peak_rel_mv: float,
              ahp_mv: float, ahp_tau_s: float) -> APShape:
    """The :class:`APShape` whose measured half-width is ``half_width_ms`` at the nominal potentials.

    Parameters
    ----------
    half_width_ms : float
        Requested half-width (ms).
    shoulder_fraction : float
        0 for a fast AP; otherwise the shoulder's height as a share of the way from threshold to peak.
    delta_mv, peak_rel_mv : float
        Threshold and peak relative to the baseline (mV).
    ahp_mv, ahp_tau_s : float
        AHP depth (mV) and recovery time constant (s).

    Raises
    ------
    ValueError
        When no shoulder length gives the requested half-width (a humped AP narrower than its fast spike).
    """
    if shoulder_fraction == 0:
        return APShape(kernel_half_width_ms(half_width_ms, delta_mv, peak_rel_mv, ahp_mv, ahp_tau_s))

    def err(t_s):
        return measured_half_width_ms(APShape(HUMP_SPIKE_KERNEL_MS, shoulder_fraction, t_s), delta_mv, peak_rel_mv,
                                      ahp_mv, ahp_tau_s) - half_width_ms

    # the half-width grows with the shoulder's length from ~0.4 ms on (a short shoulder barely widens the fast
    # spike); a low shoulder on a high threshold needs a shoulder several half-widths long
    lo, hi = 0.1 * half_width_ms * 1e-3, 10.0 * half_width_ms * 1e-3
    if err(lo) > 0 or err(hi) < 0:
        raise ValueError(f"`spike_half_width_ms` {half_width_ms:g} ms cannot be reached by a humped AP with "
                         f"`spike_shoulder_fraction` {shoulder_fraction:g}; use a broader AP (>= 1.5 ms) or a higher "
                         "shoulder")
    t_s = brentq(err, lo, hi, xtol=1e-7)
    return APShape(HUMP_SPIKE_KERNEL_MS, shoulder_fraction, t_s)


def ap_timing(shape: APShape, pre_delta_mv, peak_rel_mv, ahp_mv: float = 0.0, ahp_tau_s: float = 1.0):
    """Peak and threshold times (s, relative to the onset) of the template on a 1 µs grid, and half-widths.

    ``pre_delta_mv`` (threshold − baseline) and ``peak_rel_mv`` (peak − baseline) are arrays of shape
    ``(n_spikes,)``. The threshold time is where dV/dt first reaches ``THRESHOLD_DVDT_MV_PER_MS``;
    the pre-potential alone never reaches it, so it lies just after the onset. The half-width (ms) of each
    spike's noise-free template is measured on a ``HALF_WIDTH_GRID_S`` grid.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        Peak times (s), threshold times (s), half-widths (ms), each of shape ``(n_spikes,)``.
    """
    delta = np.asarray(pre_delta_mv, dtype=float).reshape(-1, 1)
    rel = np.asarray(peak_rel_mv, dtype=float).reshape(-1, 1)
    tr, tf = shape.taus
    s = np.arange(0.0, 6 * tf, 1e-6)[None, :]
    sw = np.arange(-1e-3, 8 * tf + (shape.shoulder_s + 10 * shape.edge_s if shape.humped else 0.0),
                   HALF_WIDTH_GRID_S)[None, :]
    n = delta.shape[0]
    peak, thr, hw = np.empty(n), np.empty(n), np.empty(n)
    step = 256 if sw.size < 20_000 else 32
    for i0 in range(0, n, step):  # chunks bound memory; a handful of iterations
        d, r = delta[i0:i0 + step], rel[i0:i0 + step]
        w = ap_waveforms(s, 0.0, 0.0, d, r, shape, ahp_mv=ahp_mv, ahp_tau_s=ahp_tau_s)
        peak[i0:i0 + step] = s[0, np.argmax(w, axis=1)]
        dv = np.diff(w, axis=1) / 1e-3  # mV/ms between grid points
        thr[i0:i0 + step] = s[0, np.argmax(dv >= THRESHOLD_DVDT_MV_PER_MS, axis=1)]
        hw[i0:i0 + step] = _half_widths(ap_waveforms(sw, 0.0, 0.0, d, r, shape, ahp_mv=ahp_mv, ahp_tau_s=ahp_tau_s))
    return peak, thr, hw
