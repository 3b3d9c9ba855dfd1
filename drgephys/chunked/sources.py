"""Sweeps readable by sample range: lazily through neo proxies, or from an in-memory `Trace`.

The membrane-potential channel is chosen exactly as `drgephys.load` chooses it (units, names, NWB types,
plausibility; `drgephys.io.channels`), but the plausibility checks read only the first ``excerpt_s`` seconds
of the first sweep (channel choice) and of each sweep (sweeps that are not a membrane potential are
refused), so choosing the channel does not load the recording.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings

import numpy as np

from ..errors import RecordingError
from ..io import Trace

__all__ = ["Sweep", "memory_sweep", "lazy_sweeps"]


class Sweep:
    """One sweep's chosen channel in mV, read by sample range with `read`.

    Attributes
    ----------
    n : int
        Number of samples.
    fs : float
        Sampling rate, Hz.
    t0 : float
        Time of the first sample, s.
    sweep : int
    channel : str
        Channel label for the output tables.
    note : str
        Remark for the ``message`` column (e.g. an in-memory fallback).
    """

    def __init__(self, n, fs, t0, sweep, channel, reader, note=""):
        self.n, self.fs, self.t0, self.sweep, self.channel = int(n), float(fs), float(t0), sweep, channel
        self._reader, self.note = reader, note

    def read(self, i0: int, i1: int) -> np.ndarray:
        """Samples ``[i0, i1)`` in mV (float64).

        Raises
        ------
        RecordingError
            On a short read or non-finite samples.
        """
        v = self._reader(i0, i1)
        if v.size != i1 - i0:
            raise RecordingError(f"sweep {self.sweep}: the reader returned {v.size} samples for [{i0}, {i1}); "
                                 f"expected {i1 - i0}", reason="short read")
        if not np.all(np.isfinite(v)):
            raise RecordingError(f"sweep {self.sweep}: {int(np.count_nonzero(~np.isfinite(v)))} NaN/inf samples "
                                 f"in samples [{i0}, {i1}); drgephys does not guess missing data",
                                 reason="non-finite samples")
        return v


def memory_sweep(tr: Trace, note: str = "") -> Sweep:
    """A `Sweep` view of a regularly sampled in-memory `Trace`."""
    label = str(tr.metadata.get("channel_name") or tr.channel)
    return Sweep(tr.v.size, tr.fs, tr.t0, tr.sweep, label, lambda a, b: tr.v[a:b], note)


def _proxy_reader(proxy, column: int, factor: float):
    import quantities as pq

    t_start = float(proxy.t_start.rescale(pq.s).magnitude)
    sr = float(proxy.sampling_rate.rescale(pq.Hz).magnitude)

    def read(i0, i1):
        # neo rounds the slice to the nearest samples: i_start = rint((a - t_start) sr), length rint(...)
        a = t_start + i0 / sr
        sig = proxy.load(time_slice=(a * pq.s, (a + (i1 - i0) / sr) * pq.s), strict_slicing=False,
                         channel_indexes=[column])
        return np.asarray(sig.magnitude, dtype=np.float64).reshape(-1) * factor
    return read


class _Excerpt:
    """Stand-in for a lazy proxy whose `load` returns only the first ``n_s`` seconds (channel choice)."""

    def __init__(self, proxy, n_s: float):
        self._proxy, self._n_s = proxy, n_s
        self.units = proxy.units

    def load(self, channel_indexes=None):
        import quantities as pq

        t0 = self._proxy.t_start
        return self._proxy.load(time_slice=(t0, t0 + self._n_s * pq.s), strict_slicing=False,
                                channel_indexes=channel_indexes)


def lazy_sweeps(path, channel, units, excerpt_s: float):
    """Open ``path`` with neo lazily.

    Returns
    -------
    (list of Sweep, list of skipped-sweep dicts, io) or None
        None when the reader has no lazy support (the caller falls back to `drgephys.load`).

    Raises
    ------
    RecordingError
        When the file is unreadable or holds no membrane-potential channel.
    """
    import quantities as pq

    from ..io import channels as ch
    from ..io.load import _check_path, _open_io, _read_segments

    p = _check_path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prev = logging.root.manager.disable
        logging.disable(logging.WARNING)   # neo's AxonIO logs two noisy lines per ABF open
        try:
            if p.suffix.lower() in (".nwb",):   # neo 0.14's NWBIO proxies fail on load() (load.py)
                return None
            io = _open_io(p)
            if not getattr(io, "support_lazy", False):
                return None
            segments = _read_segments(io, True)
        except RecordingError:
            raise
        except Exception as err:   # neo raises many exception types on corrupt input
            raise RecordingError(f"{p}: unreadable or corrupt file ({type(err).__name__}: {err})",
                                 file=str(p), reason="unreadable format") from err
        finally:
            logging.disable(prev)
    cands = ch.segment_candidates(segments[0], units) if segments else []
    if not cands or any(c.irregular or not hasattr(c.signal, "load") for c in cands):
        return None
    cands = [dataclasses.replace(c, signal=_Excerpt(c.signal, excerpt_s)) for c in cands]
    ch.assess_candidates(cands)
    if channel is not None:
        idx = ch._match_channel(cands, channel).index
    else:
        ok = sorted((c for c in cands if c.ok), key=lambda c: -c.score)
        if not ok:
            msg, reason = ch._refusal_message(str(p), cands)
            raise RecordingError(msg, file=str(p), reason=reason)
        idx = ok[0].index
    sweeps, skipped = [], []
    for k, seg in enumerate(segments):
        sc = ch.segment_candidates(seg, units)
        if idx >= len(sc):
            skipped.append({"sweep": k, "channel": idx, "message": f"sweep {k} has no channel {idx}"})
            continue
        c = sc[idx]
        factor = ch._units_kind(units if units is not None else c.signal.units)[1]
        if not np.isfinite(factor):
            skipped.append({"sweep": k, "channel": idx, "message": f"sweep {k} channel {idx} '{c.name}' is in "
                            f"{c.units}, not a voltage; pass units='mV' if it is a mislabelled potential"})
            continue
        proxy = c.signal
        # per-sweep plausibility as drgephys.load checks it, on the sweep's first `excerpt_s`
        raw = _Excerpt(proxy, excerpt_s).load(channel_indexes=[c.column])
        why = ch._assess_voltage(np.asarray(raw.magnitude, dtype=np.float64).reshape(-1) * factor)
        if why:
            skipped.append({"sweep": k, "channel": idx, "message": f"{p} sweep {k} channel {c.index} '{c.name}' "
                            f"[{c.units}]: {why}"})
            continue
        sweeps.append(Sweep(proxy.shape[0], float(proxy.sampling_rate.rescale(pq.Hz).magnitude),
                            float(proxy.t_start.rescale(pq.s).magnitude), k, str(c.name or c.index),
                            _proxy_reader(proxy, c.column, factor)))
    return sweeps, skipped, io
