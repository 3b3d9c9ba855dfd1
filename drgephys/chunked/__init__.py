"""Long recordings analysed in chunks: `analyze_chunked` (same tables as `drgephys.analyze`).

A sweep is cut into *cores* of ``chunk_s`` seconds; each core is read together with ``margin_s`` of data
on both sides (the *window*) through neo's lazy proxies (``AnalogSignalProxy.load(time_slice=...,
channel_indexes=[...])``), so raw samples in memory are bounded by the window, not by the recording.

Rules (what equals the in-memory analysis, and why):

- **Spikes** (`drgephys.spikes.detect_spikes` per window) are kept when their peak sample lies in the
  core; cores tile the sweep, so each spike is kept once. Detection is local (0.5 ms slopes, 5 ms rise,
  150 ms AHP end), so any margin above `min_margin_s` reproduces it, except the noise-adaptive cutoff
  ``max(detection_dvdt_mv_per_ms, noise_factor × robust SD of dV/dt)``, which is estimated per window. For
  ordinary noise the cutoff sits at its 10 mV/ms floor and windows and sweep agree exactly; over an hour a
  per-window estimate also follows slow changes in noise.
- **SSO episodes**, ``sso="decimated"`` (what ``"auto"`` uses up to `MAX_DECIMATED_S`): pass 1 builds
  the SSO detector's working trace of the whole sweep — spikes blanked at full rate and decimated by the
  detector's factor ``q`` window by window (window starts are multiples of ``q``, so the samples are
  those of the in-memory analysis) — and steps 3-6 of `drgephys.oscillations.detect_oscillations` run
  once on it (`drgephys.chunked.working`). Drift, mains lines and the aperiodic background are the
  whole-sweep estimates and episodes have no chunk edge. Memory for this pass grows with the sweep at the
  ~600 Hz working rate (peak RSS 1.3-1.4 GB for one hour at 10 or 50 kHz, 0.37 GB for 10 min), hence
  the `MAX_DECIMATED_S` limit of ``"auto"``. Pass 2 re-reads each window to classify the SSO trigger of
  its spikes (`classify_triggers`) with the sweep's episodes.
- ``sso="window"`` (what ``"auto"`` uses for longer sweeps; memory bounded by the window): episodes are
  detected per window and kept when their start lies in the core (± `windows.EPISODE_KEEP_TOL_S`); an
  episode seen by two windows is kept from the one where it lies farthest from the window edges. The
  aperiodic background and mains are then per-window estimates: on four simulated 60-90 s traces in 7 s
  chunks, episode frequencies differed from the in-memory ones by up to 0.55 Hz, amplitudes by up to
  1.3 %, a few spikes changed SSO-trigger label and once a pair of neighbouring episodes merged
  differently (spikes were identical). Episodes longer than ``margin_s - 0.55 s`` are cut at the window end.
- **Per-sweep summaries** over the whole sweep: resting Vm from a streaming histogram (1 µV bins: the
  median of core samples outside spike spans, exact to 0.5 µV), spike count and rate, discharge pattern
  from all spike times, SSO summary by `drgephys.oscillations.summarize_oscillations` over all episodes.

Readers without lazy loading (text, NWB in neo 0.14, irregular signals) fall back to `drgephys.load`
(the sweep in memory); the sweep is still analysed in chunks and the ``message`` column says so.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pandas as pd

from .. import tables
from .._validation import check_positive
from ..analysis import AnalysisParams, AnalysisResult, _assemble, analyze_trace, status_row
from ..io import Recording, Trace
from ..io.load import close_io
from . import windows as W
from .sources import Sweep, lazy_sweeps, memory_sweep

__all__ = ["analyze_chunked", "min_margin_s", "plan_windows", "resolve_sso_mode", "SSO_MODES", "MAX_DECIMATED_S"]

SSO_MODES = ("auto", "decimated", "window")
#: ``sso="auto"`` uses the whole-sweep decimated pass up to this sweep duration (s) and per-window SSO detection
#: beyond it: the decimated pass holds ~1.1 GB per hour of sweep (wavelet power and candidate maps at the
#: ~600 Hz working rate, whatever the sampling rate), and on hour-long simulated sweeps the whole-sweep
#: detector chained neighbouring episodes (longest 19 s for 3 s true episodes; 736 of 970 true episodes
#: matched vs 952 per window; benchmarks/results/long_recording.md).
MAX_DECIMATED_S = 600.0


def resolve_sso_mode(sso: str, duration_s: float) -> str:
    """The SSO mode used for a sweep of ``duration_s`` seconds (``"auto"`` resolved by `MAX_DECIMATED_S`).

    Raises
    ------
    ValueError
        When `sso` is not one of `SSO_MODES`.
    """
    if sso not in SSO_MODES:
        raise ValueError(f"`sso` must be one of {SSO_MODES}; got {sso!r}")
    if sso == "auto":
        return "decimated" if duration_s <= MAX_DECIMATED_S else "window"
    return sso
min_margin_s = W.min_margin_s
plan_windows = W.plan_windows


def _sso_on_decimated(y, fs, q, lo, hi, spikes, n, params):
    """SSO episodes of the whole sweep from its decimated working trace ``y`` (spikes filled at full rate)."""
    from ..oscillations import preprocess as pp
    from .working import detect_on_working

    osc = params.oscillations
    ss, se = pp.spike_spans(spikes, n, fs, osc.spike_pre_ms, osc.spike_post_ms)
    bs, be = np.floor(ss / q).astype(np.int64) - 1, np.ceil(se / q).astype(np.int64) + 1
    return detect_on_working(y, fs / q, bs, be, osc, lo, hi)


def _analyze_sweep(sw: Sweep, params: AnalysisParams, label: str, chunk_s: float, margin_s: float, sso: str):
    from ..oscillations import detect_oscillations, summarize_oscillations
    from ..spikes import classify_discharge, classify_triggers, detect_spikes

    fs, n = sw.fs, sw.n
    sso = resolve_sso_mode(sso, n / fs)
    try:
        q, lo, hi = W.decimation(fs, params.oscillations)
        osc = params.oscillations
        sso_err = "" if n / fs >= osc.min_cycles / lo else (
            f"the sweep must last at least {osc.min_cycles:g} cycles of the band bottom ({lo:g} Hz), i.e. "
            f"{osc.min_cycles / lo:g} s; got {n / fs:g} s")
    except ValueError as err:   # too slowly sampled for the SSO band: spikes are still measured
        q, lo, hi, sso_err = 1, None, None, str(err)
    plan = W.plan_windows(n, fs, chunk_s, margin_s, q)
    hist = W.RestingHistogram()
    win_spk, kept, ys, epis, notes, n_fail = [], [], [], [], [], 0
    for ws, cs, ce, we in plan.tolist():   # one iteration per chunk; each step is whole-array work
        v = sw.read(ws, we)
        spk = detect_spikes(v, fs, params=params.spikes)
        hist.add(v, ws, cs, ce, spk)
        if sso == "decimated":
            if not sso_err:
                ys.append(W.decimated_core(v, fs, ws, cs, ce, spk, q, hi, params.oscillations))
            win_spk.append(spk)
            kept.append(W.keep_core_spikes(spk, fs, ws, cs, ce))
            continue
        try:
            epi = detect_oscillations(v, fs, spikes=spk, params=params.oscillations)
        except ValueError as err:
            epi = W.empty_episodes()
            note = f"no SSO analysis in <n> of {len(plan)} windows: {err}"
            n_fail += 1
            if note not in notes:
                notes.append(note)
        spk = classify_triggers(v, fs, spk, epi, params=params.trigger)
        kept.append(W.keep_core_spikes(spk, fs, ws, cs, ce))
        epis.append(W.window_episodes(epi, fs, ws, cs, ce, we, n))
    no_sso = False
    if sso == "decimated":
        try:
            if sso_err:
                raise ValueError(sso_err)
            y = np.concatenate(ys)
            del ys
            epi = _sso_on_decimated(y, fs, q, lo, hi, pd.concat(kept, ignore_index=True), n, params)
            del y
        except ValueError as err:   # too short or too slowly sampled for the SSO band
            epi, no_sso = W.empty_episodes(), True
            notes.append(f"no SSO analysis: {err}")
        kept = []
        for (ws, cs, ce, we), spk in zip(plan.tolist(), win_spk):   # pass 2: SSO trigger of each spike
            v = sw.read(ws, we)
            spk = classify_triggers(v, fs, spk, W.episodes_in_window(epi, ws, we, fs), params=params.trigger)
            kept.append(W.keep_core_spikes(spk, fs, ws, cs, ce))
        epi = epi.reset_index(drop=True)
    else:
        epi = W.dedupe_episodes(pd.concat(epis, ignore_index=True))
        no_sso = n_fail == len(plan)
        notes = [m.replace("<n>", str(n_fail)) for m in notes]
    spk = pd.concat(kept, ignore_index=True)
    duration = n / fs
    summary = summarize_oscillations(epi, duration) if not no_sso else {
        "sso_detected": None, "sso_frequency_hz": np.nan, "sso_amplitude_mv": np.nan, "sso_time_fraction": np.nan}
    times = spk["peak_s"].to_numpy(dtype=float)
    pattern = classify_discharge(times, duration, sso_frequency_hz=summary.get("sso_frequency_hz"))
    msg = "; ".join([m for m in (sw.note, f"analysed in {len(plan)} chunks of {chunk_s:g} s + {margin_s:g} s "
                                 f"margins (SSO: {sso})") if m] + notes)
    key = {"file": label, "sweep": sw.sweep, "channel": sw.channel}
    row = dict(key, status="ok", message=msg, duration_s=duration, fs_hz=fs, resting_vm_mv=hist.median(),
               spike_count=int(len(spk)), spike_rate_hz=len(spk) / duration, firing_pattern=pattern,
               **{k: summary[k] for k in ("sso_detected", "sso_frequency_hz", "sso_amplitude_mv",
                                           "sso_time_fraction")})
    epi, spk = epi.copy(), spk.copy()
    for df, cols in ((epi, ("start_s", "end_s")), (spk, ("peak_s", "threshold_s"))):
        for c in cols:
            df[c] = df[c] + sw.t0
        for k, val in key.items():
            df.insert(list(key).index(k), k, val)
    return row, tables.conform(epi, tables.OSCILLATIONS_COLUMNS), tables.conform(spk, tables.SPIKES_COLUMNS)


def _sources(path_or_trace, params, chunk_s, file_label):
    """(sources, skipped, io, label) for any accepted input."""
    if isinstance(path_or_trace, Trace):
        return [path_or_trace], [], None, file_label if file_label is not None else (path_or_trace.file or "")
    if isinstance(path_or_trace, Recording):
        return (list(path_or_trace), list(path_or_trace.skipped), None,
                file_label if file_label is not None else (path_or_trace.file or ""))
    if isinstance(path_or_trace, (str, os.PathLike)):
        label = file_label if file_label is not None else str(path_or_trace)
        lazy = lazy_sweeps(path_or_trace, params.channel, params.units, chunk_s)
        if lazy is not None:
            return lazy[0], lazy[1], lazy[2], label
        from ..io import load

        rec = load(path_or_trace, channel=params.channel, units=params.units)
        note = f"reader {rec.reader} has no lazy loading: the sweep was loaded into memory"
        return [memory_sweep(t, note) if t.times is None else t for t in rec], list(rec.skipped), None, label
    raise TypeError("`path_or_trace` must be a file path or a drgephys Trace/Recording; got "
                    f"{type(path_or_trace).__name__}")


def analyze_chunked(path_or_trace, *, chunk_s: float = 60.0, margin_s: float = 5.0,
                    params: AnalysisParams | None = None, channel=None, units: str | None = None,
                    sso: str = "auto", file_label: str | None = None) -> AnalysisResult:
    """Analyse a long recording in chunks, with raw samples in memory bounded by the chunk size.

    Parameters
    ----------
    path_or_trace : str, Path, Trace or Recording
        A recording file (read lazily through neo where the reader supports it) or in-memory sweeps.
    chunk_s : float
        Core length of each chunk, s (default 60 s: 3 M samples at 50 kHz).
    margin_s : float
        Data analysed on each side of a core, s (default 5 s); at least `min_margin_s` (0.69 s with default
        parameters). With ``sso="window"`` episodes up to ``margin_s - 0.55 s`` long are measured whole.
    params : AnalysisParams, optional
        All analysis parameters (as `drgephys.analyze`).
    channel, units : optional
        Override the membrane-potential channel / units (replace ``params.channel`` / ``params.units``).
    sso : {"auto", "decimated", "window"}
        SSO detection on the whole sweep's decimated copy (equals the in-memory analysis) or per window
        (strictly bounded memory; background and mains per window). ``"auto"`` (default): decimated for
        sweeps up to `MAX_DECIMATED_S` (10 min), per window beyond. See the module docstring.
    file_label : str, optional
        Value of the ``file`` column (default: the path).

    Returns
    -------
    AnalysisResult
        The tables of `drgephys.analyze`; ``message`` notes the chunking (and any in-memory fallback).

    Raises
    ------
    TypeError, ValueError
        On invalid `chunk_s`, `margin_s`, `sso`, `params` or input type.
    RecordingError
        When a file is not a usable current-clamp recording.

    Examples
    --------
    >>> import drgephys
    >>> from drgephys.chunked import analyze_chunked
    >>> from drgephys.sim import simulate_trace
    >>> sim = simulate_trace(duration_s=20.0, fs_hz=20000.0, seed=1)
    >>> res = analyze_chunked(drgephys.Trace(sim.v, sim.fs), chunk_s=7.0)
    >>> list(res.recordings["status"])
    ['ok']
    """
    params = AnalysisParams() if params is None else params
    if not isinstance(params, AnalysisParams):
        raise TypeError(f"`params` must be an AnalysisParams; got {type(params).__name__}")
    chunk_s = check_positive(chunk_s, "chunk_s", "s")
    margin_s = check_positive(margin_s, "margin_s", "s")
    need = W.min_margin_s(params)
    if margin_s < need:
        raise ValueError(f"`margin_s` must be at least {need:.3g} s (wavelet support + drift window + spike span "
                         f"for these parameters); got {margin_s:g}. Use a larger margin.")
    resolve_sso_mode(sso, 0.0)
    if channel is not None or units is not None:
        params = dataclasses.replace(params, channel=params.channel if channel is None else channel,
                                     units=params.units if units is None else units)
    sources, skipped, io, label = _sources(path_or_trace, params, chunk_s, file_label)
    rows, epis, spks = [], [], []
    try:
        for src in sources:
            if isinstance(src, Trace) and src.times is not None:   # irregular sampling: in-memory analysis
                row, epi, spk = analyze_trace(src, params, file_label=label)
                row["message"] = "; ".join(m for m in (row["message"], "irregular sampling: not chunked") if m)
            else:
                sw = memory_sweep(src) if isinstance(src, Trace) else src
                try:
                    row, epi, spk = _analyze_sweep(sw, params, label, chunk_s, margin_s, sso)
                except ValueError as err:   # e.g. a sweep too short to measure anything
                    rows.append(status_row(label, sweep=sw.sweep, channel=sw.channel, status="refused",
                                           message=f"sweep {sw.sweep}: {err}"))
                    continue
            rows.append(row)
            epis.append(epi)
            spks.append(spk)
    finally:
        close_io(io)
    for s in skipped:
        rows.append(status_row(label, sweep=s["sweep"], channel=s["channel"], status="refused",
                               message=s["message"]))
    return _assemble(rows, epis, spks, params)
