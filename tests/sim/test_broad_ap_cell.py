"""A broad-AP cell from the simulator, as a user asks for it: a C-type-like nociceptor firing spontaneously at
1-3 Hz with 8-ms humped APs (`preset("broad_ap")`), and the whole 0.3-15 ms half-width range."""

from __future__ import annotations

import numpy as np
import pytest

from drgephys.sim import preset, simulate_trace

#: Truth half-width against the requested one (the template is calibrated to it).
HALF_WIDTH_TOL_MS = 0.05
#: Noise-free peak against the requested potential (mV).
PEAK_TOL_MV = 0.5
QUIET = dict(drift_mv=0.0, pink_noise_mv=0.0, white_noise_mv=0.0)


def test_spontaneous_broad_ap_cell_at_1_to_3_hz():
    tr = simulate_trace(preset("broad_ap", duration_s=60.0), seed=1)
    spikes = tr.truth["spikes"]
    rate = len(spikes) / tr.duration_s
    assert 1.0 <= rate <= 3.0
    assert tr.truth["spec"]["spike_half_width_ms"] == 8.0
    assert np.median([s["half_width_ms"] for s in spikes]) == pytest.approx(8.0, abs=HALF_WIDTH_TOL_MS)
    assert 30.0 <= np.median(tr.v[[int(round(s["peak_s"] * tr.fs)) for s in spikes]]) <= 50.0


@pytest.mark.parametrize("hw, shoulder", [(0.3, 0.0), (0.5, 0.0), (2.0, 0.0), (5.0, 0.0), (5.0, 0.7), (12.0, 0.7),
                                          (15.0, 0.6)])
def test_every_half_width_from_0_3_to_15_ms(hw, shoulder):
    tr = simulate_trace(preset("broad_ap", duration_s=3.0, fs_hz=50_000, pattern="tonic", spike_half_width_ms=hw,
                               spike_shoulder_fraction=shoulder, **QUIET), seed=2)
    v = tr.components["baseline"] + tr.components["spikes"]
    assert len(tr.truth["spikes"]) >= 3
    for s in tr.truth["spikes"]:
        assert s["half_width_ms"] == pytest.approx(hw, abs=HALF_WIDTH_TOL_MS)
        assert v[int(round(s["peak_s"] * tr.fs))] == pytest.approx(45.0, abs=PEAK_TOL_MV)


def test_broad_fast_ap_needs_a_shoulder():
    with pytest.raises(ValueError, match=r"`spike_half_width_ms` must be at most 5 ms for a fast AP; got 8"):
        preset("broad_ap", spike_shoulder_fraction=0.0)
