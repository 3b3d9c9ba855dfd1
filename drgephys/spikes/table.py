"""`SpikeTable`, the named result of the spike stage: one sweep's spikes as column arrays (`COLUMNS`), and
the empty table of the right dtypes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._numerics.spans import overlap_pairs

__all__ = ["COLUMNS", "SpikeTable", "empty_spikes", "empty_columns", "in_windows"]

COLUMNS = ["threshold_index", "peak_index", "trough_index", "end_index", "foot_index", "threshold_s", "peak_s",
           "threshold_mv", "peak_mv", "amplitude_mv", "half_width_ms", "ahp_mv", "max_dvdt_mv_per_ms",
           "evoked"]
_INT_COLUMNS = COLUMNS[:5]
def _empty_template() -> pd.DataFrame:
    cols = {c: pd.Series(dtype="int64") for c in _INT_COLUMNS}
    cols.update({c: pd.Series(dtype="float64") for c in COLUMNS[5:-1]})
    cols["evoked"] = pd.Series(dtype="bool")
    return pd.DataFrame(cols)


_EMPTY = _empty_template()


_DTYPES = {c: _EMPTY[c].dtype for c in COLUMNS}   # read once: a DataFrame column lookup costs ~20 µs


def empty_columns() -> dict:
    """`SpikeTable` columns with no spikes: length-0 arrays of the table's dtypes."""
    return {c: np.empty(0, d) for c, d in _DTYPES.items()}


def empty_spikes() -> pd.DataFrame:
    """The spike table with no rows (correct columns and dtypes; a copy of one template, as building it
    column by column costs ~1 ms per silent sweep)."""
    return _EMPTY.copy()


class SpikeTable:
    """The spikes of one trace as column arrays (the named result of the spike stage).

    Parameters
    ----------
    columns : dict of str to ndarray
        The columns of `detect_spikes` (keys `COLUMNS`, in order; int64 indices, float64 values, bool
        ``evoked``), each of shape (n_spikes,).
    """

    def __init__(self, columns: dict):
        self.columns = columns

    def __len__(self) -> int:
        return int(self.columns["threshold_index"].size)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def frame(self) -> pd.DataFrame:
        """The DataFrame of `detect_spikes` (built at once: a column added afterwards costs ~0.4 ms)."""
        return pd.DataFrame(self.columns) if len(self) else empty_spikes()


def in_windows(t: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """True where a time lies in one of the half-open windows ``[start, end)`` (a sorted sweep, no
    times x windows matrix)."""
    if windows.size == 0 or t.size == 0:
        return np.zeros(t.size, bool)
    ti, _ = overlap_pairs(t, np.nextafter(t, np.inf), windows[:, 0], windows[:, 1])
    out = np.zeros(t.size, bool)
    out[ti] = True
    return out
