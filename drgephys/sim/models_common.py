"""Shared machinery of the biophysical models in :mod:`drgephys.sim.models`.

Everything here works on a whole population of independent cells at once (the
cell axis is the first array axis); only the loop over time steps is a Python
loop, and each of its iterations is a handful of numpy expressions over all
cells.

Numerical scheme
----------------
* Gating variables: exponential (Rush-Larsen) Euler, exact for a fixed
  membrane potential over one step, stable at any step size.
* Membrane potential: exponential Euler on the linearised current balance,
  ``V <- V_inf + (V - V_inf) * exp(-G * dt / C)`` with ``G`` the total
  conductance and ``V_inf`` the conductance-weighted reversal potential
  (plus injected and noise current over ``G``); stable for stiff conductances.
* Noise: an Ornstein-Uhlenbeck current, updated with its exact discrete
  recursion ``x[k] = a x[k-1] + sigma sqrt(1 - a**2) xi[k]``, ``a = exp(-dt/tau)``
  (Gillespie 1996, Phys Rev E 54:2084), i.e. Euler-Maruyama-exact for the
  linear noise SDE.  The noise is generated in chunks with
  :func:`scipy.signal.lfilter` along time.
* Output: the fine internal step divides the output sample period exactly; the
  output keeps every ``substeps``-th state (decimation by picking samples).
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np
from scipy.signal import lfilter

from drgephys._validation import check_fs, check_positive

#: Number of internal steps whose noise is drawn at once (memory/speed trade-off).
NOISE_CHUNK_STEPS = 8192


def as_cells(value, name: str, unit: str) -> np.ndarray:
    """Return a per-cell parameter as a finite 1-D float array of shape ``(n_cells,)``.

    Scalars become one cell.  Raises ``TypeError``/``ValueError`` in the house style.
    """
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"`{name}` must be a number or a 1-D array of numbers in {unit}; got {value!r}"
        ) from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"`{name}` must be a scalar or a non-empty 1-D array of shape (n_cells,) in {unit}; "
            f"got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must be finite (in {unit}); got {arr!r}")
    return arr


def broadcast_cells(arrays: dict[str, np.ndarray]) -> tuple[int, dict[str, np.ndarray]]:
    """Broadcast per-cell arrays of size 1 or ``n_cells`` to a common ``n_cells``."""
    sizes = {k: a.size for k, a in arrays.items()}
    n = max(sizes.values())
    bad = {k: s for k, s in sizes.items() if s not in (1, n)}
    if bad:
        raise ValueError(
            "per-cell arguments must have size 1 or a common n_cells; got sizes "
            f"{sizes}. Pass scalars or arrays of the same length."
        )
    return n, {k: np.broadcast_to(a, (n,)).copy() for k, a in arrays.items()}


def nonneg_seconds(value, name: str) -> float:
    """Return ``value`` as a finite float >= 0 (a time in s) or raise in the house style."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a number >= 0 in s; got {value!r}") from None
    if not math.isfinite(out) or out < 0:
        raise ValueError(f"`{name}` must be a number >= 0 in s; got {value!r}")
    return out


def time_grid(duration_s, fs, dt_ms, settle_s) -> tuple[int, int, int, float]:
    """Return ``(n_samples, substeps, n_settle_steps, dt_ms)`` for a simulation.

    ``dt_ms`` is reduced, if needed, so that an integer number of internal
    steps (``substeps``) spans one output sample period ``1000 / fs`` ms.
    """
    fs = check_fs(fs)
    duration_s = check_positive(duration_s, "duration_s", "s")
    dt_req = check_positive(dt_ms, "dt_ms", "ms")
    settle_s = nonneg_seconds(settle_s, "settle_s")
    n_samples = int(round(duration_s * fs))
    if n_samples < 1:
        raise ValueError(
            f"`duration_s` * `fs` must give at least one sample; got {duration_s:g} s at {fs:g} Hz"
        )
    period_ms = 1000.0 / fs
    substeps = max(1, int(math.ceil(period_ms / dt_req - 1e-9)))
    dt = period_ms / substeps
    n_settle = int(round(settle_s * 1000.0 / dt))
    return n_samples, substeps, n_settle, dt


def cell_generators(seed, n_cells: int) -> list[np.random.Generator]:
    """One independent random generator per cell.

    ``seed`` may be ``None`` (fresh entropy), an int (cell ``i`` uses child ``i``
    of ``numpy.random.SeedSequence(seed)``, so cell 0 of a batch equals a
    single-cell run with the same int), or a sequence of ``n_cells`` ints (cell
    ``i`` uses ``numpy.random.default_rng(seed[i])``, so any cell can be
    re-simulated alone with ``seed=[seed[i]]``).
    """
    if seed is None or isinstance(seed, (Integral, np.integer)):
        if seed is not None and int(seed) < 0:
            raise ValueError(f"`seed` must be a non-negative int, a sequence of them, or None; got {seed}")
        children = np.random.SeedSequence(None if seed is None else int(seed)).spawn(n_cells)
        return [np.random.default_rng(c) for c in children]
    try:
        seeds = [int(s) for s in seed]
    except (TypeError, ValueError):
        raise TypeError(
            f"`seed` must be None, a non-negative int, or a sequence of n_cells ints; got {seed!r}"
        ) from None
    if len(seeds) != n_cells:
        raise ValueError(
            f"`seed` as a sequence must hold one int per cell ({n_cells}); got {len(seeds)}"
        )
    if any(s < 0 for s in seeds):
        raise ValueError(f"`seed` values must be non-negative ints; got {seeds}")
    return [np.random.default_rng(s) for s in seeds]


class OUNoise:
    """Ornstein-Uhlenbeck noise current, one independent stream per cell.

    Stationary standard deviation ``sd`` (per cell, any current unit) and
    correlation time ``tau_ms``; the first value is drawn from the stationary
    distribution.  ``sd == 0`` everywhere gives exact zeros and draws nothing.
    Values are produced in chunks of :data:`NOISE_CHUNK_STEPS` steps; the
    sequence a cell sees depends only on its own generator, not on the chunking
    or on the other cells.
    """

    def __init__(self, sd: np.ndarray, tau_ms: float, dt_ms: float, seed, n_cells: int):
        self.sd = np.asarray(sd, dtype=np.float64)
        self.active = bool(np.any(self.sd > 0))
        self.n = n_cells
        self.a = math.exp(-dt_ms / tau_ms)
        self.b = math.sqrt(1.0 - self.a * self.a)
        self.rngs = cell_generators(seed, n_cells)  # validates `seed` even without noise
        self.state = None
        self.buf = np.zeros((n_cells, 1))
        self.pos = 1

    def _refill(self) -> None:
        # Generation of standard normals per cell (independent, reproducible streams);
        # the OU filter itself runs along time for all cells in one lfilter call.
        xi = np.stack([g.standard_normal(NOISE_CHUNK_STEPS) for g in self.rngs])
        if self.state is None:
            first = xi[:, 0].copy()
            xi[:, 0] = 0.0
            # y[0] = b*xi[0] + zi = first (stationary start), then the OU recursion.
            unit, _ = lfilter([self.b], [1.0, -self.a], xi, axis=1, zi=first[:, None])
        else:
            unit, _ = lfilter([self.b], [1.0, -self.a], xi, axis=1, zi=(self.a * self.state)[:, None])
        self.state = unit[:, -1].copy()
        self.buf = unit * self.sd[:, None]
        self.pos = 0

    def step(self) -> np.ndarray | float:
        """Return the next noise value for all cells (shape ``(n_cells,)``), or 0.0."""
        if not self.active:
            return 0.0
        if self.pos >= self.buf.shape[1]:
            self._refill()
        out = self.buf[:, self.pos]
        self.pos += 1
        return out


class RateTable:
    """Tabulated voltage functions with linear interpolation for the time loop.

    ``funcs`` maps names to vectorised functions of V (mV).  ``lookup(V)``
    returns an array of shape ``(n_funcs, n_cells)`` in the order of ``names``.
    Voltages outside ``[v_min_mv, v_max_mv]`` are clipped to the table range.
    """

    def __init__(self, funcs: dict, v_min_mv: float = -150.0, v_max_mv: float = 100.0,
                 step_mv: float = 0.01):
        self.names = list(funcs)
        self.v0 = v_min_mv
        self.inv = 1.0 / step_mv
        grid = np.arange(v_min_mv, v_max_mv + step_mv / 2, step_mv)
        self.table = np.stack([np.broadcast_to(funcs[k](grid), grid.shape) for k in self.names])
        self.nmax = grid.size - 2
        self.slope = np.diff(self.table, axis=1)

    def lookup(self, v: np.ndarray) -> np.ndarray:
        x = (v - self.v0) * self.inv
        np.clip(x, 0.0, self.nmax, out=x)
        i = x.astype(np.intp)
        return self.table[:, i] + self.slope[:, i] * (x - i)


def vtrap(x, y):
    """``x / (1 - exp(-x / y))`` with its limit ``y`` at ``x = 0`` (HH rate helper)."""
    x = np.asarray(x, dtype=np.float64)
    small = np.abs(x / y) < 1e-7
    safe = np.where(small, 1.0, x)
    return np.where(small, y * (1.0 + x / (2.0 * y)), safe / (-np.expm1(-safe / y)))
