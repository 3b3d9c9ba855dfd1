"""SSO-locked firing: which SSO cycle peaks launch a spike (:func:`locked_cycles`).

SSO-driven discharge: each spike is launched from an SSO peak and the oscillation goes on between spikes, so
interspike intervals sit near whole multiples of the SSO period (Amir, Michaelis & Devor 1999, J Neurosci
19:8589; SCIENCE.md, "SSOs in firing cells"). The trains are built in cycle units — the gap between two
spikes is a whole number of cycles — and mapped onto the cycle peaks of the episodes laid end to end.
"""

from __future__ import annotations

import numpy as np

from drgephys.sim.spiketrain import check_pattern

#: Silences between SSO-locked bursts last at least this many times the longest burst and at least
#: ``MIN_BURST_SILENCE_S`` (the same rule as :func:`drgephys.sim.spike_train`'s bursts).
BURST_SILENCE_FACTOR = 3.0
MIN_BURST_SILENCE_S = 0.25


def locked_cycles(pattern: str, n_cycles: int, frequency_hz: float, rate_hz: float | None, *,
                  cycles_per_spike: tuple[int, int], burst_size: tuple[int, int], rng) -> np.ndarray:
    """Indices of the SSO cycle peaks that launch a spike.

    Parameters
    ----------
    pattern : {"silent", "tonic", "bursting", "irregular"}
        Discharge pattern. ``tonic``: gaps are the two whole numbers around ``m = frequency_hz / rate_hz``
        (``m`` clipped to ``cycles_per_spike``), mixed so that their mean is ``m``. ``bursting``: bursts of
        ``burst_size`` spikes ``low`` cycles apart, separated by silences of at least 3x the longest burst and
        0.25 s, long enough on average to give ``rate_hz``. ``irregular``: a spike on each cycle peak with a
        fixed probability once ``low`` cycles have passed (geometric gaps of mean ``max(m, low)``).
    n_cycles : int
        Number of cycle peaks available (the episodes' peaks laid end to end).
    frequency_hz : float
        Mean SSO frequency (cycles per second of episode) that converts ``rate_hz`` into cycles per spike.
    rate_hz : float or None
        In-episode firing rate aimed at (Hz); ``None``: ``(low + high) / 2`` cycles per spike.
    cycles_per_spike : (int, int)
        ``(low, high)`` cycles between consecutive spikes (see ``pattern``).
    burst_size : (int, int)
        Inclusive range of spikes per burst (``bursting``).
    rng : numpy.random.Generator
        Random source.

    Returns
    -------
    numpy.ndarray
        Sorted, distinct indices in ``[0, n_cycles)``, dtype int64.
    """
    check_pattern(pattern)
    lo, hi = int(cycles_per_spike[0]), int(cycles_per_spike[1])
    if pattern == "silent" or n_cycles <= 0:
        return np.empty(0, np.int64)
    m = (lo + hi) / 2.0 if rate_hz is None else float(frequency_hz) / float(rate_hz)
    n_draw = int(n_cycles / max(lo, 1)) + 2
    if pattern == "tonic":
        m = min(max(m, lo), hi)
        k0 = np.floor(m)
        gaps = k0 + (rng.random(n_draw) < m - k0)
    elif pattern == "irregular":
        m = max(m, lo)
        gaps = lo - 1 + rng.geometric(1.0 / (m - lo + 1.0), n_draw)
    else:
        return _bursts(n_cycles, frequency_hz, m, lo, burst_size, rng)
    start = rng.integers(0, int(np.ceil(m)))
    idx = start + np.concatenate([[0], np.cumsum(gaps[:-1])]).astype(np.int64)
    return idx[idx < n_cycles]


def _bursts(n_cycles, frequency_hz, m, lo, burst_size, rng) -> np.ndarray:
    b0, b1 = int(burst_size[0]), int(burst_size[1])
    mean_size = (b0 + b1) / 2.0
    span = (b1 - 1) * lo  # longest burst, cycles
    min_silence = int(np.ceil(max(BURST_SILENCE_FACTOR * span, MIN_BURST_SILENCE_S * frequency_hz)))
    # mean burst-to-burst period m·mean_size cycles = burst span + silence
    mean_silence = max(m * mean_size - (mean_size - 1) * lo, min_silence)
    n_bursts = int(n_cycles / (min_silence + 1)) + 2
    sizes = rng.integers(b0, b1 + 1, n_bursts)
    extra = mean_silence - min_silence
    silences = min_silence + (rng.geometric(1.0 / (extra + 1.0), n_bursts) - 1 if extra > 0 else 0)
    period = (sizes - 1) * lo + silences
    starts = rng.integers(0, int(np.ceil(mean_silence)) + 1) + np.concatenate([[0], np.cumsum(period[:-1])])
    rank = np.arange(b1)
    idx = (starts[:, None] + lo * rank[None, :])[rank[None, :] < sizes[:, None]].astype(np.int64)
    return idx[idx < n_cycles]
