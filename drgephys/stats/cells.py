"""From the sweep and episode tables of ``drgephys analyze`` to one row per cell (a cell is a ``file``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..tables import PATTERN_VALUES

#: Per-cell outcomes compared between groups (pattern shares are added as ``pattern_share_<pattern>``).
CELL_METRICS = ("sso_prevalence", "sso_time_fraction", "sso_frequency_hz", "sso_amplitude_mv",
                "spike_rate_hz", "resting_vm_mv")

_NEED_RECORDINGS = ("file", "status", "duration_s")
_NEED_OSCILLATIONS = ("file", "start_s", "end_s", "frequency_hz", "mean_vm_mv")


def _missing(df: pd.DataFrame, cols, what: str, hint: str = "") -> None:
    miss = [c for c in cols if c not in df.columns]
    if miss:
        raise ValueError(f"`{what}` must have the column(s) {miss} of `drgephys analyze`; got columns "
                         f"{list(df.columns)}{'. ' + hint if hint else ''}")


def _as_bool(s: pd.Series) -> np.ndarray:
    """True/False from booleans, 0/1 or the strings written to CSV ('True', 'false', ...); NA → False."""
    if s.dtype == object or pd.api.types.is_string_dtype(s):
        low = s.astype("string").str.strip().str.lower()
        return low.isin(["true", "1", "yes", "1.0"]).fillna(False).to_numpy(dtype=bool)
    return pd.to_numeric(s, errors="coerce").fillna(0).to_numpy(dtype=float) != 0


def _num(df: pd.DataFrame, col: str) -> np.ndarray:
    if col not in df.columns:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)


def _wmean(values: np.ndarray, weights: np.ndarray, keys: np.ndarray, n: int) -> np.ndarray:
    """Weighted mean of ``values`` per integer key (NaN values and weights skipped; NaN if none)."""
    ok = np.isfinite(values) & np.isfinite(weights) & (weights > 0)
    num = np.bincount(keys[ok], weights=values[ok] * weights[ok], minlength=n)
    den = np.bincount(keys[ok], weights=weights[ok], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _keyed(df: pd.DataFrame, keys) -> pd.DataFrame:
    """Copy of ``df`` with the join keys as strings (``sweep`` as an integer first, so 0, 0.0 and "0" agree)."""
    out = {}
    for k in keys:
        col = df[k]
        if k == "sweep":
            col = pd.to_numeric(col, errors="coerce").round().astype("Int64")
        out[k] = col.astype("string")
    return df.assign(**out)


def _ok_episodes(oscillations: pd.DataFrame, recordings: pd.DataFrame) -> pd.DataFrame:
    """Episodes of ok sweeps only (joined on file, sweep and channel where both tables have them)."""
    ok = ok_sweeps(recordings)
    keys = [k for k in ("file", "sweep", "channel") if k in oscillations.columns and k in ok.columns]
    return _keyed(oscillations, keys).merge(_keyed(ok[keys], keys).drop_duplicates(), on=keys, how="inner")


def check_group_column(recordings: pd.DataFrame, col: str | None, what: str) -> None:
    """Raise ``ValueError`` when the grouping column ``col`` (None: no column needed) is not in ``recordings``.

    ``what`` is the argument that named it (``"by"`` or ``"cluster"``); the message says how to add it.
    """
    if col is not None and col not in recordings.columns:
        raise ValueError(f"`recordings` has no column {col!r}; pass --groups groups.csv (with columns file, {col}, "
                         f"...) to drgephys analyze, or set `{what}` to one of "
                         f"{[c for c in recordings.columns if c not in ('file', 'status', 'message')]}")


def ok_sweeps(recordings: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``recordings`` whose ``status`` is ``"ok"``."""
    _missing(recordings, _NEED_RECORDINGS, "recordings")
    status = recordings["status"].astype("string").str.strip().str.lower()
    return recordings.loc[(status == "ok").fillna(False).to_numpy()]


def cell_table(recordings: pd.DataFrame, *, by: str, cluster: str | None) -> pd.DataFrame:
    """One row per cell (``file``) of the ok sweeps, with the group, the cluster and per-cell outcomes.

    Sweeps are combined duration-weighted: resting potential and SSO time fraction by sweep duration,
    SSO frequency and amplitude by SSO time (duration × time fraction) over sweeps with SSOs, the
    spike rate as total spikes over total duration, and ``pattern_share_<p>`` as the duration share of
    the cell's sweeps classified ``p``. A cell has SSOs (``sso_prevalence`` = 1) if any sweep does.

    Returns
    -------
    pandas.DataFrame
        Columns ``file``, ``group``, ``cluster``, ``n_sweeps``, ``duration_s`` and the metrics of
        :data:`CELL_METRICS` plus ``pattern_share_<pattern>`` for each pattern.
    """
    ok = ok_sweeps(recordings)
    if ok.empty:
        raise ValueError("`recordings` must hold at least one row with status 'ok'; got none. "
                         "Check the `message` column of recordings.csv for why sweeps were refused.")
    files = ok["file"].astype("string").to_numpy(dtype=object)
    uniq, key = np.unique(files, return_inverse=True)
    n = len(uniq)
    dur = _num(ok, "duration_s")
    dur = np.where(np.isfinite(dur) & (dur > 0), dur, 0.0)
    out = pd.DataFrame({"file": uniq})

    def first(col):
        vals = ok[col].to_numpy(dtype=object)
        firsts = pd.Series(vals).groupby(key).first()
        per = pd.Series(vals).groupby(key).nunique(dropna=True)
        if (per > 1).any():
            bad = uniq[per.to_numpy() > 1][:3]
            raise ValueError(f"each cell (file) must belong to one `{col}`; got several values for {list(bad)}. "
                             "Fix the groups CSV given to drgephys analyze")
        return firsts.reindex(range(n)).to_numpy(dtype=object)

    out["group"] = first(by)
    out["cluster"] = first(cluster) if cluster is not None else uniq
    out["n_sweeps"] = np.bincount(key, minlength=n)
    out["duration_s"] = np.bincount(key, weights=dur, minlength=n)
    sso = _as_bool(ok["sso_detected"]) if "sso_detected" in ok.columns else np.zeros(len(ok), bool)
    out["sso_prevalence"] = (np.bincount(key, weights=sso.astype(float), minlength=n) > 0).astype(float)
    frac = _num(ok, "sso_time_fraction")
    frac = np.where(~np.isfinite(frac) & ~sso, 0.0, frac)  # no SSO detected → no SSO time
    out["sso_time_fraction"] = _wmean(frac, dur, key, n)
    sso_time = dur * np.where(np.isfinite(frac), frac, 0.0)
    w_sso = np.where(sso, np.where(sso_time > 0, sso_time, dur), 0.0)
    out["sso_frequency_hz"] = _wmean(_num(ok, "sso_frequency_hz"), w_sso, key, n)
    out["sso_amplitude_mv"] = _wmean(_num(ok, "sso_amplitude_mv"), w_sso, key, n)
    count = _num(ok, "spike_count")
    rate_from_count = np.where(np.isfinite(count) & (dur > 0), count / np.where(dur > 0, dur, 1), np.nan)
    rate = np.where(np.isfinite(rate_from_count), rate_from_count, _num(ok, "spike_rate_hz"))
    out["spike_rate_hz"] = _wmean(rate, dur, key, n)
    out["resting_vm_mv"] = _wmean(_num(ok, "resting_vm_mv"), dur, key, n)
    if "firing_pattern" in ok.columns:
        pat = ok["firing_pattern"].astype("string").str.strip().str.lower().to_numpy(dtype=object)
        has = np.array([isinstance(p, str) and p in PATTERN_VALUES for p in pat])
        for p in PATTERN_VALUES:
            out[f"pattern_share_{p}"] = _wmean(np.where(pat == p, 1.0, 0.0), np.where(has, dur, 0.0), key, n)
    else:
        for p in PATTERN_VALUES:
            out[f"pattern_share_{p}"] = np.nan
    return out


def cell_episode_stats(oscillations: pd.DataFrame, recordings: pd.DataFrame, files: np.ndarray) -> np.ndarray:
    """Weighted regression sums of frequency on potential per cell, each cell weighing 1 in total.

    Episodes of ok sweeps are weighted by duration share within their cell, so a cell with many episodes
    counts as much as a cell with one.

    Returns
    -------
    ndarray, shape (n_cells, 5)
        ``Σw, Σw·x, Σw·y, Σw·x², Σw·x·y`` with x = ``mean_vm_mv`` (mV), y = ``frequency_hz`` (Hz), rows in
        the order of ``files``; zeros for cells without usable episodes.
    """
    stats = np.zeros((len(files), 5))
    if oscillations is None or len(oscillations) == 0:
        return stats
    _missing(oscillations, _NEED_OSCILLATIONS, "oscillations")
    osc = _ok_episodes(oscillations, recordings)
    x, y = _num(osc, "mean_vm_mv"), _num(osc, "frequency_hz")
    w = _num(osc, "end_s") - _num(osc, "start_s")
    w = np.where(np.isfinite(w) & (w > 0), w, 1.0)
    pos = pd.Index(files).get_indexer(osc["file"].to_numpy(dtype=object))
    good = (pos >= 0) & np.isfinite(x) & np.isfinite(y)
    x, y, w, pos = x[good], y[good], w[good], pos[good]
    if pos.size == 0:
        return stats
    tot = np.bincount(pos, weights=w, minlength=len(files))
    w = w / tot[pos]
    for j, v in enumerate((w, w * x, w * y, w * x * x, w * x * y)):
        stats[:, j] = np.bincount(pos, weights=v, minlength=len(files))
    return stats


def episode_vm_range(oscillations: pd.DataFrame, recordings: pd.DataFrame, files: np.ndarray,
                     mask: np.ndarray) -> tuple[float, float]:
    """(min, max) ``mean_vm_mv`` of the ok-sweep episodes of the cells ``files[mask]`` (NaN, NaN if none)."""
    if oscillations is None or len(oscillations) == 0:
        return (np.nan, np.nan)
    osc = _ok_episodes(oscillations, recordings)
    sel = osc["file"].isin(set(files[mask])).to_numpy(dtype=bool)
    x = _num(osc, "mean_vm_mv")[sel]
    x = x[np.isfinite(x) & np.isfinite(_num(osc, "frequency_hz")[sel])]
    return (float(x.min()), float(x.max())) if x.size else (np.nan, np.nan)
