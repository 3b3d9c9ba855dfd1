"""Find the membrane-potential channel among a file's signals, or say why there is none.

Each signal column of a neo segment is a *candidate*. A candidate is a membrane potential when its units
are a voltage (V, mV, µV → converted to mV) and its data are plausible: not constant, not saturated, not a
piecewise-constant command, resting level between -150 and +60 mV, and not a flat line near 0 mV (an
amplifier output with no cell). NWB series types (CurrentClampSeries vs VoltageClampSeries / stimulus
series) and channel names (``DA``/``AO``/``Cmd`` outputs) are used when present. Several valid candidates
are ranked and the ranking is reported in `Recording.channel_report`; ``channel=`` overrides it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .._validation import all_finite
from ..errors import RecordingError
from .trace import Recording, Trace

#: Samples used for the plausibility statistics of a channel (strided subsample of longer traces).
ASSESS_SAMPLES = 16_384
#: Plausible resting range of a membrane potential in mV (wide: model cells and depolarised cells pass).
VM_LEVEL_RANGE_MV = (-150.0, 60.0)
#: A trace whose central 99 % spans less than this (mV) is constant.
MIN_SPREAD_MV = 0.02
#: Share of samples pinned at the extreme value above which a trace counts as saturated (clipped).
SATURATION_SHARE = 0.02
#: Share of samples at one value above which a trace is a piecewise-constant command, not a recording.
COMMAND_MODE_SHARE = 0.5
#: A signal with fewer distinct values than this over many samples is a stepped command.
COMMAND_MAX_LEVELS = 64
#: |median| (mV) and spread (mV) under which a voltage channel is an amplifier output with no cell.
NO_CELL_LEVEL_MV, NO_CELL_SPREAD_MV = 5.0, 1.0
#: How far (as a ratio) upward excursions must dominate downward ones for a current-labelled channel to look
#: like a mislabelled membrane potential with action potentials.
SPIKY_ASYMMETRY = 5.0

_COMMAND_NAME = re.compile(r"(^|[^a-z])(da|ao|dac|cmd|command|stim|stimulus)([^a-z]|$)", re.I)
_VM_NAME = re.compile(r"(vm|v_m|potential|volt|membrane|primary)", re.I)
_VM_NWB = ("CurrentClampSeries", "IZeroClampSeries")
_VC_NWB = ("VoltageClampSeries",)


@dataclass
class Candidate:
    """One signal column of a segment."""

    index: int          # flat position among the segment's signal columns
    name: str
    units: str          # declared units (dimensionality string)
    kind: str           # 'voltage', 'current', 'unknown'
    nwb_type: str
    signal: object      # neo signal or proxy
    column: int
    irregular: bool
    ok: bool = False
    score: float = 0.0
    reason: str = ""
    raw: np.ndarray | None = None      # loaded values (as declared), cached after the first read
    loaded: object = None              # the loaded neo signal
    v_mv: np.ndarray | None = None     # values in mV (declared units), cached by the assessment
    why: str | None = None             # the assessment of `v_mv` ('' when plausible)
    finite: bool = False               # every sample of `v_mv` is finite (known from the assessment)


def _units_kind(units) -> tuple[str, float]:
    """Return ('voltage'|'current'|'unknown', factor to mV) for a quantities unit (or its string)."""
    return _units_kind_of(str(getattr(units, "dimensionality", units)))


@lru_cache(maxsize=256)
def _units_kind_of(units: str) -> tuple[str, float]:
    """`_units_kind` of a unit string, cached: parsing units through quantities' registry costs ~0.3 ms."""
    import quantities as pq

    try:
        return "voltage", float(pq.Quantity(1.0, units).rescale(pq.mV).magnitude)
    except ValueError:
        pass
    try:
        pq.Quantity(1.0, units).rescale(pq.pA)
        return "current", np.nan
    except ValueError:
        return "unknown", np.nan


def _nwb_type(sig) -> str:
    t = getattr(sig, "annotations", {}).get("nwb_neurodata_type", "")
    if isinstance(t, (tuple, list)) and t:
        t = t[-1]
    return str(t or "")


def segment_candidates(seg, units_override=None) -> list[Candidate]:
    """List every signal column of a neo segment (regular signals first, then irregular ones)."""
    out: list[Candidate] = []
    for irregular, sigs in ((False, seg.analogsignals), (True, seg.irregularlysampledsignals)):
        for sig in sigs:
            units = units_override if units_override is not None else sig.units
            kind, _ = _units_kind(units)
            dim = str(getattr(units, "dimensionality", units))
            ncol = int(sig.shape[1]) if len(sig.shape) > 1 else 1
            for c in range(ncol):
                name = str(sig.name) if sig.name is not None else ""
                names = sig.array_annotations.get("channel_names") if hasattr(sig, "array_annotations") else None
                if names is not None and len(names) > c:
                    name = str(names[c]) or name
                out.append(Candidate(len(out), name, dim, kind, _nwb_type(sig), sig, c, irregular))
    return out


def _load_column(cand: Candidate) -> tuple[np.ndarray, object]:
    """Load one column's magnitude (as declared) and return it with the signal object (loaded)."""
    if cand.raw is not None:
        return cand.raw, cand.loaded
    sig = cand.signal
    if hasattr(sig, "load"):  # lazy proxy
        sig = sig.load(channel_indexes=[cand.column])
        col = 0
    else:
        col = cand.column
    mag = np.asarray(sig.magnitude, dtype=np.float64)
    if mag.ndim == 2:
        mag = mag[:, col]
    cand.raw, cand.loaded = mag.reshape(-1), sig
    return cand.raw, sig


def _to_mv(raw: np.ndarray, units) -> np.ndarray:
    """`raw` in mV: the array itself when it is already in mV (no trace-length copy), else a scaled copy."""
    _, factor = _units_kind(units)
    return raw if factor == 1.0 else raw * factor


def _assess_voltage(v_mv: np.ndarray) -> str:
    """Return '' if `v_mv` is a plausible membrane potential, else the reason it is not."""
    return _assess_voltage_level(v_mv)[0]


def _assess_voltage_level(v_mv: np.ndarray) -> tuple[str, float, bool]:
    """`_assess_voltage`, the (subsampled) median level in mV (NaN when there is none) and whether every
    sample is finite."""
    if v_mv.size == 0:
        return "the channel holds no samples", np.nan, True
    x = v_mv
    all_ok = all_finite(v_mv)
    if not all_ok:
        finite = np.isfinite(v_mv)
        if not finite.any():
            return "every sample is NaN or infinite", np.nan, False
        x = v_mv[finite]
    x = np.sort(_sample(x))      # sorted once: the percentiles and the distinct values read it
    p_lo, lo, med, hi, p_hi = np.percentile(x, [1, 0.5, 50, 99.5, 99])
    return _verdict(x, p_lo, lo, med, hi, p_hi), float(med), all_ok


def _unique_sorted(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(x, return_counts=True)`` of a sorted finite array (no second sort)."""
    first = np.flatnonzero(np.concatenate(([True], x[1:] != x[:-1])))
    return x[first], np.diff(np.append(first, x.size))


def _verdict(x, p_lo, lo, med, hi, p_hi) -> str:
    """The reason the sorted finite subsample `x` (with its percentiles) is not a membrane potential,
    or ''."""
    if hi - lo < MIN_SPREAD_MV:
        return f"the trace is constant ({med:.3g} mV throughout)"
    vals, counts = _unique_sorted(x)
    mode_share = counts.max() / x.size
    if mode_share > COMMAND_MODE_SHARE and vals.size < 256:
        return (f"the trace is piecewise constant ({mode_share:.0%} of samples at {vals[counts.argmax()]:.3g} mV, "
                f"{vals.size} distinct values): a command/stimulus output, not a recorded potential")
    xmax, xmin = vals[-1], vals[0]
    top, bottom = counts[-1] / x.size, counts[0] / x.size
    if top > SATURATION_SHARE or bottom > SATURATION_SHARE:
        rail = xmax if top >= bottom else xmin
        return f"the trace is saturated ({max(top, bottom):.1%} of samples clipped at {rail:.4g} mV)"
    if not (VM_LEVEL_RANGE_MV[0] <= med <= VM_LEVEL_RANGE_MV[1]):
        return (f"its median level {med:.4g} mV is outside the plausible membrane-potential range "
                f"{VM_LEVEL_RANGE_MV[0]:g}..{VM_LEVEL_RANGE_MV[1]:g} mV")
    spread = p_hi - p_lo
    if abs(med) < NO_CELL_LEVEL_MV and spread < NO_CELL_SPREAD_MV:
        return (f"it sits flat near 0 mV (median {med:.3g} mV, 1–99 % spread {spread:.3g} mV), as an "
                "amplifier output with no cell does; a membrane potential rests well below 0 mV")
    return ""


def _sample(x: np.ndarray) -> np.ndarray:
    """At most `ASSESS_SAMPLES` evenly strided samples plus the extremes: the plausibility statistics
    (percentiles, distinct values, clipping share) are stable on such a subsample and cost no more for an
    hour-long sweep than for a short one."""
    if x.size <= ASSESS_SAMPLES:
        return x
    step = int(np.ceil(x.size / ASSESS_SAMPLES))
    return x[::step]


def _looks_like_mislabelled_vm(raw: np.ndarray) -> bool:
    """Spike-shaped upward excursions on a stable baseline (a membrane potential labelled as current)."""
    x = _sample(raw[np.isfinite(raw)])
    if x.size < 100:
        return False
    med = np.median(x)
    up, down = x.max() - med, med - x.min()
    brief = np.mean(x > med + up / 2) < 0.05  # spikes occupy a small share of the time; ramps and steps do not
    return bool(brief and up > SPIKY_ASYMMETRY * max(down, 1e-12)
                and up > 20 * max(np.median(np.abs(x - med)), 1e-12))


def _is_command_like(raw: np.ndarray) -> bool:
    """Constant or piecewise-constant data (a stimulus/command waveform, not a recorded signal)."""
    x = _sample(raw[np.isfinite(raw)])
    if x.size == 0 or np.ptp(x) == 0:
        return True
    vals, counts = np.unique(x, return_counts=True)
    if vals.size < COMMAND_MAX_LEVELS and x.size > 20 * COMMAND_MAX_LEVELS:
        return True  # a handful of levels over many samples: a step/ramp command
    return bool(counts.max() / x.size > COMMAND_MODE_SHARE and vals.size < 256)


def assess_candidates(cands: list[Candidate]) -> None:
    """Fill `ok`, `score` and `reason` of each candidate from its units, type, name and data."""
    for c in cands:
        if c.nwb_type in _VC_NWB or (c.nwb_type.endswith("StimulusSeries")):
            c.reason = f"NWB {c.nwb_type}: not a current-clamp membrane potential"
            continue
        if c.kind == "current":
            c.reason = f"units {c.units} are a current, not a membrane potential"
            continue
        if c.kind == "unknown":
            c.reason = f"units '{c.units}' are not a voltage (unknown or mislabelled units)"
            continue
        if _COMMAND_NAME.search(c.name) and not _VM_NAME.search(c.name):
            c.reason = f"channel name '{c.name}' marks a command/stimulus output"
            continue
        raw, _ = _load_column(c)
        c.v_mv = _to_mv(raw, c.units)
        c.why, med, c.finite = _assess_voltage_level(c.v_mv)
        if c.why:
            c.reason = c.why
            continue
        c.ok = True
        c.score = (4.0 if c.nwb_type in _VM_NWB else 0.0) + (2.0 if _VM_NAME.search(c.name) else 0.0) \
            + (1.0 if -100.0 <= med <= -20.0 else 0.0) - 0.01 * c.index
        c.reason = f"voltage channel with a plausible membrane potential (median {med:.1f} mV)"


def _refusal_message(file: str, cands: list[Candidate]) -> tuple[str, str]:
    """Explain why no candidate is a membrane potential; return (message, short reason)."""
    src = file or "the data"
    if not cands:
        return f"{src}: no signals found (empty file or no analog channels)", "empty"
    details = "; ".join(f"channel {c.index} '{c.name}' [{c.units}]: {c.reason}" for c in cands)
    kinds = {c.kind for c in cands}
    hint = ("If a channel really holds membrane potential under a wrong unit label, override it: "
            "drgephys.load(path, channel=N, units='mV') or `drgephys analyze --units mV --channel N`.")
    if any(c.nwb_type in _VC_NWB for c in cands):
        return f"{src} is a voltage-clamp recording, not current clamp ({details}).", "voltage clamp"
    if all(_COMMAND_NAME.search(c.name) for c in cands):
        return f"{src} holds only command/stimulus channels, no recorded membrane potential ({details}).", \
            "command only"
    if kinds <= {"current"}:
        spiky = [c for c in cands if _looks_like_mislabelled_vm(_load_column(c)[0])]
        if spiky:
            c = spiky[0]
            return (f"{src}: no membrane-potential channel — channel {c.index} '{c.name}' is labelled {c.units} "
                    "(a current) but its shape (spikes on a stable baseline) looks like a membrane potential "
                    f"with wrong units ({details}). {hint}"), "mislabelled units"
        if all(_is_command_like(_load_column(c)[0]) for c in cands):
            return (f"{src} holds only an injected-current command (piecewise constant), no recorded membrane "
                    f"potential ({details}). If the potential is in a separate file, load that file.",
                    "command only")
        return (f"{src} records only currents (voltage-clamp recording or command-only file), "
                f"no membrane potential ({details}). {hint}"), "voltage clamp"
    if all("command" in c.reason for c in cands):
        return f"{src} holds only command/stimulus outputs, no recorded potential ({details}).", "command only"
    if "unknown" in kinds and not any(c.kind == "voltage" and "plausible" not in c.reason for c in cands):
        return f"{src}: no channel in voltage units ({details}). {hint}", "unknown units"
    return f"{src}: no plausible membrane-potential channel ({details}). {hint}", "not a membrane potential"


def _report(cands: list[Candidate], chosen: list[int]) -> dict:
    """The channel report's columns (`Recording.channel_report` makes the DataFrame when read)."""
    return {
        "channel": [c.index for c in cands], "name": [c.name for c in cands],
        "units": [c.units for c in cands], "chosen": [c.index in chosen for c in cands],
        "score": [c.score for c in cands], "reason": [c.reason for c in cands],
    }


def _match_channel(cands: list[Candidate], channel) -> Candidate:
    if isinstance(channel, (int, np.integer)) and not isinstance(channel, bool):
        for c in cands:
            if c.index == int(channel):
                return c
    elif isinstance(channel, str):
        for c in cands:
            if c.name == channel:
                return c
    else:
        raise TypeError(f"`channel` must be an int (position) or str (name); got {channel!r}")
    listing = ", ".join(f"{c.index} '{c.name}' [{c.units}]" for c in cands)
    raise RecordingError(f"channel {channel!r} not found; the file has: {listing}", reason="no such channel")


def _regularize(v: np.ndarray, times: np.ndarray):
    """Return (fs, t0, times_or_None): irregular samples become regular when their steps are uniform."""
    if times.size < 2:
        raise RecordingError("an irregularly sampled trace needs at least 2 samples", reason="too short")
    dt = np.diff(times)
    med = float(np.median(dt))
    if med <= 0:
        raise RecordingError("sample times do not increase", reason="bad time base")
    # Text readers may store times in float32: allow that rounding (a few ulps of the largest time).
    tol = max(1e-3 * med, 8 * np.finfo(np.float32).eps * float(np.max(np.abs(times))))
    if np.all(np.abs(dt - med) <= tol):
        idx = np.arange(times.size, dtype=np.float64)
        slope, t0 = np.polyfit(idx, times, 1)
        fs = 1.0 / slope
        nice = float(f"{fs:.6g}")  # rates of text traces are round numbers (4 kHz, 200 kHz)
        if abs(nice - fs) <= 1e-5 * fs:
            fs = nice
        return fs, float(f"{t0:.9g}"), None
    return 1.0 / med, float(times[0]), times


def make_trace(cand_in_seg: Candidate, *, file, sweep, reader, gain=1.0, offset_mv=0.0,
               units_override=None) -> Trace:
    """Load one candidate column of one segment as a `Trace` in mV, or raise RecordingError."""
    raw, sig = _load_column(cand_in_seg)
    plain = gain == 1.0 and offset_mv == 0.0
    if plain and cand_in_seg.why is not None:      # assessed while choosing the channel: no second pass
        v, why, finite = cand_in_seg.v_mv, cand_in_seg.why, cand_in_seg.finite
    else:
        units = units_override if units_override is not None else sig.units
        v = _to_mv(raw, units)
        if not plain:
            v = v * gain + offset_mv
        why, _, finite = _assess_voltage_level(v)
    if why:
        raise RecordingError(
            f"{file or 'data'} sweep {sweep} channel {cand_in_seg.index} '{cand_in_seg.name}' "
            f"[{cand_in_seg.units}]: {why}", file=file, channel=cand_in_seg.index,
            units=cand_in_seg.units, reason=why)
    import quantities as pq

    meta = {"channel_name": cand_in_seg.name, "reader": reader, "nwb_type": cand_in_seg.nwb_type}
    if cand_in_seg.irregular:
        fs, t0, times = _regularize(v, np.asarray(sig.times.rescale(pq.s).magnitude, dtype=np.float64))
    else:
        fs = float(sig.sampling_rate.rescale(pq.Hz).magnitude)
        t0, times = float(sig.t_start.rescale(pq.s).magnitude), None
    if not finite:
        raise RecordingError(
            f"{file or 'data'} sweep {sweep} channel {cand_in_seg.index}: "
            f"{int(np.count_nonzero(~np.isfinite(v)))} NaN/inf samples; drgephys does not guess missing data",
            file=file, channel=cand_in_seg.index, units=cand_in_seg.units, reason="non-finite samples")
    return Trace(v=v, fs=fs, t0=t0, file=file, sweep=sweep, channel=cand_in_seg.index,
                 units=cand_in_seg.units, times=times, metadata=meta, _checked_v=True)  # finite: checked above


def recording_from_segments(segments, *, channel=None, file=None, reader="", units=None,
                            gain=1.0, offset_mv=0.0) -> Recording:
    """Pick the membrane-potential channel(s) in neo segments and build a `Recording`.

    Raises
    ------
    RecordingError
        When no candidate is a current-clamp membrane potential; the message names the file, every
        channel with its units and the reason it was rejected.
    """
    segments = [s for s in segments]
    first = next((s for s in segments if segment_candidates(s)), None)
    if first is None:
        raise RecordingError(f"{file or 'data'}: no signals found (empty file or no analog channels)",
                             file=file, reason="empty")
    cands = segment_candidates(first, units)
    if channel is not None:
        chosen_c = _match_channel(cands, channel)
        assess_candidates(cands)
        chosen = [chosen_c.index]
    else:
        assess_candidates(cands)
        ok = sorted((c for c in cands if c.ok), key=lambda c: -c.score)
        if not ok:
            msg, reason = _refusal_message(file, cands)
            raise RecordingError(msg, file=file, units=",".join(sorted({c.units for c in cands})), reason=reason)
        cc = [c for c in ok if c.nwb_type in _VM_NWB]
        # NWB files hold one CurrentClampSeries per sweep in one segment: each becomes a sweep.
        chosen = [c.index for c in cc] if len(segments) == 1 and len(cc) > 1 else [ok[0].index]
    report = _report(cands, chosen)
    traces, skipped = [], []
    sweep = 0
    for seg in segments:
        # the first segment's candidates were read while choosing the channel: reuse them
        seg_cands = cands if seg is first else segment_candidates(seg, units)
        for idx in chosen:
            if idx >= len(seg_cands):
                skipped.append({"sweep": sweep, "channel": idx, "message": f"sweep {sweep} has no channel {idx}"})
                sweep += 1
                continue
            try:
                traces.append(make_trace(seg_cands[idx], file=file, sweep=sweep, reader=reader, gain=gain,
                                         offset_mv=offset_mv, units_override=units))
            except RecordingError as err:
                skipped.append({"sweep": sweep, "channel": idx, "message": str(err)})
            sweep += 1
    if not traces:
        msgs = "; ".join(s["message"] for s in skipped[:3])
        raise RecordingError(f"{file or 'data'}: no usable sweep ({msgs})", file=file, reason="no usable sweep")
    return Recording(traces, file=file, channel_report=report, reader=reader, skipped=skipped)
