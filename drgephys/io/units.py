"""Scalar quantities (a signal's sampling rate, its start time) as plain floats in a given unit, at the
neo boundary.

``float(q.rescale(unit).magnitude)`` parses both units through quantities' registry on every call (~30 µs);
a recording has a few such scalars per sweep. The conversion factor depends on the two units only, so it
is computed once per pair (by quantities itself) and cached; the value is the same product quantities'
``rescale`` forms (factor times magnitude).
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["in_units"]


def in_units(q, unit: str) -> float:
    """``float(q.rescale(unit).magnitude)`` of a scalar quantity ``q`` (e.g. ``in_units(sig.sampling_rate,
    "Hz")``), with the conversion factor cached per unit pair."""
    return _factor(str(q.dimensionality), unit) * float(q.magnitude)


@lru_cache(maxsize=64)
def _factor(from_units: str, to_units: str) -> float:
    """The factor quantities' ``rescale`` multiplies by from ``from_units`` to ``to_units``."""
    import quantities as pq

    return float(pq.Quantity(1.0, from_units).rescale(to_units).magnitude)
