"""SSO detection on an already decimated working trace (the ``sso="decimated"`` pass of `analyze_chunked`).

`drgephys.oscillations.detect_oscillations` takes a full-rate trace: it blanks spikes, decimates, then runs
steps 3-6 at the working rate through `drgephys.oscillations.detect.detect_working`. The chunked analysis
builds the decimated, spike-blanked trace window by window (`windows.decimated_core`) and calls the same
`detect_working`, so the output equals the in-memory analysis (checked by ``tests/test_chunked.py`` against
``drgephys.analyze``). Calling ``detect_oscillations`` on the decimated trace instead would re-fill the
blanked spans at the working rate and change the drift baseline around every spike.
"""

from __future__ import annotations


import numpy as np

__all__ = ["detect_on_working"]


def detect_on_working(y: np.ndarray, fw: float, bs: np.ndarray, be: np.ndarray, params, lo: float, hi: float):
    """Steps 3-6 of `detect_oscillations` on the decimated trace ``y`` (spikes already filled).

    Parameters
    ----------
    y : ndarray, shape (m,), float32
        Decimated membrane potential with spike spans filled at full rate, mV (modified in place by
        artifact filling, as in ``detect_oscillations``).
    fw : float
        Working rate, Hz.
    bs, be : ndarray of int
        Blanked spans ``[bs, be)`` at the working rate (``floor(ss / q) - 1``, ``ceil(se / q) + 1``).
    params : OscillationParams
    lo, hi : float
        Analysed band (`drgephys.oscillations.detect.effective_band` at the full rate), Hz.

    Returns
    -------
    DataFrame
        As `detect_oscillations` (times in s from the first sample).

    Raises
    ------
    ValueError
        When the trace is shorter than ``min_cycles`` cycles of the band bottom.
    """
    from ..oscillations.detect import detect_working

    m = y.size
    if m / fw < params.min_cycles / lo:
        raise ValueError(f"the sweep must last at least {params.min_cycles:g} cycles of the band bottom "
                         f"({lo:g} Hz), i.e. {params.min_cycles / lo:g} s; got {m / fw:g} s")
    return detect_working(y, fw, bs, be, params, lo, hi)
