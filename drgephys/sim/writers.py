"""Write simulated traces to ABF1 (pyabf) and NWB (neo's NWBIO, pynwb) with a ``<file>.truth.json`` beside.

pyabf, neo and pynwb are optional (extras ``drgephys[sim]``/``[nwb]``) and imported inside the functions.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import struct
import warnings
from pathlib import Path

import numpy as np

from drgephys._atomic import atomic_bytes, atomic_write
from drgephys._validation import check_fs, check_v

#: ABF1 stores int16 counts; the scale keeps this resolution (mV) up to ``ABF_MAX_ABS_MV``.
ABF_RESOLUTION_MV = 0.01
ABF_MAX_ABS_MV = 300.0
_ABF_DATA_OFFSET = 512 * 4  # pyabf writeABF1: 4 header blocks of 512 bytes, then int16 data
_ABF_SCALE_OFFSET = 922  # fInstrumentScaleFactor[16] (float32) in the ABF1 header


def truth_path(path) -> Path:
    """Path of the ground-truth JSON written beside a data file: ``<file>.truth.json``."""
    p = Path(path)
    return p.with_name(p.name + ".truth.json")


def _json_default(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"truth value is not JSON-serialisable: {x!r}")


def write_truth(path, truth: dict) -> Path:
    """Write ``truth`` as ``<path>.truth.json`` atomically; return the JSON path."""
    out = truth_path(path)
    atomic_bytes(out, json.dumps(truth, indent=1, default=_json_default, allow_nan=True).encode("utf-8"))
    return out


def abf_scale_factor(max_abs_mv: float) -> float:
    """ABF1 ``fInstrumentScaleFactor`` (V/mV) that fits ±``max_abs_mv`` (+2 % headroom) in int16 counts.

    One count is ``10 V / 32768 / factor``, i.e. ``max_abs_mv·1.02/32767`` mV: 0.0047 mV for ±150 mV.
    """
    m = max(float(max_abs_mv), 1.0) * 1.02
    return float(np.float32(10.0 * 32767 / 32768 / m))


def write_abf(path, v, fs, *, truth: dict | None = None) -> Path:
    """Write one gap-free sweep to an ABF1 file (mV) with pyabf, readable by neo's AxonIO.

    pyabf picks a power-of-ten scale (0.03 mV steps above ±100 mV) and truncates toward zero; this writer
    then stores a scale fitted to the data (:func:`abf_scale_factor`, ≤ 0.01 mV per step up to ±300 mV) and
    rounds to the nearest count. The file is written to a temporary name and moved into place.

    Parameters
    ----------
    path : str or Path
        Output ``.abf`` path.
    v : array_like
        Membrane potential in mV, shape ``(n_samples,)``.
    fs : float
        Sampling rate in Hz.
    truth : dict, optional
        Ground truth written beside the file as ``<file>.truth.json``.

    Returns
    -------
    Path
        The data file path.
    """
    try:
        from pyabf.abfWriter import writeABF1  # noqa: PLC0415
    except ImportError as exc:
        raise ImportError("write_abf needs pyabf: `pip install pyabf` (or `pip install drgephys[sim]`)") from exc
    v = check_v(v)
    fs = check_fs(fs)
    path = Path(path)
    max_abs = float(np.max(np.abs(v)))
    if max_abs > ABF_MAX_ABS_MV:
        raise ValueError(f"`v` must stay within ±{ABF_MAX_ABS_MV:g} mV to keep {ABF_RESOLUTION_MV} mV resolution "
                         f"in ABF1's int16; got {max_abs:.1f} mV. Check the units (mV expected).")
    factor = abf_scale_factor(max_abs)

    def fill(tmp: str) -> None:
        # pyabf writes the header; its per-sample data loop is fed zeros, the real data are written below
        writeABF1(np.zeros((1, v.size), dtype=np.float32), tmp, float(fs), units="mV")
        counts = np.round(v * (32768 / 10.0 * factor))
        with open(tmp, "r+b") as fh:
            header = bytearray(fh.read(_ABF_DATA_OFFSET))
            for i in range(16):
                struct.pack_into("f", header, _ABF_SCALE_OFFSET + 4 * i, factor)
            fh.seek(0)
            fh.write(header)
            fh.write(np.clip(counts, -32768, 32767).astype("<i2").tobytes())

    atomic_write(path, fill, suffix=".abf")
    if truth is not None:
        write_truth(path, truth)
    return path


def write_nwb(path, v, fs, *, truth: dict | None = None, session_start_time: _dt.datetime | None = None,
              description: str = "drgephys simulated DRG current-clamp recording") -> Path:
    """Write one trace to NWB as a ``CurrentClampSeries`` (mV) through neo's ``NWBIO``.

    Parameters
    ----------
    path : str or Path
        Output ``.nwb`` path.
    v : array_like
        Membrane potential in mV, shape ``(n_samples,)``; stored as float32.
    fs : float
        Sampling rate in Hz.
    truth : dict, optional
        Ground truth written beside the file as ``<file>.truth.json``.
    session_start_time : datetime, optional
        Session start (timezone-aware); default 2000-01-01 UTC so that files are reproducible.
    description : str
        Session description.

    Returns
    -------
    Path
        The data file path.
    """
    try:
        import neo  # noqa: PLC0415
        import pynwb  # noqa: F401, PLC0415
        import quantities as pq  # noqa: PLC0415
        from neo.io import NWBIO  # noqa: PLC0415
    except ImportError as exc:
        raise ImportError("write_nwb needs neo and pynwb: `pip install drgephys[nwb]`") from exc
    v = check_v(v)
    fs = check_fs(fs)
    path = Path(path)
    start = session_start_time or _dt.datetime(2000, 1, 1, tzinfo=_dt.timezone.utc)
    sig = neo.AnalogSignal(v.astype(np.float32).reshape(-1, 1), units="mV", sampling_rate=fs * pq.Hz,
                           name="membrane_potential")
    sig.annotate(nwb_neurodata_type=("pynwb.icephys", "CurrentClampSeries"),
                 nwb_electrode={"name": "electrode0", "description": "simulated whole-cell electrode",
                                "device": {"name": "drgephys.sim"}},
                 **{"nwb:gain": 1.0, "nwb:sweep_number": 0, "nwb:bias_current": 0.0})
    seg = neo.Segment(name="sweep0")
    seg.analogsignals.append(sig)
    block = neo.Block(name="drgephys_sim", session_start_time=start, session_description=description,
                      identifier=path.stem)
    block.segments.append(seg)
    def fill(tmp: str) -> None:
        os.unlink(tmp)  # NWBIO refuses to overwrite a file: give it the fresh name
        quiet = logging.Filter("drgephys-quiet")  # neo logs a rename of the signal on the root logger
        quiet.filter = lambda record: "signal name exists" not in record.getMessage()
        logging.getLogger().addFilter(quiet)
        try:
            with warnings.catch_warnings():  # pynwb/hdmf warnings about neo's own conventions (STACK-NOTES)
                warnings.simplefilter("ignore")
                NWBIO(tmp, mode="w").write_all_blocks([block])
        finally:
            logging.getLogger().removeFilter(quiet)

    atomic_write(path, fill, suffix=".nwb")
    if truth is not None:
        write_truth(path, truth)
    return path
