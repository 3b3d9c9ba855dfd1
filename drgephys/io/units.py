"""Unit conversion at the neo boundary: a scalar quantity (a signal's sampling rate, its start time) as a
plain float in a given unit (`in_units`), and the factor from one unit to another (`conversion_factor`, which
the channel choice and the stimulus commands use too).

``q.rescale(unit)`` parses both units through quantities' registry on every call (~30 µs; ~0.3 ms for a
``Quantity(1.0, units)`` built from a string); a recording has a few such conversions per sweep. The factor
depends on the two units only, so it is computed once per pair (by quantities itself) and cached; the value
is the same product quantities' ``rescale`` forms (factor times magnitude).
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["in_units", "conversion_factor"]


def in_units(q, unit: str) -> float:
    """``float(q.rescale(unit).magnitude)`` of a scalar quantity ``q`` (e.g. ``in_units(sig.sampling_rate,
    "Hz")``), with the conversion factor cached per unit pair."""
    return conversion_factor(str(q.dimensionality), unit) * float(q.magnitude)


@lru_cache(maxsize=256)
def conversion_factor(from_units: str, to_units: str) -> float:
    """The factor quantities' ``rescale`` multiplies by from ``from_units`` to ``to_units`` (unit strings).

    Raises
    ------
    ValueError
        When the units are not of the same dimension (quantities' own error).
    LookupError
        When quantities does not know a unit string.
    """
    import quantities as pq

    return float(pq.Quantity(1.0, from_units).rescale(to_units).magnitude)
