"""Per-file result cache for resumable batches.

Each analysed file leaves ``<out>/.drgephys-cache/<key>.json`` where the key hashes the file's content, the
analysis parameters and the drgephys version. Entries are plain JSON (never pickle) and are written
atomically, so a batch killed at any moment resumes from the files already done, and a re-run with the same
inputs and parameters skips them.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from pathlib import Path

import pandas as pd

CACHE_DIR = ".drgephys-cache"


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


def _frame_to_json(df: pd.DataFrame) -> str:
    return df.to_json(orient="table", index=False, date_format="iso")


def _frame_from_json(text: str) -> pd.DataFrame:
    return pd.read_json(io.StringIO(text), orient="table")


def load_entry(out_dir, key: str):
    """Return ``(tables dict, log)`` for a cached key, or None when absent or unreadable."""
    p = Path(out_dir) / CACHE_DIR / f"{key}.json"
    if not p.is_file():
        return None
    try:
        payload = json.loads(p.read_text())
        frames = {k: _frame_from_json(payload[k]) for k in ("recordings", "oscillations", "spikes")}
        return frames, payload.get("log", "")
    except (ValueError, KeyError, OSError):
        return None  # a damaged entry is recomputed


def save_entry(out_dir, key: str, frames: dict, log: str) -> None:
    """Write one cache entry atomically."""
    d = Path(out_dir) / CACHE_DIR
    d.mkdir(parents=True, exist_ok=True)
    payload = {k: _frame_to_json(frames[k]) for k in ("recordings", "oscillations", "spikes")}
    payload["log"] = log
    fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(payload, fh)
        os.replace(tmp, d / f"{key}.json")
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
