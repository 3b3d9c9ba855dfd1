"""One recording in, three tables out: `analyze` for a file, a `Recording`, a `Trace` or a neo object.

Files are opened read-only with `drgephys.io.open_recording`; sweeps that fit the memory budget of
`Execution` are read whole, longer ones window by window from the file. Either way every sweep runs
through `drgephys.pipeline` (load → quality → spikes → oscillations → trigger → pattern → rows), so
the tables do not depend on how the analysis ran.
"""

from __future__ import annotations

import dataclasses
import os

import neo

from .errors import RecordingError
from .io import Recording, Trace, from_neo, open_recording
from .params import AnalysisParams, Execution, json_safe
from .pipeline import analyze_items
from .results import AnalysisResult

__all__ = ["AnalysisParams", "AnalysisResult", "Execution", "analyze", "analyze_file", "json_safe",
           "RecordingError"]

_PARAM_FIELDS = {f.name for f in dataclasses.fields(AnalysisParams)}
_EXEC_FIELDS = {f.name for f in dataclasses.fields(Execution)}


def analyze_file(path, params: AnalysisParams, execution: Execution, *, file_label: str | None = None
                 ) -> AnalysisResult:
    """Analyse every sweep of one recording file.

    Sweeps longer than ``execution.max_samples()`` are read window by window through neo's lazy proxies
    (where the reader has them); the others are read whole. The tables are the same either way.

    Raises
    ------
    RecordingError
        When the file is not a usable current-clamp recording.
    """
    label = file_label if file_label is not None else str(path)
    with open_recording(path, channel=params.channel, units=params.units, max_samples=execution.max_samples(),
                        chunk_s=execution.chunk_s) as opened:
        return analyze_items(opened.items, opened.skipped, params, file_label=label)


def analyze(path_or_trace, *, params: AnalysisParams | None = None, execution: Execution | None = None,
            file_label: str | None = None, **overrides) -> AnalysisResult:
    """Analyse a recording file, a `Recording`, a `Trace`, or a neo object.

    Parameters
    ----------
    path_or_trace : str, Path, Recording, Trace, or neo Block/Segment/AnalogSignal
        What to analyse. Files are opened read-only.
    params : AnalysisParams, optional
        All analysis parameters.
    execution : Execution, optional
        How to run (memory budget, chunked reading); never changes the tables.
    file_label : str, optional
        Value of the ``file`` column (default: the path).
    **overrides
        Single fields of `AnalysisParams` (``spikes=SpikeParams(...)``, ``oscillations=...``, ``windows=...``,
        ``channel=1``, ``units="mV"``) or of `Execution` (``chunk_s=60``, ``memory_budget_mb=512``).

    Returns
    -------
    AnalysisResult
        ``.recordings``, ``.oscillations``, ``.spikes`` DataFrames and ``.params``.

    Raises
    ------
    RecordingError
        When a file is not a usable current-clamp recording (the message says why; ``code`` says which).
    TypeError
        On an unknown keyword or input type.

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
    execution = execution or Execution()
    unknown = set(overrides) - _PARAM_FIELDS - _EXEC_FIELDS
    if unknown:
        raise TypeError(f"unknown analysis parameter(s) {sorted(unknown)}; valid: "
                        f"{sorted(_PARAM_FIELDS | _EXEC_FIELDS)}")
    p_over = {k: v for k, v in overrides.items() if k in _PARAM_FIELDS}
    e_over = {k: v for k, v in overrides.items() if k in _EXEC_FIELDS}
    params = dataclasses.replace(params, **p_over) if p_over else params
    execution = dataclasses.replace(execution, **e_over) if e_over else execution
    if isinstance(path_or_trace, Trace):
        label = file_label if file_label is not None else (path_or_trace.file or "")
        return analyze_items([path_or_trace], [], params, file_label=label)
    if isinstance(path_or_trace, Recording):
        label = file_label if file_label is not None else (path_or_trace.file or "")
        return analyze_items(path_or_trace.traces, path_or_trace.skipped, params, file_label=label)
    if isinstance(path_or_trace, (str, os.PathLike)):
        return analyze_file(path_or_trace, params, execution, file_label=file_label)
    if isinstance(path_or_trace, (neo.Block, neo.Segment, neo.AnalogSignal, neo.IrregularlySampledSignal)):
        rec = from_neo(path_or_trace, channel=params.channel)
        return analyze_items(rec.traces, rec.skipped, params, file_label=file_label or "")
    raise TypeError("`path_or_trace` must be a file path, drgephys Trace/Recording or neo object; "
                    f"got {type(path_or_trace).__name__}")
