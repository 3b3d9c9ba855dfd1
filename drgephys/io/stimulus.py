"""Where a file carries its stimulus: the windows of each sweep during which current was injected.

Two sources, in order of preference:

1. **The ABF protocol** (ABF2 episodic files): the digital-to-analog command waveform of each sweep, read
   through neo's public ``AxonIO.read_raw_protocol()`` — the first current-clamp DAC (current units) that
   changes in some sweep. Exact: the waveform the amplifier was told to inject.
2. **A recorded current channel** in the same segment (a command copy such as ``I_Com``/``AO``, an
   ``Imemb`` monitor, or an NWB ``CurrentClampStimulusSeries``), when it is in memory.

A window is where the command departs from its holding level (the median of the sweep's first 1/64: the
ABF "first holding" period; the first samples of other files) by more than ``max(MIN_STEP_PA,
NOISE_FACTOR × robust SD)`` of that holding period, for at least ``MIN_WINDOW_MS``; gaps shorter than
``MERGE_GAP_MS`` are bridged and each window is extended by ``TAIL_MS`` (an AP launched by a brief pulse or
by a step's edge peaks within it). Spikes with threshold inside a window are ``evoked``.

Functions take plain arrays (command in pA, ``fs`` in Hz) and return windows in s from the sweep's start,
shape (k, 2).
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from .._numerics.order import median
from .units import conversion_factor

__all__ = ["windows_from_command", "protocol_commands", "command_candidate", "to_pa",
           "MIN_STEP_PA", "NOISE_FACTOR", "TAIL_MS"]

#: Smallest departure from holding counted as a stimulus, pA (DRG rheobases are 50–2000 pA; injected-current
#: monitors jitter by a few pA).
MIN_STEP_PA = 5.0
#: ... and at least this many robust SDs of the holding period (a noisy recorded current never fires).
NOISE_FACTOR = 8.0
#: Departures shorter than this are noise, ms (the shortest stimulus pulses used are 0.5–2 ms).
MIN_WINDOW_MS = 0.3
#: Windows closer than this are one (a pulse train counts as its pulses, not one long window), ms.
MERGE_GAP_MS = 1.0
#: Each window is extended by this after its end, ms.
TAIL_MS = 20.0

_COMMAND_NAME = re.compile(r"(cmd|command|stim|i_?com|ao|dac|imemb|ipatch|in ?\d)", re.I)


def to_pa(values: np.ndarray, units) -> np.ndarray | None:
    """``values`` in pA (None when `units` is not a current)."""
    if isinstance(units, str):          # a protocol's DAC units, one command per sweep and DAC: cached
        factor = _pa_factor(units)
    else:                               # a neo signal's units (once per file)
        import quantities as pq         # as everywhere in io: `drgephys --help` and folder scans never import it
        try:
            factor = float(pq.Quantity(1.0, units).rescale(pq.pA).magnitude)
        except (ValueError, TypeError, LookupError):
            factor = None
    return None if factor is None else np.asarray(values, dtype=np.float64) * factor


@lru_cache(maxsize=64)
def _pa_factor(units: str) -> float | None:
    """The factor from the unit string `units` to pA, None when it is not a current (parsing it costs ~0.3 ms;
    a protocol repeats it for every sweep)."""
    try:
        return conversion_factor(units, "pA")
    except (ValueError, TypeError, LookupError):
        return None


def windows_from_command(c_pa, fs: float) -> np.ndarray:
    """Stimulus windows of one sweep's command (see the module docstring).

    Parameters
    ----------
    c_pa : ndarray, shape (n_samples,)
        Command or injected current, pA, sampled with the membrane potential.
    fs : float
        Sampling rate, Hz.

    Returns
    -------
    ndarray, shape (k, 2)
        ``[start, end)`` in s from the sweep's first sample (end extended by `TAIL_MS`).

    Examples
    --------
    >>> c = np.zeros(20000); c[5000:15000] = 100.0          # a 0.5-s, 100-pA step at 20 kHz
    >>> windows_from_command(c, 20000.0)
    array([[0.25, 0.77]])
    """
    c = np.asarray(c_pa, dtype=np.float64).reshape(-1)
    if c.size < 4 or not np.all(np.isfinite(c)):
        return np.empty((0, 2))
    head = c[: max(c.size // 64, 2)]
    base = median(head)
    noise = 1.4826 * median(np.abs(head - base))
    on = np.abs(c - base) > max(MIN_STEP_PA, NOISE_FACTOR * noise)
    idx = np.flatnonzero(on)
    if idx.size == 0:
        return np.empty((0, 2))
    gap = max(int(round(MERGE_GAP_MS * 1e-3 * fs)), 1)
    breaks = np.flatnonzero(np.diff(idx) > gap)
    starts = idx[np.concatenate(([0], breaks + 1))]
    ends = idx[np.concatenate((breaks, [idx.size - 1]))] + 1
    keep = (ends - starts) >= MIN_WINDOW_MS * 1e-3 * fs
    starts, ends = starts[keep], ends[keep]
    return np.stack((starts / fs, ends / fs + TAIL_MS * 1e-3), axis=1) if starts.size else np.empty((0, 2))


def protocol_commands(io, n_segments: int):
    """The current-clamp command of every sweep from an ABF2 protocol: ``(list of pA arrays, name)``, or
    None (not an ABF2 episodic file, no current-units DAC, or no DAC that changes)."""
    if type(io).__name__ != "AxonIO" or not hasattr(io, "read_raw_protocol"):
        return None
    try:
        sigs, names, units = io.read_raw_protocol()
    except Exception:   # ABF1 ("only present in ABF2 files"), gap-free files, odd headers: no protocol
        return None
    if len(sigs) != n_segments or n_segments == 0:
        return None
    for row, (name, unit) in enumerate(zip(names, units)):
        per_sweep = [to_pa(np.asarray(s)[row], unit) for s in sigs]
        if per_sweep[0] is None:
            continue
        if any(np.ptp(c) > 0 for c in per_sweep):
            return per_sweep, str(name)
    return None


def command_candidate(cands, chosen: int):
    """The segment's recorded current channel that best marks the stimulus (a command copy by name or NWB
    type first, then any current channel), or None."""
    currents = [c for c in cands if c.index != chosen and c.kind == "current"]
    named = [c for c in currents if "Stimulus" in (c.nwb_type or "") or _COMMAND_NAME.search(c.name or "")]
    pick = (named or currents or [None])[0]
    return pick
