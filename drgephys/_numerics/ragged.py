"""Per-spike window operations without a Python loop: every spike's window [start, stop) is laid out
in one flat index array and reduced with ``ufunc.reduceat``.

Windows of consecutive spikes are bounded by the next spike, so the flat array never holds more than
about one copy of the trace.
"""

from __future__ import annotations

import numpy as np


def clip(a, lo, hi) -> np.ndarray:
    """``np.clip(a, lo, hi)`` for integer arrays: ``minimum(maximum(a, lo), hi)``, numpy's definition
    (same values, also when ``lo > hi``), without np.clip's per-call dispatch overhead (~6 us)."""
    return np.minimum(np.maximum(a, lo), hi)


class Segments:
    """Half-open windows ``[starts[k], stops[k])`` (each at least one sample long) over a trace.

    Attributes
    ----------
    idx : ndarray of int, shape (total,)
        Trace indices of all windows, concatenated.
    offsets, lengths : ndarray of int, shape (n_windows,)
        Where each window starts in `idx`, and its length.
    """

    def __init__(self, starts, stops, n: int):
        starts = clip(np.asarray(starts, dtype=np.int64), 0, max(n - 1, 0))
        stops = clip(np.asarray(stops, dtype=np.int64), starts + 1, n)
        self.starts = starts
        self.lengths = stops - starts
        self.offsets = np.concatenate(([0], np.cumsum(self.lengths)[:-1])).astype(np.int64)
        total = int(self.lengths.sum())
        self.idx = np.arange(total, dtype=np.int64) + np.repeat(starts - self.offsets, self.lengths)
        self._pos = np.arange(total, dtype=np.int64)

    def __len__(self) -> int:
        return int(self.starts.size)

    def take(self, x: np.ndarray) -> np.ndarray:
        """Values of trace-length array `x` over all windows (flat)."""
        return x[self.idx]

    def reduce_max(self, flat: np.ndarray) -> np.ndarray:
        return np.maximum.reduceat(flat, self.offsets) if len(self) else flat[:0]

    def reduce_min(self, flat: np.ndarray) -> np.ndarray:
        return np.minimum.reduceat(flat, self.offsets) if len(self) else flat[:0]

    def argmax(self, x: np.ndarray) -> np.ndarray:
        """Trace index of the (first) maximum of `x` in each window."""
        flat = self.take(x)
        mx = self.reduce_max(flat)
        return self.first_true(flat == np.repeat(mx, self.lengths))

    def argmin(self, x: np.ndarray) -> np.ndarray:
        """Trace index of the (first) minimum of `x` in each window."""
        flat = self.take(x)
        mn = self.reduce_min(flat)
        return self.first_true(flat == np.repeat(mn, self.lengths))

    def first_true(self, mask_flat: np.ndarray) -> np.ndarray:
        """Trace index of the first True of a flat mask in each window, −1 where none."""
        if not len(self):
            return np.empty(0, dtype=np.int64)
        big = self._pos.size
        r = np.minimum.reduceat(np.where(mask_flat, self._pos, big), self.offsets)
        return np.where(r == big, -1, self.idx[np.minimum(r, big - 1)])

    def last_true(self, mask_flat: np.ndarray) -> np.ndarray:
        """Trace index of the last True of a flat mask in each window, −1 where none."""
        if not len(self):
            return np.empty(0, dtype=np.int64)
        r = np.maximum.reduceat(np.where(mask_flat, self._pos, -1), self.offsets)
        # a window whose mask is all False reduces to −1 only if no earlier position leaked in: reduceat
        # works per window, so r < offsets means "none"
        none = r < self.offsets
        return np.where(none, -1, self.idx[np.maximum(r, 0)])


def first_crossing(x: np.ndarray, starts, stops, level, *, above: bool, inclusive: bool,
                   first_chunk: int = 64) -> np.ndarray:
    """Trace index of the first sample in each window ``[starts[k], stops[k])`` where `x` is beyond
    ``level[k]`` (``above``: ``x >= level`` if `inclusive` else ``x > level``; else ``x <= level`` /
    ``x < level``), −1 where none.

    Same answer as ``Segments(starts, stops, n).first_true(...)`` (same window clipping), but windows
    are scanned in growing chunks (64, 256, 1024, … samples) and dropped once a hit is found, so the
    work follows the distance to the crossing, not the window length (long AHP-recovery windows whose
    crossing comes early). The loop runs over chunk sizes (a handful of passes), not windows.
    """
    n = x.size
    starts = clip(np.asarray(starts, dtype=np.int64), 0, max(n - 1, 0))
    stops = clip(np.asarray(stops, dtype=np.int64), starts + 1, n)
    level = np.broadcast_to(np.asarray(level, dtype=np.float64), starts.shape)
    out = np.full(starts.size, -1, dtype=np.int64)
    todo = np.arange(starts.size)
    lo = starts.copy()
    chunk = int(first_chunk)
    while todo.size:
        hi = np.minimum(lo[todo] + chunk, stops[todo])
        seg = Segments(lo[todo], hi, n)
        flat = seg.take(x)
        lev = np.repeat(level[todo], seg.lengths)
        if above:
            mask = flat >= lev if inclusive else flat > lev
        else:
            mask = flat <= lev if inclusive else flat < lev
        r = seg.first_true(mask)
        found = r >= 0
        out[todo[found]] = r[found]
        lo[todo] = hi
        todo = todo[~found & (hi < stops[todo])]
        chunk *= 4
    return out


def window_argmin(x: np.ndarray, starts, stops) -> np.ndarray:
    """``Segments(starts, stops, n).argmin(x)`` (first minimum of each window, same clipping) for long
    windows: when the windows are sorted and do not overlap, their minima come from one
    ``np.minimum.reduceat`` over the trace itself (no flat copy of the windows) and the first sample at
    that minimum from `first_crossing`, which stops at it (AHP troughs come early in 100-ms windows)."""
    n = x.size
    starts = clip(np.asarray(starts, dtype=np.int64), 0, max(n - 1, 0))
    stops = clip(np.asarray(stops, dtype=np.int64), starts + 1, n)
    if starts.size == 0 or np.any(starts[1:] < stops[:-1]):
        return Segments(starts, stops, n).argmin(x)
    edges = np.empty(2 * starts.size, dtype=np.int64)
    edges[0::2], edges[1::2] = starts, stops
    if edges[-1] == n:                 # the last window runs to the end of the trace
        edges = edges[:-1]
    mn = np.minimum.reduceat(x, edges)[0::2]
    return first_crossing(x, starts, stops, mn, above=False, inclusive=True)
