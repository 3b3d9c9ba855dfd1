"""`preprocess.fir_decimate` (polyphase matrix product) against `scipy.signal.resample_poly`."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from drgephys._numerics import spans as sp
from drgephys.oscillations import preprocess as pp
from drgephys.oscillations import decimation
from drgephys.oscillations.decimation import stage_filters

# resample_poly accumulates in the input dtype in its own order; the matrix product sums in another, so the
# two agree to the rounding of a ~100-tap float32 sum of values of ~60 (relative to the input's range)
F32_REL_TOL = 2e-6
F64_REL_TOL = 1e-12


def _filter(q: int, taps: int) -> np.ndarray:
    return signal.firwin(taps, 0.8 / q, window=("kaiser", 5.0))


def _inputs(n: int, rng) -> list[np.ndarray]:
    t = np.arange(n)
    return [rng.normal(size=n) * 3.0 - 60.0,                              # noise on an offset
            np.sin(0.05 * t) - 60.0 + 0.01 * t,                           # sinusoid on a ramp
            np.r_[np.full(n // 2, -70.0), np.full(n - n // 2, -40.0)]]    # a step (line padding at both ends)


@pytest.mark.parametrize("q", range(2, 13))
@pytest.mark.parametrize("n", [3 * 13 + 1, 1001, 4097])
def test_equals_resample_poly_float32(q, n):
    rng = np.random.default_rng(q * 1000 + n)
    for taps in (q + 1 | 1, 10 * q + 1, 10 * q + 5):           # shorter than q, multiples and not
        h = _filter(q, taps).astype(np.float32)
        for x in _inputs(n, rng):
            x = x.astype(np.float32)
            ref = signal.resample_poly(x, 1, q, window=h, padtype="line")
            got = pp.fir_decimate(x, q, h)
            assert got.dtype == np.float32 and got.shape == ref.shape
            np.testing.assert_allclose(got, ref, rtol=0, atol=F32_REL_TOL * np.abs(x).max())


@pytest.mark.parametrize("q", [2, 5, 9, 12])
def test_equals_resample_poly_float64(q):
    rng = np.random.default_rng(q)
    h = _filter(q, 12 * q + 3)
    for x in _inputs(2 * 7919 + 1, rng):
        ref = signal.resample_poly(x, 1, q, window=h, padtype="line")
        got = pp.fir_decimate(x, q, h)
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, ref, rtol=0, atol=F64_REL_TOL * np.abs(x).max())


def test_filter_longer_than_the_signal():
    x = np.linspace(-60.0, -50.0, 7)
    h = _filter(3, 41)
    np.testing.assert_allclose(pp.fir_decimate(x, 3, h), signal.resample_poly(x, 1, 3, window=h, padtype="line"),
                               rtol=0, atol=F64_REL_TOL * 60)


@pytest.mark.parametrize("fs, q", [(10000.0, 16), (20000.0, 33), (50000.0, 81)])
def test_multistage_decimate_matches_resample_poly_stages(fs, q):
    rng = np.random.default_rng(int(fs))
    x = (rng.normal(size=int(fs)) - 60.0).astype(np.float32)
    ref = x
    for qs, h in stage_filters(fs, q, 200.0):
        ref = signal.resample_poly(ref, 1, qs, window=h.astype(np.float32), padtype="line")
    got = pp.decimate(x, fs, q, 200.0)
    assert got.shape == (-(-x.size // q),) == ref.shape
    np.testing.assert_allclose(got, ref, rtol=0, atol=F32_REL_TOL * 60)


@pytest.mark.parametrize("q, stages", [(1, []), (7, [7]), (12, [12]), (16, [8, 2]), (32, [8, 4]), (64, [8, 8]),
                                       (80, [10, 8]), (144, [12, 12])])
def test_stages_take_the_larger_factor_first(q, stages):
    # the first stage runs at the full rate: the larger factor there leaves fewer samples to the second,
    # longer filter (decimation._stages)
    assert decimation._stages(q) == stages


def test_decimation_factors_split_into_stages_of_at_most_12_larger_first():
    for fs in (2000.0, 10000.0, 20000.0, 25000.0, 50000.0, 100000.0, 200000.0):
        q = decimation.decimation_factor(fs, 200.0, 3.0)
        st = decimation._stages(q)
        assert int(np.prod(st)) == q and all(2 <= s <= 12 for s in st) and st == sorted(st, reverse=True)


@pytest.mark.parametrize("block", [64, 1000, 4096])
@pytest.mark.parametrize("q", [2, 3, 9, 11])
def test_blocks_give_the_same_values_as_one_block(monkeypatch, block, q):
    rng = np.random.default_rng(block + q)
    x = (rng.normal(size=20011) - 60.0).astype(np.float32)
    h = _filter(q, 12 * q + 1).astype(np.float32)
    whole = pp.fir_decimate(x, q, h)                        # 20011 < BLOCK_SAMPLES: one block
    monkeypatch.setattr(decimation, "BLOCK_SAMPLES", block)
    # the same sums, but BLAS may order a matrix product's additions by its shape (seen with OpenBLAS for
    # q = 9 and 11 on this project's CI machines): equal to float32 rounding, not always bit for bit
    np.testing.assert_allclose(pp.fir_decimate(x, q, h), whole, rtol=0, atol=F32_REL_TOL * 61)
    np.testing.assert_allclose(whole, signal.resample_poly(x, 1, q, window=h, padtype="line"), rtol=0,
                               atol=F32_REL_TOL * 61)


@pytest.mark.parametrize("fs, q", [(10000.0, 16), (20000.0, 33), (50000.0, 81), (1000.0, 1)])
@pytest.mark.parametrize("spans", [([], []), ([0, 300, 5000], [40, 900, 5200]), ([7000], [9001]), ([0], [9001])])
def test_blank_and_decimate_equals_copy_fill_decimate(monkeypatch, fs, q, spans):
    monkeypatch.setattr(decimation, "BLOCK_SAMPLES", 1024)    # several blocks, bridges across block edges
    rng = np.random.default_rng(q)
    v = rng.normal(size=9001) * 2.0 - 60.0 + np.sin(np.arange(9001) * 0.01) * 5.0
    v_before = v.copy()
    x = v.astype(np.float32)
    sp.fill_spans(x, *spans)
    expected = pp.decimate(x, fs, q, 200.0) if q > 1 else x
    got = pp.blank_and_decimate(v, *spans, fs, q, 200.0)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(v, v_before)                     # the caller's array is not modified


@pytest.mark.parametrize("width", [0.01, 0.05, 0.13, 0.3])
@pytest.mark.parametrize("fs", [1000.0, 20000.0, 44150.568421])
def test_kaiser_design_is_scipys_bit_for_bit(width, fs):
    from scipy import signal

    from drgephys.oscillations.decimation import kaiser_lowpass, kaiser_order

    n, beta = kaiser_order(60.0, width)
    assert (n, beta) == signal.kaiserord(60.0, width)
    n |= 1
    for cut in (0.1 * fs / 2, 0.37 * fs / 2):
        assert np.array_equal(kaiser_lowpass(n, cut, beta, fs),
                              signal.firwin(n, cut, window=("kaiser", beta), fs=fs))


def test_chi2_quantile_is_scipy_stats():
    from scipy import stats

    from drgephys.oscillations.bosc import _chi2_2_ppf

    for p in (0.5, 0.95, 0.99, 0.999, 1 - 1e-9):
        assert _chi2_2_ppf(p) == float(stats.chi2.ppf(p, 2))
