"""The acceptance rule (`drgephys.oscillations.assemble.acceptance`): long episodes need less sinusoidality."""

from __future__ import annotations

import pandas as pd
import pytest

from drgephys.oscillations import OscillationParams
from drgephys.oscillations.assemble import acceptance

BAND = (10.0, 200.0)


def _episodes(n_cycles, sinusoidality):
    n = len(n_cycles)
    return pd.DataFrame({"n_cycles": n_cycles, "amplitude_mv": [0.7] * n, "frequency_hz": [30.0] * n,
                         "power_db": [12.0] * n, "sinusoidality": sinusoidality, "period_cv": [0.05] * n,
                         "amplitude_cv": [0.2] * n, "p_value": [1e-6] * n})


def test_long_episodes_pass_with_the_lower_sinusoidality():
    p = OscillationParams()
    df = _episodes([60.0, 24.9, 60.0, 8.0, 8.0], [0.5, 0.5, 0.39, 0.64, 0.66])
    ok, basic = acceptance(df, p, *BAND)
    assert ok.tolist() == [True, False, False, False, True]
    assert basic.all()                        # BOSC-level evidence either way (they may extend a neighbour)


def test_the_long_rule_can_be_switched_off():
    p = OscillationParams(min_sinusoidality_long=0.65)
    ok, _ = acceptance(_episodes([60.0], [0.5]), p, *BAND)
    assert not ok.any()


def test_the_long_threshold_may_not_exceed_the_short_one():
    with pytest.raises(ValueError, match="`min_sinusoidality_long` must not exceed `min_sinusoidality`"):
        OscillationParams(min_sinusoidality_long=0.7)
