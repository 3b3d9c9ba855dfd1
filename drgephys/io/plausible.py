"""Is an array a plausible membrane potential? The verdict `drgephys.io.channels` uses to choose a channel
and to keep or refuse each sweep.

A membrane potential is not constant, not saturated, not a piecewise-constant command, rests between -150
and +60 mV and is not a flat line near 0 mV (an amplifier output with no cell). The statistics are taken on
a strided subsample of at most `ASSESS_SAMPLES` samples, so the verdict costs no more for an hour-long sweep
than for a short one, and is the same whether the sweep is in memory (`assess_level`) or read block by
block from the file (`streamed_assessment`).
"""

from __future__ import annotations

import numpy as np

from .._numerics.small import percentiles
from .._validation import all_finite

__all__ = ["assess_level", "streamed_assessment", "looks_like_mislabelled_vm", "is_command_like", "COMMAND_CODES",
           "ASSESS_SAMPLES"]

#: Samples used for the plausibility statistics of a channel (strided subsample of longer traces).
ASSESS_SAMPLES = 16_384
#: Plausible resting range of a membrane potential in mV (wide: model cells and depolarised cells pass).
VM_LEVEL_RANGE_MV = (-150.0, 60.0)
#: A trace whose central 99 % spans less than this (mV) is constant.
MIN_SPREAD_MV = 0.02
#: Share of samples pinned at the extreme value above which a trace counts as saturated (clipped).
SATURATION_SHARE = 0.02
#: Share of samples at one value above which a trace is a piecewise-constant command, not a recording (at
#: least a half: `_verdict` looks for that value at the median).
COMMAND_MODE_SHARE = 0.5
#: A signal with fewer distinct values than this over many samples is a stepped command.
COMMAND_MAX_LEVELS = 64
#: |median| (mV) and spread (mV) under which a voltage channel is an amplifier output with no cell.
NO_CELL_LEVEL_MV, NO_CELL_SPREAD_MV = 5.0, 1.0
#: How far (as a ratio) upward excursions must dominate downward ones for a current-labelled channel to look
#: like a mislabelled membrane potential with action potentials.
SPIKY_ASYMMETRY = 5.0

def assess_level(v_mv: np.ndarray) -> tuple[str, str, float, bool]:
    """``(code, reason, level, finite)``: why `v_mv` is not a plausible membrane potential (``("", "")``
    when it is), its (subsampled) median level in mV (NaN when there is none) and whether every sample is
    finite."""
    if v_mv.size == 0:
        return "empty_channel", "the channel holds no samples", np.nan, True
    x = v_mv
    all_ok = all_finite(v_mv)
    if not all_ok:
        x = v_mv[np.isfinite(v_mv)]
    return (*_sample_verdict(_sample(x)), all_ok)


def streamed_assessment(read, n: int, block: int = 1 << 22) -> tuple[str, str, float, bool]:
    """`_assess_voltage_level` of a sweep read in blocks by ``read(i0, i1)`` (mV), never held whole: the
    strided subsample `_sample` takes (every ``ceil(n / ASSESS_SAMPLES)``-th sample from the first) is
    gathered block by block, so the verdict is the in-memory one for finite data (non-finite samples are
    dropped from the subsample instead of before it)."""
    if n == 0:
        return "empty_channel", "the channel holds no samples", np.nan, True
    step = int(np.ceil(n / ASSESS_SAMPLES)) if n > ASSESS_SAMPLES else 1
    parts, all_ok = [], True
    for i0 in range(0, n, block):             # one iteration per block of ~4 M samples
        x = read(i0, min(i0 + block, n))
        all_ok = all_ok and all_finite(x)
        parts.append(x[(-i0) % step::step].copy())   # (a view would keep the whole block alive)
    sub = np.concatenate(parts)
    if not all_ok:
        sub = sub[np.isfinite(sub)]
    return (*_sample_verdict(sub), all_ok)


def _sample_verdict(sub: np.ndarray) -> tuple[str, str, float]:
    """``(code, reason, median)`` of a finite subsample (`_verdict`)."""
    if sub.size == 0:
        return "non_finite_channel", "every sample is NaN or infinite", np.nan
    p_lo, lo, med, hi, p_hi = percentiles(sub, (1, 0.5, 50, 99.5, 99))   # np.percentile's values (one partition)
    return (*_verdict(sub, p_lo, lo, med, hi, p_hi), float(med))


#: Candidate rejections that mark a command/stimulus output (by name or by a stepped waveform).
COMMAND_CODES = frozenset({"command_name", "command_levels"})


def _verdict(x, p_lo, lo, med, hi, p_hi) -> tuple[str, str]:
    """``(code, reason)`` why the finite subsample `x` (with its percentiles) is not a membrane potential, or
    ``("", "")``. Counts, no sort: more than half the samples at one value (`COMMAND_MODE_SHARE`) puts
    that value at the median, so the mode is only looked for there."""
    if hi - lo < MIN_SPREAD_MV:
        return "constant", f"the trace is constant ({med:.3g} mV throughout)"
    mode_share = np.count_nonzero(x == med) / x.size
    if mode_share > COMMAND_MODE_SHARE:
        n_values = np.unique(x).size
        if n_values < 256:
            return "command_levels", (f"the trace is piecewise constant ({mode_share:.0%} of samples at "
                                      f"{med:.3g} mV, {n_values} distinct values): a command/stimulus "
                                      "output, not a recorded potential")
    xmax, xmin = x.max(), x.min()
    top, bottom = np.count_nonzero(x == xmax) / x.size, np.count_nonzero(x == xmin) / x.size
    if top > SATURATION_SHARE or bottom > SATURATION_SHARE:
        rail = xmax if top >= bottom else xmin
        return "saturated", f"the trace is saturated ({max(top, bottom):.1%} of samples clipped at {rail:.4g} mV)"
    if not (VM_LEVEL_RANGE_MV[0] <= med <= VM_LEVEL_RANGE_MV[1]):
        return "level_out_of_range", (f"its median level {med:.4g} mV is outside the plausible membrane-potential "
                                      f"range {VM_LEVEL_RANGE_MV[0]:g}..{VM_LEVEL_RANGE_MV[1]:g} mV")
    spread = p_hi - p_lo
    if abs(med) < NO_CELL_LEVEL_MV and spread < NO_CELL_SPREAD_MV:
        return "flat_near_zero", (f"it sits flat near 0 mV (median {med:.3g} mV, 1–99 % spread {spread:.3g} mV), "
                                  "as an amplifier output with no cell does; a membrane potential rests well below 0 mV")
    return "", ""


def _sample(x: np.ndarray) -> np.ndarray:
    """At most `ASSESS_SAMPLES` evenly strided samples (from the first): the plausibility statistics
    (percentiles, distinct values, clipping share) are stable on such a subsample and cost no more for an
    hour-long sweep than for a short one. A contiguous copy: the statistics read it several times, and a
    strided view would fetch a cache line per sample each time (0.31 -> 0.15 ms per 30 s sweep)."""
    if x.size <= ASSESS_SAMPLES:
        return x
    step = int(np.ceil(x.size / ASSESS_SAMPLES))
    return x[::step].copy()


def looks_like_mislabelled_vm(raw: np.ndarray) -> bool:
    """Spike-shaped upward excursions on a stable baseline (a membrane potential labelled as current)."""
    x = _sample(raw[np.isfinite(raw)])
    if x.size < 100:
        return False
    med = np.median(x)
    up, down = x.max() - med, med - x.min()
    brief = np.mean(x > med + up / 2) < 0.05  # spikes occupy a small share of the time; ramps and steps do not
    return bool(brief and up > SPIKY_ASYMMETRY * max(down, 1e-12)
                and up > 20 * max(np.median(np.abs(x - med)), 1e-12))


def is_command_like(raw: np.ndarray) -> bool:
    """Constant or piecewise-constant data (a stimulus/command waveform, not a recorded signal)."""
    x = _sample(raw[np.isfinite(raw)])
    if x.size == 0 or np.ptp(x) == 0:
        return True
    vals, counts = np.unique(x, return_counts=True)
    if vals.size < COMMAND_MAX_LEVELS and x.size > 20 * COMMAND_MAX_LEVELS:
        return True  # a handful of levels over many samples: a step/ramp command
    return bool(counts.max() / x.size > COMMAND_MODE_SHARE and vals.size < 256)
