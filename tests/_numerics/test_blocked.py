"""The blocked whole-trace passes of `drgephys._numerics.blocked` (and the array-free sample times of
`detect`) give exactly the answers of the plain computations they replace."""

import numpy as np
import pytest

import drgephys.spikes.detect as detect_mod
from drgephys.spikes import SpikeParams, detect_spikes
from drgephys._numerics.blocked import BLOCK, BlockSlope, Bracket, above, robust_sd_exact, scan
from drgephys._numerics.deriv import dvdt, robust_sd
from drgephys._numerics.order import MIN_FAST
from drgephys.sim import simulate_trace
from drgephys.spikes.detect import _RegularTimes

#: Rates covering the plain np.convolve kernels (≤ 11 taps), the pieced ones and central differences.
RATES_HZ = (10_000.0, 20_000.0, 50_000.00000000001, 100_000.0)


def _walk(n, seed=0, sd=0.2):
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(0, 0.3, n)) * 0.05 - 60.0 + rng.normal(0, sd, n)


@pytest.mark.parametrize("fs", RATES_HZ)
@pytest.mark.parametrize("span_ms", [0.1, 0.5])
def test_block_slope_equals_dvdt_bit_for_bit(fs, span_ms):
    v = _walk(3 * BLOCK + 123)
    slope = BlockSlope(v, fs, span_ms)
    d = dvdt(v, fs, None, span_ms)
    np.testing.assert_array_equal(slope.full(), d)
    idx = np.array([0, 1, 5, BLOCK - 1, BLOCK, v.size // 2, v.size - 3, v.size - 1])
    if slope.w:
        np.testing.assert_array_equal(slope.exact_at(idx), d[idx])


@pytest.mark.parametrize("fs", RATES_HZ)
def test_scan_gathers_exactly_and_certifies_a_valid_bound(fs):
    v = _walk(2 * BLOCK + 77, seed=1)
    d = dvdt(v, fs, None, 0.5)
    slope = BlockSlope(v, fs, 0.5)
    level = np.quantile(d, 0.995)
    bound, finite, idx, vals = scan(slope, Bracket(slope.subsample()), gather_level=level)
    assert finite
    np.testing.assert_array_equal(idx, np.flatnonzero(d >= level))
    np.testing.assert_array_equal(vals, d[idx])
    assert robust_sd(d) <= bound < np.inf
    out = np.empty(v.size)
    assert robust_sd(d) <= scan(slope, Bracket(slope.subsample()), out=out)[0] < np.inf
    np.testing.assert_array_equal(out, d)
    np.testing.assert_array_equal(above(d, level), np.flatnonzero(d >= level))


def test_certificate_refuses_a_wrong_bracket():
    x = _walk(MIN_FAST + 11, seed=2)
    slope = BlockSlope(x, 20_000.0, 0.5)
    wrong = Bracket(slope.subsample() + 100.0)        # the interval misses the data entirely
    assert scan(slope, wrong)[0] == np.inf


@pytest.mark.parametrize("n", [MIN_FAST + 1, 300_000, 300_001])
def test_robust_sd_exact_equals_robust_sd(n):
    rng = np.random.default_rng(n)
    signals = {"white": rng.normal(size=n), "ties": np.round(rng.normal(size=n), 1),
               "aliased": np.sin(np.arange(n) * 2 * np.pi / (n // 16384 + 0.5))}
    for name, x in signals.items():
        assert robust_sd_exact(x) == robust_sd(x), name


@pytest.mark.parametrize("fs", [10_000.0, 25_000.000000000004, 3333.3])
def test_regular_times_index_and_search_like_the_array(fs):
    n = 200_003
    t = np.arange(n, dtype=np.float64) / fs
    rt = _RegularTimes(fs, n)
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.uniform(-1, n / fs + 1, 20_000), t[rng.integers(0, n, 20_000)],
                        t[rng.integers(0, n, 1000)] + 1e-3, [-np.inf, np.inf, np.nan]])
    for side in ("left", "right"):
        np.testing.assert_array_equal(np.searchsorted(rt, x, side=side), np.searchsorted(t, x, side=side))
    i = rng.integers(0, n, 100)
    np.testing.assert_array_equal(rt[i], t[i])


@pytest.mark.parametrize("fs, noise_sd_mv", [(20_000.0, 0.2), (50_000.0, 0.5), (10_000.0, 3.0),
                                             (20_000.0, 0.16), (20_000.0, 0.17)])
def test_blocked_detection_equals_stored_slope_detection(fs, noise_sd_mv, monkeypatch):
    """Long regular traces take the blocked path; forcing the stored-slope path gives the same table
    (quiet traces: certified cutoff and feature span; very noisy ones: exact robust SD of the detection
    slope; 0.16 / 0.17 mV at 20 kHz: the feature slope's certificate fails and its exact robust SD,
    2.41 / 2.56 mV/ms against the 2.5 level, keeps / doubles the span; simulated tonic firing at 7.3 Hz with
    a 60-Hz, 4-mV SSO episode in the first half, white noise only)."""
    sso = ({"start_s": 0.5, "end_s": 3.5, "frequency_hz": 60.0, "amplitude_mv": 4.0},)
    v = simulate_trace(duration_s=8.0, fs_hz=fs, episodes=sso, pattern="tonic", rate_hz=7.3, white_noise_mv=noise_sd_mv,
                       pink_noise_mv=0.0, drift_mv=0.0, seed=3).v
    assert BlockSlope.usable(v.size, fs, SpikeParams().detection_smoothing_ms)
    got = detect_spikes(v, fs)
    monkeypatch.setattr(detect_mod.BlockSlope, "usable", staticmethod(lambda *a: False))
    ref = detect_spikes(v, fs)
    assert len(ref) > 0
    np.testing.assert_array_equal(got.to_numpy(), ref.to_numpy())


def test_blocked_path_rejects_non_finite_samples():
    v = _walk(MIN_FAST + 5)
    for bad in (np.nan, np.inf):
        for where in (0, v.size // 2, v.size - 1):
            w = v.copy()
            w[where] = bad
            with pytest.raises(ValueError, match=r"`v` must be finite; got 1 NaN/inf samples"):
                detect_spikes(w, 20_000.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_single_interval_certificate_is_valid_and_level_aware(seed):
    """With a `level`, `Bracket` uses one interval of width level / 1.4826 when the subsample allows;
    a certified bound is ≥ the exact robust SD and ≤ the level; a level below the noise is refused."""
    v = _walk(2 * BLOCK + 5, seed=seed, sd=0.3)
    slope = BlockSlope(v, 20_000.0, 0.5)
    exact = robust_sd(dvdt(v, 20_000.0, None, 0.5))
    generous = Bracket(slope.subsample(), level=4 * exact)
    assert generous.single
    bound = scan(slope, generous)[0]
    assert exact <= bound <= 4 * exact
    strict = Bracket(slope.subsample(), level=0.5 * exact)
    assert not strict.single                          # falls back to the tight certificate
    assert scan(slope, strict)[0] > 0.5 * exact       # which cannot certify an impossible level


@pytest.mark.parametrize("fs, span_ms", [(20_000.0, 10.0), (50_000.0, 0.5), (10_000.0, 0.5)])
def test_wide_kernels_and_edges_within_their_bounds(fs, span_ms):
    """Long kernels (201 taps: 19 pieces) and the edge samples (cached quadratic fit) stay within their
    stated bounds of the exact values, and the gathered samples are exactly the exact slope's."""
    v = _walk(3 * BLOCK + 9, seed=6)
    slope = BlockSlope(v, fs, span_ms)
    d = dvdt(v, fs, None, span_ms)
    idx, y, eps = slope.approx_edges()
    assert np.all(np.abs(y - d[idx]) <= eps)
    a, b = BLOCK, 2 * BLOCK
    y, eps = slope.approx_block(a, b)
    assert np.all(np.abs(y - d[a:b]) <= eps)
    level = np.quantile(d, 0.99)
    _, finite, gathered, vals = scan(slope, Bracket(slope.subsample()), gather_level=level)
    np.testing.assert_array_equal(gathered, np.flatnonzero(d >= level))
    np.testing.assert_array_equal(vals, d[gathered])
