"""Input checks shared by the core functions (`drgephys._validation`): unit slips are named, not silent."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import drgephys
from drgephys.errors import UnitWarning
from drgephys.oscillations import detect_oscillations
from drgephys.sim import simulate_trace
from drgephys.spikes import detect_spikes

FS = 20_000.0


@pytest.fixture(scope="module")
def cell():
    return simulate_trace(duration_s=3.0, fs=FS, pattern="tonic", rate_hz=5.0, seed=1)


def test_volts_passed_as_mv_are_warned_by_name(cell):
    with pytest.warns(UnitWarning, match=r"`v` looks like volts, not mV: every \|value\| is below 1 .*"
                                         r"Multiply by 1000"):
        detect_spikes(cell.v / 1000.0, FS)
    with pytest.warns(UnitWarning, match="looks like volts"):
        detect_oscillations(cell.v / 1000.0, FS)


def test_picoamps_or_microvolts_passed_as_mv_are_warned(cell):
    with pytest.warns(UnitWarning, match=r"looks like a current in pA \(or a potential in µV\), not mV"):
        drgephys.analyze(drgephys.Trace(cell.v * 1000.0, FS))


def test_the_warning_points_at_the_callers_line(cell):
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        detect_spikes(cell.v / 1000.0, FS)
    assert got and all(w.filename == __file__ for w in got)


def test_a_membrane_potential_in_mv_is_not_warned(cell):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitWarning)
        assert len(detect_spikes(cell.v, FS)) == 15
        detect_spikes(np.full(1000, -60.0), FS)               # flat, in mV: nothing to say
