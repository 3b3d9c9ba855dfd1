"""Open any recording neo reads, read-only, and hand back the membrane-potential sweeps.

Only neo reads files. `neo.io.get_io` is used where it guesses right; explicit IOs are used where it does
not: ASCII traces (`AsciiSignalIO` with a sniffed delimiter, time column and units), NWB (opened with
``mode='r'``), NIX (``mode='ro'``), and upper-case extensions. Pickle-based formats are refused: drgephys never
unpickles anything from a user path.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from pathlib import Path

import numpy as np

from ..errors import RecordingError
from .build import Opened, open_segments
from .channels import clip
from .stimulus import protocol_commands
from .trace import Recording, Trace

#: Extensions drgephys refuses for security (pickle) reasons.
UNSAFE_EXTENSIONS = {".pkl", ".pickle", ".pck", ".p"}
#: Extensions read as plain-text traces.
ASCII_EXTENSIONS = {".txt", ".csv", ".asc", ".tsv", ".dat"}
#: Extensions of formats neo reads, with the IO class used (None = let neo.io.get_io decide).
KNOWN_EXTENSIONS = {
    ".abf": "AxonIO", ".nwb": "NWBIO", ".axgx": "AxographIO", ".axgd": "AxographIO", ".ibw": "IgorIO",
    ".pxp": "IgorIO", ".smr": "Spike2IO", ".smrx": "CedIO", ".wcp": "WinWcpIO", ".edr": "WinEdrIO",
    ".nix": "NixIO", ".dat_": None,
}
_NUMBER_LINE = re.compile(r"^\s*[-+0-9.eE]+([\s,;\t]+[-+0-9.eE]+)*\s*$")


def recording_extensions() -> set[str]:
    """Lower-case extensions `load` recognises as recordings (used by batch folder scans)."""
    return set(KNOWN_EXTENSIONS) - {".dat_"} | ASCII_EXTENSIONS


def _check_path(path) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a file path (str or Path); got {type(path).__name__}")
    p = Path(path)
    if not p.exists():
        raise RecordingError(f"{p}: no such file; check the path", file=str(p), code="missing_file")
    if p.is_dir():
        raise RecordingError(f"{p}: a folder, not a file; pass a recording file (drgephys analyze scans folders)",
                             file=str(p), code="folder")
    if not os.access(p, os.R_OK):
        raise RecordingError(f"{p}: file is not readable (permissions)", file=str(p), code="unreadable")
    if p.stat().st_size == 0:
        raise RecordingError(f"{p}: empty file (0 bytes)", file=str(p), code="empty")
    if p.suffix.lower() in UNSAFE_EXTENSIONS:
        raise RecordingError(
            f"{p}: pickle files are refused — unpickling runs arbitrary code. Export the data to NWB, NIX or "
            "ABF first.", file=str(p), code="unsafe_format")
    return p


def _sniff_ascii(p: Path, time_units: str | None, units: str | None) -> dict:
    """Guess delimiter, header rows, time column and units of a text trace (reads only the first lines)."""
    with open(p, "r", errors="replace") as fh:
        head = [fh.readline() for _ in range(200)]
    head = [h for h in head if h]
    skip = 0
    while skip < len(head) and not _NUMBER_LINE.match(head[skip].strip() or "x"):
        skip += 1
    rows = [h.strip() for h in head[skip:] if h.strip()]
    if not rows or not _NUMBER_LINE.match(rows[0]):
        raise RecordingError(f"{p}: not a numeric text trace (no rows of numbers found in the first lines)",
                             file=str(p), code="unreadable_format")
    first = rows[0]
    delim = "\t" if "\t" in first else "," if "," in first else ";" if ";" in first else " "
    split = (lambda s: s.split()) if delim == " " else (lambda s: [x for x in s.split(delim)])
    table = np.array([[float(x) for x in split(r)] for r in rows[: min(len(rows), 100)]
                      if len(split(r)) == len(split(first))])
    ncol = table.shape[1]
    timecol = None
    if ncol >= 2 and table.shape[0] > 2 and np.all(np.diff(table[:, 0]) >= 0) and np.ptp(table[:, 0]) > 0:
        timecol = 0
    if timecol is not None and time_units is None:
        dt = float(np.median(np.diff(table[:, 0])))
        # dt <= 1 ms read as seconds (>= 1 kHz); larger steps are milliseconds (eFEL/NEURON style).
        time_units = "s" if dt <= 1e-3 else "ms"
    if units is None:
        data = table[:, [c for c in range(ncol) if c != timecol]]
        units = "V" if np.nanmax(np.abs(data)) < 0.5 else "mV"
    return {"delimiter": delim, "skiprows": skip, "timecolumn": timecol,
            "time_units": time_units or "s", "units": units, "ncol": ncol}


def _open_io(p: Path, *, time_units=None, ascii_units=None, sampling_rate_hz=None):
    import neo.io as nio
    import quantities as pq

    ext = p.suffix.lower()
    if ext in ASCII_EXTENSIONS:
        s = _sniff_ascii(p, time_units, ascii_units)
        kw = dict(delimiter=s["delimiter"], skiprows=s["skiprows"], units=s["units"],
                  time_units=s["time_units"], method="genfromtxt")
        if s["timecolumn"] is not None:
            kw["timecolumn"] = s["timecolumn"]
        elif sampling_rate_hz is not None:
            kw["sampling_rate"] = float(sampling_rate_hz) * pq.Hz
        else:
            raise RecordingError(
                f"{p}: a text trace without a time column needs its sampling rate: pass sampling_rate_hz=",
                file=str(p), code="no_sampling_rate")
        return nio.AsciiSignalIO(str(p), **kw)
    cls = KNOWN_EXTENSIONS.get(ext)
    if cls == "NWBIO":
        return nio.NWBIO(str(p), mode="r")
    if cls == "NixIO":
        return nio.NixIO(str(p), mode="ro")
    if cls is not None:
        return getattr(nio, cls)(str(p))
    return nio.get_io(str(p))  # the path exists (checked), so get_io cannot create a file


def _read_segments(io, lazy: bool):
    # neo 0.14's NWBIO lazy proxies fail on load(); read NWB eagerly.
    use_lazy = lazy and getattr(io, "support_lazy", False) and type(io).__name__ != "NWBIO"
    blocks = io.read(lazy=use_lazy) if hasattr(io, "read") else [io.read_block(lazy=use_lazy)]
    segs = [seg for b in blocks for seg in b.segments]
    return segs


def open_recording(path, *, channel=None, units=None, gain: float = 1.0, offset_mv: float = 0.0,
                   time_units: str | None = None, sampling_rate_hz: float | None = None,
                   max_samples: int | None = None, chunk_s: float | None = None) -> Opened:
    """Open a recording read-only and choose its membrane-potential channel; sweeps longer than
    `max_samples` stay on disk and are read by window (where neo's reader is lazy).

    Parameters are those of `load`, plus:

    max_samples : int, optional
        Sweeps longer than this (samples) are returned as lazy `drgephys.io.Sweep` objects read through
        neo's lazy proxies; shorter ones (and every sweep of readers without lazy loading) as in-memory
        `Trace` objects. None: everything in memory.
    chunk_s : float, optional
        Seconds read per file access by lazy sweeps (a read-ahead buffer).

    Returns
    -------
    Opened
        ``items`` (Trace or Sweep per usable sweep), ``skipped``, ``report``, ``reader``; close it (or use
        it as a context manager) when done with the lazy sweeps.

    Raises
    ------
    RecordingError
        As `load`.
    """
    p = _check_path(path)
    _check_units(units)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prev = logging.root.manager.disable
            logging.disable(logging.WARNING)  # neo's AxonIO logs two noisy lines per ABF open
            try:
                io = _open_io(p, time_units=time_units, ascii_units=units, sampling_rate_hz=sampling_rate_hz)
                segments = _read_segments(io, True)
            finally:
                logging.disable(prev)
    except RecordingError:
        raise
    except ImportError as err:
        raise RecordingError(f"{p}: reading this format needs an optional package: {_neo_text(err, p)}. Install it "
                             "(e.g. `pip install igor2` for Igor, `pip install drgephys[nwb]` for NWB).",
                             file=str(p), code="missing_reader") from err
    except MemoryError:
        raise
    except Exception as err:  # neo raises many exception types on corrupt input
        raise RecordingError(f"{p}: unreadable or corrupt file ({type(err).__name__}: {_neo_text(err, p)})",
                             file=str(p), code="unreadable_format") from err
    reader = type(io).__name__
    try:
        opened = open_segments(segments, channel=channel, file=str(p), reader=reader,
                               units=None if p.suffix.lower() in ASCII_EXTENSIONS else units, gain=gain,
                               offset_mv=offset_mv, max_samples=max_samples, chunk_s=chunk_s,
                               commands=protocol_commands(io, len(segments)))
    except BaseException:
        close_io(io)
        raise
    if any(not isinstance(it, Trace) for it in opened.items):
        opened.io = io                  # lazy sweeps read from it until the caller closes it
    else:
        close_io(io)
    return opened


def load(path, *, channel=None, units=None, gain: float = 1.0, offset_mv: float = 0.0,
         time_units: str | None = None, sampling_rate_hz: float | None = None) -> Recording:
    """Load the membrane-potential sweeps of a current-clamp recording.

    Parameters
    ----------
    path : str or Path
        A file in any format neo reads (ABF1/2, NWB, AxoGraph, Igor, Spike2, WinWCP, NIX, ASCII…). Opened
        read-only, never written.
    channel : int or str, optional
        Force the channel: its position among the segment's signal columns, or its name. By default the
        channel is chosen by units and plausibility (see `drgephys.io.channels`), and the choice is
        reported in ``Recording.channel_report``.
    units : str, optional
        Override the units the file declares (e.g. ``"mV"`` for a membrane potential stored as "pA").
    gain, offset_mv : float
        Applied after unit conversion: ``v_mV = value * gain + offset_mv`` (for files with a wrong gain).
    time_units, sampling_rate_hz : optional
        For text traces: units of the time column (``"s"`` or ``"ms"``; sniffed by default) or the rate when
        there is no time column.

    Returns
    -------
    Recording
        List-like of `Trace` (``v`` in mV, ``fs`` in Hz) with ``channel_report`` and ``skipped`` sweeps.

    Raises
    ------
    RecordingError
        When the file is missing, empty, unreadable, or not a current-clamp membrane-potential recording;
        the message names the file, channels, units and reason (``code`` says which, as data).

    Examples
    --------
    >>> import drgephys, pathlib
    >>> rec = drgephys.load(next(pathlib.Path("sample_data").glob("*.abf")))  # doctest: +SKIP
    """
    op = open_recording(path, channel=channel, units=units, gain=gain, offset_mv=offset_mv, time_units=time_units,
                        sampling_rate_hz=sampling_rate_hz)
    return Recording(op.items, file=op.file, channel_report=op.report, reader=op.reader, skipped=op.skipped)


def _neo_text(err: BaseException, p: Path) -> str:
    """A reader's error message for a refusal: the file's path (already named) replaced by "the file", on one
    line, at most 120 characters."""
    text = str(err).replace(str(p.resolve()), "the file").replace(str(p), "the file")
    return clip(text, 120)


def _check_units(units) -> None:
    """Raise ValueError unless `units` is None or a unit quantities can parse."""
    if units is None:
        return
    import quantities as pq

    try:
        pq.Quantity(1.0, units)
    except (LookupError, ValueError, TypeError, SyntaxError):
        raise ValueError(f"`units` must be a unit name quantities understands, e.g. 'mV', 'V' or 'pA'; "
                         f"got {units!r}") from None


def close_io(io) -> None:
    """Close a neo IO if it has a `close` method, ignoring errors (the data are already read)."""
    close = getattr(io, "close", None)
    if callable(close):
        try:
            close()
        except Exception:
            pass
