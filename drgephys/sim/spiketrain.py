"""Discharge-pattern generator: spike times for the four DRG ectopic firing patterns.

Patterns (SCIENCE.md, "Spikes and discharge patterns"):

``silent``
    No spikes.
``tonic``
    Regular firing: gamma-distributed inter-spike intervals (ISIs) with coefficient of variation
    ``cv`` (default 0.1, i.e. well below the ~0.2 limit usually taken for "regular").
``bursting``
    Bursts of 2–10 spikes separated by long silences. The first intra-burst interval is ≈30 ms
    (Kovalsky, Amir & Devor 2009, J Neurophysiol 102:1430: 29.6–31.2 ms in their bursting mode);
    later intervals lengthen by ``intra_burst_growth`` per spike (spike-frequency adaptation).
``irregular``
    Poisson-like firing (exponential ISIs plus a dead time, CV ≈ 1); DRG-origin ectopic discharge is
    irregular at 0.25–14 Hz (SCIENCE.md).

All generation is vectorized: ISIs are drawn in blocks and accumulated with ``numpy.cumsum``.
"""

from __future__ import annotations

import numpy as np

from drgephys._validation import check_positive

PATTERNS = ("silent", "tonic", "bursting", "irregular")

#: Default mean firing rate per pattern in Hz (DRG ectopic rates 0.25–14 Hz, SCIENCE.md).
DEFAULT_RATE_HZ = {"silent": 0.0, "tonic": 5.0, "bursting": 2.0, "irregular": 2.0}


def as_generator(seed) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` from an int, ``None``, a ``SeedSequence`` or a Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, (int, np.integer, np.random.SeedSequence)) and not isinstance(seed, bool):
        return np.random.default_rng(seed)
    raise TypeError(f"`seed` must be an int, None or a numpy.random.Generator; got {seed!r}")


def check_pattern(pattern) -> str:
    """Check a discharge-pattern name and return it."""
    if pattern not in PATTERNS:
        raise ValueError(f"`pattern` must be one of {', '.join(PATTERNS)}; got {pattern!r}")
    return pattern


def _renewal(draw, mean_isi_s: float, duration_s: float, first_s: float) -> np.ndarray:
    """Accumulate ISIs from ``draw(n)`` until ``duration_s`` is passed (a few blocks at most)."""
    n = int(duration_s / mean_isi_s * 1.3) + 16
    isis = draw(n)
    while first_s + isis.sum() < duration_s:
        isis = np.concatenate([isis, draw(n)])
    t = first_s + np.concatenate([[0.0], np.cumsum(isis[:-1])])
    return t[t < duration_s]


def spike_train(pattern: str, duration_s: float, *, rate_hz: float | None = None, seed=None,
                cv: float = 0.1, refractory_s: float = 0.005, burst_size: tuple[int, int] = (2, 10),
                intra_burst_isi_s: float = 0.030, intra_burst_growth: float = 0.1,
                sso_period_s: float | None = None) -> np.ndarray:
    """Spike times (s) of one discharge pattern.

    Parameters
    ----------
    pattern : {"silent", "tonic", "bursting", "irregular"}
        Discharge pattern (see module docstring).
    duration_s : float
        Length of the train in s; every spike time is in ``[0, duration_s)``.
    rate_hz : float, optional
        Mean firing rate in Hz; default per pattern: tonic 5, bursting 2, irregular 2 (``DEFAULT_RATE_HZ``).
        For ``bursting`` the burst rate is ``rate_hz / mean burst size``.
    seed : int, numpy.random.Generator or None
        Random seed; the same seed gives the same train.
    cv : float
        ISI coefficient of variation of ``tonic`` firing (default 0.1).
    refractory_s : float
        Minimum ISI in s (dead time of ``irregular`` firing; floor of every pattern). Default 5 ms.
    burst_size : (int, int)
        Inclusive range of spikes per burst (default 2–10).
    intra_burst_isi_s : float
        First intra-burst ISI in s (default 30 ms, Kovalsky et al. 2009).
    intra_burst_growth : float
        Relative lengthening of each further intra-burst ISI (default 0.1 = 10 % per spike).
    sso_period_s : float, optional
        When given, every ISI is rounded to a whole multiple (≥ 1) of this SSO period: SSO-driven firing,
        whose intervals sit near whole multiples of the oscillation period (SCIENCE.md; Amir et al. 1999).

    Returns
    -------
    numpy.ndarray
        Sorted spike times in s, shape ``(n_spikes,)``; empty for ``silent``.
    """
    check_pattern(pattern)
    duration_s = check_positive(duration_s, "duration_s", "s")
    rng = as_generator(seed)
    if pattern == "silent":
        return np.empty(0)
    if rate_hz is None:
        rate_hz = DEFAULT_RATE_HZ[pattern]
    rate_hz = check_positive(rate_hz, "rate_hz", "Hz")
    refractory_s = check_positive(refractory_s, "refractory_s", "s")
    if rate_hz * refractory_s >= 0.5:
        raise ValueError(f"`rate_hz` must be well below 1/(2·refractory_s) = {0.5 / refractory_s:g} Hz; "
                         f"got {rate_hz:g} Hz. Lower the rate or the refractory period.")
    mean_isi = 1.0 / rate_hz
    if pattern == "tonic":
        cv = check_positive(cv, "cv")
        k = 1.0 / cv**2
        t = _renewal(lambda n: np.maximum(rng.gamma(k, mean_isi / k, n), refractory_s), mean_isi, duration_s,
                     rng.uniform(0, mean_isi))
    elif pattern == "irregular":
        scale = mean_isi - refractory_s
        t = _renewal(lambda n: refractory_s + rng.exponential(scale, n), mean_isi, duration_s,
                     rng.exponential(mean_isi))
    else:
        t = _bursts(rng, rate_hz, duration_s, burst_size, intra_isi_s=intra_burst_isi_s, growth=intra_burst_growth,
                    refractory_s=refractory_s)
    if sso_period_s is not None and t.size:
        p = check_positive(sso_period_s, "sso_period_s", "s")
        isi = np.maximum(np.round(np.diff(t) / p), 1.0) * p
        t = t[0] + np.concatenate([[0.0], np.cumsum(isi)])
        t = t[t < duration_s]
    return t


def _bursts(rng, rate_hz, duration_s, burst_size, *, intra_isi_s, growth, refractory_s) -> np.ndarray:
    lo, hi = int(burst_size[0]), int(burst_size[1])
    if not 2 <= lo <= hi:
        raise ValueError(f"`burst_size` must be (low, high) with 2 <= low <= high; got {burst_size!r}")
    intra_isi_s = max(check_positive(intra_isi_s, "intra_burst_isi_s", "s"), refractory_s)
    mean_size = (lo + hi) / 2.0
    burst_rate = rate_hz / mean_size
    # longest burst span; silences between bursts at least 3x longer than that and than 0.25 s
    span = intra_isi_s * np.sum((1 + growth) ** np.arange(hi - 1))
    min_gap = max(3 * span, 0.25)
    mean_gap = 1.0 / burst_rate
    if mean_gap <= min_gap + span:
        raise ValueError(f"`rate_hz` {rate_hz:g} Hz is too high for bursts of {lo}-{hi} spikes separated by "
                         f"silences of ≥ {min_gap:g} s; lower the rate or the burst size.")
    starts = _renewal(lambda n: span + min_gap + rng.exponential(mean_gap - span - min_gap, n), mean_gap,
                      duration_s, rng.uniform(0, mean_gap))
    sizes = rng.integers(lo, hi + 1, starts.size)
    rank = np.arange(hi)
    # offset of spike j inside a burst: sum of the first j intra-burst ISIs, with 10 % jitter each
    isi = intra_isi_s * (1 + growth) ** rank[:-1] * rng.uniform(0.9, 1.1, (starts.size, hi - 1))
    offsets = np.concatenate([np.zeros((starts.size, 1)), np.cumsum(isi, axis=1)], axis=1)
    t = (starts[:, None] + offsets)[rank[None, :] < sizes[:, None]]
    return np.sort(t[t < duration_s])
