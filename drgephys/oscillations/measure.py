"""Per-episode measures (`measure_episode`; the definitions are in :mod:`.episodes`) and `screen_episode`,
which settles the acceptance of a candidate from its cheap measures when that is decided without them.

Measures are taken a few hundred times per recording on short segments (median ~150 working-rate samples),
so their cost is per-call overhead. The candidates of one selection step are therefore measured together
(`measure_episodes`, `screen_episodes`), in two parts: `locate_many` (each segment's spectrum, the refined
frequency, the 6-cycle envelope, the half-maximum boundaries) and `cycles_many` (the 3-cycle band's
cycles, amplitude, CVs, sinusoidality). Their elementwise steps run as whole-array operations over all
candidates; transforms, sums, dot products, medians and percentiles stay per candidate, so every value is
the one a candidate measured alone gets (``tests/oscillations/test_measure.py`` keeps the one-at-a-time
form and compares bit for bit). The numpy statistics come from `drgephys._numerics.small` (same values, less overhead).

`screen_episode` stops after the first part when the acceptance (see `drgephys.oscillations.assemble`) is
already decided: a candidate whose cycles, frequency or power fail the minima, or one whose power is below
the full rule and whose amplitude is bounded inside ``(0, max_amplitude_mv]`` by its envelope's range (the
amplitude is a percentile of cycle means of that envelope). About half the candidates stop there.
"""

from __future__ import annotations

import numpy as np

from .._numerics import small as sm
from .cycles import cycles_many
from .locate import locate_many
from .working import Working

__all__ = ["Working", "measure_episode", "measure_episodes", "screen_episode", "screen_episodes"]

#: Relative margin of the amplitude bounds in `screen_episode` (the cycle means and the percentile's
#: interpolation round within a few ulps of the envelope's range; anything closer is measured in full).
BOUND_RTOL = 1e-6


def measure_episode(w: Working, s: int, e: int, f0: float, params):
    """Measures of one episode ``[s, e)`` (working-rate samples) whose wavelet frequency is ``f0`` (Hz).

    Parameters
    ----------
    w : Working
        The working-rate trace, validity mask, rate and background.
    s, e : int
        Episode bounds.
    f0 : float
        Wavelet frequency of the candidate, Hz.
    params : OscillationParams

    Returns
    -------
    dict with the columns of :data:`drgephys.oscillations.episodes.COLUMNS`.
    """
    return measure_episodes(w, [s], [e], [f0], params)[0]


def measure_episodes(w: Working, starts, ends, f0s, params) -> list:
    """`measure_episode` of several candidates (sequences ``starts``, ``ends``, ``f0s``): a list of dicts,
    the same values (their elementwise steps run as whole-array operations over all of them)."""
    if len(starts) == 0:
        return []
    return cycles_many(locate_many(w, starts, ends, f0s, params), w, params)


def screen_episode(w: Working, s: int, e: int, f0: float, params, *, band, need_ok: bool):
    """`measure_episode`, or its cheap part alone when the acceptance does not depend on the rest.

    Parameters
    ----------
    w, s, e, f0, params
        As for `measure_episode`.
    band : (float, float)
        Analysed band, Hz.
    need_ok : bool
        Whether the caller needs the full acceptance rule (else the BOSC-level one alone).

    Returns
    -------
    row : dict
        The columns of `measure_episode`; when ``decided``, ``amplitude_mv``, ``mean_vm_mv``,
        ``period_cv``, ``amplitude_cv`` and ``sinusoidality`` are NaN (not measured).
    decided : tuple of bool or None
        ``(ok, basic)`` as `assemble.acceptance` would give them on the full row, or None when the row was
        measured in full (the caller applies the rule).
    """
    return screen_episodes(w, [s], [e], [f0], params, band=band, need_ok=need_ok)[0]


def screen_episodes(w: Working, starts, ends, f0s, params, *, band, need_ok: bool) -> list:
    """`screen_episode` of several candidates: a list of ``(row, decided)``."""
    if len(starts) == 0:
        return []
    states = locate_many(w, starts, ends, f0s, params)
    out = [_screen(st, w.fs, params, band, need_ok) for st in states]
    full = [i for i, (_, decided) in enumerate(out) if decided is None]
    for i, row in zip(full, cycles_many([states[i] for i in full], w, params)):
        out[i] = (row, None)
    return out


def _screen(st, fs, params, band, need_ok):
    """`screen_episode` from the state of `locate_many` (``decided`` None: the row needs `cycles_many`)."""
    a, s, e, freq, bg, spec, z6, env, p6, v, all_v, any_v = st
    lo, hi = band
    n_cycles = (e - s) / fs * freq
    power_db = float(10 * np.log10(max(sm.mean(p6[s - a:e - a] if all_v else p6[s - a:e - a][v])
                                       if any_v else 0.0, 1e-30) / bg))
    row = {"start_s": s / fs, "end_s": e / fs, "frequency_hz": freq, "amplitude_mv": np.nan, "n_cycles": n_cycles,
           "mean_vm_mv": np.nan, "power_db": power_db, "period_cv": np.nan, "amplitude_cv": np.nan,
           "sinusoidality": np.nan, "p_value": np.nan}
    # the tests of assemble._acceptance, in its order; the amplitude test from the envelope's range
    if not (n_cycles >= params.min_cycles and lo <= freq <= hi):
        return row, (False, False)
    if power_db < params.min_power_db - params.extend_margin_db:
        return row, (False, False)
    if not (need_ok and power_db >= params.power_minimum_db(n_cycles)) and any_v:
        env_seg = env[s - a:e - a]
        low, high = float(env_seg.min()), float(env_seg.max())
        if low > 0 and high * (1 + BOUND_RTOL) <= params.max_amplitude_mv:
            return row, (False, True)
        if low * (1 - BOUND_RTOL) > params.max_amplitude_mv:
            return row, (False, False)
    return row, None
