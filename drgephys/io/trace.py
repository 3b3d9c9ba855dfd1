"""The in-memory form of a recording: `Trace` (one sweep of membrane potential) and `Recording`.

Core analysis functions take plain arrays (``v`` in mV, ``fs`` in Hz); quantities and neo objects appear
only here, at the boundary (`Trace.to_neo`, `from_neo`).
"""

from __future__ import annotations

from dataclasses import InitVar, dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np

from .._validation import check_fs, check_v


@dataclass(frozen=True, eq=False)
class Trace:
    """One sweep of membrane potential.

    Parameters
    ----------
    v : ndarray, shape (n_samples,)
        Membrane potential in mV (float64).
    fs : float
        Sampling rate in Hz, kept exactly as the file gives it (e.g. 25000.000000000004).
    t0 : float
        Time of the first sample in s (from the start of the recording / segment).
    file : str or None
        Source file path.
    sweep : int
        Sweep index in the source file.
    channel : int or str
        Channel index (position among the segment's signal columns) or name.
    units : str
        Units the file declared for this channel (before conversion to mV).
    times : ndarray or None, shape (n_samples,)
        Sample times in s for irregularly sampled traces (then `fs` is the median rate); ``None`` when
        regularly sampled.
    metadata : dict
        Anything else worth keeping (channel name, neo annotations, reader, choice report).
    """

    v: np.ndarray
    fs: float
    t0: float = 0.0
    file: str | None = None
    sweep: int = 0
    channel: Any = 0
    units: str = "mV"
    times: np.ndarray | None = None
    metadata: dict = field(default_factory=dict)
    #: The loader sets this when it has already checked `v` (a 1-D float64 array of finite samples): the
    #: trace is then not scanned a second time. Not a field (no effect on repr or copies).
    _checked_v: InitVar[bool] = False

    def __post_init__(self, _checked_v: bool = False):
        checked = _checked_v and isinstance(self.v, np.ndarray) and self.v.dtype == np.float64 \
            and self.v.ndim == 1 and self.v.size >= 1
        if not checked:
            object.__setattr__(self, "v", check_v(self.v, min_samples=1))
        object.__setattr__(self, "fs", check_fs(self.fs))
        t0 = float(self.t0)
        if not np.isfinite(t0):
            raise ValueError(f"`t0` must be a finite time in s; got {self.t0!r}")
        object.__setattr__(self, "t0", t0)
        if self.times is not None:
            times = np.asarray(self.times, dtype=np.float64).reshape(-1)
            if times.shape != self.v.shape:
                raise ValueError(
                    f"`times` must have one entry per sample ({self.v.size}); got {times.size}"
                )
            object.__setattr__(self, "times", times)

    @property
    def n_samples(self) -> int:
        """Number of samples."""
        return int(self.v.size)

    @property
    def duration_s(self) -> float:
        """Duration in s (number of samples / fs, or the span of `times`)."""
        if self.times is not None and self.times.size > 1:
            return float(self.times[-1] - self.times[0])
        return self.n_samples / self.fs

    @property
    def is_regular(self) -> bool:
        """True when the trace is regularly sampled at `fs`."""
        return self.times is None

    def time(self) -> np.ndarray:
        """Sample times in s, shape (n_samples,), including `t0`."""
        if self.times is not None:
            return self.times.copy()
        return self.t0 + np.arange(self.n_samples) / self.fs

    def to_neo(self):
        """Return a `neo.AnalogSignal` (or `IrregularlySampledSignal`) in mV with this trace's metadata."""
        import neo
        import quantities as pq

        annotations = {"drgephys_file": self.file or "", "drgephys_sweep": int(self.sweep),
                       "drgephys_channel": str(self.channel), "drgephys_units": self.units}
        name = str(self.metadata.get("channel_name", self.channel))
        if self.times is not None:
            return neo.IrregularlySampledSignal(self.times * pq.s, self.v[:, None] * pq.mV,
                                                name=name, **annotations)
        return neo.AnalogSignal(self.v[:, None], units="mV", sampling_rate=self.fs * pq.Hz,
                                t_start=self.t0 * pq.s, name=name, **annotations)

    def __repr__(self) -> str:
        src = f"{self.file!s}, " if self.file else ""
        return (f"Trace({src}sweep={self.sweep}, channel={self.channel!r}, {self.n_samples} samples "
                f"@ {self.fs:g} Hz, {self.duration_s:.3g} s)")


class Recording(Sequence):
    """The sweeps of one file, each a `Trace`, plus how the membrane-potential channel was chosen.

    Behaves as a read-only list of traces.

    Attributes
    ----------
    file : str or None
        Source path.
    traces : list of Trace
    channel_report : pandas.DataFrame
        One row per candidate channel: ``channel``, ``name``, ``units``, ``chosen`` (bool), ``score`` and
        ``reason`` (why it was chosen or rejected).
    reader : str
        The neo IO class that read the file.
    """

    def __init__(self, traces: list[Trace], *, file: str | None = None, channel_report=None,
                 reader: str = "", skipped: list | None = None):
        self.traces = list(traces)
        self.file = file
        self.channel_report = channel_report
        self.reader = reader
        #: sweeps that could not be used, as dicts ``{sweep, channel, message}``
        self.skipped = list(skipped or [])

    @property
    def channel_report(self):
        """The channel choice as a DataFrame (built on first access from the loader's column lists: most
        batch runs never read it)."""
        import pandas as pd

        rep = self._channel_report
        if rep is None:
            rep = pd.DataFrame()
        elif not isinstance(rep, pd.DataFrame):
            rep = pd.DataFrame(rep)
        self._channel_report = rep
        return rep

    @channel_report.setter
    def channel_report(self, value):
        self._channel_report = value

    def __getitem__(self, i):
        return self.traces[i]

    def __len__(self) -> int:
        return len(self.traces)

    def __iter__(self) -> Iterator[Trace]:
        return iter(self.traces)

    def __repr__(self) -> str:
        ch = self.traces[0].channel if self.traces else None
        return f"Recording({self.file!s}, {len(self)} sweeps, channel={ch!r}, reader={self.reader})"

    def _repr_html_(self) -> str:
        import html

        tr = self.traces[0] if self.traces else None
        head = (f"<p><b>Recording</b> {html.escape(str(self.file))} — {len(self)} sweep(s) read by "
                f"{html.escape(self.reader)}")
        if tr is not None:
            head += (f"; {tr.fs:g} Hz, {tr.duration_s:.3g} s per sweep, membrane potential on channel "
                     f"{html.escape(str(tr.metadata.get('channel_name', tr.channel)))}")
        head += "</p>"
        if self.skipped:
            head += f"<p>{len(self.skipped)} sweep(s) skipped: {html.escape(self.skipped[0]['message'])}</p>"
        report = self.channel_report.to_html(index=False, border=0) if len(self.channel_report) else ""
        return head + report
