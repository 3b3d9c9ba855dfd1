"""`SpikeTable`, the named result of the spike stage: one sweep's spikes as column arrays (`COLUMNS`), the
candidates it rejected (`REJECTED_COLUMNS`), and the empty tables of the right dtypes."""

from __future__ import annotations

import functools

import numpy as np

from .._numerics.spans import overlap_pairs
from .._lazy import pd

__all__ = ["COLUMNS", "REJECTED_COLUMNS", "SpikeTable", "empty_spikes", "empty_columns", "empty_rejected",
           "in_windows"]

COLUMNS = ["threshold_index", "peak_index", "trough_index", "end_index", "foot_index", "threshold_s", "peak_s",
           "threshold_mv", "peak_mv", "amplitude_mv", "half_width_ms", "ahp_mv", "max_dvdt_mv_per_ms",
           "evoked"]
_INT_COLUMNS = COLUMNS[:5]
#: Columns of `SpikeTable.rejected`: the candidate's peak sample index (int64) and time (s from the first
#: sample), its peak potential (mV) and the code of the first shape rule it failed
#: (`drgephys.reasons.SPIKE_REJECTIONS`, str in an object array).
REJECTED_COLUMNS = ["index", "time_s", "peak_mv", "code"]
_REJECTED_DTYPES = {"index": np.int64, "time_s": np.float64, "peak_mv": np.float64, "code": object}


#: dtype of every column (numpy's: the DataFrame's columns have these).
_DTYPES = {c: np.dtype(np.int64 if c in _INT_COLUMNS else bool if c == "evoked" else np.float64) for c in COLUMNS}


@functools.cache
def _empty_template() -> pd.DataFrame:
    """The spike table with no rows, built once (on first use: pandas is loaded lazily)."""
    return pd.DataFrame({c: pd.Series(dtype=d) for c, d in _DTYPES.items()})


def empty_columns() -> dict:
    """`SpikeTable` columns with no spikes: length-0 arrays of the table's dtypes."""
    return {c: np.empty(0, d) for c, d in _DTYPES.items()}


def empty_rejected() -> dict:
    """`SpikeTable.rejected` with no rejected candidate: length-0 arrays of its dtypes."""
    return {c: np.empty(0, d) for c, d in _REJECTED_DTYPES.items()}


def empty_spikes() -> pd.DataFrame:
    """The spike table with no rows (correct columns and dtypes; a copy of one template, as building it
    column by column costs ~1 ms per silent sweep)."""
    return _empty_template().copy()


class SpikeTable:
    """The spikes of one trace as column arrays (the named result of the spike stage).

    Parameters
    ----------
    columns : dict of str to ndarray
        The columns of `detect_spikes` (keys `COLUMNS`, in order; int64 indices, float64 values, bool
        ``evoked``), each of shape (n_spikes,).
    rejected : dict of str to ndarray, optional
        The candidates that failed a shape rule (keys `REJECTED_COLUMNS`: ``index`` int64 peak sample,
        ``time_s`` float64 s from the first sample, ``peak_mv`` float64 mV, ``code`` str codes of
        `drgephys.reasons.SPIKE_REJECTIONS` in an object array), each of shape (n_rejected,); default none.
        Candidates merged into another spike are not rejections.
    """

    def __init__(self, columns: dict, *, rejected: dict | None = None):
        self.columns = columns
        self.rejected = empty_rejected() if rejected is None else rejected

    def __len__(self) -> int:
        return int(self.columns["threshold_index"].size)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def frame(self) -> pd.DataFrame:
        """The DataFrame of `detect_spikes` (built at once: a column added afterwards costs ~0.4 ms)."""
        return pd.DataFrame(self.columns) if len(self) else empty_spikes()

    def rejected_frame(self) -> pd.DataFrame:
        """The rejected candidates as a DataFrame (columns `REJECTED_COLUMNS`, one row per candidate, in
        trace order; no rows when none was rejected)."""
        return pd.DataFrame({c: np.asarray(self.rejected[c], dtype=_REJECTED_DTYPES[c]) for c in REJECTED_COLUMNS})


def in_windows(t: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """True where a time lies in one of the half-open windows ``[start, end)`` (a sorted sweep, no
    times x windows matrix)."""
    if windows.size == 0 or t.size == 0:
        return np.zeros(t.size, bool)
    ti, _ = overlap_pairs(t, np.nextafter(t, np.inf), windows[:, 0], windows[:, 1])
    out = np.zeros(t.size, bool)
    out[ti] = True
    return out
