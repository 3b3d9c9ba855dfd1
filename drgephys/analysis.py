"""One recording in, three tables out: the analysis pipeline for a single file or trace.

``io`` (load) → ``spikes`` (detect APs) → ``oscillations`` (SSO episodes, spikes blanked) →
``spikes`` (SSO trigger, discharge pattern) → tables (`drgephys.tables`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import tables
from .errors import RecordingError
from .io import Recording, Trace, load


def _default(factory_path: str):
    def make():
        mod, name = factory_path.rsplit(".", 1)
        import importlib

        return getattr(importlib.import_module(mod), name)()
    return field(default_factory=make)


@dataclass(frozen=True)
class AnalysisParams:
    """Every parameter of an analysis, saved with each result (``params.json``) for provenance.

    Attributes
    ----------
    spikes : drgephys.spikes.SpikeParams
        Action-potential detection and features.
    oscillations : drgephys.oscillations.OscillationParams
        SSO episode detection.
    trigger : drgephys.spikes.TriggerParams
        Rule deciding whether a spike arose from an SSO peak.
    channel : int or str or None
        Membrane-potential channel override (None = chosen by units and plausibility).
    units : str or None
        Units override for files that mislabel the membrane potential.
    chunk_s : float or None
        Analyse files in chunks of this many seconds through neo's lazy loading
        (`drgephys.chunked.analyze_chunked`), for recordings too long to hold in memory; None = in memory.
    """

    spikes: Any = _default("drgephys.spikes.SpikeParams")
    oscillations: Any = _default("drgephys.oscillations.OscillationParams")
    trigger: Any = _default("drgephys.spikes.TriggerParams")
    channel: Any = None
    units: str | None = None
    chunk_s: float | None = None

    def __post_init__(self):
        from .io.load import _check_units
        from .oscillations import OscillationParams
        from .spikes import SpikeParams, TriggerParams

        # fail at once, not as one error row per file
        for name, cls in (("spikes", SpikeParams), ("oscillations", OscillationParams),
                          ("trigger", TriggerParams)):
            value = getattr(self, name)
            if not isinstance(value, cls):
                article = "an" if cls.__name__[0] in "AEIOU" else "a"
                raise TypeError(f"`{name}` must be {article} {cls.__name__}; got {type(value).__name__}. "
                                f"Build one with drgephys.{cls.__module__.split('.')[1]}.{cls.__name__}(...).")
        _check_units(self.units)

    def to_dict(self) -> dict:
        """Plain-JSON form (nested dicts; tuples become lists)."""
        return json_safe(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, d: dict | None) -> "AnalysisParams":
        """Build from a (possibly partial) nested dict, e.g. a parsed TOML config.

        Raises
        ------
        ValueError
            On unknown sections or fields, naming them and the valid ones.
        """
        d = dict(d or {})
        base = cls()
        kwargs = {}
        for f in dataclasses.fields(cls):
            if f.name not in d:
                continue
            val = d.pop(f.name)
            current = getattr(base, f.name)
            if dataclasses.is_dataclass(current):
                if not isinstance(val, dict):
                    raise ValueError(f"`{f.name}` must be a table of parameters; got {val!r}")
                valid = {g.name for g in dataclasses.fields(current)}
                unknown = set(val) - valid
                if unknown:
                    raise ValueError(f"unknown parameter(s) {sorted(unknown)} in [{f.name}]; valid: {sorted(valid)}")
                fixed = {k: tuple(v) if isinstance(v, list) else v for k, v in val.items()}
                kwargs[f.name] = dataclasses.replace(current, **fixed)
            else:
                kwargs[f.name] = val
        if d:
            raise ValueError(f"unknown parameter section(s) {sorted(d)}; valid: "
                             f"{[f.name for f in dataclasses.fields(cls)]}")
        return dataclasses.replace(base, **kwargs)


def json_safe(obj):
    """Convert tuples, numpy scalars and arrays to JSON-friendly types, recursively."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return obj


class AnalysisResult:
    """The three tables of an analysis plus the parameters that produced them.

    Attributes
    ----------
    recordings : DataFrame
        One row per sweep (columns in `drgephys.tables.RECORDINGS_COLUMNS`).
    oscillations : DataFrame
        One row per SSO episode.
    spikes : DataFrame
        One row per action potential.
    params : AnalysisParams
    """

    def __init__(self, recordings, oscillations, spikes, params):
        # each table is a DataFrame, or `tables.Parts` built into one on first access (a batch combines
        # the parts of all its files into one frame per table instead)
        self._raw = {"recordings": recordings, "oscillations": oscillations, "spikes": spikes}
        self.params = params

    def _table(self, name: str) -> pd.DataFrame:
        t = self._raw[name]
        if isinstance(t, tables.Parts):
            t = self._raw[name] = t.frame()
        return t

    def n_rows(self, name: str) -> int:
        """Rows of the table `name` (``"recordings"``, ``"oscillations"`` or ``"spikes"``) without building
        it."""
        return len(self._raw[name])

    def column(self, name: str, column: str) -> np.ndarray:
        """The values of one column of the table `name`, without building the table when it is not built
        yet."""
        t = self._raw[name]
        return t.values(column) if isinstance(t, tables.Parts) else t[column].to_numpy()

    @classmethod
    def concat(cls, results: list, params) -> "AnalysisResult":
        """One result holding the rows of `results` in order (each table built once, from every result's
        parts: a batch pays pandas' constructor three times, not three times per file)."""
        return cls(*(tables.combine([r._raw[name] for r in results], columns) for name, columns in
                     (("recordings", tables.RECORDINGS_COLUMNS), ("oscillations", tables.OSCILLATIONS_COLUMNS),
                      ("spikes", tables.SPIKES_COLUMNS))), params)

    recordings = property(lambda self: self._table("recordings"),
                          lambda self, df: self._raw.__setitem__("recordings", df))
    oscillations = property(lambda self: self._table("oscillations"),
                            lambda self, df: self._raw.__setitem__("oscillations", df))
    spikes = property(lambda self: self._table("spikes"),
                      lambda self, df: self._raw.__setitem__("spikes", df))

    def __repr__(self) -> str:
        n_ok = int((self.recordings["status"] == "ok").sum()) if len(self.recordings) else 0
        return (f"AnalysisResult({len(self.recordings)} sweeps ({n_ok} ok), {len(self.oscillations)} SSO "
                f"episodes, {len(self.spikes)} spikes)")

    def _repr_html_(self) -> str:
        head = f"<p><b>drgephys</b> — {self!r}</p>"
        cols = ["file", "sweep", "status", "resting_vm_mv", "sso_detected", "sso_frequency_hz",
                "sso_amplitude_mv", "spike_count", "firing_pattern"]
        return head + self.recordings[[c for c in cols if c in self.recordings]].head(20).to_html(index=False)


def _resting_vm(v: np.ndarray, threshold_index: np.ndarray, end_index: np.ndarray) -> float:
    """Median membrane potential (mV) outside the spikes' ``[threshold_index, end_index]`` spans (spikes and
    their afterhyperpolarisations); the whole sweep's median when the spikes cover it."""
    from ._numerics.order import median  # exact np.median without partitioning the whole sweep
    from ._numerics.spans import merge_spans

    s, e = merge_spans(threshold_index, end_index + 1, v.size)
    return median(v) if int(np.sum(e - s)) >= v.size else median(v, outside=(s, e))


def _uniform(trace: Trace) -> tuple[np.ndarray, float, str]:
    """Regular samples for analysis: irregular traces are linearly resampled at their median rate."""
    if trace.times is None:
        return trace.v, trace.fs, ""
    t = trace.times
    grid = t[0] + np.arange(int(np.floor((t[-1] - t[0]) * trace.fs)) + 1) / trace.fs
    return np.interp(grid, t, trace.v), trace.fs, (f"irregular sampling resampled to {trace.fs:.6g} Hz")


def analyze_trace(trace: Trace, params: AnalysisParams | None = None, *, file_label: str | None = None):
    """Analyse one sweep; return (recording row dict, oscillations DataFrame, spikes DataFrame)."""
    row, epi, spk = _sweep_parts(trace, params, file_label=file_label)
    return row, epi.frame(), spk.frame()


def _sweep_parts(trace: Trace, params: AnalysisParams | None = None, *, file_label: str | None = None):
    """`analyze_trace` with its two tables as `tables.Parts` (not yet DataFrames).

    The steps call the array-level cores (`spike_columns`, `detect_checked`, `trigger_labels`): the trace
    is checked once (its finiteness inside spike detection's pass) and no intermediate DataFrame is built.
    """
    from ._validation import check_fs, check_v
    from .oscillations import summarize_oscillations
    from .oscillations.detect import detect_checked
    from .spikes import classify_discharge
    from .spikes.detect import spike_columns
    from .spikes.trigger import trigger_labels

    params = params or AnalysisParams()
    v, fs, note = _uniform(trace)
    fs = check_fs(fs)
    v = check_v(v, allow_nan=True)   # finiteness: checked by spike_columns (fused into its detection pass)
    key = {"file": file_label if file_label is not None else (trace.file or ""), "sweep": trace.sweep,
           "channel": str(trace.metadata.get("channel_name") or trace.channel)}
    duration = v.size / fs
    spk = spike_columns(v, fs, params=params.spikes)
    thr_i, end_i = spk["threshold_index"], spk["end_index"]
    notes = [note] if note else []
    try:
        epi = detect_checked(v, fs, thr_i, end_i, params=params.oscillations)
        summary = summarize_oscillations(epi, duration)
    except ValueError as err:  # too short or too slowly sampled for the SSO band: spikes are still measured
        epi = tables.empty(tables.OSCILLATIONS_COLUMNS).drop(columns=tables.KEY_COLUMNS)
        summary = {"sso_detected": None, "sso_frequency_hz": np.nan, "sso_amplitude_mv": np.nan,
                   "sso_time_fraction": np.nan}
        notes.append(f"no SSO analysis: {err}")
    if len(epi):   # (every episode column is float64: one block, read once)
        block = epi.to_numpy(dtype=np.float64)
        epi_cols = {c: block[:, i] for i, c in enumerate(epi.columns)}
    else:
        epi_cols = {}
    phase, osc = trigger_labels(v, fs, spk["threshold_s"], thr_i, end_i,
                                *(epi_cols.get(c, np.empty(0)) for c in ("start_s", "end_s", "frequency_hz")),
                                params=params.trigger)
    spk["sso_phase_rad"] = phase
    spk["trigger"] = np.where(osc, "oscillation", "other").astype(object)
    n_spikes = thr_i.size
    pattern = classify_discharge(spk["peak_s"], duration, sso_frequency_hz=summary.get("sso_frequency_hz"))
    row = dict(key, status="ok", message="; ".join(notes), duration_s=duration, fs_hz=fs,
               resting_vm_mv=_resting_vm(v, thr_i, end_i), spike_count=n_spikes,
               spike_rate_hz=n_spikes / duration if duration > 0 else np.nan, firing_pattern=pattern,
               **{k: summary[k] for k in ("sso_detected", "sso_frequency_hz", "sso_amplitude_mv",
                                           "sso_time_fraction")})
    return (row, _keyed(epi_cols, len(epi), key, trace.t0, ("start_s", "end_s"), tables.OSCILLATIONS_COLUMNS),
            _keyed(spk, n_spikes, key, trace.t0, ("peak_s", "threshold_s"), tables.SPIKES_COLUMNS))


def _keyed(cols: dict, n_rows: int, key: dict, t0: float, time_cols, columns: dict) -> tables.Parts:
    """Columns `cols` (arrays of `n_rows`) with the key columns in front and `t0` added to `time_cols`, as
    `tables.Parts` of `columns` (once built, the same frame as inserting the keys and calling
    `tables.conform`)."""
    data = dict(key)
    for c, a in cols.items():
        data[c] = a + t0 if c in time_cols else a
    return tables.Parts(columns, [(data, n_rows)])


def status_row(file_label: str, *, sweep=None, channel=None, status: str, message: str) -> dict:
    """A recordings row for a sweep or file that was not analysed."""
    return {"file": file_label, "sweep": sweep, "channel": None if channel is None else str(channel),
            "status": status, "message": message}


def analyze_recording(rec: Recording, params: AnalysisParams | None = None, *,
                      file_label: str | None = None) -> AnalysisResult:
    """Analyse every sweep of a loaded `Recording`; refused sweeps get a status row."""
    params = params or AnalysisParams()
    label = file_label if file_label is not None else (rec.file or "")
    rows, epis, spks = [], [], []
    for tr in rec:
        try:
            row, epi, spk = _sweep_parts(tr, params, file_label=label)
        except ValueError as err:  # e.g. a sweep too short to measure anything
            rows.append(status_row(label, sweep=tr.sweep, channel=tr.metadata.get("channel_name", tr.channel),
                                   status="refused", message=f"sweep {tr.sweep}: {err}"))
            continue
        rows.append(row)
        epis.append(epi)
        spks.append(spk)
    for s in rec.skipped:
        rows.append(status_row(label, sweep=s["sweep"], channel=s["channel"], status="refused",
                               message=s["message"]))
    return _assemble(rows, epis, spks, params)


def _assemble(rows, epis, spks, params) -> AnalysisResult:
    """The result of one file from its recordings rows (sorted by file, then sweep; rows without a sweep
    first) and its sweeps' episode and spike tables (`tables.Parts` or DataFrames)."""
    order = sorted(range(len(rows)), key=lambda i: (str(rows[i].get("file")), rows[i].get("sweep") is not None,
                                                    rows[i].get("sweep") or 0))
    recs = tables.Parts.from_rows([rows[i] for i in order], tables.RECORDINGS_COLUMNS)
    return AnalysisResult(recs, tables.combine(epis, tables.OSCILLATIONS_COLUMNS, build=False),
                          tables.combine(spks, tables.SPIKES_COLUMNS, build=False), params)


def analyze(path_or_trace, *, params: AnalysisParams | None = None, file_label: str | None = None,
            **overrides) -> AnalysisResult:
    """Analyse a recording file, a `Recording`, a `Trace`, or a neo object.

    Parameters
    ----------
    path_or_trace : str, Path, Recording, Trace, or neo Block/Segment/AnalogSignal
        What to analyse. Files are loaded read-only with `drgephys.load`.
    params : AnalysisParams, optional
        All parameters; keyword overrides (``spikes=SpikeParams(...)``, ``oscillations=...``,
        ``channel=1``, ``units="mV"``) replace single fields.

    Returns
    -------
    AnalysisResult
        ``.recordings``, ``.oscillations``, ``.spikes`` DataFrames and ``.params``.

    Raises
    ------
    RecordingError
        When a file is not a usable current-clamp recording (the message says why).

    Examples
    --------
    >>> import drgephys
    >>> from drgephys.sim import simulate_trace
    >>> sim = simulate_trace(duration_s=5.0, fs_hz=20000.0, seed=1)
    >>> res = drgephys.analyze(drgephys.Trace(sim.v, sim.fs))
    >>> list(res.recordings["status"])
    ['ok']
    """
    params = params or AnalysisParams()
    if overrides:
        valid = {f.name for f in dataclasses.fields(AnalysisParams)}
        unknown = set(overrides) - valid
        if unknown:
            raise TypeError(f"unknown analysis parameter(s) {sorted(unknown)}; valid: {sorted(valid)}")
        params = dataclasses.replace(params, **overrides)
    if isinstance(path_or_trace, Trace):
        row, epi, spk = analyze_trace(path_or_trace, params, file_label=file_label)
        return _assemble([row], [epi], [spk], params)
    if isinstance(path_or_trace, Recording):
        return analyze_recording(path_or_trace, params, file_label=file_label)
    if isinstance(path_or_trace, (str, os.PathLike)):
        if params.chunk_s is not None:
            from .chunked import analyze_chunked

            return analyze_chunked(path_or_trace, chunk_s=params.chunk_s, params=params, channel=params.channel,
                                   units=params.units, file_label=file_label)
        rec = load(path_or_trace, channel=params.channel, units=params.units)
        return analyze_recording(rec, params, file_label=file_label)
    try:
        import neo
    except ImportError:  # pragma: no cover - neo is a hard dependency
        neo = None
    if neo is not None and isinstance(path_or_trace, (neo.Block, neo.Segment, neo.AnalogSignal,
                                                      neo.IrregularlySampledSignal)):
        from .io import from_neo

        return analyze_recording(from_neo(path_or_trace, channel=params.channel), params, file_label=file_label)
    raise TypeError("`path_or_trace` must be a file path, drgephys Trace/Recording or neo object; "
                    f"got {type(path_or_trace).__name__}")


__all__ = ["AnalysisParams", "AnalysisResult", "analyze", "analyze_recording", "analyze_trace",
           "RecordingError"]
