"""The output contract: columns of the three analysis tables and their dtypes.

`recordings` — one row per analysed (or refused) sweep; `oscillations` — one row per SSO episode;
`spikes` — one row per action potential; `rejected` — one row per spike candidate that a shape rule
rejected, with the rule's code (`drgephys.reasons.SPIKE_REJECTIONS`). Times are in s from the sweep's start. Columns that cannot be filled are present and empty (NaN / <NA>),
never made up.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._csv import Unformattable, write_columns
from .errors import RecordingError
from ._lazy import pd

KEY_COLUMNS = ["file", "sweep", "channel"]

RECORDINGS_COLUMNS = {
    "file": "string", "sweep": "Int64", "channel": "string", "status": "string", "qc_flags": "string",
    "message": "string",
    "duration_s": "float64", "fs_hz": "float64", "sweep_start_s": "float64", "resting_vm_mv": "float64", "sso_detected": "boolean",
    "sso_frequency_hz": "float64", "sso_amplitude_mv": "float64", "sso_time_fraction": "float64",
    "noise_floor_mv": "float64",
    "spike_count": "Int64", "spike_rate_hz": "float64", "evoked_spike_count": "Int64",
    "rejected_candidates": "Int64", "firing_pattern": "string",
    "stimulus_source": "string", "reason_code": "string",
}

OSCILLATIONS_COLUMNS = {
    "file": "string", "sweep": "Int64", "channel": "string", "start_s": "float64", "end_s": "float64",
    "frequency_hz": "float64", "amplitude_mv": "float64", "n_cycles": "float64", "mean_vm_mv": "float64",
    "power_db": "float64", "period_cv": "float64", "amplitude_cv": "float64", "sinusoidality": "float64",
    "p_value": "float64",
}

SPIKES_COLUMNS = {
    "file": "string", "sweep": "Int64", "channel": "string", "peak_s": "float64", "threshold_s": "float64",
    "threshold_mv": "float64", "peak_mv": "float64", "amplitude_mv": "float64", "half_width_ms": "float64",
    "ahp_mv": "float64", "max_dvdt_mv_per_ms": "float64", "trigger": "string", "sso_phase_rad": "float64",
    "evoked": "boolean",
}

REJECTED_COLUMNS = {
    "file": "string", "sweep": "Int64", "channel": "string", "time_s": "float64", "peak_mv": "float64",
    "reason_code": "string",
}

#: Every table of an analysis, by name, in the order they are written.
TABLES = {"recordings": RECORDINGS_COLUMNS, "oscillations": OSCILLATIONS_COLUMNS, "spikes": SPIKES_COLUMNS,
          "rejected": REJECTED_COLUMNS}

STATUS_VALUES = ("ok", "refused", "error")
PATTERN_VALUES = ("silent", "tonic", "bursting", "irregular")


_TEMPLATES: dict = {}


def empty(columns: dict) -> pd.DataFrame:
    """An empty DataFrame with the given columns and dtypes (a copy of a cached template: building the
    typed columns costs ~3 ms per call, most of it in pandas' string-dtype construction)."""
    key = tuple(columns.items())
    tpl = _TEMPLATES.get(key)
    if tpl is None:
        tpl = _TEMPLATES[key] = pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})
    return tpl.copy()


def matches(df: pd.DataFrame, columns: dict) -> bool:
    """True when `df` starts with the contract columns, in order, each of the contract dtype."""
    cols = list(df.columns)
    if cols[:len(columns)] != list(columns):
        return False
    dtypes = list(df.dtypes)[:len(columns)]
    return all(str(d) == t for d, t in zip(dtypes, columns.values()))


def conform(df: pd.DataFrame | None, columns: dict) -> pd.DataFrame:
    """Return `df` with the contract columns first (added empty when missing), typed; extra columns kept
    after them (e.g. quality columns, user group columns). A new frame; `df` is never modified."""
    if df is None or len(df.columns) == 0:
        out = empty(columns)
        return out if df is None else pd.concat([out, df], axis=1)
    if matches(df, columns):                       # already conformant: a copy, no per-column work
        return df.copy()
    data = {}
    for c, t in columns.items():
        if c not in df.columns:
            data[c] = pd.Series(None, index=df.index, dtype=t)
            continue
        col = df[c]
        if str(col.dtype) != t:  # convert only what is not already of the contract type
            try:
                col = col.astype(t)
            except (TypeError, ValueError):
                pass
        data[c] = col
    for c in df.columns:
        if c not in columns:
            data[c] = df[c]
    return pd.DataFrame(data, index=df.index, copy=True)


def _column(values, dtype: str, n: int):
    """One column of `n` rows in the contract `dtype` from an array, a scalar (broadcast) or None (empty),
    built directly as the pandas array (no per-element inference)."""
    if values is None:
        values = [None] * n
    elif np.ndim(values) == 0:
        values = [values] * n
    if dtype == "float64":
        try:
            return np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            pass
    elif dtype in ("Int64", "boolean"):
        a = np.asarray(values)
        if a.dtype.kind in "iub":
            cls = pd.arrays.IntegerArray if dtype == "Int64" else pd.arrays.BooleanArray
            return cls(a.astype(np.int64 if dtype == "Int64" else bool), np.zeros(n, bool))
    try:
        return pd.array(values if isinstance(values, (list, np.ndarray)) else list(values), dtype=dtype)
    except (TypeError, ValueError):
        return pd.array(list(values), dtype=object)


def frame(columns: dict, data: dict, n: int) -> pd.DataFrame:
    """A conformed table of `n` rows in one constructor call.

    Parameters
    ----------
    columns : dict
        Contract columns and dtypes (`RECORDINGS_COLUMNS`, ...), first, in order.
    data : dict
        Column name -> array of length `n`, scalar (repeated) or None (empty); names outside `columns`
        become extra columns after them, as given.
    n : int
        Number of rows.
    """
    out = {c: _column(data.get(c), t, n) for c, t in columns.items()}
    for c, v in data.items():
        if c not in columns:
            out[c] = [v] * n if np.ndim(v) == 0 else v
    return pd.DataFrame(out, copy=False)


def from_rows(rows: list, columns: dict) -> pd.DataFrame:
    """A conformed table from a list of row dicts (keys missing from a row are empty; keys outside the
    contract become extra columns), built column by column in the contract dtypes (`conform` of
    ``pd.DataFrame(rows)`` without the intermediate object columns)."""
    return Parts.from_rows(rows, columns).frame()


class Parts:
    """A table not yet built: blocks of column arrays (one per sweep or file), made into one DataFrame by
    `frame` — a batch builds each of its three tables once instead of three small frames per file.

    Parameters
    ----------
    columns : dict
        Contract columns and dtypes.
    blocks : list of (dict, int)
        Per block, column name -> array of its `n` rows, scalar (repeated) or None (empty), and `n`.
    """

    def __init__(self, columns: dict, blocks: list):
        self.columns = columns
        self.blocks = [(d, int(n)) for d, n in blocks]

    @classmethod
    def from_rows(cls, rows: list, columns: dict) -> "Parts":
        """One block from a list of row dicts (missing keys empty; keys outside `columns` extra columns)."""
        if not rows:
            return cls(columns, [])
        extra = []
        for r in rows:
            extra.extend(k for k in r if k not in columns and k not in extra)
        return cls(columns, [({c: [r.get(c) for r in rows] for c in list(columns) + extra}, len(rows))])

    def __len__(self) -> int:
        return sum(n for _, n in self.blocks)

    def values(self, name: str) -> np.ndarray:
        """One column's values over every block, as a numpy array (object when blocks differ)."""
        parts = [_block_array(d.get(name), n) for d, n in self.blocks]
        return np.concatenate(parts) if parts else np.empty(0, object)

    def names(self) -> list:
        """The table's column names: contract columns first, then extra columns in order of appearance."""
        names = list(self.columns)
        for d, _ in self.blocks:
            names.extend(c for c in d if c not in names)
        return names

    def frame(self) -> pd.DataFrame:
        """The conformed DataFrame (contract columns first, then extra columns in order of appearance)."""
        if not self.blocks:
            return empty(self.columns)
        if len(self.blocks) == 1:
            d, n = self.blocks[0]
            return frame(self.columns, d, n)
        return frame(self.columns, {c: self.values(c) for c in self.names()}, len(self))

    def to_csv(self, path) -> None:
        """Write the table as CSV: the bytes ``self.frame().to_csv(path, index=False)`` writes, without
        building the frame or loading pandas (`drgephys._csv`); a table holding a value `drgephys._csv` does
        not format exactly like pandas is written by pandas."""
        names = self.names()
        try:
            write_columns(path, names, [self.values(c) for c in names], [self.columns.get(c) for c in names])
        except Unformattable:                       # (the partial file is overwritten)
            self.frame().to_csv(path, index=False)


def _block_array(v, n: int) -> np.ndarray:
    if v is None:
        return np.full(n, None, object)
    if np.ndim(v) == 0:
        return np.full(n, v, object if isinstance(v, str) else None)
    return v if isinstance(v, np.ndarray) else np.asarray(v, dtype=object)


def combine(items: list, columns: dict, *, build: bool = True):
    """One conformed table from `Parts` and/or DataFrames (in order); Parts alone are built in one go,
    or, with ``build=False``, kept as one `Parts` to build later."""
    items = [x for x in items if len(x)]
    if all(isinstance(x, Parts) for x in items):
        parts = Parts(columns, [b for x in items for b in x.blocks])
        return parts.frame() if build else parts
    frames = [x.frame() if isinstance(x, Parts) else x for x in items]
    if len(frames) == 1 and matches(frames[0], columns):
        return frames[0]
    return conform(pd.concat(frames, ignore_index=True) if frames else None, columns)


def read_table(results_dir, name: str) -> pd.DataFrame:
    """One table (``recordings``, ``oscillations``, ``spikes``) of a folder written by ``drgephys analyze``, as
    CSV or Parquet.

    Raises
    ------
    RecordingError
        When the folder holds neither ``<name>.csv`` nor ``<name>.parquet`` (code ``missing_table``).
    """
    d = Path(results_dir)
    for ext, reader in ((".csv", pd.read_csv), (".parquet", pd.read_parquet)):
        f = d / f"{name}{ext}"
        if f.is_file():
            return reader(f)
    raise RecordingError(f"`results_dir` must hold {name}.csv (or .parquet) written by drgephys analyze; got none "
                         f"in {d}. Run `drgephys analyze ... --out {d}` first", file=str(d), code="missing_table")


def locate(label: str, inputs: list) -> Path | None:
    """The recording a table's ``file`` label refers to, given the paths the analysis was run on (``inputs``
    of ``params.json``); None when it cannot be found."""
    p = Path(label)
    if p.is_file():
        return p
    for root in map(Path, inputs):
        if root.is_dir() and (root / label).is_file():
            return root / label
        if root.is_file() and (root.name == p.name or str(root) == label):
            return root
    return None
