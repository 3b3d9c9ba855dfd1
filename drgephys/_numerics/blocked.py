"""Whole-trace dV/dt passes in cache-sized blocks: the same values as `drgephys._numerics.deriv.dvdt`
(regular sampling) and exact robust statistics, with no trace-length temporary.

- `BlockSlope` evaluates the slope block by block (``np.convolve`` on each block plus its halo gives the
  same dot products, bit for bit, as on the whole trace; the edge samples come from SciPy's own edge
  fits, as in `drgephys._numerics.savgol.savgol`), optionally writing it into one output array.
- `scan` makes one pass: it counts what certifies a robust-SD upper bound (`Bracket`), checks the values
  are finite and gathers the few samples at or above a level (detection candidates).
- `robust_sd_exact` is ``1.4826 × MAD`` of a stored array, equal to `deriv.robust_sd` bit for bit, with
  the absolute deviations evaluated block by block instead of materialised (same bracket-and-partition
  selection as `order.median`).
"""

from __future__ import annotations

from functools import cached_property, lru_cache

import numpy as np

from .order import BRACKET, MIN_FAST, SUBSAMPLE
from .savgol import Sampled, coeffs, edge_fit
from .spans import pieces

#: Samples per block: a block, its halo and a few masks stay in the L2 cache.
BLOCK = 1 << 16
#: Share of the subsample the bound's interval must hold (> ½ leaves room for subsampling error).
BOUND_SHARE = 0.56
#: np.convolve sums up to this many taps per output in its own loop; above it each output is one BLAS
#: call (~4x slower per tap), so longer kernels are applied in pieces of at most this many taps when an
#: approximation is enough (`BlockSlope.approx_block`).
MAX_FAST_TAPS = 11
#: Points of the strided subsample that places the certificate's interval (`Bracket`).
BRACKET_POINTS = 4096
#: Share of ranks on each side of the subsample's median bracketing the trace's median.
MEDIAN_SHARE = 0.03


def _window(span_ms: float, fs: float) -> int:
    w = int(round(span_ms * 1e-3 * fs))
    w += (w % 2 == 0)
    return w if w >= 5 else 0


@lru_cache(maxsize=64)
def _edge_fit(w: int) -> np.ndarray:
    """The least-squares quadratic over a window of `w` samples as a linear map (3 × w) from the samples
    to the coefficients of ``a s² + b s + c``, ``s`` = position / w (scaled, so well conditioned at any
    width): the fit SciPy's ``mode="interp"`` makes at the trace's edges, up to rounding."""
    return np.linalg.pinv(np.vander(np.arange(w) / w, 3))


class BlockSlope:
    """dV/dt (mV/ms) of a regularly sampled trace over `span_ms`, block by block (`dvdt`'s values).

    Use only where `usable` (long traces, window well inside a block)."""

    def __init__(self, v: np.ndarray, fs: float, span_ms: float):
        self.v, self.n = v, v.size
        self.dt_ms = 1e3 / fs
        w = _window(span_ms, fs)
        self.w = w if w and w <= self.n else 0
        self.h = self.w // 2 if self.w else 1
        if self.w:
            self.c = coeffs(self.w, 2, 1, self.dt_ms)

    @cached_property
    def head(self) -> np.ndarray:
        """SciPy's edge fit at the first `h` samples (computed when first needed: it costs ~0.3 ms)."""
        return self._edge(self.v[:self.w], True)

    @cached_property
    def tail(self) -> np.ndarray:
        return self._edge(self.v[self.n - self.w:], False)

    def _edge(self, x: np.ndarray, head: bool) -> np.ndarray:
        """SciPy's edge fit at one end of a window (`savgol.edge_fit`; `h` values, NaN when the window is
        not finite: `scan` reports it)."""
        if not np.all(np.isfinite(x)):
            return np.full(self.h, np.nan)
        return edge_fit(np.asarray(x, dtype=np.float64), 2, 1, self.dt_ms, head)

    @staticmethod
    def usable(n: int, fs: float, span_ms: float) -> bool:
        w = _window(span_ms, fs)
        return n >= MIN_FAST and (w == 0 or (n >= 2 * w and w <= BLOCK // 4))

    def block(self, a: int, b: int, out: np.ndarray | None = None) -> np.ndarray:
        """Slope at samples ``[a, b)`` (written into `out` when given)."""
        v, n, h = self.v, self.n, self.h
        y = np.empty(b - a) if out is None else out
        i0, i1 = max(a, h), min(b, n - h)          # interior samples of this block
        if i1 > i0:
            if self.w:
                y[i0 - a:i1 - a] = np.convolve(v[i0 - h:i1 + h], self.c, mode="valid")
            else:                                   # `deriv._gradient`: same operations
                np.subtract(v[i0 + 1:i1 + 1], v[i0 - 1:i1 - 1], out=y[i0 - a:i1 - a])
                y[i0 - a:i1 - a] /= 2.0 * self.dt_ms
        for i in range(a, min(b, h)):               # edge samples (at most `h` of them)
            y[i - a] = self.head[i] if self.w else (v[1] - v[0]) / self.dt_ms
        for i in range(max(a, n - h), b):
            y[i - a] = self.tail[i - (n - h)] if self.w else (v[-1] - v[-2]) / self.dt_ms
        return y

    def subsample(self) -> np.ndarray:
        """The slope at `BRACKET_POINTS` evenly strided samples, in no order (the values only place
        `Bracket`)."""
        idx = np.arange(self.h, self.n - self.h, max(self.n // BRACKET_POINTS, 1))
        if not self.w:
            return (self.v[idx + 1] - self.v[idx - 1]) / (2.0 * self.dt_ms)
        rows = np.lib.stride_tricks.sliding_window_view(self.v, self.w)[idx - self.h]
        return rows @ self.c[::-1]

    @property
    def split(self) -> bool:
        """Whether `approx_block` differs from `block` (kernels longer than `MAX_FAST_TAPS`)."""
        return self.w > MAX_FAST_TAPS

    def approx_block(self, a: int, b: int):
        """The slope at interior samples ``[a, b)`` (``h ≤ a``, ``b ≤ n − h``) and a bound ``eps`` of
        its distance to `block`'s values (NaN when the samples are not finite).

        Kernels longer than `MAX_FAST_TAPS` are summed in pieces (`_chunks`): both
        that sum and `block`'s are within ``γ_w Σ|c_k x_k|`` of the exact value (any summation order),
        so ``eps = 2 γ_(w+2) Σ|c| max|x|``. Shorter kernels: `block`'s own values, ``eps = 0``."""
        w, h = self.w, self.h
        x = self.v[a - h:b + h]
        if not w:
            y = np.subtract(x[2:], x[:-2])
            y /= 2.0 * self.dt_ms
            return y, 0.0
        if not self.split:
            return np.convolve(x, self.c, mode="valid"), 0.0
        top, bottom = float(x.max()), float(x.min())
        if not (np.isfinite(top) and np.isfinite(bottom)):
            return np.full(b - a, np.nan), np.nan
        y = None
        for s_, e_ in self._chunks():
            part = np.convolve(x[w - e_:w - e_ + (b - a) + e_ - s_ - 1], self.c[s_:e_], mode="valid")
            y = part if y is None else np.add(y, part, out=y)
        u = np.finfo(np.float64).eps / 2
        gamma = (w + 2) * u / (1 - (w + 2) * u)
        return y, 2.0 * gamma * self.abs_c * max(abs(top), abs(bottom))

    def approx_edges(self):
        """The first and last `h` samples: ``(indices, values, eps)``. SG kernels: SciPy's edge fits
        through the cached linear map `_edge_fit` (no SciPy call per trace), ``eps`` = 10⁻⁶ × the size
        of the values they combine, far above the rounding of either fit; central differences: exact."""
        n, w, h = self.n, self.w, self.h
        idx = np.concatenate((np.arange(h), np.arange(n - h, n)))
        if not w:
            return idx, np.concatenate((self.block(0, h), self.block(n - h, n))), 0.0
        head, tail = self.v[:w], self.v[n - w:]
        if not (np.all(np.isfinite(head)) and np.all(np.isfinite(tail))):
            return idx, np.full(2 * h, np.nan), np.nan
        fit = _edge_fit(w)
        scale = 1.0 / (w * self.dt_ms)                       # d/dt of a s² + b s + c, s = i / w
        pos = np.concatenate((np.arange(h), np.arange(w - h, w))) / w
        coef = np.concatenate((np.repeat((fit @ head)[None, :], h, axis=0),
                               np.repeat((fit @ tail)[None, :], h, axis=0)))
        y = (2.0 * coef[:, 0] * pos + coef[:, 1]) * scale
        # both this and SciPy's fit are within rounding of the exact map, whose row sums are at most
        # (2 Σ|P₀| + Σ|P₁|) / (w dt): a margin of 10⁻⁶ of that times the samples' size is far above it
        size = (2.0 * np.abs(fit[0]).sum() + np.abs(fit[1]).sum()) * scale
        size *= max(float(np.abs(head).max()), float(np.abs(tail).max()))
        return idx, y, 1e-6 * size

    def _chunks(self):
        """Consecutive kernel pieces of at most `MAX_FAST_TAPS` taps, as few and as even as possible
        (25 taps: 8 + 9 + 8)."""
        if not hasattr(self, "_chunk_list"):
            k = -(-self.w // MAX_FAST_TAPS)
            edges = np.linspace(0, self.w, k + 1).round().astype(int)
            self._chunk_list = list(zip(edges[:-1].tolist(), edges[1:].tolist()))
            self.abs_c = float(np.abs(self.c).sum())
        return self._chunk_list

    def exact_at(self, idx: np.ndarray) -> np.ndarray:
        """`block`'s values at the sorted sample indices `idx` (same dot products on the same samples)."""
        return self.at_windows(idx, idx + 1).values

    def at_windows(self, starts, stops) -> Sampled:
        """`block`'s values (those of the whole-trace slope, bit for bit) inside the windows
        ``[starts, stops)``, as a `Sampled` signal: np.convolve on the windows laid end to end with a
        margin of `h` samples makes the same dot products; edge samples from SciPy's edge fits."""
        n, h = self.n, self.h
        src, tgt, pos = pieces(starts, stops, n, h)
        x = self.v[src]
        if self.w:
            y = np.convolve(x, self.c, mode="same")[pos]
        else:                                            # `deriv._gradient`: same operations
            g = np.empty(x.size)
            if x.size > 2:
                np.subtract(x[2:], x[:-2], out=g[1:-1])
                g[1:-1] /= 2.0 * self.dt_ms
            y = g[pos]
        head, tail = tgt < h, tgt >= n - h
        if head.any():                       # (SciPy's edge fits only when an edge sample is asked for)
            y[head] = self.head[tgt[head]] if self.w else (self.v[1] - self.v[0]) / self.dt_ms
        if tail.any():
            y[tail] = self.tail[tgt[tail] - (n - h)] if self.w else (self.v[-1] - self.v[-2]) / self.dt_ms
        return Sampled(tgt, y, n)

    def full(self, out: np.ndarray | None = None) -> np.ndarray:
        """The whole slope (equal to `dvdt`), computed block by block into `out`."""
        out = np.empty(self.n) if out is None else out
        for a in range(0, self.n, BLOCK):
            b = min(a + BLOCK, self.n)
            self.block(a, b, out[a:b])
        return out


class Bracket:
    """A candidate certificate of the robust SD (``1.4826 × MAD``) read off a subsample, whose
    counts `scan` takes over the whole trace.

    - Single interval, when `level` is given and an interval of width ``level / 1.4826`` around the
      subsample's median holds at least `BOUND_SHARE` of it: if more than half the samples lie in
      ``[lo, hi]``, so does the median, and more than half the deviations are ≤ ``hi − lo``. One count,
      which can stop as soon as it passes half the trace.
    - Tight (otherwise): if at most half the samples lie below `a` and above `b`, the median lies in
      ``[a, b]``; if, in addition, more than half lie in ``[b − r, a + r]``, more than half the absolute
      deviations are ≤ r, so MAD ≤ r (~1.25 × the robust SD of Gaussian noise, not ~2.3).
    """

    def __init__(self, sub: np.ndarray, level: float | None = None):
        m = sub.size                  # (order statistics by selection: `sub` need not be sorted)
        self.single = False
        q = int(MEDIAN_SHARE * m) + 1
        ka, kb = max(m // 2 - q, 0), min(m // 2 + q, m - 1)
        sub = np.partition(sub, (ka, m // 2, kb))
        if level is not None and np.isfinite(level) and level > 0:
            half = 0.5 * level / 1.4826 / (1.0 + 1e-9)
            med = sub[m // 2]
            held = np.count_nonzero((sub >= med - half) & (sub <= med + half))
            if held >= BOUND_SHARE * m:
                self.single = True
                self.lo, self.hi = float(med - half), float(med + half)
                self.a, self.b = -np.inf, np.inf
                return
        self.a, self.b = sub[ka], sub[kb]
        centre = 0.5 * (self.a + self.b)
        k = min(int(BOUND_SHARE * m), m - 1)
        e = np.partition(np.abs(sub - centre), k)[k]
        self.r = float(e + 0.5 * (self.b - self.a))
        self.lo, self.hi = self.b - self.r, self.a + self.r

    def bound(self, n: int, below_a: int, above_b: int, inside: int) -> float:
        """The certified bound of the robust SD, ``inf`` when the counts do not certify it."""
        if inside < n // 2 + 1:
            return np.inf
        if self.single:      # |x − m| ≤ hi − lo in reals, so also after rounding (monotone)
            return float(1.4826 * (self.hi - self.lo)) * (1.0 + 1e-12)
        if below_a > (n - 1) // 2 or above_b > n - n // 2 - 1:
            return np.inf
        slack = 1e-12 * (abs(self.a) + abs(self.b) + self.r)   # rounding of b − r and a + r
        return float(1.4826 * (self.r + slack)) * (1.0 + 1e-12)


def scan(slope: BlockSlope, bracket: Bracket, *, gather_level: float | None = None,
         out: np.ndarray | None = None):
    """One blocked pass over the slope.

    Returns ``(bound, finite, idx, vals)``: the certified robust-SD bound (`Bracket.bound`), whether
    all values are finite, and the indices / values of samples with slope ≥ `gather_level` (empty
    when None). The slope is written into `out` when given. Otherwise long kernels are summed in pieces
    (`BlockSlope.approx_block`, within ``eps`` of the exact values): the counts then take ``eps`` against
    the certificate (still a valid bound) and samples within ``eps`` of `gather_level` are settled with
    their exact values, so the answer is the one of the exact slope.
    """
    n, h = slope.n, slope.h
    below = above = inside = 0
    finite = True
    idx, vals = [], []
    a_, b_, lo, hi = bracket.a, bracket.b, bracket.lo, bracket.hi
    approx = False                               # some values only within eps of the exact ones
    if out is None:                              # edges apart, interior blocks in [h, n − h)
        parts = [(None, None)] + [(a, min(a + BLOCK, n - h)) for a in range(h, n - h, BLOCK)]
    else:
        parts = [(a, min(a + BLOCK, n)) for a in range(0, n, BLOCK)]
    with np.errstate(invalid="ignore", over="ignore"):   # inf − inf: reported as not finite
        for a, b in parts:
            pos = None
            if out is not None:
                y, eps = slope.block(a, b, out[a:b]), 0.0
            elif a is None:
                pos, y, eps = slope.approx_edges()
            else:
                y, eps = slope.approx_block(a, b)
            if not np.isfinite(eps):
                return np.inf, False, np.empty(0, dtype=np.int64), np.empty(0)
            approx |= eps > 0
            if eps == 0 or pos is not None:     # (pieced sums: max/min of the samples checked them)
                finite &= bool(np.isfinite(np.add.reduce(y)))
            if not bracket.single:
                below += int(np.count_nonzero(y < a_ + eps))
                above += int(np.count_nonzero(y > b_ - eps))
            if not (bracket.single and inside > n // 2):     # (a single interval: once certified, done)
                inside += int(np.count_nonzero((y >= lo + eps) & (y <= hi - eps)))
            if gather_level is not None:
                k = np.flatnonzero(y >= gather_level - eps)
                if k.size:
                    idx.append(k + a if pos is None else pos[k])
                    vals.append(y[k])
    idx = np.concatenate(idx) if idx else np.empty(0, dtype=np.int64)
    vals = np.concatenate(vals) if vals else np.empty(0)
    order = np.argsort(idx, kind="stable")       # (the edge samples came first)
    idx, vals = idx[order], vals[order]
    if approx and idx.size:
        vals = slope.exact_at(idx)
        keep = vals >= gather_level
        idx, vals = idx[keep], vals[keep]
    return bracket.bound(n, below, above, inside), finite, idx, vals


def above(x: np.ndarray, level: float) -> np.ndarray:
    """``np.flatnonzero(x >= level)`` without a trace-length mask."""
    parts = [np.flatnonzero(x[a:a + BLOCK] >= level) + a for a in range(0, x.size, BLOCK)]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def _median_of(blocks, n: int, sub: np.ndarray):
    """Exact ``np.median`` of the values `blocks()` yields (n in all), bracketed by the sorted
    subsample `sub` (`order.median`'s selection); None when the bracket misses the middle ranks."""
    m = sub.size
    half = int(BRACKET * m) + 1
    lo, hi = sub[max(m // 2 - half, 0)], sub[min(m // 2 + half, m - 1)]
    below, inside = 0, []
    for y in blocks():
        ge = y >= lo
        below += y.size - int(np.count_nonzero(ge))
        ge &= y <= hi
        inside.append(y[ge])
    inside = np.concatenate(inside)
    r0, r1 = (n - 1) // 2 - below, n // 2 - below
    if r0 < 0 or r1 >= inside.size:
        return None
    if r0 == r1:
        return float(np.partition(inside, r0)[r0])
    part = np.partition(inside, (r0, r1))
    return float(np.mean(part[[r0, r1]]))


def robust_sd_exact(x: np.ndarray) -> float:
    """``1.4826 × median(|x − median(x)|)`` of a finite 1-D array, equal to `deriv.robust_sd`
    bit for bit, without the trace-length array of deviations (long arrays only)."""
    n = x.size
    step = max(n // SUBSAMPLE, 1)

    def raw():
        for a in range(0, n, BLOCK):
            yield x[a:a + BLOCK]

    m = _median_of(raw, n, np.sort(x[::step]))
    if m is None:
        m = float(np.median(x))

    def dev():
        for a in range(0, n, BLOCK):
            d = np.subtract(x[a:a + BLOCK], m)
            yield np.abs(d, out=d)

    mad = _median_of(dev, n, np.sort(np.abs(x[::step] - m)))
    if mad is None:                      # bracket missed (aliased subsample): the plain way
        d = np.subtract(x, m)
        mad = float(np.median(np.abs(d, out=d)))
    return float(1.4826 * mad)
