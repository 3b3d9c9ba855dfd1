"""Training data for the discharge-pattern model: simulated spike trains (`drgephys.sim.spike_train`)
passed through realistic detection noise, turned into `MODEL_FEATURES` rows.

Used by ``scripts/train_discharge_model.py`` (which writes ``drgephys/data/discharge_model.json``) and
by the tests (fresh seeds the shipped model never saw).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..sim import spike_train
from .discharge import MODEL_FEATURES, discharge_features, feature_vector

PATTERNS = ("silent", "tonic", "bursting", "irregular")

#: Log-uniform firing-rate ranges (Hz) drawn per pattern. DRG-origin ectopic discharge is irregular at
#: 0.25–14 Hz (SCIENCE.md); tonic up to 20 Hz; bursting up to 3 Hz (bursts of 2–10 spikes at ~30 ms with
#: silences ≥ 3× the burst: higher mean rates are not bursting in `drgephys.sim.spike_train`).
RATE_RANGES_HZ = {"tonic": (0.5, 20.0), "bursting": (0.3, 3.0), "irregular": (0.25, 14.0)}
#: Tonic ISI CV range (regular firing: CV < ~0.2).
TONIC_CV_RANGE = (0.05, 0.2)
#: Share of firing trains made SSO-driven (ISIs rounded to whole SSO periods of 20–100 Hz).
SSO_DRIVEN_SHARE = 0.3
#: Share of firing trains confined to SSO episodes (as `drgephys.sim` does for SSO cells: the pattern
#: runs on the episodes' concatenated time), episodes 0.3–3 s covering 15–50 % of the sweep.
EPISODE_CONFINED_SHARE = 0.4
EPISODE_LENGTH_S = (0.3, 3.0)
EPISODE_COVERAGE = (0.15, 0.5)


def random_episodes(duration_s: float, rng) -> np.ndarray:
    """Non-overlapping (start, end) intervals in s covering a random share of the sweep."""
    cover = rng.uniform(*EPISODE_COVERAGE) * duration_s
    lo, hi = np.log(EPISODE_LENGTH_S[0]), np.log(EPISODE_LENGTH_S[1])
    lens = np.exp(rng.uniform(lo, hi, max(int(np.ceil(cover / np.sqrt(EPISODE_LENGTH_S[0] * EPISODE_LENGTH_S[1]))), 1)))
    lens = lens[np.cumsum(lens) <= max(cover, lens[0])]
    gaps = rng.dirichlet(np.ones(lens.size + 1)) * max(duration_s - lens.sum(), 0.0)
    starts = np.cumsum(gaps[:-1]) + np.concatenate(([0.0], np.cumsum(lens)[:-1]))
    return np.column_stack([starts, starts + lens])


def confine(times_s, episodes) -> np.ndarray:
    """Map times on the episodes' concatenated time axis onto the episodes themselves."""
    lens = episodes[:, 1] - episodes[:, 0]
    cum = np.concatenate(([0.0], np.cumsum(lens)))
    j = np.clip(np.searchsorted(cum, times_s, side="right") - 1, 0, len(lens) - 1)
    return episodes[j, 0] + times_s - cum[j]


@dataclass(frozen=True)
class DetectionNoise:
    """Errors a real detector makes, applied to simulated spike times.

    Attributes
    ----------
    jitter_ms : float
        SD of Gaussian timing jitter (threshold/peak timing on noisy traces: ~0.1–0.3 ms).
    max_miss_fraction : float
        Each train loses a uniformly drawn share of its spikes up to this (missed small spikes).
    max_extra_rate_hz : float
        Each train gains Poisson false spikes at a uniformly drawn rate up to this.
    """

    jitter_ms: float = 0.2
    max_miss_fraction: float = 0.03
    max_extra_rate_hz: float = 0.02


def corrupt(times_s, duration_s, rng, noise: DetectionNoise = DetectionNoise()) -> np.ndarray:
    """Apply jitter, misses and extra spikes to one spike train (s); returns sorted times in [0, duration)."""
    t = np.asarray(times_s, dtype=float)
    t = t[rng.random(t.size) >= rng.uniform(0, noise.max_miss_fraction)]
    t = t + rng.normal(0, noise.jitter_ms * 1e-3, t.size)
    n_extra = rng.poisson(rng.uniform(0, noise.max_extra_rate_hz) * duration_s)
    t = np.concatenate([t, rng.uniform(0, duration_s, n_extra)])
    return np.sort(t[(t >= 0) & (t < duration_s)])


def simulated_set(n_per_class: int, seed: int, *, duration_range_s=(20.0, 90.0),
                  noise: DetectionNoise = DetectionNoise(), generator=None):
    """Features and labels of `n_per_class` simulated trains per pattern.

    Parameters
    ----------
    n_per_class : int
        Trains per pattern.
    seed : int
        Master seed (every train gets its own derived seed).
    duration_range_s : (float, float)
        Train durations are drawn uniformly from this range (spontaneous recordings: tens of s).
    noise : DetectionNoise
        Detection errors applied to every train.
    generator : callable, optional
        ``generator(pattern, duration_s, rate_hz=..., seed=..., **kw) -> spike times (s)`` (keywords
        ``cv`` for tonic and ``sso_period_s``); default `drgephys.sim.spike_train`. Rates are drawn from
        `RATE_RANGES_HZ`, a share `SSO_DRIVEN_SHARE` of firing trains is SSO-driven and a share
        `EPISODE_CONFINED_SHARE` fires only inside random SSO episodes.

    Returns
    -------
    X : ndarray, shape (n_trains, len(MODEL_FEATURES))
        Model inputs; trains with < 2 spikes keep NaN rows (`classify_discharge` calls them silent).
    y : ndarray of str, shape (n_trains,)
        The simulated pattern.
    n_spikes : ndarray of int, shape (n_trains,)
    """
    if generator is None:
        generator = spike_train
    rng = np.random.default_rng(seed)
    rows, labels, counts = [], [], []
    for pattern in PATTERNS:
        for _ in range(int(n_per_class)):
            dur = float(rng.uniform(*duration_range_s))
            kw = {}
            if pattern != "silent":
                lo, hi = RATE_RANGES_HZ[pattern]
                kw["rate_hz"] = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
                if pattern == "tonic":
                    kw["cv"] = float(rng.uniform(*TONIC_CV_RANGE))
                if rng.random() < SSO_DRIVEN_SHARE:
                    kw["sso_period_s"] = 1.0 / float(rng.uniform(20.0, 100.0))
            if pattern != "silent" and rng.random() < EPISODE_CONFINED_SHARE:
                eps = random_episodes(dur, rng)
                span = float((eps[:, 1] - eps[:, 0]).sum())
                times = confine(np.asarray(generator(pattern, span, seed=int(rng.integers(2**31)), **kw)), eps)
            else:
                times = generator(pattern, dur, seed=int(rng.integers(2**31)), **kw)
            times = corrupt(np.asarray(times, dtype=float), dur, rng, noise)
            feats = discharge_features(times, dur)
            rows.append(feature_vector(feats))
            labels.append(pattern)
            counts.append(feats["n_spikes"])
    return np.vstack(rows), np.asarray(labels), np.asarray(counts)


__all__ = ["PATTERNS", "DetectionNoise", "corrupt", "simulated_set", "MODEL_FEATURES"]
