"""SSO detection methods by name: a registry, so a new detector is one module plus one registration.

A method is ``detect(clean, fs, params, band) -> EpisodeTable``: ``clean`` the trace without its spikes'
AHPs and the spans still holding spike waveforms (`drgephys.spikes.removal.SpikeFree`, mV), ``fs`` in Hz,
``params`` the `OscillationParams` (whose ``method`` field names it), ``band`` the analysed band in Hz. It returns one row
per episode with the columns of `drgephys.oscillations.episodes.COLUMNS`. `OscillationParams.method`
chooses it; the pipeline, `detect_oscillations` and the accuracy benchmark reach every method the same way.

Examples
--------
>>> from drgephys.oscillations.methods import METHODS
>>> sorted(METHODS)
['bosc']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

__all__ = ["Method", "METHODS", "register", "get"]


@dataclass(frozen=True)
class Method:
    """One SSO detection method.

    Attributes
    ----------
    name : str
        The value of `OscillationParams.method` that selects it.
    detect : callable
        ``detect(clean, fs, params, band) -> EpisodeTable``.
    description : str
        One line for docs and ``--help``.
    """

    name: str
    detect: Callable
    description: str


METHODS: dict[str, Method] = {}


def register(method: Method) -> Method:
    """Add a method to `METHODS`.

    Raises
    ------
    ValueError
        When the name is taken.
    """
    if not isinstance(method, Method):
        raise TypeError(f"`method` must be a drgephys.oscillations.methods.Method; got {type(method).__name__}")
    if method.name in METHODS:
        raise ValueError(f"SSO method {method.name!r} is already registered; pick another name")
    METHODS[method.name] = method
    return method


def get(name: str) -> Method:
    """The registered method called `name`.

    Raises
    ------
    ValueError
        On an unknown name (the message lists the registered ones).
    """
    try:
        return METHODS[name]
    except KeyError:
        raise ValueError(f"`method` must be one of {sorted(METHODS)}; got {name!r}") from None


def _bosc(clean, fs, params, band):
    """`drgephys.oscillations.bosc.detect_bosc`, imported on the first detection: the registry is read to
    validate `OscillationParams.method` wherever parameters are built, which needs no SciPy (a Dask client
    process that only submits files never loads it)."""
    from .bosc import detect_bosc

    return detect_bosc(clean, fs, params, band)


register(Method("bosc", _bosc,
                "Spikes bridged, Morlet power above a 1/f background (BOSC), episodes measured cycle by cycle"))
