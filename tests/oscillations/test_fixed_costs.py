"""Stand-ins for library calls on the SSO detector's per-sweep path give the library's values exactly:
graph components (scipy.sparse.csgraph), 1-D distance transform (scipy.ndimage), batched inverse FFTs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage, sparse
from scipy.sparse import csgraph

from drgephys.oscillations import tfr
from drgephys.oscillations.episodes import _components, _distance_to_blank


def _scipy_components(n, src, dst):
    g = sparse.csr_array((np.ones(src.size), (src, dst)), shape=(n, n))
    return csgraph.connected_components(g, directed=False)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 60).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n))))
def test_components_number_like_scipy(graph):
    n, edges = graph
    src = np.array([a for a, _ in edges], np.int64)
    dst = np.array([b for _, b in edges], np.int64)
    n_ref, lab_ref = _scipy_components(n, src, dst)
    n_lab, lab = _components(n, src, dst)
    assert n_lab == n_ref
    np.testing.assert_array_equal(lab, lab_ref)


def test_components_long_chain_in_reverse_order():
    # the worst case for label propagation: a path whose smallest node sits at the far end
    n = 500
    src, dst = np.arange(n - 1, 0, -1), np.arange(n - 2, -1, -1)
    n_lab, lab = _components(n, src, dst)
    assert n_lab == 1 and not lab.any()


@settings(max_examples=300, deadline=None)
@given(arrays(bool, st.integers(1, 400)))
def test_distance_to_blank_equals_edt(valid):
    if valid.all():
        valid[valid.size // 2] = False
    np.testing.assert_array_equal(_distance_to_blank(valid), ndimage.distance_transform_edt(valid))


@pytest.mark.parametrize("n", [100, 607, 3001, 20000])
def test_morlet_power_same_for_any_batch(n, monkeypatch):
    rng = np.random.default_rng(n)
    r = rng.normal(size=n)
    freqs = tfr.wavelet_freqs(10.0, 200.0, 24)
    auto = tfr.morlet_power(r, 606.0, freqs, 6.0)
    monkeypatch.setattr(tfr, "SMALL_BATCH", 0)          # exactly `chunk` frequencies per inverse FFT
    for chunk in (1, 4, 5, 24):
        np.testing.assert_array_equal(tfr.morlet_power(r, 606.0, freqs, 6.0, chunk=chunk), auto)
