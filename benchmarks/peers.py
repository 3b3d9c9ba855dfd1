"""Run the peer tools a lab would use on the same recordings drgephys analyses.

This script runs INSIDE the peer virtual environment (bycycle 1.2.0 needs pandas < 3, so it cannot share
drgephys's environment) and never imports drgephys. For each file it reads every sweep with neo
(``AxonIO`` for ABF, ``NWBIO(mode="r")`` for NWB), picks the membrane-potential channel (the first signal
in volts, rescaled to mV) and runs, on the raw membrane potential as their documentation shows:

* **bycycle** (Cole & Voytek 2019, J Neurophysiol 122:849): after the lowpass step of its tutorial
  (``neurodsp.filt.filter_signal(sig, fs, "lowpass", 3 * f_range[1])``; without it the sample-to-sample
  noise of a 10-50 kHz recording breaks every cycle's monotonicity and nothing is detected),
  ``Bycycle().fit(sig, fs, f_range)`` with the
  package's default cycle-consistency burst thresholds (amplitude consistency >= 0.5, period consistency
  >= 0.5, monotonicity >= 0.8, >= 3 cycles). An episode is a run of consecutive burst cycles, from the
  first cycle's last trough to the last cycle's next trough; frequency = fs / mean period; amplitude =
  90th percentile of the cycles' ``volt_amp`` (mean of rise and decay voltage, i.e. peak-to-trough).
* **NeuroDSP** (Cole et al. 2019, JOSS 4:1272): ``detect_bursts_dual_threshold(sig, fs,
  dual_thresh=(1, 2), f_range=band)`` (Feingold et al. 2015). An episode is a run of True samples;
  frequency = mean of ``freq_by_time`` over the episode; amplitude = 90th percentile of
  ``2 * amp_by_time`` (Hilbert envelope, doubled to peak-to-peak) over the episode.
* **eFEL** (BlueBrain): ``peak_time`` with the trace in ms and mV, ``stim_start`` 0 and ``stim_end`` the
  trace duration (eFEL assumes ms/mV without checking).

Spikes are *not* removed before bycycle/NeuroDSP, nor is the resting potential subtracted: their
documentation does not ask for it, and a lab following it would feed the raw trace.

Usage::

    python benchmarks/peers.py files.json out.json [--peers bycycle,neurodsp,efel] [--band 10 200]

``files.json`` is a JSON list of paths. ``out.json`` gets the versions, the band, per-file/per-sweep
episodes (times in seconds from the sweep's first sample) and spike peak times, per-peer wall time
(seconds, summed over files; reading and imports excluded), the import time and the process's peak
resident memory.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np

PEERS = ("bycycle", "neurodsp", "efel")
DEFAULT_BAND_HZ = (10.0, 200.0)
AMPLITUDE_PERCENTILE = 90.0
# bycycle 1.2.0's documented defaults for burst_method="cycles" (passed explicitly so that the
# package's "no thresholds given" warning does not fire; the values are the same).
BYCYCLE_THRESHOLDS = {
    "amp_fraction_threshold": 0.0,
    "amp_consistency_threshold": 0.5,
    "period_consistency_threshold": 0.5,
    "monotonicity_threshold": 0.8,
    "min_n_cycles": 3,
}
NEURODSP_DUAL_THRESH = (1, 2)
# bycycle's "cycle-by-cycle algorithm" tutorial lowpass-filters the signal before computing features
# (30 Hz for a 4-10 Hz theta band, i.e. 3x the band's upper edge, neurodsp's default FIR length);
# we apply the same rule to the SSO band (600 Hz for 10-200 Hz).
BYCYCLE_LOWPASS_FACTOR = 3.0


# ---------------------------------------------------------------- pure helpers (tested in main venv)

def runs_of_true(mask) -> np.ndarray:
    """Start (inclusive) and stop (exclusive) indices of the runs of True in a boolean array.

    Parameters
    ----------
    mask : array_like of bool, shape (n,)

    Returns
    -------
    ndarray of int, shape (n_runs, 2)
    """
    m = np.asarray(mask, dtype=bool).ravel()
    if m.size == 0:
        return np.empty((0, 2), dtype=np.int64)
    d = np.diff(np.concatenate(([False], m, [False])).astype(np.int8))
    starts = np.flatnonzero(d == 1)
    stops = np.flatnonzero(d == -1)
    return np.column_stack([starts, stops]).astype(np.int64)


def episodes_from_bycycle(df, fs: float) -> list[dict]:
    """Episodes (runs of consecutive burst cycles) from bycycle's per-cycle feature table.

    Parameters
    ----------
    df : pandas.DataFrame
        ``Bycycle.df_features`` (needs ``is_burst``, ``sample_last_trough``, ``sample_next_trough``,
        ``period`` in samples and ``volt_amp`` in the signal's units).
    fs : float
        Sampling rate in Hz.

    Returns
    -------
    list of dict
        ``start_s``, ``end_s``, ``frequency_hz`` (fs / mean period), ``amplitude_mv`` (90th percentile of
        ``volt_amp``) and ``n_cycles``, one per run of burst cycles.
    """
    if df is None or len(df) == 0:
        return []
    is_burst = np.asarray(df["is_burst"], dtype=bool)
    last = np.asarray(df["sample_last_trough"], dtype=np.int64)
    nxt = np.asarray(df["sample_next_trough"], dtype=np.int64)
    period = np.asarray(df["period"], dtype=float)
    amp = np.asarray(df["volt_amp"], dtype=float)
    out = []
    for a, b in runs_of_true(is_burst):  # one iteration per episode, not per cycle
        out.append({
            "start_s": float(last[a] / fs),
            "end_s": float(nxt[b - 1] / fs),
            "frequency_hz": float(fs / np.mean(period[a:b])),
            "amplitude_mv": float(np.percentile(amp[a:b], AMPLITUDE_PERCENTILE)),
            "n_cycles": int(b - a),
        })
    return out


def episodes_from_mask(is_burst, freq_hz, amp, fs: float) -> list[dict]:
    """Episodes from a per-sample burst mask and per-sample instantaneous frequency and amplitude.

    Parameters
    ----------
    is_burst : array_like of bool, shape (n,)
        NeuroDSP's ``detect_bursts_dual_threshold`` output.
    freq_hz : array_like of float, shape (n,)
        ``freq_by_time`` (NaN at the filter edges).
    amp : array_like of float, shape (n,)
        ``amp_by_time`` (Hilbert envelope, zero-to-peak; NaN at the edges).
    fs : float
        Sampling rate in Hz.

    Returns
    -------
    list of dict
        ``start_s``, ``end_s`` (exclusive stop sample / fs), ``frequency_hz`` (NaN-ignoring mean) and
        ``amplitude_mv`` (90th percentile of ``2 * amp``, i.e. peak-to-peak), one per run of True.
    """
    freq_hz = np.asarray(freq_hz, dtype=float)
    amp = np.asarray(amp, dtype=float)
    out = []
    for a, b in runs_of_true(is_burst):
        f = freq_hz[a:b]
        p = 2.0 * amp[a:b]
        out.append({
            "start_s": float(a / fs),
            "end_s": float(b / fs),
            "frequency_hz": float(np.nanmean(f)) if np.isfinite(f).any() else float("nan"),
            "amplitude_mv": (float(np.nanpercentile(p, AMPLITUDE_PERCENTILE)) if np.isfinite(p).any()
                             else float("nan")),
        })
    return out


# ---------------------------------------------------------------- reading

def _quiet_neo():
    for name in ("neo", "neo.rawio", "neo.io", "neo.rawio.axonrawio", "pynwb", "hdmf"):
        logging.getLogger(name).setLevel(logging.ERROR)


def read_sweeps(path: str) -> list[tuple[np.ndarray, float]]:
    """Read every sweep of an ABF or NWB file as (v in mV as float64, fs in Hz).

    The membrane-potential channel is the first analog signal whose units are a voltage; when none is,
    the first signal is taken as mV.
    """
    import neo
    import quantities as pq

    _quiet_neo()
    ext = Path(path).suffix.lower()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if ext == ".abf":
            blocks = [neo.io.AxonIO(filename=path).read_block(lazy=False)]
        elif ext == ".nwb":
            blocks = neo.io.NWBIO(filename=path, mode="r").read_all_blocks(lazy=False)
        else:
            raise ValueError(f"`path` must be an .abf or .nwb file; got {path!r}")
    sweeps = []
    for block in blocks:
        for seg in block.segments:
            sigs = list(seg.analogsignals)
            if not sigs:
                continue
            chosen, col = None, 0
            for s in sigs:
                if s.units.dimensionality.simplified == pq.V.dimensionality.simplified:
                    chosen = s
                    break
            if chosen is None:
                chosen = sigs[0]
                v = np.asarray(chosen.magnitude[:, col], dtype=np.float64)
            else:
                v = np.asarray(chosen.rescale("mV").magnitude[:, col], dtype=np.float64)
            sweeps.append((v, float(chosen.sampling_rate.rescale("Hz").magnitude)))
    return sweeps


# ---------------------------------------------------------------- peers

def bycycle_lowpass_hz(band, fs) -> float:
    """Cutoff of the lowpass bycycle's tutorial applies first: 3x the band's upper edge, below Nyquist."""
    return float(min(BYCYCLE_LOWPASS_FACTOR * band[1], 0.45 * fs))


def run_bycycle(v, fs, band):
    from bycycle import Bycycle
    from neurodsp.filt import filter_signal

    sig = filter_signal(v, fs, "lowpass", bycycle_lowpass_hz(band, fs), remove_edges=False)
    bm = Bycycle(thresholds=dict(BYCYCLE_THRESHOLDS))
    bm.fit(sig, fs, tuple(band))
    return {"episodes": episodes_from_bycycle(bm.df_features, fs)}


def run_neurodsp(v, fs, band):
    from neurodsp.burst import detect_bursts_dual_threshold
    from neurodsp.timefrequency import amp_by_time, freq_by_time

    is_burst = detect_bursts_dual_threshold(v, fs, dual_thresh=NEURODSP_DUAL_THRESH, f_range=tuple(band))
    freq = freq_by_time(v, fs, f_range=tuple(band))
    amp = amp_by_time(v, fs, f_range=tuple(band))
    return {"episodes": episodes_from_mask(is_burst, freq, amp, fs)}


def run_efel(v, fs, band=None):
    import efel

    t_ms = np.arange(v.size, dtype=np.float64) * (1000.0 / fs)
    trace = {"T": t_ms, "V": v, "stim_start": [0.0], "stim_end": [float(v.size * 1000.0 / fs)]}
    res = efel.get_feature_values([trace], ["peak_time"], raise_warnings=False)[0]
    pt = res.get("peak_time")
    times = [] if pt is None else (np.asarray(pt, dtype=float) / 1000.0).tolist()
    return {"spikes_s": times}


RUNNERS = {"bycycle": run_bycycle, "neurodsp": run_neurodsp, "efel": run_efel}


PEER_MODULES = {"bycycle": ("bycycle", "neurodsp.filt"), "neurodsp": ("neurodsp.burst", "neurodsp.timefrequency"),
                "efel": ("efel",)}


def peak_rss_mb() -> float:
    """This process's peak resident memory (MB): VmHWM from /proc (reset at exec, unlike getrusage's
    maxrss, which Linux carries over from the parent that forked us); getrusage elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def preload(peers) -> float:
    """Import neo and the peers' modules before any timing; return the time it took (s)."""
    import importlib

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        importlib.import_module("neo.io")
        for p in peers:
            for m in PEER_MODULES[p]:
                importlib.import_module(m)
    return time.perf_counter() - t0


def versions() -> dict:
    out = {"python": sys.version.split()[0]}
    for name in ("numpy", "scipy", "pandas", "neo", "bycycle", "neurodsp", "efel"):
        try:
            mod = __import__(name)
            out[name] = getattr(mod, "__version__", "unknown")
        except Exception as err:  # pragma: no cover - reported, not fatal
            out[name] = f"unavailable ({type(err).__name__})"
    return out


def run_files(files, peers=PEERS, band=DEFAULT_BAND_HZ) -> dict:
    """Read each file and run the chosen peers on every sweep; never stop on one failing file."""
    unknown = set(peers) - set(RUNNERS)
    if unknown:
        raise ValueError(f"`peers` must be among {list(RUNNERS)}; got {sorted(unknown)}")
    import_s = preload(peers)
    rss_after_import = peak_rss_mb()
    wall = {"read": 0.0, **{p: 0.0 for p in peers}}
    results = []
    for path in files:
        entry = {"path": str(path), "sweeps": [], "error": None}
        try:
            t0 = time.perf_counter()
            sweeps = read_sweeps(str(path))
            wall["read"] += time.perf_counter() - t0
            for i, (v, fs) in enumerate(sweeps):
                sw = {"sweep": i, "fs_hz": fs, "n_samples": int(v.size), "duration_s": v.size / fs}
                for p in peers:
                    t0 = time.perf_counter()
                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            sw[p] = RUNNERS[p](v, fs, band)
                    except Exception as err:
                        sw[p] = {"error": f"{type(err).__name__}: {err}"}
                    wall[p] += time.perf_counter() - t0
                entry["sweeps"].append(sw)
        except Exception as err:
            entry["error"] = f"{type(err).__name__}: {err}"
        results.append(entry)
    return {
        "versions": versions(),
        "band_hz": list(map(float, band)),
        "peers": list(peers),
        "files": results,
        "wall_s": wall,
        "import_s": import_s,
        "rss_after_import_mb": rss_after_import,
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files_json", help="JSON list of ABF/NWB paths")
    ap.add_argument("out_json", help="where to write the results")
    ap.add_argument("--peers", default=",".join(PEERS), help="comma-separated subset of " + ",".join(PEERS))
    ap.add_argument("--band", nargs=2, type=float, default=DEFAULT_BAND_HZ, metavar=("LO_HZ", "HI_HZ"))
    args = ap.parse_args(argv)
    files = json.loads(Path(args.files_json).read_text())
    peers = tuple(p for p in args.peers.split(",") if p)
    out = run_files(files, peers=peers, band=tuple(args.band))
    tmp = args.out_json + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(out, fh, allow_nan=True)
    os.replace(tmp, args.out_json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
