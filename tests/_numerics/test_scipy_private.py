"""`drgephys._numerics.scipy_private`: each wrapper of a SciPy internal gives the public call's values, bit
for bit, and the probe found the internal (a SciPy upgrade that moves one makes these tests say so)."""

import numpy as np
import pytest
from scipy import fft as sfft
from scipy import ndimage
from scipy.signal import savgol_coeffs, savgol_filter

from drgephys._numerics import scipy_private as spv
from drgephys._numerics.savgol import coeffs, edge_fit


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n,w", [(1, 3), (2, 3), (3, 3), (10, 11), (11, 11), (500, 3), (1000, 303), (7, 7)])
def test_median_filter_equals_ndimage(n, w, dtype):
    assert spv.RANK_FILTER_1D is not None, "SciPy's 1-D rank filter core moved: median_filter falls back"
    y = np.random.default_rng(n + w).normal(size=n).astype(dtype)
    y[::5] = y[0]                                        # ties
    np.testing.assert_array_equal(spv.median_filter(y, w), ndimage.median_filter(y, size=w, mode="nearest"))


@pytest.mark.parametrize("n", [1, 2, 7, 64, 101, 1000, 1999, 4097, 5003])
def test_pocketfft_calls_equal_scipy_fft(n):
    assert spv.POCKETFFT is not None, "SciPy's pocketfft core moved: rfft/ifft_rows fall back"
    rng = np.random.default_rng(n)
    x = rng.normal(size=n)
    np.testing.assert_array_equal(spv.rfft(x.copy()), sfft.rfft(x))
    c = rng.normal(size=(3, n)) + 1j * rng.normal(size=(3, n))
    np.testing.assert_array_equal(spv.ifft_rows(c.copy()), sfft.ifft(c, axis=1))
    c64 = c.astype(np.complex64)                      # morlet_power's batches
    np.testing.assert_array_equal(spv.ifft_rows(c64.copy()), sfft.ifft(c64, axis=1))


@pytest.mark.parametrize("window, order, deriv", [(5, 2, 1), (11, 3, 0), (25, 2, 1), (7, 3, 2), (5, 1, 2)])
def test_edge_fit_is_savgol_filters_edge_bit_for_bit(window, order, deriv):
    xw = np.cumsum(np.random.default_rng(window).normal(size=window)) - 60.0
    ref = savgol_filter(xw, window, order, deriv=deriv, delta=0.05, mode="interp")
    h = window // 2
    assert np.array_equal(edge_fit(xw, order, deriv, 0.05, True), ref[:h])
    assert np.array_equal(edge_fit(xw, order, deriv, 0.05, False), ref[window - h:])


@pytest.mark.parametrize("window, order, deriv, delta", [(5, 2, 1, 0.05), (11, 3, 0, 1.0), (25, 2, 1, 1e-4),
                                                         (8, 3, 2, 0.1), (5, 1, 2, 1.0)])
def test_savgol_kernel_is_scipys_bit_for_bit(window, order, deriv, delta):
    assert np.array_equal(coeffs(window, order, deriv, delta),
                          savgol_coeffs(window, order, deriv=deriv, delta=delta))
