"""Resampling primitives: bootstrap counts, relabellings, permutation p, intervals, matched lines."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drgephys.stats.matched import choose_vm, line_at, matched_difference
from drgephys.stats.resample import (adjusted_values, bootstrap_counts, interval, permutation_p, relabellings,
                                     replicate_means)

FREQ_TOL_HZ = 1e-9
SD_REL_TOL = 0.06  # bootstrap SD vs its analytic target, 8000 replicates (Monte Carlo error ≈ 1 %)
MEAN_TOL = 1e-9


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 6), min_size=1, max_size=6), seed=st.integers(0, 2**16),
       cells=st.booleans())
def test_counts_draw_whole_animals(sizes, seed, cells):
    codes = np.repeat(np.arange(len(sizes)), sizes)
    np.random.default_rng(seed).shuffle(codes)
    c = bootstrap_counts(codes, 50, np.random.default_rng(seed), resample_cells=cells)
    assert c.shape == (50, codes.size) and (c >= 0).all()
    per_animal = np.stack([c[:, codes == a].sum(1) for a in range(len(sizes))], axis=1)
    # every drawn animal contributes exactly its number of cells
    assert np.all(per_animal % np.array(sizes) == 0)
    assert np.all(per_animal.sum(1) == (per_animal // np.array(sizes)) @ np.array(sizes))
    assert np.all((per_animal // np.array(sizes)).sum(1) == len(sizes))
    if not cells:  # one-stage: an animal's cells are drawn together, equally often
        for a in range(len(sizes)):
            block = c[:, codes == a]
            assert np.all(block == block[:, :1])


def test_counts_same_seed_same_draws():
    codes = np.array([0, 0, 1, 1, 1, 2])
    a = bootstrap_counts(codes, 100, np.random.default_rng(7))
    b = bootstrap_counts(codes, 100, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


def test_relabellings_exact_and_random():
    lab, exact = relabellings(6, 3, 2000, np.random.default_rng(0))
    assert exact and lab.shape == (math.comb(6, 3), 6) and (lab.sum(1) == 3).all()
    assert len({tuple(r) for r in lab}) == lab.shape[0]
    lab, exact = relabellings(16, 8, 500, np.random.default_rng(0))
    assert not exact and lab.shape == (500, 16) and (lab.sum(1) == 8).all()


def test_permutation_p_known_answers():
    null = np.array([-3.0, -1.0, 0.0, 1.0, 3.0, np.nan])
    assert permutation_p(3.0, null, exact=True) == pytest.approx(2 / 5)
    assert permutation_p(3.0, null, exact=False) == pytest.approx(3 / 6)
    assert np.isnan(permutation_p(np.nan, null, exact=True))


def test_interval_percentile_and_expanded():
    b = np.random.default_rng(0).normal(0, 1, 20000)
    lo, hi = interval(b, 0.95, "percentile", 10)
    assert lo == pytest.approx(-1.96, abs=0.06) and hi == pytest.approx(1.96, abs=0.06)
    elo, ehi = interval(b, 0.95, "expanded", 10)
    z = math.sqrt(10 / 9) * 2.2621571627409915  # √(n/(n−1))·t_{9,0.975}
    assert ehi == pytest.approx(z, abs=0.1) and elo < lo
    assert np.isnan(interval(b[:5], 0.95, "percentile", 10)[0])


def test_line_at_known_answer():
    x = np.array([-60.0, -55.0, -50.0])
    y = 60 + 3 * (x + 57)
    w = np.ones(3)
    def sums_of(y):
        return np.array([w.sum(), (w * x).sum(), (w * y).sum(), (w * x * x).sum(), (w * x * y).sum()])

    sums = sums_of(y)
    assert line_at(sums, -57.0)[0] == pytest.approx(60.0, abs=FREQ_TOL_HZ)
    flat = np.array([2.0, -110.0, 100.0, 6050.0, -5500.0])  # two points at the same potential
    assert np.isnan(line_at(flat, -55.0)[0])
    d = matched_difference(sums, sums_of(y - 15.0), 3, 3, vm_mv=-57.0, slope="per_group", min_cells=3)
    assert float(d) == pytest.approx(15.0, abs=1e-6)
    assert np.isnan(matched_difference(sums, sums, 2, 3, vm_mv=-57.0, slope="per_group", min_cells=3))


def test_choose_vm_rules():
    assert choose_vm((-65, -55), (-58, -48), None, ("a", "b")) == (-56.5, "")
    assert choose_vm((-65, -55), (-58, -48), -57, ("a", "b")) == (-57.0, "")
    with pytest.raises(ValueError, match=r"must lie where both groups have SSO episodes, -58.00 to -55.00 mV"):
        choose_vm((-65, -55), (-58, -48), -54.9, ("a", "b"))
    vm, msg = choose_vm((-65, -60), (-58, -48), None, ("a", "b"))
    assert np.isnan(vm) and "do not overlap" in msg
    vm, msg = choose_vm((np.nan, np.nan), (-58, -48), None, ("a", "b"))
    assert np.isnan(vm) and "no SSO episodes in group(s) ['a']" in msg


def _balanced(n_animals, n_cells, sd_animal, sd_cell, seed):
    rng = np.random.default_rng(seed)
    codes = np.repeat(np.arange(n_animals), n_cells)
    y = rng.normal(0, sd_animal, n_animals)[codes] + rng.normal(0, sd_cell, codes.size)
    return y, codes


def _unbiased_se(y, codes):
    """√(B/a): the unbiased standard error of a balanced group mean (B = variance of animal means)."""
    means = np.bincount(codes, weights=y) / np.bincount(codes)
    return math.sqrt(np.var(means, ddof=1) / means.size)


@pytest.mark.parametrize("sd_animal, sd_cell", [(1.0, 3.0), (3.0, 1.0)])
def test_adjusted_bootstrap_sd_is_the_unbiased_se(sd_animal, sd_cell):
    y, codes = _balanced(6, 8, sd_animal, sd_cell, seed=3)
    counts = bootstrap_counts(codes, 8000, np.random.default_rng(0))
    adj = replicate_means(counts, y, codes, adjust=True)
    naive = replicate_means(counts, y, codes, adjust=False)
    target = _unbiased_se(y, codes)
    sw2 = np.mean([np.var(y[codes == a], ddof=1) for a in range(6)])
    # when the animal-variance estimate is positive, the adjusted bootstrap reproduces √(B/a)
    assert np.var(np.bincount(codes, weights=y) / 8, ddof=1) > sw2 / 8
    assert np.std(adj) == pytest.approx(target, rel=SD_REL_TOL)
    # the naive second stage adds the within-animal variance again: ≈ (a−1)/a·B/a + (m−1)/m·s²_w/(a·m)
    naive_expected = math.sqrt(5 / 6 * target ** 2 + 7 / 8 * sw2 / 48)
    assert np.std(naive) == pytest.approx(naive_expected, rel=SD_REL_TOL)
    if sd_cell > sd_animal:  # within-animal variation dominates: the naive interval is visibly wider
        assert np.std(naive) > 1.08 * np.std(adj)


def test_adjusted_values_without_animal_variance_keep_only_cell_residuals():
    # animal means equal: no between-animal variance, so the animal stage must not add any
    y = np.array([1.0, 3.0, 0.0, 4.0, 2.0, 2.0])
    codes = np.array([0, 0, 1, 1, 2, 2])
    adj = adjusted_values(y, codes)
    np.testing.assert_allclose(adj, 2.0 + math.sqrt(2.0) * (y - 2.0), atol=MEAN_TOL)


def test_adjusted_values_known_shrinkage():
    # a = 2 animals, 2 cells each: means 0 and 4 (B = 8), pooled within variance 2 → σ̂²_a = 8 − 2/2 = 7,
    # c² = a/(a−1)·7/8 = 1.75, residual factor √2
    y = np.array([-1.0, 1.0, 3.0, 5.0])
    codes = np.array([0, 0, 1, 1])
    c = math.sqrt(1.75)
    expect = 2.0 + c * np.array([-2, -2, 2, 2]) + math.sqrt(2.0) * np.array([-1, 1, -1, 1])
    np.testing.assert_allclose(adjusted_values(y, codes), expect, atol=MEAN_TOL)


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 6), min_size=1, max_size=6), seed=st.integers(0, 2**16),
       holes=st.booleans())
def test_adjusted_values_keep_the_mean_and_missing_cells(sizes, seed, holes):
    rng = np.random.default_rng(seed)
    codes = np.repeat(np.arange(len(sizes)), sizes)
    y = rng.normal(0, 2, codes.size) + rng.normal(0, 1, len(sizes))[codes]
    if holes:
        y[rng.random(codes.size) < 0.3] = np.nan
    adj = adjusted_values(y, codes)
    ok = np.isfinite(y)
    np.testing.assert_array_equal(np.isfinite(adj), ok)
    if ok.any():
        assert np.mean(adj[ok]) == pytest.approx(np.mean(y[ok]), abs=1e-9 * (1 + np.abs(y[ok]).max()))
        counts = bootstrap_counts(codes, 200, rng)
        means = replicate_means(counts, y, codes, adjust=True)
        fin = means[np.isfinite(means)]
        assert np.all((fin >= y[ok].min()) & (fin <= y[ok].max()))
