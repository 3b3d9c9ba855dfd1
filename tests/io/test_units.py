"""`drgephys.io.units.in_units`: a scalar quantity's value in a unit, as quantities' rescale gives it."""

from __future__ import annotations

import pytest
import quantities as pq

from drgephys.io.units import in_units


@pytest.mark.parametrize("q, unit", [(20000.0 * pq.Hz, "Hz"), (12.5 * pq.kHz, "Hz"), (0.0 * pq.s, "s"),
                                     (-3.25 * pq.ms, "s"), (1.5 * pq.min, "s"), (7.0 * pq.MHz, "Hz")])
def test_in_units_is_rescale(q, unit):
    got = in_units(q, unit)
    assert isinstance(got, float)
    assert got == float(q.rescale(unit).magnitude)     # the same product, bit for bit


def test_in_units_refuses_incompatible_units():
    with pytest.raises(ValueError, match="Unable to convert"):
        in_units(3.0 * pq.mV, "s")
