"""Real recordings (``<repo>/../shared/real_data``): negative controls must give no SSO episode."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from drgephys.oscillations import detect_oscillations

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "real_data"
PASSIVE = REAL / "swharden__pyABF" / "data" / "abfs" / "2020_03_02_0000.abf"


def _sweeps(path):
    if not path.exists():
        pytest.skip(f"real recording {path} absent (needs the shared data folder next to the repository)")
    neo = pytest.importorskip("neo")
    logging.getLogger("neo").setLevel(logging.ERROR)
    block = neo.io.AxonIO(str(path)).read_block()
    for seg in block.segments:
        sig = seg.analogsignals[0]
        yield np.asarray(sig.rescale("mV").magnitude).ravel(), float(sig.sampling_rate.rescale("Hz").magnitude)


def test_passive_model_cell_current_steps_give_no_episode():
    """16 sweeps of -100..+300 mV RC steps (tau ~20 ms) on a model cell: step edges must not ring into SSOs."""
    counts = [len(detect_oscillations(v, fs, spikes=None)) for v, fs in _sweeps(PASSIVE)]
    assert len(counts) == 16
    assert sum(counts) == 0, counts
