"""`browse`: look at a whole sweep in Jupyter — zoom anywhere, see the SSO episodes and spikes the analysis
found and why (``pip install "drgephys[viewer]"``).
"""

from __future__ import annotations

import json
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd

from .._validation import check_band, check_positive
from ..analysis import AnalysisResult, analyze
from ..io import Recording, Trace, load
from ..tables import locate, read_table

VIEWER_EXTRA = 'pip install "drgephys[viewer]" (in a clone: pip install -e ".[viewer]")'


def _require_viewer():
    try:
        import anywidget  # noqa: F401  (plotly's FigureWidget is an anywidget)
        import ipywidgets  # noqa: F401
        import plotly  # noqa: F401
        import tsdownsample  # noqa: F401
    except ImportError as err:
        raise ImportError(f"drgephys.plotting.browse needs plotly, anywidget, ipywidgets and tsdownsample "
                          f"(missing: {err.name}); install them with: {VIEWER_EXTRA}") from err
    from . import _widget

    return _widget


def _pick_sweep(recording, sweep: int):
    sweeps = [t.sweep for t in recording]
    for t in recording:
        if t.sweep == sweep:
            return t
    raise ValueError(f"`sweep` must be one of the recording's sweeps {sweeps}; got {sweep!r}")


def _rows(df: pd.DataFrame, label, sweep: int) -> pd.DataFrame:
    keep = np.ones(len(df), bool)
    if label is not None and "file" in df:
        keep &= (df["file"].astype(object) == label).to_numpy(bool)
    if "sweep" in df:
        keep &= (df["sweep"].astype("float64") == sweep).to_numpy(bool)
    return df[keep]


def _choose_label(recordings: pd.DataFrame, file) -> str:
    labels = list(dict.fromkeys(recordings["file"].astype(str)))
    if file is None:
        if len(labels) == 1:
            return labels[0]
        raise ValueError(f"`file` must name one of the {len(labels)} analysed files when the result holds "
                         f"several; got None. Files: {labels[:10]}{' ...' if len(labels) > 10 else ''}")
    f = str(file)
    hits = [lab for lab in labels if lab == f] or [lab for lab in labels if Path(lab).name == Path(f).name]
    if len(hits) != 1:
        raise ValueError(f"`file` must match exactly one analysed file (its label or file name); got {file!r}, "
                         f"which matches {len(hits)} of {labels[:10]}")
    return hits[0]


def _tables_source(source):
    """(recordings, oscillations, spikes, inputs, params) of an AnalysisResult or a results folder."""
    if isinstance(source, AnalysisResult):
        return source.recordings, source.oscillations, source.spikes, [], {}
    d = Path(source)
    meta = json.loads((d / "params.json").read_text()) if (d / "params.json").is_file() else {}
    return (*(read_table(d, n) for n in ("recordings", "oscillations", "spikes")), meta.get("inputs", []),
            meta.get("params", {}))


def _is_results_dir(source) -> bool:
    return isinstance(source, (str, Path)) and Path(source).is_dir() and any(
        (Path(source) / f"recordings.{e}").is_file() for e in ("csv", "parquet"))


def _resolve(source, sweep, *, file, result, recording, channel, units):
    """(trace, recordings, oscillations, spikes, channel_report) for the sweep to show."""

    report = None
    if isinstance(source, AnalysisResult) or _is_results_dir(source):
        if result is not None:
            raise TypeError("`result` must be None when `source` is itself a result or a results folder")
        recs, osc, spk, inputs, params = _tables_source(source)
        if not len(recs):
            raise ValueError("`source` must hold at least one analysed sweep; its recordings table is empty")
        label = _choose_label(recs, file)
        if recording is None:
            path = locate(label, inputs)
            if path is None:
                raise FileNotFoundError(f"the recording `{label}` of the result was not found from "
                                        f"{Path.cwd()}; pass it as `recording=` (a path or a Trace)")
            recording = path
        if isinstance(recording, Trace):
            trace = recording
        else:
            rec = recording if isinstance(recording, Recording) else load(
                recording, channel=channel if channel is not None else params.get("channel"),
                units=units if units is not None else params.get("units"))
            report, trace = rec.channel_report, _pick_sweep(rec, sweep)
        return trace, _rows(recs, label, sweep), _rows(osc, label, sweep), _rows(spk, label, sweep), report
    if isinstance(source, Trace):
        trace = source
    elif isinstance(source, Recording):
        report, trace = source.channel_report, _pick_sweep(source, sweep)
    elif isinstance(source, (str, Path)):
        if not Path(source).exists():
            raise FileNotFoundError(f"`source` must be a recording file, a results folder or an AnalysisResult; "
                                    f"`{source}` does not exist")
        rec = load(source, channel=channel, units=units)
        report, trace = rec.channel_report, _pick_sweep(rec, sweep)
    else:
        raise TypeError("`source` must be an AnalysisResult, a results folder, a recording path, a Recording or "
                        f"a Trace; got {type(source).__name__}")
    if result is None:
        result = analyze(trace)
    elif not isinstance(result, AnalysisResult):
        raise TypeError(f"`result` must be an AnalysisResult or None; got {type(result).__name__}")
    recs = result.recordings
    labels = list(dict.fromkeys(recs["file"].astype(object))) if len(recs) else []
    label = labels[0] if len(labels) == 1 else (str(trace.file) if trace.file is not None else None)
    return trace, _rows(recs, label, trace.sweep), _rows(result.oscillations, label, trace.sweep), \
        _rows(result.spikes, label, trace.sweep), report


def _flags(row: pd.Series):
    """QC flags of a recordings row as a list (None when the table has no `qc_flags` column)."""
    if "qc_flags" not in row.index:
        return None
    val = row["qc_flags"]
    if val is None or val is pd.NA or (isinstance(val, float) and np.isnan(val)):
        return []
    if isinstance(val, (list, tuple, np.ndarray)):
        return [str(v) for v in val]
    return [s.strip() for s in str(val).replace(";", ",").split(",") if s.strip()]


def _summary_lines(trace, row) -> list:
    n = trace.v.size
    lines = [f"{trace.fs:g} Hz, {n / trace.fs:.1f} s ({n:,} samples), starts at {trace.t0:g} s"]
    if row is None:
        lines.append("no row for this sweep in the recordings table")
        return lines
    g = row.get
    status = f"status {g('status')}" + (f" ({g('message')})" if isinstance(g("message"), str) and g("message")
                                        else "")
    det = g("sso_detected")
    sso = "–" if det is None or pd.isna(det) else ("yes" if bool(det) else "no")
    lines.append(f"{status}; resting Vm {g('resting_vm_mv', np.nan):.1f} mV; SSO: {sso}"
                 + (f" ({g('sso_frequency_hz'):.1f} Hz, {g('sso_amplitude_mv'):.2f} mV, "
                    f"{100 * g('sso_time_fraction'):.0f} % of the time)" if sso == "yes" else "")
                 + f"; {g('spike_count')} spikes ({g('spike_rate_hz', np.nan):.2f} Hz), pattern "
                   f"{g('firing_pattern')}")
    return lines


def browse(source, sweep: int = 0, *, file=None, result=None, recording=None, channel=None, units=None,
           max_points: int = 5000, tf_max_s: float = 60.0, band_hz=(10.0, 200.0), height_px: int = 560):
    """An interactive viewer of one whole sweep with its SSO episodes, spikes, QC flags and channel report.

    The membrane potential is drawn from at most `max_points` samples of the visible window (MinMaxLTTB,
    tsdownsample) and redrawn from the full-resolution samples whenever you zoom, so hour-long recordings stay
    fluid. SSO episodes are shaded (hover: frequency, amplitude, cycles, quality and, when the table has a
    `p_value` column, significance), spikes are marked by trigger, and a time–frequency panel sharing the time
    axis shows the power in `band_hz` relative to its median over the window, with each episode's frequency
    drawn on top. Needs the ``viewer`` extra (``pip install "drgephys[viewer]"``) and a Jupyter front end.

    Parameters
    ----------
    source : AnalysisResult, path, Recording or Trace
        An analysis result (its `file` labels are located from the working directory, or pass `recording`),
        the ``--out`` folder of ``drgephys analyze`` (recordings are located from its params.json inputs), a
        recording file (loaded and analysed here unless `result` is given), a loaded Recording or a Trace.
    sweep : int
        Sweep number (the ``sweep`` column of the tables; ``Trace.sweep``). Ignored for a Trace.
    file : str, optional
        Which file of a multi-file result or results folder: its label or its file name.
    result : AnalysisResult, optional
        Tables to draw for a recording path, Recording or Trace (computed with `drgephys.analyze` when None).
    recording : path, Recording or Trace, optional
        Where the samples of a result's file are, when its label does not resolve to the file.
    channel, units : optional
        Passed to `drgephys.load` (default: the analysis parameters of a results folder, else automatic).
    max_points : int
        Most points any trace sends to the browser (≥ 100); the Vm trace holds ≤ this many samples of the
        view, marker and episode traces are thinned evenly beyond it (their legend says so), the
        time–frequency panel holds ≤ this many cells.
    tf_max_s : float
        The time–frequency panel is computed for views of at most this many seconds.
    band_hz : (float, float)
        Frequency band of the time–frequency panel, Hz.
    height_px : int
        Figure height in pixels.

    Returns
    -------
    SweepViewer
        An ipywidgets VBox (display it, or leave it as a cell's last expression) with `.figure` (plotly
        FigureWidget), `.header`, `.episodes`, `.spikes`, `.zoom(start_s, end_s)`, `.show_episode(i)` and
        `.points_sent()`.

    Raises
    ------
    ImportError
        When the viewer extra is not installed (the message says how to install it).
    """
    viewer = _require_viewer()
    if isinstance(sweep, bool) or not isinstance(sweep, Integral) or sweep < 0:
        raise TypeError(f"`sweep` must be a non-negative int (the sweep number); got {sweep!r}")
    if isinstance(max_points, bool) or not isinstance(max_points, Integral) or max_points < 100:
        raise ValueError(f"`max_points` must be an int ≥ 100; got {max_points!r}")
    tf_max_s = check_positive(tf_max_s, "tf_max_s", "s")
    if isinstance(height_px, bool) or not isinstance(height_px, Integral) or height_px < 200:
        raise ValueError(f"`height_px` must be an int ≥ 200; got {height_px!r}")
    trace, recs, osc, spk, report = _resolve(source, int(sweep), file=file, result=result, recording=recording,
                                                  channel=channel, units=units)
    if trace.times is not None:
        raise ValueError("`source` must be a regularly sampled trace; this one carries irregular sample times "
                         "(`Trace.times`), which the viewer does not draw")
    v = np.ascontiguousarray(trace.v)
    if v.ndim != 1 or v.dtype.kind != "f" or v.size < 2:
        raise ValueError(f"the trace must be a 1-D float array of ≥ 2 samples in mV; got {v.dtype} {v.shape}")
    band = check_band(band_hz, trace.fs)
    row = recs.iloc[0] if len(recs) else None
    name = Path(str(trace.file)).name if trace.file else "trace"
    header = viewer.header_html(f"{name} — sweep {trace.sweep}", str(trace.file or ""),
                                _summary_lines(trace, row), _flags(row) if row is not None else None, report)
    return viewer.SweepViewer(v, trace.fs, t0=0.0, episodes=osc, spikes=spk, header_html=header,
                              max_points=int(max_points) // 2 * 2, tf_max_s=tf_max_s, band_hz=band,
                              height_px=int(height_px))


__all__ = ["browse", "VIEWER_EXTRA"]
