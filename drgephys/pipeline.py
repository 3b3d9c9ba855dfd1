"""One sweep through the named stages, read top to bottom:

    load → quality → spikes → oscillations → trigger → QC flags → pattern → rows

Every stage is one function on plain arrays with its own frozen parameters, returning a small named result:

| stage        | function (module)                                 | parameters          | result             |
|--------------|---------------------------------------------------|---------------------|--------------------|
| load         | `Sweep.read` (`drgephys.io.sweep`)                | (file, channel)     | ndarray, mV        |
| quality      | `assess_quality` (`drgephys.quality`)             | `AnalysisParams`    | `Quality`          |
| spikes       | `find_spikes` (`drgephys.spikes.detect`)          | `SpikeParams`       | `SpikeTable`       |
|  (AHPs out)  | `remove_spikes` (`drgephys.spikes.removal`)       | `OscillationParams.removal()` | `SpikeFree` |
| oscillations | `find_episodes` (`drgephys.oscillations.detect`)  | `OscillationParams` | `EpisodeTable`     |
| trigger      | `label_triggers` (`drgephys.spikes.trigger`)      | `TriggerParams`     | `TriggerLabels`    |
| QC flags     | `evaluate` (`drgephys.qc`)                        | `QcParams`          | flags (codes)      |
| pattern      | `classify_discharge` (`drgephys.spikes.discharge`)| (shipped model)     | str                |
| rows         | `_tables` (here)                                  |                     | `SweepTables`      |

The sweep is read in the windows of `drgephys.windows` (one window for sweeps up to 75 s), from memory or
from the file: the same reads either way, so the same tables. Spikes, episodes and the resting potential
of the windows are stitched by the rules of `drgephys.windows`; the discharge pattern and SSO summary are
taken over the whole sweep.

`analyze_sweep` runs one sweep; `analyze_items` runs the sweeps of one file or `Recording` (refused
sweeps become status rows) into an `AnalysisResult`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import tables
from .errors import RecordingError
from .io.sweep import Sweep
from .io.trace import Trace
from .oscillations.detect import find_episodes, summarize
from .oscillations.episodes import EpisodeTable
from ._numerics.blas import one_blas_thread
from ._numerics.spans import merge_spans
from .params import AnalysisParams
from .qc import SHAPE_COLUMNS, QcEvidence, evaluate
from .quality import Quality, assess_quality
from .results import AnalysisResult, assemble, status_row
from .spikes.detect import find_spikes
from .spikes.discharge import classify_discharge
from .spikes.removal import remove_spikes
from .spikes.trigger import label_triggers
from .windows import RestingVm, Window, core_spikes, plan_windows, stitch_episodes

__all__ = ["analyze_sweep", "analyze_items", "SweepTables"]

_NO_SSO = {"sso_detected": None, "sso_frequency_hz": np.nan, "sso_amplitude_mv": np.nan, "sso_time_fraction": np.nan}


@dataclass
class SweepTables:
    """The rows stage's result for one sweep: its recordings row and its episode, spike and
    rejected-candidate tables (not yet DataFrames)."""

    row: dict
    oscillations: tables.Parts
    spikes: tables.Parts
    rejected: tables.Parts


@dataclass
class _WindowResult:
    """What one window contributes: its kept spikes (sweep indices and times), its episodes (window
    times) and its core's rejected spike candidates (sweep times)."""

    spikes: dict
    episodes: EpisodeTable
    rejected: dict


def analyze_sweep(sweep: Sweep, params: AnalysisParams, *, file_label: str) -> SweepTables:
    """Run one sweep through every stage.

    Parameters
    ----------
    sweep : Sweep
        In memory or lazy (`drgephys.io.Sweep`); its ``stimulus_windows_s`` mark evoked spikes.
    params : AnalysisParams
    file_label : str
        Value of the ``file`` column.

    Returns
    -------
    SweepTables

    Raises
    ------
    RecordingError
        When the file fails while a window is read (the sweep is then refused by the caller).
    ValueError
        When the sweep is too short to measure anything.
    """
    fs = sweep.fs
    if params.stimulus_windows_s:
        sweep = sweep.with_stimulus(params.stimulus_windows_s, "user")
    quality = assess_quality(sweep, params)                                                     # quality
    windows = plan_windows(sweep.n, fs, params.windows)
    resting = RestingVm(len(windows))
    evidence = QcEvidence(fs, sweep.duration_s, resampled=sweep.resampled)
    with one_blas_thread():                    # small products: a second BLAS thread only spin-waits
        parts = [_analyze_window(sweep, win, quality, params, resting, evidence) for win in windows]
    episodes = stitch_episodes([p.episodes for p in parts], windows, fs, params.oscillations)
    floors = [p.episodes.attrs["noise_floor_mv"] for p in parts if "noise_floor_mv" in p.episodes.attrs]
    spikes = _concat([p.spikes for p in parts])
    rejected = _concat([p.rejected for p in parts])
    duration = sweep.duration_s
    evoked = spikes["evoked"]
    evidence.resting_vm_mv = resting.median()
    evidence.noise_floor_mv = float(np.median(floors)) if floors else np.nan
    evidence.n_spikes, evidence.n_evoked = int(evoked.size), int(np.count_nonzero(evoked))
    evidence.n_rejected_above_0 = int(np.count_nonzero(rejected["peak_mv"] > 0))
    flags = evaluate(evidence, params.qc)                                                      # QC flags
    codes = [c for c, _ in flags]
    if "depolarized" in codes:                 # no SSO is reported in a dying cell
        episodes, spikes = EpisodeTable.empty(), dict(spikes, trigger=np.full(evoked.size, "other", object),
                                                       sso_phase_rad=np.full(evoked.size, np.nan))
    if "undersampled" in codes:                # AP shape unmeasurable at this rate
        spikes = dict(spikes, **{c: np.full(evoked.size, np.nan) for c in SHAPE_COLUMNS})
    summary = summarize(episodes, duration) if quality.band is not None and "depolarized" not in codes else _NO_SSO
    spont_s = max(duration - sweep.stimulus_duration_s(), 0.0)
    spont = spikes["peak_s"][~evoked]
    pattern = classify_discharge(spont, duration,                                               # pattern
                                 sso_frequency_hz=summary.get("sso_frequency_hz"))
    notes = list(quality.notes) + [f"{c}: {why}" for c, why in flags]
    if len(windows) > 1:
        notes.insert(0, f"analysed in {len(windows)} windows of {params.windows.window_s:g} s "
                        f"(+{params.windows.margin_s:g} s margins)")
    n_spikes = evoked.size
    row = {"status": "ok", "qc_flags": ";".join(codes), "message": "; ".join(notes),                # rows
           "duration_s": duration, "fs_hz": fs, "resting_vm_mv": evidence.resting_vm_mv, "spike_count": n_spikes,
           "noise_floor_mv": evidence.noise_floor_mv,
           "spike_rate_hz": spont.size / spont_s if spont_s > 0 else np.nan, "firing_pattern": pattern,
           "evoked_spike_count": evidence.n_evoked, "rejected_candidates": int(rejected["time_s"].size),
           "stimulus_source": sweep.stimulus_source,
           **{k: summary[k] for k in ("sso_detected", "sso_frequency_hz", "sso_amplitude_mv", "sso_time_fraction")}}
    return _tables(sweep, file_label, row, episodes, spikes, rejected)


def _analyze_window(sweep: Sweep, win: Window, quality: Quality, params: AnalysisParams,
                    resting: RestingVm, evidence: QcEvidence) -> _WindowResult:
    """Load, spikes, oscillations and trigger on one window; its core's share of the resting potential and
    of the QC evidence."""
    fs = sweep.fs
    v = sweep.read(win.start, win.end)                                                         # load
    stim = sweep.stimulus_samples(win.start, win.end)
    spk = find_spikes(v, fs, params=params.spikes, stimulus_windows_s=stim / fs)               # spikes
    clean = remove_spikes(v, fs, spk, params.oscillations.removal())                           # (AHPs out)
    if quality.band is not None:                                                               # oscillations
        epi = find_episodes(v, fs, spk, params.oscillations, band=quality.band, clean=clean)
    else:
        epi = EpisodeTable.empty()
    trig = label_triggers(v, fs, spk, epi, params.trigger, clean=clean)                        # trigger
    starts = np.concatenate((spk["threshold_index"], stim[:, 0]))
    ends = np.concatenate((spk["end_index"], stim[:, 1] - 1))
    resting.add(v, win, starts, ends)
    evidence.add(v, win.start, (win.core_start, win.core_end), merge_spans(starts, ends + 1, v.size), params.qc)
    cols = dict(spk.columns, sso_phase_rad=trig.phase_rad, trigger=trig.labels())
    return _WindowResult(core_spikes(cols, win, fs), epi, _core_rejected(spk.rejected, win, fs))


def _core_rejected(rej: dict, win: Window, fs: float) -> dict:
    """The rejected candidates of one window whose sample lies in its core, in sweep time."""
    at = rej["index"] + win.start
    keep = (at >= win.core_start) & (at < win.core_end)
    return {"time_s": rej["time_s"][keep] + win.start / fs, "peak_mv": rej["peak_mv"][keep],
            "reason_code": rej["code"][keep]}


def _concat(parts: list[dict]) -> dict:
    """The spike columns of every window, end to end (the single window's own arrays when there is one)."""
    if len(parts) == 1:
        return parts[0]
    return {c: np.concatenate([p[c] for p in parts]) for c in parts[0]}


def _tables(sweep: Sweep, label: str, row: dict, episodes: EpisodeTable, spikes: dict,
            rejected: dict) -> SweepTables:
    """The sweep's recordings row (key columns first, the sweep's start time in ``sweep_start_s``) and its
    episode and spike tables, times from the sweep's start (as Clampfit and pyABF show them)."""
    key = {"file": label, "sweep": sweep.sweep, "channel": sweep.channel_name}
    epi_cols = episodes.columns() if len(episodes) else {}
    return SweepTables(dict(key, **row, sweep_start_s=sweep.t0),
                       _keyed(epi_cols, len(episodes), key, tables.OSCILLATIONS_COLUMNS),
                       _keyed(spikes, spikes["threshold_index"].size, key, tables.SPIKES_COLUMNS),
                       _keyed(rejected, rejected["time_s"].size, key, tables.REJECTED_COLUMNS))


def _keyed(cols: dict, n_rows: int, key: dict, columns: dict) -> tables.Parts:
    """Columns `cols` (arrays of `n_rows`) with the key columns in front, as `tables.Parts` of `columns`."""
    return tables.Parts(columns, [(dict(key, **cols), n_rows)])


def analyze_items(items, skipped, params: AnalysisParams, *, file_label: str) -> AnalysisResult:
    """Analyse the sweeps of one file (`Trace` or lazy `Sweep` items); a sweep that cannot be analysed, and
    every skipped sweep (``{sweep, channel, code, message}``), becomes a ``refused`` row."""
    rows, epis, spks, rejs = [], [], [], []
    for it in items:
        sweep = Sweep.from_trace(it) if isinstance(it, Trace) else it
        try:
            out = analyze_sweep(sweep, params, file_label=file_label)
        except ValueError as err:  # a sweep too short to measure anything, or a window that failed to read
            why = err.detail if isinstance(err, RecordingError) else f"sweep {sweep.sweep}: {err}"
            rows.append(status_row(file_label, sweep=sweep.sweep, channel=sweep.channel_name, status="refused",
                                   message=why, code=getattr(err, "code", "too_short")))
            continue
        rows.append(out.row)
        epis.append(out.oscillations)
        spks.append(out.spikes)
        rejs.append(out.rejected)
    for s in skipped:
        rows.append(status_row(file_label, sweep=s["sweep"], channel=s["channel"], status="refused",
                               message=s["message"], code=s.get("code")))
    return assemble(rows, epis, spks, params, rejs)
