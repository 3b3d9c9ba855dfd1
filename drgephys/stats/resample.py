"""Vectorized resampling: hierarchical bootstrap counts, animal-level relabellings, interval limits."""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import stats as sps


def bootstrap_counts(cluster_codes: np.ndarray, n_boot: int, rng: np.random.Generator, *,
                     resample_cells: bool = True) -> np.ndarray:
    """How often each cell is drawn in each hierarchical bootstrap replicate of one group.

    Each replicate draws the group's animals with replacement, then, for every drawn animal, as many
    cells as it has with replacement among its own cells. All replicates are drawn at once.

    Parameters
    ----------
    cluster_codes : ndarray of int, shape (n_cells,)
        Animal (cluster) code of each cell, 0 … n_animals − 1.
    n_boot : int
        Number of replicates.
    rng : numpy.random.Generator
    resample_cells : bool
        False keeps every drawn animal's cells as they are (one-stage cluster bootstrap).

    Returns
    -------
    ndarray of int, shape (n_boot, n_cells)
        Counts; a replicate's statistic is a count-weighted statistic of the cells.
    """
    codes = np.asarray(cluster_codes, dtype=np.int64)
    n = codes.size
    order = np.argsort(codes, kind="stable")
    size = np.bincount(codes)
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    n_animals = size.size
    pick = rng.integers(0, n_animals, size=(n_boot, n_animals))
    m = int(size.max())
    sz = size[pick]
    u = rng.random((n_boot, n_animals, m))
    within = np.floor(u * sz[..., None]).astype(np.int64) if resample_cells else np.broadcast_to(np.arange(m), u.shape)
    idx = start[pick][..., None] + np.minimum(within, np.maximum(sz[..., None] - 1, 0))
    mask = np.arange(m) < sz[..., None]
    cells = order[idx]
    flat = (np.arange(n_boot)[:, None, None] * n + cells)[mask]
    return np.bincount(flat, minlength=n_boot * n).reshape(n_boot, n)


def relabellings(n_animals: int, n_group: int, n_perm: int, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    """Animal-level relabellings: boolean matrix, True where an animal is assigned to the group.

    All ``C(n_animals, n_group)`` assignments when there are at most ``n_perm`` of them (exact test),
    else ``n_perm`` random ones.

    Returns
    -------
    labels : ndarray of bool, shape (n_relabellings, n_animals)
    exact : bool
    """
    total = math.comb(n_animals, n_group)
    if total <= n_perm:
        lab = np.zeros((total, n_animals), dtype=bool)
        for i, combo in enumerate(itertools.combinations(range(n_animals), n_group)):  # ≤ n_perm tiny rows
            lab[i, list(combo)] = True
        return lab, True
    base = np.zeros(n_animals, dtype=bool)
    base[:n_group] = True
    return rng.permuted(np.tile(base, (n_perm, 1)), axis=1), False


def permutation_p(observed: float, null: np.ndarray, exact: bool) -> float:
    """Two-sided p-value of ``observed`` against permuted statistics ``null`` (NaN ones ignored).

    Exact enumeration: share of relabellings at least as extreme (the observed one is among them).
    Random relabellings: ``(1 + k) / (1 + n)`` (Phipson & Smyth 2010, Stat Appl Genet Mol Biol 9:39).
    """
    if not np.isfinite(observed):
        return np.nan
    null = null[np.isfinite(null)]
    if null.size == 0:
        return np.nan
    tol = 1e-9 * max(1.0, abs(observed))
    k = int(np.count_nonzero(np.abs(null) >= abs(observed) - tol))
    return k / null.size if exact else (1 + k) / (1 + null.size)


def interval(boot: np.ndarray, level: float, method: str, n_clusters: int) -> tuple[float, float]:
    """Bootstrap interval limits from replicate differences ``boot`` (NaN replicates dropped).

    ``"percentile"``: the (1 ± level)/2 quantiles. ``"expanded"``: quantiles at
    ``Φ(±√(n/(n−1))·t_{n−1,(1+level)/2})`` with ``n = n_clusters`` (Hesterberg 2015), which widens the
    interval for few animals and tends to the percentile interval as ``n`` grows.
    """
    b = boot[np.isfinite(boot)]
    if b.size < 10:
        return (np.nan, np.nan)
    alpha = 1 - level
    if method == "expanded" and n_clusters >= 2:
        z = math.sqrt(n_clusters / (n_clusters - 1)) * sps.t.ppf(1 - alpha / 2, n_clusters - 1)
        lo_q = float(sps.norm.cdf(-z))
    else:
        lo_q = alpha / 2
    lo, hi = np.quantile(b, [lo_q, 1 - lo_q])
    return float(lo), float(hi)


def adjusted_values(y: np.ndarray, cluster_codes: np.ndarray) -> np.ndarray:
    """Cell values for the adjusted two-stage bootstrap of a mean (Davison & Hinkley 1997, §3.8).

    The naive two-stage bootstrap (animals with replacement, then cells with replacement within them)
    counts the within-animal variance twice: a resampled animal's observed mean already carries it, and
    resampling its cells adds it again (intervals too wide when cells vary more than animals). Following
    Davison & Hinkley's adjusted strategy (also Ren et al. 2010, J Appl Stat 37:1487; Field & Welsh 2007,
    JRSS B 69:369), each cell value is rebuilt as

        ỹ_ij = ȳ + c·(ȳ_i − ȳ) + √(n_i/(n_i − 1))·(y_ij − ȳ_i)

    and replicates are means of these values drawn by :func:`bootstrap_counts` (two-stage). The residual
    factor makes the within-animal stage unbiased for σ²_w; ``c² = a/(a−1) · σ̂²_a / B`` shrinks the
    animal means so that the animal stage reproduces the moment estimate of the between-animal variance
    ``σ̂²_a = max(B − s²_w·mean(1/n_i), 0)`` (``B`` the variance of the ``a`` animal means, ``s²_w`` the
    pooled within-animal variance), and corrects the ``(a−1)/a`` shrinkage of resampling ``a`` animals.
    The bootstrap variance of the mean is then ≈ ``B/a`` (its unbiased estimate) instead of ≈ ``B/a +
    s²_w/(a·n)``. Values are not restricted to the data's range (e.g. 0–1 for shares); only means of them
    are used.

    Parameters
    ----------
    y : ndarray, shape (n_cells,)
        Per-cell values of one group; NaN = no value (left NaN).
    cluster_codes : ndarray of int, shape (n_cells,)
        Animal code of each cell, 0 … n_animals − 1.

    Returns
    -------
    ndarray, shape (n_cells,)
    """
    y = np.asarray(y, dtype=float)
    codes = np.asarray(cluster_codes, dtype=np.int64)
    ok = np.isfinite(y)
    if not ok.any():
        return y.copy()
    k = int(codes.max()) + 1
    n_i = np.bincount(codes[ok], minlength=k).astype(float)
    s_i = np.bincount(codes[ok], weights=y[ok], minlength=k)
    has = n_i > 0
    m_i = np.where(has, s_i / np.where(has, n_i, 1.0), np.nan)
    grand = y[ok].mean()
    res = np.where(ok, y - m_i[codes], 0.0)
    ss_w = float(np.sum(res * res))
    df_w = float(np.sum(np.maximum(n_i - 1, 0)))
    s2_w = ss_w / df_w if df_w > 0 else 0.0
    a = int(has.sum())
    if a >= 2:
        between = float(np.var(m_i[has], ddof=1))
        s2_a = max(between - s2_w * float(np.mean(1.0 / n_i[has])), 0.0)
        c = math.sqrt(a / (a - 1) * s2_a / between) if between > 0 else 0.0
    else:
        c = 0.0
    d = np.sqrt(np.where(n_i > 1, n_i / np.maximum(n_i - 1, 1), 1.0))
    out = grand + c * (m_i[codes] - grand) + d[codes] * res
    return np.where(ok, out, np.nan)


def replicate_means(counts: np.ndarray, y: np.ndarray, cluster_codes: np.ndarray, *, adjust: bool) -> np.ndarray:
    """Mean of the cells with a value in each bootstrap replicate of one group.

    Parameters
    ----------
    counts : ndarray of int, shape (n_boot, n_cells)
        From :func:`bootstrap_counts`.
    y : ndarray, shape (n_cells,)
        Per-cell values (NaN = no value; such cells are skipped).
    cluster_codes : ndarray of int, shape (n_cells,)
    adjust : bool
        Use :func:`adjusted_values` (adjusted two-stage bootstrap). Replicate means are then kept within
        the observed range of ``y`` (as plain resampling keeps them), so e.g. a share never leaves 0–1.

    Returns
    -------
    ndarray, shape (n_boot,)
        NaN for replicates without any cell with a value.
    """
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(y)
    vals = np.nan_to_num(adjusted_values(y, cluster_codes)) if adjust else np.where(ok, y, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (counts @ vals) / (counts @ ok)
    if adjust and ok.any():
        means = np.clip(means, y[ok].min(), y[ok].max())
    return means
