"""Candidate regions (`drgephys.oscillations.episodes`): a region's second ridge below its strongest."""

from __future__ import annotations

import numpy as np
import pytest

from drgephys.oscillations.episodes import SECOND_RIDGE_MIN_RATIO, _second_ridge


def _ridge(row):
    mr = np.array([row], float)
    return _second_ridge(mr, mr > 0, np.array([int(np.argmax(mr))]))


def test_the_strongest_local_maximum_below_the_first_is_the_second_ridge():
    # the profile of a 52-Hz SSO under 27-Hz firing beside the 80-Hz spike line (hard cohort, seed 13)
    f2, best2, two = _ridge([0.3, 0.6, 0.7, 1.6, 5.0, 5.9, 4.1, 5.1, 6.4, 3.4, 1.3])
    assert two[0] and f2[0] == 5 and best2[0] == pytest.approx(5.9)


@pytest.mark.parametrize("row", [
    [0.5, 2.0, 6.0, 3.0, 5.0, 1.0],          # the only other maximum lies above the strongest (the comb)
    [0.5, 2.0, 4.0, 6.0, 3.0, 1.0],          # one ridge
    [0.5, 5.0, 6.0, 3.0, 1.0, 0.5],          # a shoulder next to the strongest, not a ridge
    [0.5, 0.9, 0.2, 6.0, 3.0, 1.0],          # a maximum below the threshold on average
])
def test_no_second_ridge(row):
    _, _, two = _ridge(row)
    assert not two[0]


def test_the_minimum_ratio_is_the_threshold():
    assert SECOND_RIDGE_MIN_RATIO == 1.0
    _, _, two = _ridge([0.5, 1.0, 0.2, 6.0, 3.0])
    assert two[0]


def test_an_sso_under_a_spike_line_is_found_at_its_own_frequency():
    """Hard cohort seed 13, sso_tonic_c06: a 1.7 mV, 52 Hz SSO, a spike on every 2nd peak (27 Hz); the
    residue of the spikes makes an 80-Hz line that joins the SSO's region and outweighs it."""
    import drgephys
    from drgephys.sim import episode_outcomes, hard_cohort_table, simulate_trace

    table = hard_cohort_table(seed=13)
    row = table[table["file"] == "sso_tonic_c06.abf"].iloc[0]
    sim = simulate_trace(row["trace_spec"], seed=int(row["cell_seed"]))
    out = episode_outcomes(sim.truth, drgephys.analyze(drgephys.Trace(sim.v, sim.fs)))
    assert len(out) == 5 and (out["frequency_hz"].between(51, 53)).all()
    assert out["found"].sum() >= 4                           # 0 of 5 before the second ridge
    assert out["frequency_error_hz"].abs().max() <= 0.5
