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

from ..errors import RecordingError
from . import plausible as pl
from .sweep import ProxyReader
from .units import conversion_factor

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
    code: str = ""                     # why it was rejected (a code of `CANDIDATE_CODES`), "" when ok
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
    try:
        return "voltage", conversion_factor(units, "mV")
    except ValueError:
        pass
    try:
        conversion_factor(units, "pA")
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


#: Why a candidate channel is not the membrane potential (the ``code`` of a `Candidate`; its ``reason`` is the
#: sentence with the measured values).
CANDIDATE_CODES = ("nwb_not_current_clamp", "current_units", "unknown_units", "command_name", "empty_channel",
                   "non_finite_channel", "constant", "command_levels", "saturated", "level_out_of_range",
                   "flat_near_zero")


def assess_candidates(cands: list[Candidate], max_samples: int | None = None) -> None:
    """Fill `ok`, `score`, `code` and `reason` of each candidate from its units, type, name and data.

    Voltage candidates longer than `max_samples` (lazy proxies only) are assessed from their strided
    subsample read block by block (`streamed_assessment`) and not kept in memory; shorter ones are loaded
    and kept (``v_mv``) for `drgephys.io.build.make_sweep`.
    """
    for c in cands:
        if c.nwb_type in _VC_NWB or (c.nwb_type.endswith("StimulusSeries")):
            c.code, c.reason = "nwb_not_current_clamp", f"NWB {c.nwb_type}: not a current-clamp membrane potential"
            continue
        if c.kind == "current":
            c.code, c.reason = "current_units", f"units {c.units} are a current, not a membrane potential"
            continue
        if c.kind == "unknown":
            c.code, c.reason = "unknown_units", f"units '{c.units}' are not a voltage (unknown or mislabelled units)"
            continue
        if _COMMAND_NAME.search(c.name) and not _VM_NAME.search(c.name):
            c.code, c.reason = "command_name", f"channel name '{c.name}' marks a command/stimulus output"
            continue
        if is_lazy_and_long(c, max_samples):
            factor = _units_kind(c.units)[1]
            code, why, med, c.finite = pl.streamed_assessment(column_reader(c.signal, c.column, factor),
                                                           int(c.signal.shape[0]))
        else:
            raw, _ = _load_column(c)
            c.v_mv = _to_mv(raw, c.units)
            code, why, med, c.finite = pl.assess_level(c.v_mv)
        c.why = why
        if why:
            c.code, c.reason = code, why
            continue
        c.ok = True
        c.score = (4.0 if c.nwb_type in _VM_NWB else 0.0) + (2.0 if _VM_NAME.search(c.name) else 0.0) \
            + (1.0 if -100.0 <= med <= -20.0 else 0.0) - 0.01 * c.index
        c.reason = f"voltage channel with a plausible membrane potential (median {med:.1f} mV)"


def is_lazy_and_long(c: Candidate, max_samples: int | None) -> bool:
    """True when the candidate is a regularly sampled lazy proxy longer than `max_samples` (None: never)."""
    return (max_samples is not None and not c.irregular and hasattr(c.signal, "load")
            and int(c.signal.shape[0]) > max_samples)


def column_reader(proxy, column: int, factor: float, chunk_s: float | None = None, *, gain: float = 1.0,
                  offset_mv: float = 0.0) -> ProxyReader:
    """``read(i0, i1)``: samples of one column of a lazy proxy in mV (`drgephys.io.sweep.ProxyReader`)."""
    return ProxyReader(proxy, column, factor, chunk_s, gain=gain, offset_mv=offset_mv)


#: Short labels (singular, plural) of the candidate codes, for refusal messages that summarise many channels.
_SHORT = {
    "nwb_not_current_clamp": ("voltage-clamp or stimulus series", "voltage-clamp or stimulus series"),
    "current_units": ("current", "currents"),
    "unknown_units": ("channel in unknown units", "channels in unknown units"),
    "command_name": ("command output", "command outputs"),
    "empty_channel": ("empty channel", "empty channels"),
    "non_finite_channel": ("all-NaN channel", "all-NaN channels"),
    "constant": ("constant channel", "constant channels"),
    "command_levels": ("stepped command", "stepped commands"),
    "saturated": ("saturated channel", "saturated channels"),
    "level_out_of_range": ("channel at an implausible level", "channels at implausible levels"),
    "flat_near_zero": ("flat line near 0 mV", "flat lines near 0 mV"),
}
#: Longest channel summary in a refusal message (characters); the full reasons go to `channel_reasons`.
SUMMARY_CHARS = 160
_HINT = "Override with units='mV', channel=N (--units mV --channel N)."


def clip(text: str, n: int) -> str:
    """``text`` on one line, cut to at most ``n`` characters (an ellipsis marks the cut)."""
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def refusal(file: str, cands: list[Candidate]) -> tuple[str, str]:
    """Explain why no candidate is a membrane potential: ``(message, code)`` with a code of
    `drgephys.reasons.REFUSALS`. The message starts with ``"<file>: "``, names the file nowhere else and
    summarises the channels (`summary`); `channel_reasons` lists them in full."""
    src = file or "the data"
    if not cands:
        return f"{src}: no signals found (empty file or no analog channels)", "empty"
    details = summary(cands)
    kinds = {c.kind for c in cands}
    if any(c.nwb_type in _VC_NWB for c in cands):
        return f"{src}: a voltage-clamp recording, not current clamp ({details}).", "voltage_clamp"
    if all(_COMMAND_NAME.search(c.name) for c in cands):
        return f"{src}: only command/stimulus channels, no recorded membrane potential ({details}).", \
            "command_only"
    if kinds <= {"current"}:
        spiky = [c for c in cands if pl.looks_like_mislabelled_vm(_load_column(c)[0])]
        if spiky:
            c = spiky[0]
            return (f"{src}: no membrane-potential channel; channel {c.index} '{clip(c.name, 30)}' is labelled "
                    f"{c.units} (a current) but looks like a membrane potential with wrong units (spikes on a "
                    f"stable baseline). {_HINT}"), "mislabelled_units"
        if all(pl.is_command_like(_load_column(c)[0]) for c in cands):
            return (f"{src}: only an injected-current command (piecewise constant), no recorded membrane "
                    f"potential ({details}). If the potential is in a separate file, load that file."), "command_only"
        return (f"{src}: only currents recorded (voltage clamp or a command-only file), no membrane potential "
                f"({details}). {_HINT}"), "voltage_clamp"
    if all(c.code in pl.COMMAND_CODES for c in cands):
        return f"{src}: only command/stimulus outputs, no recorded potential ({details}).", "command_only"
    if "unknown" in kinds and all(c.kind != "voltage" or c.code == "level_out_of_range" for c in cands):
        return f"{src}: no channel in voltage units ({details}). {_HINT}", "unknown_units"
    return f"{src}: no plausible membrane-potential channel ({details}). {_HINT}", "not_a_membrane_potential"


def channel_reasons(cands: list[Candidate]) -> list[str]:
    """Each candidate with its units and why it was (not) taken, one line each."""
    return [f"channel {c.index} '{c.name}' [{c.units}]: {c.reason}" for c in cands]


def _names(cs: list[Candidate]) -> str:
    if len(cs) <= 2:
        return ", ".join(f"channel {c.index} '{clip(c.name, 24)}' [{c.units}]" for c in cs)
    units = "/".join(sorted({c.units for c in cs}))
    return f"channels {cs[0].index}..{cs[-1].index} '{clip(cs[0].name, 16)}'..'{clip(cs[-1].name, 16)}' [{units}]"


def summary(cands: list[Candidate]) -> str:
    """The candidates in a few words: one channel with its reason, or the channels counted by reason, e.g.
    ``"40 channels: 40 command outputs (channels 0..39 'DA0'..'DA39' [V])"``; at most `SUMMARY_CHARS`."""
    if len(cands) == 1:
        c = cands[0]
        return clip(f"channel {c.index} '{clip(c.name, 24)}' [{c.units}]: {c.reason}", SUMMARY_CHARS)
    groups: dict[str, list[Candidate]] = {}
    for c in cands:
        groups.setdefault(c.code, []).append(c)
    parts = []
    for code, cs in groups.items():
        one, many = _SHORT.get(code, ("channel", "channels"))
        parts.append(f"{len(cs)} {one if len(cs) == 1 else many} ({_names(cs)})")
    return clip(f"{len(cands)} channels: " + "; ".join(parts), SUMMARY_CHARS)


def report(cands: list[Candidate], chosen: list[int]) -> dict:
    """The channel report's columns (`Recording.channel_report` makes the DataFrame when read)."""
    return {
        "channel": [c.index for c in cands], "name": [c.name for c in cands],
        "units": [c.units for c in cands], "chosen": [c.index in chosen for c in cands],
        "score": [c.score for c in cands], "code": [c.code for c in cands], "reason": [c.reason for c in cands],
    }


def match_channel(cands: list[Candidate], channel, file: str | None = None) -> Candidate:
    """The candidate named by `channel` (its position or its name).

    Raises
    ------
    TypeError
        When `channel` is neither an int nor a str.
    RecordingError
        When the file has no such channel (the message lists them).
    """
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
    shown = cands if len(cands) <= 6 else cands[:3] + cands[-1:]
    listing = ", ".join(f"{c.index} '{clip(c.name, 24)}' [{c.units}]" for c in shown)
    if len(cands) > 6:
        listing = listing.replace(f", {shown[-1].index} '", f", …, {shown[-1].index} '") + f" ({len(cands)} channels)"
    raise RecordingError(f"{file + ': ' if file else ''}channel {channel!r} not found; the file has: {listing}",
                         code="no_such_channel", file=file, channel_reasons=channel_reasons(cands))


def choose(cands: list[Candidate], *, channel=None, single_segment: bool = True, file=None,
           max_samples: int | None = None) -> list[int]:
    """Indices of the chosen membrane-potential candidate(s) (assessing every candidate).

    ``channel`` forces the choice. Otherwise the best-scoring plausible candidate; an NWB file with one
    CurrentClampSeries per sweep in a single segment gives each of them.

    Raises
    ------
    RecordingError
        When no candidate is a current-clamp membrane potential (`refusal` says why).
    """
    if channel is not None:
        chosen_c = match_channel(cands, channel, file)
        assess_candidates(cands, max_samples)
        return [chosen_c.index]
    assess_candidates(cands, max_samples)
    ok = sorted((c for c in cands if c.ok), key=lambda c: -c.score)
    if not ok:
        msg, code = refusal(file, cands)
        raise RecordingError(msg, code=code, file=file, units=",".join(sorted({c.units for c in cands})),
                             channel_reasons=channel_reasons(cands))
    cc = [c for c in ok if c.nwb_type in _VM_NWB]
    # NWB files hold one CurrentClampSeries per sweep in one segment: each becomes a sweep.
    return [c.index for c in cc] if single_segment and len(cc) > 1 else [ok[0].index]
