"""`drgephys.io.units`: a scalar quantity's value in a unit and unit factors, as quantities' rescale gives them."""

from __future__ import annotations

import numpy as np
import pytest
import quantities as pq

from drgephys.io.stimulus import to_pa
from drgephys.io.units import conversion_factor, in_units


@pytest.mark.parametrize("q, unit", [(20000.0 * pq.Hz, "Hz"), (12.5 * pq.kHz, "Hz"), (0.0 * pq.s, "s"),
                                     (-3.25 * pq.ms, "s"), (1.5 * pq.min, "s"), (7.0 * pq.MHz, "Hz")])
def test_in_units_is_rescale(q, unit):
    got = in_units(q, unit)
    assert isinstance(got, float)
    assert got == float(q.rescale(unit).magnitude)     # the same product, bit for bit


def test_in_units_refuses_incompatible_units():
    with pytest.raises(ValueError, match="Unable to convert"):
        in_units(3.0 * pq.mV, "s")


@pytest.mark.parametrize("src, dst", [("nA", "pA"), ("mV", "mV"), ("V", "mV"), ("uV", "mV"), ("pA", "pA")])
def test_conversion_factor_is_quantities_factor(src, dst):
    assert conversion_factor(src, dst) == float(pq.Quantity(1.0, src).rescale(dst).magnitude)


@pytest.mark.parametrize("units", ["pA", "nA", "mV", "", "V", "A", pq.nA, pq.mV, pq.Quantity(1.0, "nA").dimensionality])
def test_to_pa_by_string_or_unit_is_quantities_conversion(units):
    values = np.array([1.0, -2.5])
    try:
        want = values * float(pq.Quantity(1.0, units).rescale(pq.pA).magnitude)
    except ValueError:
        want = None                                   # not a current
    got = to_pa(values, units)
    assert (got is None) if want is None else np.array_equal(got, want)
