"""The numerics layer: exact, faster forms of numpy/scipy operations that both domains use.

Everything here takes and returns plain arrays and imports nothing else from drgephys, so
`drgephys.spikes`, `drgephys.oscillations` and the pipeline import it and it imports none of them. Each
module holds one idea:

- `spans`: index spans ``[start, end)`` (runs of a mask, merging, masks, straight-line bridges).
- `order`: exact order statistics of long traces (`order.median` is ``np.median`` bit for bit) and a
  certified robust-SD bound.
- `small`: numpy/scipy statistics of many small arrays with the same values and less per-call overhead.
- `savgol`: Savitzky-Golay smoothing and derivatives (SciPy's values), also evaluated only inside windows.
- `deriv`: dV/dt whose smoothing is a time span (the same parameters from 1 to 200 kHz).
- `blocked`: whole-trace dV/dt passes and robust statistics in cache-sized blocks (no trace-length copies).
- `ragged`: per-window reductions of many windows at once (``ufunc.reduceat`` over one flat index array).
- `scipy_private`: the SciPy internals called directly, each probe-checked against the public call.

Each is tested against the library call it stands in for (``tests/_numerics``).
"""
