"""From neo segments to sweeps: the chosen membrane-potential channel of every segment, in mV.

`open_segments` is the one place a recording's sweeps are made: each is an in-memory `Trace`, or, when the
caller sets ``max_samples`` and the reader is lazy, a `Sweep` read from the file window by window. Both are
assessed by the same plausibility rule on the same strided subsample (`drgephys.io.channels`), so a
sweep is refused or kept, and its samples are, whatever the execution mode. `recording_from_segments`
(everything in memory) builds the `Recording` of `drgephys.load` and `from_neo`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import RecordingError
from . import channels as ch
from . import plausible as pl
from . import stimulus as stim
from .sweep import Sweep, non_finite_error
from .trace import Recording, Trace
from .units import in_units

__all__ = ["Opened", "open_segments", "recording_from_segments", "from_neo", "make_trace"]


@dataclass
class Opened:
    """The sweeps of one file or neo object, as `open_segments` found them.

    Attributes
    ----------
    items : list of Trace or Sweep
        One per usable sweep, in order: a `Trace` in memory, or a lazy `Sweep`.
    skipped : list of dict
        Sweeps that could not be used: ``{sweep, channel, code, message}``.
    report : dict
        Columns of the channel-choice report (`Recording.channel_report`).
    reader : str
        The neo IO class (or ``"neo objects"``).
    file : str or None
    """

    items: list
    skipped: list = field(default_factory=list)
    report: dict = field(default_factory=dict)
    reader: str = ""
    file: str | None = None
    io: object = None

    def close(self) -> None:
        """Close the neo IO the lazy sweeps read from (no-op when there is none)."""
        io, self.io = self.io, None
        close = getattr(io, "close", None)
        if callable(close):
            try:
                close()
            except Exception:   # closing a reader that already read everything cannot lose data
                pass

    def __enter__(self) -> "Opened":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _regularize(v: np.ndarray, times: np.ndarray):
    """Return (fs, t0, times_or_None): irregular samples become regular when their steps are uniform."""
    if times.size < 2:
        raise RecordingError("an irregularly sampled trace needs at least 2 samples", code="too_short")
    dt = np.diff(times)
    med = float(np.median(dt))
    if med <= 0:
        raise RecordingError("sample times do not increase", code="bad_time_base")
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


def _implausible(file, sweep, cand: ch.Candidate, why: str) -> RecordingError:
    return RecordingError(f"{file or 'data'}: sweep {sweep} channel {cand.index} '{cand.name}' [{cand.units}]: {why}",
                          file=file, channel=cand.index, units=cand.units, code="implausible_sweep")


def make_trace(cand: ch.Candidate, *, file, sweep, reader, gain=1.0, offset_mv=0.0, units_override=None) -> Trace:
    """Load one candidate column of one segment as a `Trace` in mV, or raise RecordingError."""
    import quantities as pq

    raw, sig = ch._load_column(cand)
    plain = gain == 1.0 and offset_mv == 0.0
    if plain and cand.v_mv is not None:      # assessed while choosing the channel: no second pass
        v, why, finite = cand.v_mv, cand.why, cand.finite
    else:
        units = units_override if units_override is not None else sig.units
        v = ch._to_mv(raw, units)
        if not plain:
            v = v * gain + offset_mv
        _, why, _, finite = pl.assess_level(v)
    if why:
        raise _implausible(file, sweep, cand, why)
    meta = {"channel_name": cand.name, "reader": reader, "nwb_type": cand.nwb_type}
    if cand.irregular:
        fs, t0, times = _regularize(v, np.asarray(sig.times.rescale(pq.s).magnitude, dtype=np.float64))
    else:
        fs = in_units(sig.sampling_rate, "Hz")
        t0, times = in_units(sig.t_start, "s"), None
    if not finite:
        raise non_finite_error(v, 0, fs, file=file, sweep=sweep, channel=cand.index, units=cand.units)
    return Trace(v=v, fs=fs, t0=t0, file=file, sweep=sweep, channel=cand.index,
                 units=cand.units, times=times, metadata=meta, _checked_v=True)  # finite: checked above


def make_lazy_sweep(cand: ch.Candidate, *, file, sweep, reader, gain=1.0, offset_mv=0.0, units_override=None,
                    chunk_s=None) -> Sweep:
    """A lazy `Sweep` of one candidate column (a long, regularly sampled lazy proxy), assessed from its
    strided subsample read block by block (the rule `make_trace` applies in memory), or RecordingError."""
    proxy = cand.signal
    factor = ch._units_kind(units_override if units_override is not None else proxy.units)[1]
    if not np.isfinite(factor):
        raise RecordingError(f"{file or 'data'}: sweep {sweep} channel {cand.index} '{cand.name}' is in "
                             f"{cand.units}, not a voltage; pass units='mV' if it is a mislabelled potential",
                             file=file, channel=cand.index, units=cand.units, code="not_a_voltage")
    read = ch.column_reader(proxy, cand.column, factor, chunk_s, gain=gain, offset_mv=offset_mv)
    n = int(proxy.shape[0])
    fs = in_units(proxy.sampling_rate, "Hz")
    plain = gain == 1.0 and offset_mv == 0.0
    if plain and cand.why is not None and units_override is None:
        why, finite = cand.why, cand.finite          # assessed while choosing the channel
    else:
        _, why, _, finite = pl.streamed_assessment(read, n)
    if why:
        raise _implausible(file, sweep, cand, why)
    if not finite:   # locate the first bad sample for the message (rare: a second pass)
        for i0 in range(0, n, 1 << 22):
            x = read(i0, min(i0 + (1 << 22), n))
            if not np.all(np.isfinite(x)):
                raise non_finite_error(x, i0, fs, file=file, sweep=sweep, channel=cand.index, units=cand.units)
    return Sweep(n, fs, read, t0=in_units(proxy.t_start, "s"), file=file, sweep=sweep,
                 channel=cand.index, channel_name=cand.name or str(cand.index), units=cand.units, reader=reader)


def open_segments(segments, *, channel=None, file=None, reader="", units=None, gain=1.0, offset_mv=0.0,
                  max_samples: int | None = None, chunk_s: float | None = None, commands=None) -> Opened:
    """Pick the membrane-potential channel(s) in neo segments and make one item per sweep.

    Parameters
    ----------
    segments : list of neo.Segment
        Eager or lazy segments.
    channel : int or str, optional
        Force the channel (position or name).
    units : str, optional
        Override the declared units.
    gain, offset_mv : float
        ``v_mV = value * gain + offset_mv``.
    max_samples : int, optional
        Sweeps of lazy proxies longer than this stay on disk (lazy `Sweep`, read by window); None: every
        sweep in memory (`Trace`).
    chunk_s : float, optional
        Read-ahead of lazy sweeps (seconds per file access).
    commands : (list of ndarray, str), optional
        The stimulus command of every segment in pA and its name (`drgephys.io.stimulus.protocol_commands`);
        None: a recorded current channel of each segment marks the stimulus, when there is one in memory.

    Raises
    ------
    RecordingError
        When no candidate is a current-clamp membrane potential, or no sweep is usable; the message names
        the file, every channel with its units and the reason it was rejected.
    """
    segments = list(segments)
    first = next((s for s in segments if ch.segment_candidates(s)), None)
    if first is None:
        raise RecordingError(f"{file or 'data'}: no signals found (empty file or no analog channels)",
                             file=file, code="empty")
    cands = ch.segment_candidates(first, units)
    chosen = ch.choose(cands, channel=channel, single_segment=len(segments) == 1, file=file,
                       max_samples=max_samples)
    items, skipped = [], []
    sweep = 0
    for k, seg in enumerate(segments):
        # the first segment's candidates were assessed while choosing the channel: reuse them
        seg_cands = cands if seg is first else ch.segment_candidates(seg, units)
        for idx in chosen:
            if idx >= len(seg_cands):
                skipped.append({"sweep": sweep, "channel": idx, "code": "no_channel_in_sweep",
                                "message": f"sweep {sweep} has no channel {idx}"})
                sweep += 1
                continue
            c = seg_cands[idx]
            kw = dict(file=file, sweep=sweep, reader=reader, gain=gain, offset_mv=offset_mv, units_override=units)
            try:
                if ch.is_lazy_and_long(c, max_samples):
                    item = make_lazy_sweep(c, chunk_s=chunk_s, **kw)
                else:
                    item = make_trace(c, **kw)
                items.append(_with_stimulus(item, seg_cands, idx, commands, k, max_samples))
            except RecordingError as err:
                skipped.append({"sweep": sweep, "channel": idx, "code": err.code, "message": err.detail})
            sweep += 1
    if not items:
        first = ch.clip(skipped[0]["message"], 160) if skipped else "no sweep"
        n = f"{len(skipped)} sweeps refused, the first: " if len(skipped) > 1 else ""
        raise RecordingError(f"{file or 'data'}: no usable sweep ({n}{first})", file=file, code="no_usable_sweep",
                             channel_reasons=[s["message"] for s in skipped])
    return Opened(items, skipped, ch.report(cands, chosen), reader, file)


def _with_stimulus(item, cands, chosen: int, commands, segment: int, max_samples):
    """`item` (Trace or Sweep) with the stimulus windows its file carries (none found: unchanged)."""
    fs = item.fs
    n = item.n_samples if isinstance(item, Trace) else item.n
    if isinstance(item, Trace) and item.times is not None:
        return item                                   # irregular samples: no sample-aligned command
    if commands is not None:
        c = commands[0][segment] if segment < len(commands[0]) else None
        name = f"ABF protocol '{commands[1]}'"
    else:
        cand = stim.command_candidate(cands, chosen)
        if cand is None or cand.irregular or ch.is_lazy_and_long(cand, max_samples):
            return item
        raw, sig = ch._load_column(cand)
        c, name = stim.to_pa(raw, sig.units), f"channel '{cand.name or cand.index}'"
    if c is None or c.size != n:
        return item
    w = stim.windows_from_command(c, fs)
    if isinstance(item, Trace):
        item.metadata["stimulus_windows_s"], item.metadata["stimulus_source"] = w, f"file: {name}"
        return item
    return item.with_stimulus(w, f"file: {name}")


def recording_from_segments(segments, *, channel=None, file=None, reader="", units=None,
                            gain=1.0, offset_mv=0.0) -> Recording:
    """`open_segments` with every sweep in memory, as a `Recording`."""
    op = open_segments(segments, channel=channel, file=file, reader=reader, units=units, gain=gain,
                       offset_mv=offset_mv)
    return Recording(op.items, file=file, channel_report=op.report, reader=reader, skipped=op.skipped)


def from_neo(obj, *, channel=None, file: str | None = None) -> Recording:
    """Convert a neo `Block`, `Segment`, `AnalogSignal` or `IrregularlySampledSignal` to a `Recording`.

    The membrane-potential channel is chosen exactly as `drgephys.load` does (units and plausibility);
    `channel` overrides the choice.

    Examples
    --------
    >>> import neo, quantities as pq, numpy as np
    >>> from drgephys.io import from_neo
    >>> sig = neo.AnalogSignal(np.full((1000, 1), -60.0) + np.random.default_rng(0).normal(0, 1, (1000, 1)),
    ...                        units="mV", sampling_rate=10 * pq.kHz)
    >>> rec = from_neo(sig)
    >>> rec[0].fs
    10000.0
    """
    import neo

    if isinstance(obj, neo.Block):
        segments = list(obj.segments)
    elif isinstance(obj, neo.Segment):
        segments = [obj]
    elif isinstance(obj, (neo.AnalogSignal, neo.IrregularlySampledSignal)):
        seg = neo.Segment()
        if isinstance(obj, neo.AnalogSignal):
            seg.analogsignals.append(obj)
        else:
            seg.irregularlysampledsignals.append(obj)
        segments = [seg]
    else:
        raise TypeError(
            "`obj` must be a neo Block, Segment, AnalogSignal or IrregularlySampledSignal; "
            f"got {type(obj).__name__}"
        )
    return recording_from_segments(segments, channel=channel, file=file, reader="neo objects")
