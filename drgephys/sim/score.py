"""Score detector output against simulator truth (episodes, spikes, triggers, patterns, hum).

Matching rules
--------------
- A true SSO episode is FOUND when detections cover ≥ 50 % of it; a detection is TRUE when ≥ 50 % of it lies
  inside true episodes. Frequency/amplitude errors use, for each found episode, the detection overlapping it
  most.
- A spike is matched when a detected ``peak_s`` lies within ±1 ms of a true one, one-to-one, greedily by
  distance.
- A false episode "at the mains frequency" is a detection that is not TRUE, in a cell with hum, whose
  frequency is within ±2 Hz of the hum frequency or one of its harmonics (up to the 4th).
- Per true episode (:func:`episode_outcomes`): found or not, its in-episode firing rate and rate bin (< 5,
  5–10, 10–20, ≥ 20 Hz), the frequency error of the detection overlapping it most; per cell
  (:func:`false_episodes`): the detections that are not TRUE, and their rate per minute of recording.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import balanced_accuracy_score

#: Share of a true episode that detections must cover for it to count as found (and vice versa).
OVERLAP_SHARE = 0.5
#: Spike peak-time matching tolerance, s.
SPIKE_TOL_S = 1e-3
#: Frequency tolerance around the mains frequency and its harmonics, Hz; harmonics considered.
HUM_TOL_HZ = 2.0
HUM_HARMONICS = 4

#: Edges (Hz) of the in-episode firing-rate bins and their labels.
RATE_BIN_EDGES_HZ = (5.0, 10.0, 20.0)
RATE_BIN_LABELS = ("< 5 Hz", "5–10 Hz", "10–20 Hz", "≥ 20 Hz")

_OSC_COLUMNS = ["start_s", "end_s", "frequency_hz", "amplitude_mv"]
_SPK_COLUMNS = ["peak_s", "trigger"]


def _tables(result):
    """(oscillations, spikes, pattern) from an AnalysisResult-like object or a dict."""
    get = (lambda k: result.get(k)) if isinstance(result, dict) else (lambda k: getattr(result, k, None))
    osc, spk = get("oscillations"), get("spikes")
    if osc is None or spk is None:
        raise TypeError("`result` must have `oscillations` and `spikes` DataFrames (attributes or dict keys); "
                        f"got {type(result).__name__}")
    osc, spk = pd.DataFrame(osc), pd.DataFrame(spk)
    pattern = get("pattern") if get("pattern") is not None else get("firing_pattern")
    if pattern is None:
        rec = get("recordings")
        if rec is not None and "firing_pattern" in getattr(rec, "columns", []) and len(rec):
            pattern = rec["firing_pattern"].iloc[0]
    pattern = None if pattern is None or pd.isna(pattern) else str(pattern)
    for c in _OSC_COLUMNS:
        if c not in osc.columns:
            osc[c] = pd.Series(dtype=float) if osc.empty else np.nan
    if "peak_s" not in spk.columns:
        spk["peak_s"] = pd.Series(dtype=float) if spk.empty else np.nan
    return osc, spk, pattern


def _overlap(a0, a1, b0, b1):
    """Overlap (s) of every interval of (a0, a1) with every interval of (b0, b1): shape (len(a), len(b))."""
    return np.maximum(0.0, np.minimum(a1[:, None], b1[None, :]) - np.maximum(a0[:, None], b0[None, :]))


def _union_cover(t0, t1, d0, d1):
    """Length of each true interval covered by the union of the detection intervals (handles overlaps)."""
    if d0.size == 0:
        return np.zeros(t0.size)
    o = np.argsort(d0)
    d0, d1 = d0[o], np.maximum.accumulate(d1[o])
    new = np.concatenate([[True], d0[1:] > d1[:-1]])
    grp = np.cumsum(new) - 1
    u0 = d0[new]
    u1 = np.zeros(u0.size)
    np.maximum.at(u1, grp, d1)
    return _overlap(t0, t1, u0, u1).sum(axis=1)


def match_spikes(true_s, det_s, tol_s: float = SPIKE_TOL_S):
    """One-to-one greedy (closest first) matching of peak times within ±``tol_s``; returns index pairs."""
    true_s, det_s = np.asarray(true_s, float), np.asarray(det_s, float)
    if true_s.size == 0 or det_s.size == 0:
        return np.empty(0, int), np.empty(0, int)
    od = np.argsort(det_s)
    ds = det_s[od]
    lo = np.searchsorted(ds, true_s - tol_s, side="left")
    hi = np.searchsorted(ds, true_s + tol_s, side="right")
    cnt = hi - lo
    ti = np.repeat(np.arange(true_s.size), cnt)
    dj = np.concatenate([np.arange(a, b) for a, b in zip(lo, hi)]) if cnt.sum() else np.empty(0, int)
    dist = np.abs(true_s[ti] - ds[dj])
    order = np.argsort(dist, kind="stable")
    used_t, used_d = np.zeros(true_s.size, bool), np.zeros(ds.size, bool)
    mt, md = [], []
    for k in order:  # greedy over candidate pairs (about one per spike)
        i, j = ti[k], dj[k]
        if not used_t[i] and not used_d[j]:
            used_t[i] = used_d[j] = True
            mt.append(i)
            md.append(od[j])
    return np.asarray(mt, int), np.asarray(md, int)


def _match_episodes(te: list, osc: pd.DataFrame):
    """(found per true episode, TRUE per detection, indices of the found episodes, best detection of each)."""
    t0 = np.array([e["start_s"] for e in te], float)
    t1 = np.array([e["end_s"] for e in te], float)
    d0 = osc["start_s"].to_numpy(float)
    d1 = osc["end_s"].to_numpy(float)
    ov = _overlap(t0, t1, d0, d1)
    found = _union_cover(t0, t1, d0, d1) >= OVERLAP_SHARE * (t1 - t0)
    det_true = ov.sum(axis=0) >= OVERLAP_SHARE * (d1 - d0) if te else np.zeros(d0.size, bool)
    fi = np.flatnonzero(found)
    best = ov[fi].argmax(axis=1) if fi.size else np.empty(0, int)
    return found, det_true, fi, best


def _cell(truth: dict, result) -> dict:
    """Raw per-cell counts and error lists."""
    osc, spk, pattern = _tables(result)
    fs = float(truth.get("fs_hz", np.nan))
    te = truth.get("episodes", [])
    d0 = osc["start_s"].to_numpy(float)
    found, det_true, fi, best = _match_episodes(te, osc)
    f_true = np.array([te[i]["frequency_hz"] for i in fi], float)
    a_true = np.array([te[i]["amplitude_mv"] for i in fi], float)
    f_det = osc["frequency_hz"].to_numpy(float)[best]
    a_det = osc["amplitude_mv"].to_numpy(float)[best]
    vm_true = np.array([te[i].get("mean_vm_mv", np.nan) for i in fi], float)
    vm_det = osc["mean_vm_mv"].to_numpy(float)[best] if "mean_vm_mv" in osc.columns else np.full(fi.size, np.nan)
    hum = truth.get("hum_hz")
    hum_false = 0
    if hum:
        f = osc["frequency_hz"].to_numpy(float)
        near = np.any(np.abs(f[:, None] - hum * np.arange(1, HUM_HARMONICS + 1)[None, :]) <= HUM_TOL_HZ, axis=1)
        hum_false = int(np.count_nonzero(near & ~det_true))
    ts = truth.get("spikes", [])
    tp = np.array([s["peak_s"] for s in ts], float)
    mt, md = match_spikes(tp, spk["peak_s"].to_numpy(float))
    dt = spk["peak_s"].to_numpy(float)[md] - tp[mt]
    trig_true = [ts[i]["trigger"] for i in mt]
    trig_det = (spk["trigger"].astype(object).to_numpy()[md].tolist() if "trigger" in spk.columns
                else [None] * len(mt))
    return {
        "n_true_episodes": len(te), "n_detected_episodes": int(d0.size), "n_found": int(found.sum()),
        "n_true_detections": int(det_true.sum()), "freq_err": f_det - f_true,
        "amp_rel_err": (a_det - a_true) / a_true, "vm_err": vm_det - vm_true, "sso_true": bool(truth.get("sso_cell", bool(te))),
        "sso_pred": bool(d0.size > 0), "has_hum": bool(hum), "hum_false": hum_false,
        "n_true_spikes": int(tp.size), "n_detected_spikes": int(len(spk)), "n_matched_spikes": int(mt.size),
        "dt_s": dt, "fs": fs, "trig_true": trig_true, "trig_det": trig_det,
        "pattern_true": truth.get("pattern"), "pattern_pred": pattern,
    }


def _ratio(a, b):
    return float(a / b) if b else float("nan")


def _f1(p, r):
    return float(2 * p * r / (p + r)) if np.isfinite(p) and np.isfinite(r) and p + r > 0 else (
        0.0 if p == 0 and r == 0 else float("nan"))


def _bacc(y_true, y_pred):
    pairs = [(a, b) for a, b in zip(y_true, y_pred) if a is not None and b is not None and not pd.isna(b)]
    if not pairs:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(balanced_accuracy_score([str(a) for a, _ in pairs], [str(b) for _, b in pairs]))


def _summarize(cells: list[dict]) -> dict:
    s = lambda k: int(sum(c[k] for c in cells))  # noqa: E731
    p = _ratio(s("n_true_detections"), s("n_detected_episodes"))
    r = _ratio(s("n_found"), s("n_true_episodes"))
    sp = _ratio(s("n_matched_spikes"), s("n_detected_spikes"))
    sr = _ratio(s("n_matched_spikes"), s("n_true_spikes"))
    fe = np.concatenate([c["freq_err"] for c in cells]) if cells else np.empty(0)
    ae = np.concatenate([c["amp_rel_err"] for c in cells]) if cells else np.empty(0)
    ve = np.concatenate([c["vm_err"] for c in cells]) if cells else np.empty(0)
    ve = ve[np.isfinite(ve)]
    dt = np.concatenate([np.abs(c["dt_s"]) for c in cells]) if cells else np.empty(0)
    dts = np.concatenate([np.abs(c["dt_s"]) * c["fs"] for c in cells]) if cells else np.empty(0)
    med = lambda x: float(np.median(x)) if x.size else float("nan")  # noqa: E731
    return {
        "n_cells": len(cells), "n_true_episodes": s("n_true_episodes"), "n_detected_episodes": s("n_detected_episodes"),
        "episode_precision": p, "episode_recall": r, "episode_f1": _f1(p, r),
        "frequency_error_median_hz": med(np.abs(fe)),
        "frequency_error_p90_hz": float(np.percentile(np.abs(fe), 90)) if fe.size else float("nan"),
        "frequency_bias_hz": med(fe), "amplitude_rel_error_median": med(np.abs(ae)), "amplitude_rel_bias": med(ae),
        "mean_vm_error_median_mv": med(np.abs(ve)),
        "sso_cell_balanced_accuracy": _bacc([c["sso_true"] for c in cells], [c["sso_pred"] for c in cells]),
        "n_cells_with_hum": int(sum(c["has_hum"] for c in cells)), "hum_false_episodes": s("hum_false"),
        "n_true_spikes": s("n_true_spikes"), "n_detected_spikes": s("n_detected_spikes"),
        "spike_precision": sp, "spike_recall": sr, "spike_f1": _f1(sp, sr),
        "spike_timing_error_median_samples": med(dts), "spike_timing_error_median_ms": med(dt) * 1e3,
        "trigger_balanced_accuracy": _bacc(sum((c["trig_true"] for c in cells), []),
                                           sum((c["trig_det"] for c in cells), [])),
        "pattern_balanced_accuracy": _bacc([c["pattern_true"] for c in cells], [c["pattern_pred"] for c in cells]),
    }


def score(truth, result) -> dict:
    """Score detections against simulator truth.

    Parameters
    ----------
    truth : dict or list of dict
        Truth dict(s) of :func:`drgephys.sim.simulate_trace` (or loaded from ``<file>.truth.json``).
    result : object, dict or list
        Anything with ``oscillations`` and ``spikes`` DataFrames (attributes or dict keys; columns as in
        ``drgephys.tables``, times in s from the trace start) and optionally ``pattern``/``firing_pattern``
        (or a ``recordings`` table with ``firing_pattern``). With a list of truths, a list of results of the
        same length.

    Returns
    -------
    dict
        Pooled metrics: ``episode_precision/recall/f1``, ``frequency_error_median_hz``,
        ``frequency_error_p90_hz``, ``frequency_bias_hz``, ``amplitude_rel_error_median``,
        ``mean_vm_error_median_mv`` (when detections carry ``mean_vm_mv``),
        ``sso_cell_balanced_accuracy``, ``hum_false_episodes`` (over ``n_cells_with_hum``),
        ``spike_precision/recall/f1``, ``spike_timing_error_median_samples`` and ``..._ms``,
        ``trigger_balanced_accuracy``, ``pattern_balanced_accuracy`` and the counts behind them; NaN where a
        metric is undefined (e.g. precision without detections).
    """
    if isinstance(truth, dict):
        return _summarize([_cell(truth, result)])
    truths, results = list(truth), list(result) if isinstance(result, (list, tuple)) else None
    if results is None or len(results) != len(truths):
        raise ValueError("with a list of truths, `result` must be a list of results of the same length; got "
                         f"{len(truths)} truths and {type(result).__name__}")
    return _summarize([_cell(t, r) for t, r in zip(truths, results)])


def _per_cell_row(file, truth, c):
    summ = _summarize([c])
    keep = ["n_true_episodes", "n_detected_episodes", "episode_precision", "episode_recall", "episode_f1",
            "frequency_error_median_hz", "amplitude_rel_error_median", "hum_false_episodes", "n_true_spikes",
            "n_detected_spikes", "spike_precision", "spike_recall", "spike_f1", "spike_timing_error_median_ms"]
    return {"file": file, "group": truth.get("group"), "sso_cell": c["sso_true"], "sso_detected": c["sso_pred"],
            "pattern": c["pattern_true"], "pattern_detected": c["pattern_pred"], **{k: summ[k] for k in keep}}


def _subset(result, name):
    """The rows of ``result``'s tables whose ``file`` column names ``name`` (by base name)."""
    osc, spk, _ = _tables(result)
    get = (lambda k: result.get(k)) if isinstance(result, dict) else (lambda k: getattr(result, k, None))
    sel = lambda df: df[df["file"].astype(str).map(lambda f: Path(f).name) == name] if "file" in df else df  # noqa: E731
    out = {"oscillations": sel(osc), "spikes": sel(spk)}
    rec = get("recordings")
    if rec is not None and "file" in rec.columns:
        out["recordings"] = sel(rec)
    return out


def score_cohort(folder, results) -> tuple[pd.DataFrame, dict]:
    """Score every ``*.truth.json`` in ``folder`` (e.g. written by :func:`simulate_cohort`).

    Parameters
    ----------
    folder : str or Path
        Folder holding the data files and their ``<file>.truth.json``.
    results : callable, dict or object
        ``results(path) -> result`` (e.g. ``drgephys.analyze``), a ``{file name: result}`` dict, or one
        result whose tables carry a ``file`` column (a batch output), split per file by base name.

    Returns
    -------
    (pandas.DataFrame, dict)
        One row per cell (file, group, truth and detection flags, per-cell metrics) and the pooled summary
        of :func:`score`.
    """
    folder = Path(folder)
    files = sorted(folder.glob("*.truth.json"))
    if not files:
        raise ValueError(f"`folder` must contain <file>.truth.json ground-truth files; found none in {folder}")
    rows, cells = [], []
    for tf in files:
        truth = json.loads(tf.read_text(encoding="utf-8"))
        name = tf.name[: -len(".truth.json")]
        if callable(results):
            res = results(folder / name)
        elif isinstance(results, dict) and "oscillations" not in results:
            res = results[name]
        else:
            res = _subset(results, name)
        c = _cell(truth, res)
        cells.append(c)
        rows.append(_per_cell_row(name, truth, c))
    return pd.DataFrame(rows), _summarize(cells)


def rate_bin(rate_hz) -> np.ndarray:
    """Label (``RATE_BIN_LABELS``) of each in-episode firing rate (Hz): < 5, 5–10, 10–20, ≥ 20 Hz."""
    r = np.atleast_1d(np.asarray(rate_hz, dtype=float))
    if np.any(~np.isfinite(r) | (r < 0)):
        raise ValueError(f"`rate_hz` must hold non-negative finite rates in Hz; got {r[~np.isfinite(r) | (r < 0)][:3]}")
    return np.asarray(RATE_BIN_LABELS, dtype=object)[np.searchsorted(RATE_BIN_EDGES_HZ, r, side="right")]


def _episode_rates(truth: dict) -> np.ndarray:
    """In-episode firing rate (Hz) of each true episode: its ``firing_rate_hz``, or counted from the truth's
    spikes (``threshold_s`` in ``[start_s, end_s)``) for truths written before that key existed."""
    te = truth.get("episodes", [])
    th = np.array([s["threshold_s"] for s in truth.get("spikes", [])], float)
    out = np.empty(len(te))
    for k, e in enumerate(te):
        if "firing_rate_hz" in e:
            out[k] = e["firing_rate_hz"]
        else:
            out[k] = np.count_nonzero((th >= e["start_s"]) & (th < e["end_s"])) / (e["end_s"] - e["start_s"])
    return out


def episode_outcomes(truth: dict, result) -> pd.DataFrame:
    """One row per true episode of one cell: was it found, how fast did the cell fire in it, how wrong is the
    frequency.

    Parameters
    ----------
    truth : dict
        Truth of :func:`drgephys.sim.simulate_trace` (or a ``<file>.truth.json``).
    result : object or dict
        Detector output, as for :func:`score`.

    Returns
    -------
    pandas.DataFrame
        Columns ``start_s``, ``end_s``, ``frequency_hz``, ``amplitude_mv`` (truth), ``firing_rate_hz``,
        ``rate_bin`` (``RATE_BIN_LABELS``), ``pattern`` (the cell's), ``found`` (bool; detections cover
        ≥ 50 %), ``frequency_error_hz`` and ``amplitude_rel_error`` (detection overlapping most − truth; NaN
        when missed).
    """
    osc, _, _ = _tables(result)
    te = truth.get("episodes", [])
    found, _, fi, best = _match_episodes(te, osc)
    ferr = np.full(len(te), np.nan)
    aerr = np.full(len(te), np.nan)
    f_true = np.array([e["frequency_hz"] for e in te], float)
    a_true = np.array([e["amplitude_mv"] for e in te], float)
    ferr[fi] = osc["frequency_hz"].to_numpy(float)[best] - f_true[fi]
    aerr[fi] = (osc["amplitude_mv"].to_numpy(float)[best] - a_true[fi]) / a_true[fi]
    rates = _episode_rates(truth)
    return pd.DataFrame({
        "start_s": np.array([e["start_s"] for e in te], float), "end_s": np.array([e["end_s"] for e in te], float),
        "frequency_hz": f_true, "amplitude_mv": a_true, "firing_rate_hz": rates,
        "rate_bin": rate_bin(rates) if te else np.empty(0, dtype=object),
        "pattern": [truth.get("pattern")] * len(te), "found": found.astype(bool),
        "frequency_error_hz": ferr, "amplitude_rel_error": aerr,
    })


def false_episodes(truth: dict, result) -> dict:
    """Detections of one cell that are not TRUE (< 50 % inside true episodes).

    Returns
    -------
    dict
        ``n_detected``, ``n_false`` (counts), ``duration_min`` (recording length, min) and ``false_per_min``.
    """
    osc, _, _ = _tables(result)
    _, det_true, _, _ = _match_episodes(truth.get("episodes", []), osc)
    n_false = int(np.count_nonzero(~det_true))
    minutes = float(truth["duration_s"]) / 60.0
    return {"n_detected": int(len(osc)), "n_false": n_false, "duration_min": minutes,
            "false_per_min": n_false / minutes if minutes > 0 else float("nan")}
