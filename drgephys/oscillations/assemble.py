"""Step 6 of the SSO detector: measure the candidates, apply the acceptance rule, resolve overlaps and
merge neighbours with hysteresis (`_assemble`, called by `detect.detect_working`)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .episodes import COLUMNS, drop_overlaps, empty_episodes, merge_groups
from .measure import measure_episodes, screen_episodes

__all__: list[str] = []


def _le_nan_inf(x, limit):
    """``np.nan_to_num(x, nan=np.inf) <= limit`` (NaN counts as infinite) without nan_to_num's ~10 µs."""
    return np.where(np.isnan(x), np.inf, x) <= limit


def _acceptance(df, params, lo, hi):
    """Masks of episodes passing the full rule and of those with BOSC-level evidence only (which may
    extend an accepted neighbour, never stand alone). ``df``: a DataFrame or an `_Table`."""
    if len(df) == 0:
        return np.zeros(0, bool), np.zeros(0, bool)
    col = {c: np.asarray(df[c], dtype=np.float64) for c in ("n_cycles", "amplitude_mv", "frequency_hz",
                                                             "power_db", "sinusoidality", "period_cv",
                                                             "amplitude_cv")}
    amp, f, pw = col["amplitude_mv"], col["frequency_hz"], col["power_db"]
    common = ((col["n_cycles"] >= params.min_cycles) & (amp <= params.max_amplitude_mv) & (amp > 0)
              & (f >= lo) & (f <= hi))
    ok = (common & (pw >= params.min_power_db) & (col["sinusoidality"] >= params.min_sinusoidality)
          & _le_nan_inf(col["period_cv"], params.max_period_cv)
          & _le_nan_inf(col["amplitude_cv"], params.max_amplitude_cv))
    basic = common & (pw >= params.min_power_db - params.extend_margin_db)
    return ok, basic


_COL = {c: i for i, c in enumerate(COLUMNS)}


class _Table:
    """Episode rows as one float array (columns `COLUMNS`): the selections, reorderings and
    concatenations of `_assemble` without a DataFrame per step (each cost ~0.1-1 ms of pandas overhead)."""

    def __init__(self, a):
        self.a = np.asarray(a, dtype=np.float64).reshape(-1, len(COLUMNS))

    def __len__(self):
        return self.a.shape[0]

    def __getitem__(self, c):
        return self.a[:, _COL[c]]

    def rows(self, sel) -> "_Table":
        return _Table(self.a[sel])

    def frame(self) -> pd.DataFrame:
        # columns from a cached Index (a shallow copy): building it from the list of names costs ~30 µs
        return pd.DataFrame(self.a, columns=_COLUMN_INDEX.copy()) if len(self) else empty_episodes()


_COLUMN_INDEX = pd.Index(COLUMNS)


def _assemble(cand, r, y, valid, freqs, bg, thr, fw, params, lo, hi) -> pd.DataFrame:
    """Step 6: measure candidates, accept, resolve overlaps, merge neighbours (with hysteresis)."""
    cs, ce, fi, ratio = cand
    if cs.size == 0:
        return empty_episodes()
    lf, lbg = np.log10(freqs), np.log10(bg)

    def bg_at(f):
        return float(10 ** np.interp(math.log10(f), lf, lbg))

    def measure(starts, ends, f0s):
        if starts.size == 0:
            return _Table(np.empty((0, len(COLUMNS))))
        rows = measure_episodes(r, y, valid, starts, ends, f0s, bg_at, fw, params)
        return _Table([[row[c] for c in COLUMNS] for row in rows])

    def screen(starts, ends, f0s, need_ok):
        """`measure` by `screen_episodes`: the rows and their (ok, basic) acceptance masks (rows decided by
        their cheap measures carry NaN in the columns that were not measured; they never reach the output)."""
        n = starts.size
        ok, basic = np.zeros(n, bool), np.zeros(n, bool)
        if n == 0:
            return _Table(np.empty((0, len(COLUMNS)))), ok, basic
        rows, full = [], []
        for i, (row, decided) in enumerate(screen_episodes(r, y, valid, starts, ends, f0s, bg_at, fw, params,
                                                           lo, hi, need_ok)):
            rows.append([row[c] for c in COLUMNS])
            if decided is None:
                full.append(i)
            else:
                ok[i], basic[i] = decided
        table = _Table(rows)
        if full:
            ok[full], basic[full] = _acceptance(table.rows(full), params, lo, hi)
        return table, ok, basic

    # cheap pre-selection on the region's power at its grid frequency (the measured power at the refined
    # frequency exceeds it by at most ~0.7 dB): strong candidates may pass, weak ones may only extend
    region_db = 10 * np.log10(np.maximum(ratio * thr[fi] / bg[fi], 1e-30))
    strong = region_db >= params.min_power_db - 2.0
    weak = (region_db >= params.min_power_db - params.extend_margin_db - 2.0) & ~strong
    first_pass, ok, basic_1 = screen(cs[strong], ce[strong], freqs[fi[strong]], True)
    # weak candidates are measured only when close enough (time, frequency) to an accepted one to merge
    a_s, a_e, a_f = cs[strong][ok], ce[strong][ok], fi[strong][ok]
    w_idx = np.flatnonzero(weak)
    if a_s.size and w_idx.size:
        reach = ((params.max_gap_cycles + params.wavelet_cycles / np.pi) / freqs[a_f] + params.max_blank_gap_s) * fw
        gap = np.maximum(cs[w_idx][:, None] - a_e[None, :], a_s[None, :] - ce[w_idx][:, None])
        near = np.any((gap <= reach[None, :]) & (np.abs(fi[w_idx][:, None] - a_f[None, :]) <= 2), axis=1)
        w_idx = w_idx[near]
    else:
        w_idx = w_idx[:0]
    extra, _, basic_w = screen(cs[w_idx], ce[w_idx], freqs[fi[w_idx]], False)   # weak ones are never `ok`
    order = np.argsort(np.concatenate((cs[strong], cs[w_idx])), kind="stable")
    table = _Table(np.concatenate((first_pass.a, extra.a))).rows(order)
    cs, ce = np.concatenate((cs[strong], cs[w_idx]))[order], np.concatenate((ce[strong], ce[w_idx]))[order]
    ok = np.concatenate((ok, np.zeros(w_idx.size, bool)))[order]
    basic = np.concatenate((basic_1, basic_w))[order]
    use = ok | basic
    table, cs, ce, ok = table.rows(use), cs[use], ce[use], ok[use]
    if len(table) > 1:   # overlapping candidates (harmonics, two ridges): the accepted, then stronger, wins
        keep = drop_overlaps(cs, ce, table["power_db"] + 1000.0 * ok)
        table, cs, ce, ok = table.rows(keep), cs[keep], ce[keep], ok[keep]
    # hysteresis (cf. the dual-threshold burst detectors, e.g. NeuroDSP): neighbours at the same frequency
    # merge across short gaps; a group is kept when at least one member passed the full acceptance rule
    grp = merge_groups(cs, ce, table["frequency_hz"], valid, fw, params)
    n_grp = int(grp[-1]) + 1 if grp.size else 0
    size = np.bincount(grp, minlength=n_grp)
    has_ok = np.bincount(grp, weights=ok, minlength=n_grp) > 0
    first = np.flatnonzero(np.concatenate(([True], np.diff(grp) > 0))) if grp.size else grp
    last = np.concatenate((first[1:], [grp.size])) - 1
    multi = has_ok & (size > 1)
    dur = (ce - cs).astype(float)
    f_w = (np.bincount(grp, weights=table["frequency_hz"] * dur, minlength=n_grp)
           / np.maximum(np.bincount(grp, weights=dur, minlength=n_grp), 1))
    merged = measure(cs[first[multi]], ce[last[multi]], f_w[multi])
    merged_ok, _ = _acceptance(merged, params, lo, hi)
    # members of multi-member groups whose merged measure failed stay as they were (accepted ones only)
    failed = np.zeros(n_grp, bool)
    failed[np.flatnonzero(multi)[~merged_ok]] = True
    fallback = failed[grp] & ok                      # np.isin(grp, failed groups) without its ~10 µs
    singles = (size[grp] == 1) & ok
    out = _Table(np.concatenate((table.a[singles | fallback], merged.a[merged_ok])))
    return out.rows(np.argsort(out["start_s"], kind="stable")).frame()
