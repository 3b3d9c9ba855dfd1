"""Stand-ins for library calls and trace-length passes on the SSO detector's per-sweep path give the same values
exactly: graph components (scipy.sparse.csgraph), 1-D distance transform (scipy.ndimage), batched inverse
FFTs, blanked counts of `merge_groups`."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import fft as sfft
from scipy import ndimage, sparse
from scipy.sparse import csgraph

from drgephys._numerics import spans as sp
from drgephys.oscillations import preprocess as pp
from drgephys.oscillations import tfr
from drgephys.oscillations import OscillationParams
from drgephys.oscillations.episodes import _components, _distance_to_blank, _run_edges, merge_groups


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
    for scatter in (0, 1 << 20):                        # spectra by slices / by one scatter per batch
        monkeypatch.setattr(tfr, "SCATTER_NFFT", scatter)
        for chunk in (1, 4, 5, 24):
            np.testing.assert_array_equal(tfr.morlet_power(r, 606.0, freqs, 6.0, chunk=chunk), auto)


def _merge_groups_by_cumsum(s, e, freq, valid, fs, params):
    """The reference: blanked counts from cumulative sums over the whole trace."""
    if s.size < 2:
        return np.zeros(s.size, np.int64)
    blank_cum = np.concatenate(([0], np.cumsum(~valid)))
    blank_starts = np.concatenate(([0], np.cumsum(np.diff((~valid).view(np.int8), prepend=np.int8(0)) == 1)))
    gap = s[1:] - e[:-1]
    blanked = blank_cum[s[1:]] - blank_cum[e[:-1]]
    n_blanks = np.maximum(blank_starts[s[1:]] - blank_starts[e[:-1]], (blanked > 0).astype(np.int64))
    period = fs / np.minimum(freq[1:], freq[:-1])
    same_f = np.abs(np.log(freq[1:] / freq[:-1])) <= np.log1p(1.0 / params.wavelet_cycles)
    allowed = (params.max_gap_cycles + n_blanks * params.wavelet_cycles / np.pi) * period
    ok_gap = ((gap - blanked) <= allowed) & (blanked <= params.max_blank_gap_s * fs)
    return np.cumsum(np.concatenate(([True], ~(same_f & ok_gap)))) - 1


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_merge_groups_equals_cumulative_sum_reference(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(5, 400))
    valid = rng.random(m) < rng.choice([0.0, 0.3, 0.9, 1.0])
    k = int(rng.integers(0, 8))
    pts = np.sort(rng.integers(0, m + 1, 2 * k))
    s, e = pts[0::2], pts[1::2]
    freq = rng.choice([20.0, 21.0, 40.0], size=k)
    fs, params = 600.0, OscillationParams(max_gap_cycles=float(rng.choice([0.5, 2.0, 20.0])),
                                          max_blank_gap_s=float(rng.choice([0.01, 0.1])))
    np.testing.assert_array_equal(merge_groups(s, e, freq, valid, fs, params),
                                  _merge_groups_by_cumsum(s, e, freq, valid, fs, params))


@pytest.mark.parametrize("n", [7, 64, 101, 1000, 4097])
def test_segment_spectrum_frequencies_equal_fftfreq(n):
    spec = tfr.SegmentSpectrum(np.random.default_rng(n).normal(size=n), 606.0606)
    f_axis = sfft.fftfreq(spec.nfft, 1 / 606.0606)
    np.testing.assert_array_equal(spec.f_axis, f_axis)
    np.testing.assert_array_equal(spec._f_pos, f_axis[f_axis > 0])


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 200).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(-5, n + 5), st.integers(0, 40)), max_size=12))))
def test_merged_spans_skip_the_merge_with_the_same_result(case):
    n, spans = case
    s0 = np.array([a for a, _ in spans], np.int64)
    e0 = s0 + np.array([b for _, b in spans], np.int64)
    s, e = sp.merge_spans(s0, e0, n)
    np.testing.assert_array_equal(sp.spans_to_mask(s, e, n, merged=True), sp.spans_to_mask(s0, e0, n))
    x = np.random.default_rng(n).normal(size=n)
    a, b = x.copy(), x.copy()
    sp.fill_spans(a, s, e, merged=True)
    sp.fill_spans(b, s0, e0)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("n", [7, 64, 101, 1000, 1999, 4097])
def test_segment_spectrum_positive_half_equals_complex_fft(n):
    # the rfft half is taken for scipy.fft.fft's: both come from pocketfft's real transform
    spec = tfr.SegmentSpectrum(np.random.default_rng(n).normal(size=n) - 55.0, 606.0606)
    np.testing.assert_array_equal(spec._spec_pos, spec.spec[spec.f_axis > 0])


@settings(max_examples=300, deadline=None)
@given(arrays(bool, st.integers(0, 300)))
def test_run_edges_equal_the_runs(mask):
    flat = np.concatenate((mask, [False]))            # find_candidates' arrays end in a False separator
    s, e = _run_edges(flat)
    ref_s, ref_e = sp.runs(mask)
    np.testing.assert_array_equal(s, ref_s)
    np.testing.assert_array_equal(e, ref_e)


@pytest.mark.parametrize("n", [1, 2, 7, 64, 101, 1000, 1999, 4097, 5003])
def test_segment_fft_lengths_and_cached_frequencies(n):
    assert tfr._fast_len(n) == sfft.next_fast_len(n)
    assert tfr._positive_freqs(n, 606.0606).flags.writeable == (n > tfr.CACHE_SEGMENT_NFFT)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 6), st.integers(1, 300), st.integers(0, 2 ** 32 - 1))
def test_run_sums_gathered_equal_plane_sums(n_rows, n, seed):
    # find_candidates sums its runs from their gathered samples when they are few: the same float32 sums
    from drgephys.oscillations.episodes import _run_sums
    rng = np.random.default_rng(seed)
    power = rng.exponential(size=(n_rows, n)).astype(np.float32)
    above = np.zeros((n_rows, n + 1), bool)
    above[:, :n] = rng.random((n_rows, n)) < rng.uniform(0.05, 0.95)
    starts, ends = _run_edges(above.ravel())
    rows, cs, ce = starts // (n + 1), starts % (n + 1), ends % (n + 1)
    if rows.size == 0:
        return
    a = _run_sums(power, rows, cs, ce, gather=True)
    b = _run_sums(power, rows, cs, ce, gather=False)
    assert a.dtype == b.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, [np.add.reduceat(power[r, s:e], [0])[0] for r, s, e in zip(rows, cs, ce)])
