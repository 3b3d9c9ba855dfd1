"""Shared fixtures: the location of ../shared (real recordings), skipped with a reason when absent."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()
REAL = SHARED / "real_data"


@pytest.fixture(scope="session")
def real_data() -> Path:
    """Path to ../shared/real_data; skips the test when the folder is absent (a bare clone)."""
    if not REAL.is_dir():
        pytest.skip(f"real recordings not available: {REAL} is absent (it sits beside the repo as ../shared)")
    return REAL


def real_file(rel: str) -> Path:
    """A real-data path, or skip the calling test with a reason when it is absent."""
    p = REAL / rel
    if not p.exists():
        pytest.skip(f"real recording not available: {p}")
    return p


os.environ.setdefault("MPLBACKEND", "Agg")
