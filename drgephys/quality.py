"""The quality stage: what a sweep allows before any detector runs.

`assess_quality` looks at the sweep's rate and length (and what the loader noted) and decides which stages
can run: the SSO stage needs the analysed band to fit below the sampling rate and the sweep to last
``min_cycles`` cycles of the band bottom; when it cannot run, spikes are still measured and the row says
why ("no SSO analysis: ..."). The band is computed here once per sweep (with its clipping warning) and
handed to the oscillation stage of every window.
"""

from __future__ import annotations

from dataclasses import dataclass

from .io.sweep import Sweep
from .oscillations import effective_band
from .params import AnalysisParams

__all__ = ["Quality", "assess_quality"]


@dataclass(frozen=True)
class Quality:
    """The quality stage's result for one sweep.

    Attributes
    ----------
    band : (float, float) or None
        The analysed SSO band (Hz), or None when the SSO stage cannot run on this sweep.
    notes : tuple of str
        Remarks for the ``message`` column, in order (e.g. irregular samples resampled; why there is no SSO
        analysis).
    """

    band: tuple | None
    notes: tuple = ()


def assess_quality(sweep: Sweep, params: AnalysisParams) -> Quality:
    """What stages `sweep` allows (see the module docstring)."""
    notes = [sweep.note] if sweep.note else []
    osc = params.oscillations
    try:
        lo, hi = effective_band(sweep.fs, osc)
        if sweep.duration_s < osc.min_cycles / lo:
            raise ValueError(f"`v` must last at least {osc.min_cycles:g} cycles of the band bottom ({lo:g} Hz), "
                             f"i.e. {osc.min_cycles / lo:g} s; got {sweep.duration_s:g} s ({sweep.n} samples at "
                             f"{sweep.fs:g} Hz)")
    except ValueError as err:   # too short or too slowly sampled for the SSO band: spikes are still measured
        return Quality(None, tuple(notes + [f"no SSO analysis: {err}"]))
    return Quality((lo, hi), tuple(notes))
