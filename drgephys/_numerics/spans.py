"""Index spans ``[start, end)`` over a trace (spikes, artifacts, windows) as whole-array operations: runs
of a mask, merging, masks, straight-line bridges and the samples they cover. Every caller of spans in
`drgephys.spikes`, `drgephys.oscillations` and the pipeline uses these (one definition each)."""

from __future__ import annotations

import numpy as np

__all__ = ["runs", "merge_spans", "spans_to_mask", "fill_spans", "span_fill", "span_bridge", "in_spans", "locate",
           "span_indices", "pieces"]


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) indices of the runs of True in a 1-D boolean array."""
    d = np.diff(np.concatenate(([0], mask.view(np.int8) if mask.dtype == bool else mask.astype(np.int8), [0])))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def merge_spans(starts, ends, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Clip spans ``[start, end)`` to ``[0, n)``, sort them and merge overlapping or touching ones."""
    # np.minimum / np.maximum: the values of np.clip on integers without its ~5 µs wrapper
    s = np.minimum(np.maximum(np.asarray(starts, dtype=np.int64), 0), n)
    e = np.minimum(np.maximum(np.asarray(ends, dtype=np.int64), 0), n)
    keep = e > s
    s, e = s[keep], e[keep]
    if s.size == 0:
        return s, e
    order = np.argsort(s, kind="stable")
    s, e = s[order], e[order]
    reach = np.maximum.accumulate(e)
    new = np.ones(s.size, bool)
    new[1:] = s[1:] > reach[:-1]
    return s[new], np.maximum.reduceat(e, np.flatnonzero(new))


def spans_to_mask(starts, ends, n: int, *, merged: bool = False) -> np.ndarray:
    """Boolean mask of length ``n``, True inside the merged spans ``[start, end)`` (``merged``: the spans
    are already the output of `merge_spans`)."""
    s, e = (starts, ends) if merged else merge_spans(starts, ends, n)
    d = np.zeros(n + 1, np.int8)
    d[s] += 1
    d[e] -= 1
    return np.cumsum(d[:n], dtype=np.int8) > 0


def fill_spans(x: np.ndarray, starts, ends, *, merged: bool = False) -> None:
    """Replace ``x`` inside the merged spans ``[start, end)`` by the straight line joining the samples on
    either side (in place). A span touching an edge is filled with the value on its other side
    (``merged``: the spans are already the output of `merge_spans`)."""
    fill = span_fill(lambda i: x[i].astype(np.float64), starts, ends, x.size, merged=merged)
    if fill is not None:
        x[fill[0]] = fill[1]


def span_fill(anchor, starts, ends, n: int, *, merged: bool = False):
    """The samples `fill_spans` writes: ``(idx, values)`` (increasing int64 indices, float64 values), or
    ``None`` when there is no span. ``anchor(indices)`` gives the float64 values of the trace there (the
    anchors lie outside every merged span, so they are original samples; ``merged``: the spans are already
    the output of `merge_spans`)."""
    s, e = (starts, ends) if merged else merge_spans(starts, ends, n)
    if s.size == 0:
        return None
    if s[0] == 0 and e[0] == n:
        return np.arange(n), np.zeros(n)
    left, right = _anchors(s, e, n)
    xl, xr = anchor(left), anchor(right)
    lengths = e - s
    idx = span_indices(s, e, n, merged=True)
    span_left = np.repeat(left, lengths)
    width = np.repeat(np.maximum(right - left, 1), lengths)
    frac = np.minimum(np.maximum((idx - span_left) / width, 0.0), 1.0)   # np.clip (finite values)
    return idx, np.repeat(xl, lengths) + frac * np.repeat(xr - xl, lengths)


def in_spans(starts, ends, idx) -> np.ndarray:
    """Whether each sample index of ``idx`` lies inside one of the merged spans ``[starts, ends)``
    (`merge_spans`): ``spans_to_mask(starts, ends, n)[idx]`` without a trace-length mask."""
    return locate(starts, ends, idx)[0] if len(starts) else np.zeros(np.shape(idx), bool)


def locate(s, e, idx):
    """``(inside, span)``: whether each index lies inside one of the sorted, disjoint spans ``[s, e)`` and
    the last span starting at or before it (0 before the first); ``s`` not empty."""
    k = np.searchsorted(s, idx, side="right") - 1
    kk = np.maximum(k, 0)
    return (k >= 0) & (idx < e[kk]), kk


class Bridge:
    """`span_fill`'s values at given sample indices only, laid out once and written for any trace:
    `span_bridge`."""

    def __init__(self, hit: np.ndarray, span: np.ndarray, left: np.ndarray, right: np.ndarray, frac):
        self.hit, self.span, self.left, self.right, self.frac = hit, span, left, right, frac

    def write(self, out: np.ndarray, anchor) -> None:
        """Write the fill values into ``out`` (the trace at the indices, in place); ``anchor(indices)``
        gives the float64 values of the trace there (`span_fill`'s anchors)."""
        if self.frac is None:                               # one span over the whole trace
            out[self.hit] = 0.0
            return
        xl, xr = anchor(self.left), anchor(self.right)
        out[self.hit] = xl[self.span] + self.frac * (xr - xl)[self.span]


def span_bridge(starts, ends, n: int, idx: np.ndarray) -> Bridge | None:
    """Where `span_fill` writes among the increasing sample indices ``idx``, and how (`Bridge`): the same
    expression per sample, so the same values, without evaluating the whole spans; ``None`` when there is
    no span. ``starts``, ``ends``: merged spans (`merge_spans`)."""
    s, e = starts, ends
    if s.size == 0:
        return None
    hit, kk = locate(s, e, idx)
    if s[0] == 0 and e[0] == n:
        return Bridge(hit, None, None, None, None)
    left, right = _anchors(s, e, n)
    kk = kk[hit]
    frac = np.minimum(np.maximum((idx[hit] - left[kk]) / np.maximum(right - left, 1)[kk], 0.0), 1.0)
    return Bridge(hit, kk, left, right, frac)


def _anchors(s, e, n: int):
    """The samples either side of each merged span ``[s, e)`` that its bridge joins (the other side's
    at a trace edge)."""
    return np.where(s > 0, s - 1, e), np.where(e < n, e, s - 1)


def span_indices(starts, stops, n: int, *, merged: bool = False) -> np.ndarray:
    """Sorted distinct sample indices inside the union of the spans ``[starts, stops)`` clipped to
    ``[0, n)`` (``merged``: the spans are already the output of `merge_spans`)."""
    s, e = (starts, stops) if merged else merge_spans(np.reshape(starts, -1), np.reshape(stops, -1), n)
    lengths = e - s
    return np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(s - (np.cumsum(lengths) - lengths), lengths)


def pieces(starts, stops, n: int, margin: int):
    """Merged windows ``[s, e)`` inside ``[0, n)`` and, for the pieces ``[s - margin, e + margin)``
    (clipped) laid end to end, the trace indices of the pieces and where each window's samples sit."""
    s = np.minimum(np.maximum(np.asarray(starts, dtype=np.int64), 0), n)   # np.clip's values, less overhead
    e = np.minimum(np.maximum(np.asarray(stops, dtype=np.int64), 0), n)
    ok = e > s
    s, e = s[ok], e[ok]
    order = np.argsort(s, kind="stable")
    s, e = s[order], e[order]
    if s.size:                                   # merge overlapping windows (their pieces would repeat)
        reach = np.maximum.accumulate(e)
        new = np.ones(s.size, bool)
        new[1:] = s[1:] > reach[:-1]
        s, e = s[new], np.maximum.reduceat(e, np.flatnonzero(new))
    a, b = np.maximum(s - margin, 0), np.minimum(e + margin, n)
    lengths = b - a
    offsets = np.cumsum(lengths) - lengths
    src = np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(a - offsets, lengths)
    wl = e - s
    tgt = np.arange(int(wl.sum()), dtype=np.int64) + np.repeat(s - (np.cumsum(wl) - wl), wl)
    pos = tgt - np.repeat(a - offsets, wl)       # where each target sample sits in the laid-out pieces
    return src, tgt, pos


def overlap_pairs(s1, e1, s2, e2) -> tuple[np.ndarray, np.ndarray]:
    """Every pair ``(i, j)`` of intervals ``[s1[i], e1[i])`` and ``[s2[j], e2[j])`` that overlap
    (``s1[i] < e2[j]`` and ``s2[j] < e1[i]``), without an all-pairs matrix: each overlapping pair has one
    interval starting inside the other, so the pairs are the ranges of sorted starts falling inside each
    interval of the other set (two sorted searches), O((n1 + n2) log(n1 + n2) + pairs). A pair whose
    intervals start together is listed once. Empty intervals overlap nothing.

    Returns
    -------
    i, j : ndarray of int64, same length
        Indices into the first and second set (in no particular order).
    """
    s1, e1, s2, e2 = (np.asarray(x, dtype=np.float64).reshape(-1) for x in (s1, e1, s2, e2))
    ok1, ok2 = np.flatnonzero(e1 > s1), np.flatnonzero(e2 > s2)
    o1, o2 = ok1[np.argsort(s1[ok1], kind="stable")], ok2[np.argsort(s2[ok2], kind="stable")]
    a1, a2 = s1[o1], s2[o2]
    # second-set intervals starting in [s1[i], e1[i])
    lo = np.searchsorted(a2, s1[o1], side="left")
    hi = np.searchsorted(a2, e1[o1], side="left")
    i_a, j_a = _ranges(o1, lo, hi, o2)
    # first-set intervals starting strictly inside (s2[j], e2[j]) (equal starts were counted above)
    lo = np.searchsorted(a1, s2[o2], side="right")
    hi = np.searchsorted(a1, e2[o2], side="left")
    j_b, i_b = _ranges(o2, lo, hi, o1)
    return np.concatenate((i_a, i_b)), np.concatenate((j_a, j_b))


def _ranges(owner, lo, hi, sorted_ids):
    """Pairs ``(owner[k], sorted_ids[lo[k]:hi[k]])`` for every k, flattened."""
    cnt = np.maximum(hi - lo, 0)
    total = int(cnt.sum())
    first = np.cumsum(cnt) - cnt
    pos = np.arange(total, dtype=np.int64) + np.repeat(lo - first, cnt)
    return np.repeat(owner, cnt).astype(np.int64), sorted_ids[pos].astype(np.int64)
