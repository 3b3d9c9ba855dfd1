"""Which files of a folder are recordings: by extension, and for text files by a cheap look at their start.

A folder holds more than recordings: notes, ground truth, groups tables, tables of expected values, results.
`skip_reason` says which files a folder scan leaves out, and why, without opening them with neo:

- an extension neo does not read (``.md``, ``.json``, ``.png``, ...): ``not_a_recording_format``;
- a text file (``.csv``, ``.txt``, ``.tsv``, ``.asc``, ``.dat``) whose first ``SNIFF_LINES`` lines (at most
  ``SNIFF_BYTES``) are text (no NUL byte) and

  * hold no row of numbers (a note; a table whose rows start with names, e.g. ``groups.csv``), or
  * end, with the file, before ``MIN_TRACE_ROWS`` rows of numbers (a short table, not a trace), or
  * put a header of names over at least two columns of numbers whose first column is not a time base
    (not non-decreasing), e.g. ``cell,frequency_hz`` tables of expected values:

  ``not_a_trace``. Binary files and anything else that may be a trace are attempted (and refused with a
  reason when they are not). A file named explicitly is never skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .load import ASCII_EXTENSIONS, recording_extensions

__all__ = ["skip_reason", "text_table_reason", "MIN_TRACE_ROWS", "SNIFF_LINES", "SNIFF_BYTES"]

#: A text trace has at least this many rows of numbers (a 0.1-s sweep at 1 kHz); fewer is a table.
MIN_TRACE_ROWS = 100
#: Lines and bytes read from the start of a text file to decide.
SNIFF_LINES = 200
SNIFF_BYTES = 1 << 16
_TOKEN = r"(?:[-+]?(?:nan|inf(?:inity)?)|[-+0-9.eE]+)"
_NUMBERS = re.compile(rf"^\s*{_TOKEN}(?:[\s,;]+{_TOKEN})*\s*[,;]?\s*$", re.I)
_SPLIT = re.compile(r"[\s,;]+")


def skip_reason(path) -> tuple[str, str]:
    """``("", "")`` when a folder scan should attempt `path`, else ``(code, reason)`` with a code of
    `drgephys.reasons.SKIPS` and a short reason, e.g. ``("not_a_recording_format", "not a recording format
    (.md)")``."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in recording_extensions():
        return "not_a_recording_format", f"not a recording format ({ext or 'no extension'})"
    if ext in ASCII_EXTENSIONS:
        why = text_table_reason(p)
        if why:
            return "not_a_trace", why
    return "", ""


def text_table_reason(path) -> str:
    """Why the text file `path` is not a trace ("" when it may be one, or is not text); see the module doc."""
    with open(path, "rb") as fh:
        data = fh.read(SNIFF_BYTES)
    if b"\0" in data:
        return ""                           # binary: let the reader decide
    whole = len(data) < SNIFF_BYTES
    lines = data.decode("utf-8", errors="replace").splitlines()
    if not whole:
        lines = lines[:-1]                  # the last line read may be cut
    lines = [ln.strip() for ln in lines]
    rows = [i for i, ln in enumerate(lines[:SNIFF_LINES]) if ln and _NUMBERS.match(ln)]
    if not rows:
        return "no rows of numbers in its first lines (a note or a table, not a trace)"
    if whole:
        n_rows = sum(1 for ln in lines if ln and _NUMBERS.match(ln))
        if n_rows < MIN_TRACE_ROWS:
            return f"only {n_rows} rows of numbers (a table; a trace has at least {MIN_TRACE_ROWS})"
    header = next((ln for ln in reversed(lines[: rows[0]]) if ln), "")
    if not re.search(r"[A-Za-z]", header):
        return ""
    width = len(_SPLIT.split(lines[rows[0]].strip(" ,;")))
    table = [_SPLIT.split(lines[i].strip(" ,;")) for i in rows]
    first = np.array([float(r[0]) for r in table if len(r) == width])
    if width >= 2 and first.size >= 2 and not (np.all(np.diff(first) >= 0) and np.ptp(first) > 0):
        names = [repr(x) for x in re.split(r"[\t,;]+|\s{2,}", header) if x]
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        return f"a table with a header ({shown}) whose first column is not a time base"
    return ""
