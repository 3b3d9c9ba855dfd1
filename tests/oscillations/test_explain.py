"""`explain_oscillations`: the detector's intermediate steps, consistent with `detect_oscillations`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from drgephys.oscillations import detect_oscillations, explain_oscillations
from drgephys.sim import simulate_trace


def test_steps_are_consistent_with_detection():
    sim = simulate_trace(duration_s=6.0, fs_hz=20000.0, sso=True, hum_hz=50, pattern="tonic", rate_hz=3.0,
                         seed=9)
    st = explain_oscillations(sim.v, sim.fs)
    pd.testing.assert_frame_equal(st["episodes"], detect_oscillations(sim.v, sim.fs))
    m = st["filled_mv"].size
    assert st["residual_mv"].shape == st["valid"].shape == (m,)
    assert st["power"].shape == (st["freqs_hz"].size, m)
    assert m == pytest.approx(6.0 * st["working_fs_hz"], abs=2)
    # the BOSC threshold is chi2(2) 95th percentile / 2 (~3x) above the aperiodic background
    np.testing.assert_allclose(st["threshold"] / st["background"], 2.9957 / 1.0, rtol=1e-3)
    # hum found at 50 Hz, spikes blanked out of the valid mask
    assert any(abs(line_f - 50) < 0.5 for line_f in _line_freqs(st["mains_lines"]))
    assert (~st["valid"]).any()
    with pytest.raises(TypeError, match="must be an OscillationParams"):
        explain_oscillations(sim.v, sim.fs, params={})


def _line_freqs(lines):
    out = []
    for line in lines:
        f = line.get("frequency_hz") if isinstance(line, dict) else getattr(line, "frequency_hz", line)
        try:
            out.append(float(f))
        except (TypeError, ValueError):
            pass
    return out
