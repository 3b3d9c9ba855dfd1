"""Per-file result cache for resumable batches.

Each analysed file leaves ``<out>/.drgephys-cache/<key>.json`` where the key hashes the file's content, the
analysis parameters and the drgephys version. Entries are plain JSON (never pickle), hold every float at
full precision (Python's round-tripping repr, not pandas' 10-digit ``to_json``) and are written atomically,
so a batch killed at any moment resumes from the files already done and writes the same bytes as a fresh
run, and a re-run with the same inputs and parameters skips them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from ._atomic import atomic_text
from .tables import TABLES

CACHE_DIR = ".drgephys-cache"
#: Layout of an entry; entries of another layout are recomputed.
CACHE_FORMAT = 3
#: The tables a cache entry holds (format 3 added ``rejected``)
TABLE_NAMES = tuple(TABLES)


def file_digest(path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's content (read-only, streamed)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def cache_key(path, label: str, params_json: str, version: str) -> str:
    """Key of one file's result: content hash + label + parameters + version."""
    h = hashlib.sha256()
    for part in (file_digest(path), label, params_json, version):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


def _frame_to_json(df: pd.DataFrame) -> dict:
    """A table as plain JSON data that reads back to the same values: column names, dtypes and values
    (floats written by Python's shortest round-tripping repr; missing values as null)."""
    data = {}
    for c in df.columns:
        col = df[c]
        if str(col.dtype) == "float64":
            data[c] = col.to_numpy().tolist()            # NaN and inf as JSON's NaN / Infinity
        else:
            data[c] = [None if v is pd.NA or v is None or (isinstance(v, float) and v != v) else
                       v.item() if hasattr(v, "item") else v for v in col.astype(object).tolist()]
    return {"columns": [str(c) for c in df.columns], "dtypes": [str(t) for t in df.dtypes], "data": data}


def _frame_from_json(obj: dict) -> pd.DataFrame:
    """The table written by `_frame_to_json`, with its dtypes."""
    cols = {}
    for c, t in zip(obj["columns"], obj["dtypes"]):
        values = obj["data"][c]
        cols[c] = pd.Series(values, dtype="float64" if t == "float64" else (object if t == "object" else t))
    return pd.DataFrame(cols, columns=obj["columns"])


def load_entry(out_dir, key: str):
    """Return ``(tables dict, log)`` for a cached key, or None when absent or unreadable."""
    p = Path(out_dir) / CACHE_DIR / f"{key}.json"
    if not p.is_file():
        return None
    try:
        payload = json.loads(p.read_text())
        if payload.get("format") != CACHE_FORMAT:
            return None
        frames = {k: _frame_from_json(payload[k]) for k in TABLE_NAMES}
        return frames, payload.get("log", "")
    except (ValueError, KeyError, TypeError, OSError, AttributeError):
        return None  # a damaged entry is recomputed


def save_entry(out_dir, key: str, frames: dict, log: str) -> None:
    """Write one cache entry atomically."""
    d = Path(out_dir) / CACHE_DIR
    d.mkdir(parents=True, exist_ok=True)
    payload = {k: _frame_to_json(frames[k]) for k in TABLE_NAMES}
    payload["log"] = log
    payload["format"] = CACHE_FORMAT
    atomic_text(d / f"{key}.json", json.dumps(payload))
