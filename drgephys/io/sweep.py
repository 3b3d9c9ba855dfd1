"""`Sweep`: one sweep of membrane potential that the pipeline reads by sample range, in memory or lazily.

A sweep knows its length, rate, start time and provenance (file, sweep index, channel, units, reader)
without holding its samples: `Sweep.read` returns samples ``[i0, i1)`` in mV (float64) from an array in
memory, or from the file through a neo lazy proxy (``AnalogSignalProxy.load(time_slice=...,
channel_indexes=[...])``), so a recording longer than memory is analysed window by window. Both sources
give the same values: the proxy's float32 magnitudes times the units factor, exactly as
`drgephys.load` computes them for the whole sweep.

Which source a sweep gets is an execution choice (`drgephys.io.open_sweeps`'s ``max_samples``), never an
analysis parameter: the pipeline reads the same windows either way and its tables are identical.
"""

from __future__ import annotations

import copy

import numpy as np

from .._numerics.spans import merge_spans
from .._validation import all_finite, check_windows
from ..errors import RecordingError
from .trace import Trace
from .units import in_units

__all__ = ["Sweep", "ProxyReader"]


class ProxyReader:
    """Samples of one column of a neo lazy proxy, in mV, with an optional read-ahead buffer.

    Parameters
    ----------
    proxy : neo.io.proxyobjects.AnalogSignalProxy
    column : int
        Column of the proxy holding the membrane potential.
    factor : float
        Units factor to mV (1.0 when the proxy is in mV: no scaling, as `drgephys.load`).
    chunk_s : float, optional
        Read at least this many seconds per file access and serve later requests inside them from memory
        (an execution setting: fewer, larger reads; the values are the same).
    gain, offset_mv : float
        ``v_mV = value * factor * gain + offset_mv`` (as `drgephys.load`).
    """

    def __init__(self, proxy, column: int, factor: float, chunk_s: float | None = None, *,
                 gain: float = 1.0, offset_mv: float = 0.0):
        self.proxy, self.column, self.factor = proxy, int(column), float(factor)
        self.gain, self.offset_mv = float(gain), float(offset_mv)
        self._t_start = in_units(proxy.t_start, "s")
        self._sr = in_units(proxy.sampling_rate, "Hz")
        self.n = int(proxy.shape[0])
        self.chunk_samples = int(round(chunk_s * self._sr)) if chunk_s else 0
        self._buf, self._b0 = None, 0
        #: (i0, i1) of every file access, for tests and diagnostics
        self.accesses: list[tuple[int, int]] = []

    def _load(self, i0: int, i1: int) -> np.ndarray:
        import quantities as pq

        self.accesses.append((i0, i1))
        # neo rounds the slice to the nearest samples: i_start = rint((a - t_start) sr), length rint(...)
        a = self._t_start + i0 / self._sr
        sig = self.proxy.load(time_slice=(a * pq.s, (a + (i1 - i0) / self._sr) * pq.s), strict_slicing=False,
                              channel_indexes=[self.column])
        x = np.asarray(sig.magnitude, dtype=np.float64).reshape(-1)
        if self.factor != 1.0:
            x = x * self.factor
        if self.gain != 1.0 or self.offset_mv != 0.0:
            x = x * self.gain + self.offset_mv
        return x

    def __call__(self, i0: int, i1: int) -> np.ndarray:
        if self.chunk_samples <= i1 - i0:
            return self._load(i0, i1)
        buf = self._buf
        if buf is None or i0 < self._b0 or i1 > self._b0 + buf.size:
            self._b0 = i0
            buf = self._buf = self._load(i0, min(self.n, i0 + self.chunk_samples))
        return buf[i0 - self._b0:i1 - self._b0]


class Sweep:
    """One sweep of the chosen membrane-potential channel, read by sample range.

    Parameters
    ----------
    n : int
        Number of samples.
    fs : float
        Sampling rate, Hz.
    source : ndarray or callable
        The samples in mV (a finite float64 array of shape (n,)), or ``source(i0, i1) -> ndarray`` reading
        samples ``[i0, i1)`` (checked for finiteness on every read).
    t0 : float
        Time of the first sample, s (from the start of the recording or segment).
    file : str or None
        Source file.
    sweep : int
        Sweep index in the file.
    channel : int or str
        Channel index (position among the segment's signal columns).
    channel_name : str
        Channel label for the output tables (the name, else the index).
    units : str
        Units the file declared (before conversion to mV).
    reader : str
        The neo IO class that read the file.
    note : str
        Remark for the ``message`` column (e.g. irregular samples resampled).
    stimulus_windows_s : array_like, shape (k, 2), optional
        Stimulus windows ``[start, end)`` in s from the sweep's first sample: spikes whose threshold falls
        inside one are ``evoked`` and left out of the spontaneous discharge pattern and rate.
    stimulus_source : str
        Where the windows came from (``"none"``, ``"user"``, ``"file: <channel>"``), for the tables.

    Examples
    --------
    >>> from drgephys.sim import simulate_trace
    >>> sim = simulate_trace(duration_s=2.0, fs_hz=10000.0, seed=1)
    >>> sw = Sweep(sim.v.size, sim.fs, sim.v)
    >>> sw.read(100, 200).shape
    (100,)
    """

    def __init__(self, n: int, fs: float, source, *, t0: float = 0.0, file: str | None = None, sweep: int = 0,
                 channel=0, channel_name: str = "", units: str = "mV", reader: str = "", note: str = "",
                 stimulus_windows_s=None, stimulus_source: str = "none"):
        self.n, self.fs, self.t0 = int(n), float(fs), float(t0)
        self.stimulus_windows_s = check_windows(stimulus_windows_s)
        self.stimulus_source = str(stimulus_source)
        self.file, self.sweep, self.channel, self.units, self.reader = file, sweep, channel, units, reader
        self.channel_name = str(channel_name) if channel_name else str(channel)
        self.note = note
        #: True when the samples were interpolated from irregular ones (`from_trace`)
        self.resampled = False
        self._array = source if isinstance(source, np.ndarray) else None
        self._source = None if self._array is not None else source

    @property
    def duration_s(self) -> float:
        """Duration in s."""
        return self.n / self.fs

    def stimulus_samples(self, i0: int, i1: int) -> np.ndarray:
        """The stimulus windows overlapping samples ``[i0, i1)``, as int64 sample spans from `i0`, shape (k, 2),
        clipped to ``[0, i1 - i0]``."""
        w = self.stimulus_windows_s
        if w.size == 0:
            return np.empty((0, 2), np.int64)
        s = np.ceil(w[:, 0] * self.fs - 1e-9).astype(np.int64) - i0
        e = np.ceil(w[:, 1] * self.fs - 1e-9).astype(np.int64) - i0
        s, e = np.clip(s, 0, i1 - i0), np.clip(e, 0, i1 - i0)
        keep = e > s
        return np.stack((s[keep], e[keep]), axis=1)

    def stimulus_duration_s(self) -> float:
        """Total time covered by the stimulus windows inside the sweep, s (overlaps counted once)."""
        spans = self.stimulus_samples(0, self.n)
        if spans.size == 0:
            return 0.0
        s, e = merge_spans(spans[:, 0], spans[:, 1], self.n)
        return float(np.sum(e - s)) / self.fs

    def with_stimulus(self, windows_s, source: str) -> "Sweep":
        """This sweep with other stimulus windows (the samples are shared, not copied)."""
        out = copy.copy(self)
        out.stimulus_windows_s, out.stimulus_source = check_windows(windows_s), str(source)
        return out

    @property
    def in_memory(self) -> bool:
        """True when the samples are held in memory (reads are views)."""
        return self._array is not None

    def read(self, i0: int = 0, i1: int | None = None) -> np.ndarray:
        """Samples ``[i0, i1)`` in mV (float64; a read-only view when in memory).

        Raises
        ------
        RecordingError
            When the file returns the wrong number of samples or non-finite samples.
        """
        i1 = self.n if i1 is None else int(i1)
        i0 = int(i0)
        if self._array is not None:
            return self._array[i0:i1]
        v = self._source(i0, i1)
        if v.size != i1 - i0:
            raise RecordingError(f"{self.file or 'data'}: sweep {self.sweep}: the reader returned {v.size} samples "
                                 f"for [{i0}, {i1}); expected {i1 - i0}", file=self.file, channel=self.channel,
                                 code="short_read")
        if not all_finite(v):
            raise non_finite_error(v, i0, self.fs, file=self.file, sweep=self.sweep, channel=self.channel,
                                   units=self.units)
        return v

    def load(self) -> "Sweep":
        """This sweep with every sample in memory (one read of the source; itself when already there)."""
        if self._array is not None:
            return self
        v = self.read(0, self.n)
        v.flags.writeable = False
        return Sweep(self.n, self.fs, v, t0=self.t0, file=self.file, sweep=self.sweep, channel=self.channel,
                     channel_name=self.channel_name, units=self.units, reader=self.reader, note=self.note,
                     stimulus_windows_s=self.stimulus_windows_s, stimulus_source=self.stimulus_source)

    def to_trace(self) -> Trace:
        """The sweep as an in-memory `Trace` (reads every sample)."""
        v = self.load()._array
        return Trace(v=np.array(v), fs=self.fs, t0=self.t0, file=self.file, sweep=self.sweep, channel=self.channel,
                     units=self.units, metadata={"channel_name": self.channel_name, "reader": self.reader},
                     _checked_v=True)

    @classmethod
    def from_trace(cls, trace: Trace) -> "Sweep":
        """An in-memory sweep of a `Trace`; an irregularly sampled trace is linearly resampled at its median
        rate (noted in `note`)."""
        if not isinstance(trace, Trace):
            raise TypeError(f"`trace` must be a drgephys Trace; got {type(trace).__name__}")
        v, note = trace.v, ""
        if trace.times is not None:
            t = trace.times
            grid = t[0] + np.arange(int(np.floor((t[-1] - t[0]) * trace.fs)) + 1) / trace.fs
            v, note = np.interp(grid, t, trace.v), f"irregular sampling resampled to {trace.fs:.6g} Hz"
        name = trace.metadata.get("channel_name") or trace.channel
        out = cls(v.size, trace.fs, v, t0=trace.t0, file=trace.file, sweep=trace.sweep, channel=trace.channel,
                  channel_name=str(name), units=trace.units, reader=str(trace.metadata.get("reader", "")),
                  note=note, stimulus_windows_s=trace.metadata.get("stimulus_windows_s"),
                  stimulus_source=trace.metadata.get("stimulus_source", "none"))
        out.resampled = trace.times is not None
        return out

    def __repr__(self) -> str:
        where = "in memory" if self.in_memory else "lazy"
        src = f"{self.file}, " if self.file else ""
        return (f"Sweep({src}sweep={self.sweep}, channel={self.channel_name!r}, {self.n} samples @ {self.fs:g} Hz, "
                f"{where})")


def non_finite_error(v: np.ndarray, offset: int, fs: float, *, file, sweep, channel, units) -> RecordingError:
    """The refusal of a sweep with NaN/inf samples (the first one located at ``offset`` + its index)."""
    first = offset + int(np.flatnonzero(~np.isfinite(v))[0])
    return RecordingError(f"{file or 'data'}: sweep {sweep} channel {channel}: NaN/inf samples (the first at "
                          f"{first / fs:.6g} s); drgephys does not guess missing data", file=file, channel=channel,
                          units=units, code="non_finite")
