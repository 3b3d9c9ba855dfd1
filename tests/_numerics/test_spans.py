"""`drgephys._numerics.spans`: the span helpers against their whole-trace definitions."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from drgephys._numerics.spans import in_spans, merge_spans, span_bridge, span_fill, spans_to_mask


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 300), spans=st.lists(st.tuples(st.integers(-5, 305), st.integers(0, 40)), max_size=8),
       stride=st.integers(1, 7), seed=st.integers(0, 2**16))
def test_span_bridge_writes_span_fill_at_those_samples(n, spans, stride, seed):
    x = np.random.default_rng(seed).normal(size=n)
    s, e = merge_spans([a for a, _ in spans], [a + d for a, d in spans], n)
    idx = np.arange(seed % stride, n, stride)
    full = x.copy()
    whole = span_fill(lambda i: x[i], s, e, n, merged=True)
    if whole is not None:
        full[whole[0]] = whole[1]
    bridge = span_bridge(s, e, n, idx)
    if whole is None:
        assert bridge is None
        return
    out = x[idx].copy()
    bridge.write(out, lambda i: x[i])
    np.testing.assert_array_equal(bridge.hit, np.isin(idx, whole[0]))
    np.testing.assert_array_equal(out, full[idx])                 # bit for bit, not approximately


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 300), spans=st.lists(st.tuples(st.integers(-5, 305), st.integers(0, 40)), max_size=8),
       stride=st.integers(1, 7))
def test_in_spans_reads_the_mask_at_those_samples(n, spans, stride):
    s, e = merge_spans([a for a, _ in spans], [a + d for a, d in spans], n)
    idx = np.arange(0, n, stride)
    np.testing.assert_array_equal(in_spans(s, e, idx), spans_to_mask(s, e, n, merged=True)[idx])
