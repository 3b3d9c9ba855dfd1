"""What an analysis computes (`AnalysisParams`) and how it runs (`Execution`), kept apart.

`AnalysisParams` gathers every stage's frozen parameters; it is saved with each result (``params.json``)
and keys the resume cache. `Execution` (worker processes, chunked reading, memory budget, progress, Dask
scheduler) never changes a number in the tables, as SpikeInterface keeps its "job kwargs" apart from the
sorter's parameters.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._validation import check_windows
from .io.load import _check_units
from .oscillations import OscillationParams, methods
from .qc import QcParams
from .spikes import SpikeParams, TriggerParams
from .windows import WindowParams, min_margin_s

__all__ = ["AnalysisParams", "Execution", "json_safe"]

_SECTIONS = {"spikes": SpikeParams, "oscillations": OscillationParams, "trigger": TriggerParams,
             "windows": WindowParams, "qc": QcParams}


@dataclass(frozen=True)
class AnalysisParams:
    """Every parameter of an analysis, saved with each result (``params.json``) for provenance.

    Attributes
    ----------
    spikes : drgephys.spikes.SpikeParams
        Action-potential detection and features.
    oscillations : drgephys.oscillations.OscillationParams
        SSO episode detection (its ``method`` picks the detector).
    trigger : drgephys.spikes.TriggerParams
        Rule deciding whether a spike arose from an SSO peak.
    windows : drgephys.windows.WindowParams
        Analysis windows (core length and margins; see `drgephys.windows`).
    qc : drgephys.qc.QcParams
        Thresholds of the QC flags (``qc_flags`` column; see `drgephys.qc`).
    channel : int or str or None
        Membrane-potential channel override (None = chosen by units and plausibility).
    units : str or None
        Units override for files that mislabel the membrane potential.
    stimulus_windows_s : tuple of (start, end)
        Stimulus windows in s from each sweep's start, for files that do not carry their stimulus (e.g. an
        optogenetic pulse train): spikes whose threshold falls inside one are ``evoked`` and left out of the
        spontaneous discharge pattern and rate; the resting potential and QC baselines skip them. Empty:
        the file's own stimulus, when it has one (a command channel), else none.
    """

    spikes: SpikeParams = field(default_factory=SpikeParams)
    oscillations: OscillationParams = field(default_factory=OscillationParams)
    trigger: TriggerParams = field(default_factory=TriggerParams)
    windows: WindowParams = field(default_factory=WindowParams)
    qc: QcParams = field(default_factory=QcParams)
    channel: Any = None
    units: str | None = None
    stimulus_windows_s: tuple = ()

    def __post_init__(self):
        # fail at once, not as one error row per file
        for name, cls in _SECTIONS.items():
            value = getattr(self, name)
            if not isinstance(value, cls):
                article = "an" if cls.__name__[0] in "AEIOU" else "a"
                raise TypeError(f"`{name}` must be {article} {cls.__name__}; got {type(value).__name__}. "
                                f"Build one with {cls.__module__.rsplit('.', 1)[0]}.{cls.__name__}(...).")
        methods.get(self.oscillations.method)
        need = min_margin_s(self.spikes, self.oscillations)
        if self.windows.margin_s < need:
            raise ValueError(f"`margin_s` must be at least {need:.3g} s for these parameters (wavelet support + "
                             f"drift window + spike span); got {self.windows.margin_s:g}. Use a larger margin.")
        _check_units(self.units)
        w = check_windows(self.stimulus_windows_s if len(self.stimulus_windows_s) else None)
        object.__setattr__(self, "stimulus_windows_s", tuple((float(a), float(b)) for a, b in w))

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


@dataclass(frozen=True)
class Execution:
    """How an analysis runs. No setting here changes a number in the tables.

    Attributes
    ----------
    n_jobs : int, default 1
        Worker processes for a batch (1: in this process).
    chunk_s : float or None, default None
        Read every recording whose reader is lazy window by window, at least this many seconds per file
        access (a read-ahead buffer), whatever its size. None: chosen by `memory_budget_mb`.
    memory_budget_mb : float, default 1024
        A sweep whose samples would take more than this in memory (read as float32, held as float64: 12
        bytes per sample, plus the same again for the window's work) is read window by window from the
        file where neo's reader is lazy (ABF, AxoGraph, Spike2, WinWCP, NIX...; NWB and text traces are
        always read whole). 1 GB keeps sweeps up to ~14 min at 50 kHz (~35 min at 20 kHz) in memory.
    progress : bool, default False
        Show a progress bar (tqdm, notebook-aware).
    scheduler : str or None, default None
        Address of a running Dask distributed scheduler (``tcp://host:8786``) to send the files to.
    resume : bool, default True
        Reuse cached per-file results in the output folder (batch runs with an output folder only).
    """

    n_jobs: int = 1
    chunk_s: float | None = None
    memory_budget_mb: float = 1024.0
    progress: bool = False
    scheduler: str | None = None
    resume: bool = True

    def __post_init__(self):
        if isinstance(self.n_jobs, bool) or not isinstance(self.n_jobs, (int, np.integer)) or self.n_jobs < 1:
            raise ValueError(f"`n_jobs` must be a positive number of processes; got {self.n_jobs!r}")
        for name in ("chunk_s", "memory_budget_mb"):
            val = getattr(self, name)
            if val is None and name == "chunk_s":
                continue
            if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val) or val <= 0:
                unit = "s" if name == "chunk_s" else "MB"
                raise ValueError(f"`{name}` must be a positive number in {unit}; got {val!r}")

    def max_samples(self) -> int:
        """Longest sweep (samples) held in memory: 0 with `chunk_s` (every lazy sweep read by window), else
        what fits `memory_budget_mb` at 24 bytes per sample (see the attribute)."""
        if self.chunk_s is not None:
            return 0
        return int(self.memory_budget_mb * 1e6 / 24)


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
