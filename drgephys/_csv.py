"""CSV text of table columns in pandas' dialect, without pandas.

`write_columns` writes what ``pandas.DataFrame.to_csv(path, index=False)`` writes for a frame of the same
columns in the contract dtypes of `drgephys.tables` — byte for byte (tests/test_csv.py compares them): the
``csv`` module's minimal quoting with ``\\n`` line ends (pandas' default on POSIX: ``os.linesep``), floats as
numpy's shortest round-trip text (``astype(str)``, as pandas does for float columns), missing values empty,
booleans ``True``/``False``. The command line writes its tables through it, so ``drgephys analyze`` never
loads pandas (0.2-0.3 s of CPU per run that competed with the worker processes).

A column it cannot format with certainty (an object the contract does not foresee) raises `Unformattable`;
the caller then writes that table with pandas.
"""

from __future__ import annotations

import csv
import math
import os

import numpy as np

__all__ = ["write_columns", "format_column", "Unformattable"]


class Unformattable(TypeError):
    """A column holds values whose pandas CSV text this module does not reproduce."""


def format_column(values, dtype: str | None) -> list:
    """The CSV cells (str) of one column.

    Parameters
    ----------
    values : ndarray, shape (n,)
        The column (numeric, bool, or object holding str / int / float / bool / None).
    dtype : str or None
        The contract dtype (``"float64"``, ``"Int64"``, ``"boolean"``, ``"string"``), or None for a column
        outside the contract (formatted by its numpy dtype, as pandas infers it).

    Returns
    -------
    list of str, length n

    Raises
    ------
    Unformattable
        When a value is of a type this module does not format like pandas.
    """
    a = np.asarray(values)
    if dtype == "float64" or (dtype is None and a.dtype.kind == "f"):
        try:
            f = np.asarray(a, dtype=np.float64)
        except (TypeError, ValueError):
            raise Unformattable(f"a float column holds {a.dtype} values") from None
        out = f.astype(str)
        out[np.isnan(f)] = ""
        return out.tolist()
    if a.dtype.kind in "iu" and dtype in ("Int64", None):
        return a.astype(str).tolist()
    if a.dtype.kind == "b" and dtype in ("boolean", None):
        return np.where(a, "True", "False").tolist()
    if a.dtype.kind == "b" and dtype == "Int64":
        return a.astype(np.int64).astype(str).tolist()
    if a.dtype.kind in "OU":
        cell = _CELL.get(dtype)
        if cell is None:
            raise Unformattable(f"no CSV rule for a column of dtype {dtype!r}")
        return [cell(x) for x in a.tolist()]
    raise Unformattable(f"no CSV rule for {a.dtype} values in a {dtype!r} column")


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _int_cell(x) -> str:
    if _missing(x):
        return ""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer)) or (
            isinstance(x, float) and not x.is_integer()):
        raise Unformattable(f"an Int64 column holds {x!r}")
    return str(int(x))


def _bool_cell(x) -> str:
    if _missing(x):
        return ""
    if not isinstance(x, (bool, np.bool_)):
        raise Unformattable(f"a boolean column holds {x!r}")
    return "True" if x else "False"


def _str_cell(x) -> str:
    if _missing(x):
        return ""
    if not isinstance(x, str):
        raise Unformattable(f"a string column holds {x!r}")
    return x


#: Cell formatters of object columns by contract dtype (None: a column outside the contract holding text).
_CELL = {"Int64": _int_cell, "boolean": _bool_cell, "string": _str_cell, None: _str_cell}


#: Cells formatted at a time (rows = this // columns, as pandas' own CSV writer chunks): a table of a
#: 10-hour recording (~10^6 spikes) never holds all its cells as Python strings at once.
CHUNK_CELLS = 100_000


def write_columns(path, names: list, columns: list, dtypes: list) -> None:
    """Write a header and the rows of `columns` to `path` in pandas' CSV dialect, formatting
    `CHUNK_CELLS` cells at a time (`format_column`).

    Parameters
    ----------
    path : str or Path
        File to write (created or truncated; the caller makes it atomic).
    names : list of str
        Column names, in order.
    columns : list of ndarray, shape (n,) each
        The columns' values.
    dtypes : list of str or None
        Each column's contract dtype (None outside the contract), as `format_column` takes it.

    Raises
    ------
    Unformattable
        When a column holds a value `format_column` has no rule for (the file is then incomplete).
    """
    n = len(columns[0]) if columns else 0
    rows = max(CHUNK_CELLS // max(len(columns), 1), 1)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator=os.linesep, quoting=csv.QUOTE_MINIMAL)
        w.writerow(names)
        for r0 in range(0, n, rows):          # one iteration per chunk of rows
            w.writerows(zip(*(format_column(c[r0:r0 + rows], t) for c, t in zip(columns, dtypes))))
