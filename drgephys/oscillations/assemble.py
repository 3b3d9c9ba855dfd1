"""Step 6 of the SSO detector: measure the candidates, apply the acceptance rule, resolve overlaps and
merge neighbours with hysteresis (`assemble`, called by `drgephys.oscillations.bosc`)."""

from __future__ import annotations


import numpy as np

from .._numerics.spans import overlap_pairs
from . import significance
from .episodes import COLUMNS, EpisodeTable, drop_overlaps, merge_groups
from .measure import measure_episodes, screen_episodes
from .working import Working

__all__ = ["assemble", "acceptance"]

P_COL = COLUMNS.index("p_value")


def _le_nan_inf(x, limit):
    """``np.nan_to_num(x, nan=np.inf) <= limit`` (NaN counts as infinite) without nan_to_num's ~10 µs."""
    return np.where(np.isnan(x), np.inf, x) <= limit


def acceptance(df, params, lo, hi, *, floor_mv: float = 0.0):
    """Masks of episodes passing the full rule and of those with BOSC-level evidence only (which may
    extend an accepted neighbour, never stand alone). ``df``: a DataFrame or an `EpisodeTable`; the full rule
    includes ``p_value <= max_p_value`` and an amplitude of at least ``floor_mv`` (the trace's noise floor)."""
    if len(df) == 0:
        return np.zeros(0, bool), np.zeros(0, bool)
    col = {c: np.asarray(df[c], dtype=np.float64) for c in ("n_cycles", "amplitude_mv", "frequency_hz",
                                                             "power_db", "sinusoidality", "period_cv",
                                                             "amplitude_cv")}
    amp, f, pw = col["amplitude_mv"], col["frequency_hz"], col["power_db"]
    common = ((col["n_cycles"] >= params.min_cycles) & (amp <= params.max_amplitude_mv) & (amp > 0)
              & (f >= lo) & (f <= hi))
    long = col["n_cycles"] >= params.long_episode_cycles
    need_pw = params.power_minimum_db(col["n_cycles"])
    need_sin = np.where(long, params.min_sinusoidality_long, params.min_sinusoidality)
    ok = (common & (pw >= need_pw) & (col["sinusoidality"] >= need_sin)
          & _le_nan_inf(np.asarray(df["p_value"], dtype=np.float64), params.max_p_value) & (amp >= floor_mv)
          & _le_nan_inf(col["period_cv"], params.max_period_cv)
          & _le_nan_inf(col["amplitude_cv"], params.max_amplitude_cv))
    basic = common & (pw >= params.min_power_db - params.extend_margin_db)
    return ok, basic


def _evidence(table) -> np.ndarray:
    """Which of two overlapping candidates stays: the more significant (smaller p-value, capped at 1e-30),
    then the stronger. By power alone a 4-cycle spike remnant at 69 Hz beat the 7-cycle SSO piece at 26 Hz
    it overlapped (9.1 vs 8.0 dB; p 0.08 vs 0.02), breaking a long episode apart."""
    p = np.asarray(table["p_value"], dtype=np.float64)
    p = np.where(np.isnan(p), 1.0, np.maximum(p, 1e-30))
    return -np.log10(p) + 1e-3 * np.asarray(table["power_db"], dtype=np.float64)


def assemble(cand, w: Working, params, band) -> EpisodeTable:
    """Step 6: measure candidates, accept, resolve overlaps, merge neighbours (with hysteresis).

    Parameters
    ----------
    cand : tuple
        ``(starts, ends, f_index, mean_ratio)`` of `episodes.find_candidates`.
    w : Working
        The working-rate arrays and the BOSC levels.
    params : OscillationParams
    band : (float, float)
        Analysed band, Hz.
    """
    cs, ce, fi, ratio = cand
    lo, hi = band
    freqs, bg, thr, fw = w.levels.freqs, w.levels.background, w.levels.threshold, w.fs
    tests = significance.n_tests(w.r.size / fw, band, params.wavelet_cycles)
    floor = significance.noise_floor_mv(w.bg_at, band, wavelet_cycles=params.wavelet_cycles, tests=tests,
                                        max_p_value=params.max_p_value)
    if cs.size == 0:
        return EpisodeTable.empty({"noise_floor_mv": floor})

    def with_p(table):
        """The table with its ``p_value`` column filled (`significance`)."""
        table.a[:, P_COL] = significance.p_values(table["power_db"], table["n_cycles"],
                                                  wavelet_cycles=params.wavelet_cycles, tests=tests)
        return table

    def measure(starts, ends, f0s):
        if starts.size == 0:
            return EpisodeTable.empty()
        rows = measure_episodes(w, starts, ends, f0s, params)
        return with_p(EpisodeTable([[row[c] for c in COLUMNS] for row in rows]))

    def screen(starts, ends, f0s, need_ok):
        """`measure` by `screen_episodes`: the rows and their (ok, basic) acceptance masks (rows decided by
        their cheap measures carry NaN in the columns that were not measured; they never reach the output)."""
        n = starts.size
        ok, basic = np.zeros(n, bool), np.zeros(n, bool)
        if n == 0:
            return EpisodeTable.empty(), ok, basic
        rows, full = [], []
        for i, (row, decided) in enumerate(screen_episodes(w, starts, ends, f0s, params, band=band,
                                                           need_ok=need_ok)):
            rows.append([row[c] for c in COLUMNS])
            if decided is None:
                full.append(i)
            else:
                ok[i], basic[i] = decided
        table = with_p(EpisodeTable(rows))
        if full:
            ok[full], basic[full] = acceptance(table.rows(full), params, lo, hi, floor_mv=floor)
        return table, ok, basic

    # cheap pre-selection on the region's power at its grid frequency (the measured power at the refined
    # frequency exceeds it by at most ~0.7 dB): strong candidates may pass, weak ones may only extend
    region_db = 10 * np.log10(np.maximum(ratio * thr[fi] / bg[fi], 1e-30))
    strong = region_db >= params.power_minimum_db((ce - cs) / fw * freqs[fi]) - 2.0
    weak = (region_db >= params.min_power_db - params.extend_margin_db - 2.0) & ~strong
    first_pass, ok, basic_1 = screen(cs[strong], ce[strong], freqs[fi[strong]], True)
    # weak candidates are measured only when close enough (time, frequency) to an accepted one to merge
    a_s, a_e, a_f = cs[strong][ok], ce[strong][ok], fi[strong][ok]
    w_idx = np.flatnonzero(weak)
    if a_s.size and w_idx.size:
        # a weak one within `reach` of an accepted one: their intervals overlap once the accepted one is
        # widened by its reach (closed gap: a gap of exactly `reach` counts, as before)
        reach = ((params.max_gap_cycles + params.wavelet_cycles / np.pi) / freqs[a_f] + params.max_blank_gap_s) * fw
        wi, ai = overlap_pairs(cs[w_idx], np.nextafter(ce[w_idx].astype(np.float64), np.inf),
                               a_s - reach, np.nextafter(a_e + reach, np.inf))
        close = np.abs(fi[w_idx][wi] - a_f[ai]) <= 2
        near = np.zeros(w_idx.size, bool)
        near[wi[close]] = True
        w_idx = w_idx[near]
    else:
        w_idx = w_idx[:0]
    extra, _, basic_w = screen(cs[w_idx], ce[w_idx], freqs[fi[w_idx]], False)   # weak ones are never `ok`
    order = np.argsort(np.concatenate((cs[strong], cs[w_idx])), kind="stable")
    table = EpisodeTable(np.concatenate((first_pass.a, extra.a))).rows(order)
    cs, ce = np.concatenate((cs[strong], cs[w_idx]))[order], np.concatenate((ce[strong], ce[w_idx]))[order]
    ok = np.concatenate((ok, np.zeros(w_idx.size, bool)))[order]
    basic = np.concatenate((basic_1, basic_w))[order]
    use = ok | basic
    table, cs, ce, ok = table.rows(use), cs[use], ce[use], ok[use]
    if len(table) > 1:   # overlapping candidates (harmonics, two ridges): the accepted, then more significant, wins
        keep = drop_overlaps(cs, ce, 1000.0 * ok + _evidence(table))
        table, cs, ce, ok = table.rows(keep), cs[keep], ce[keep], ok[keep]
    # hysteresis (cf. the dual-threshold burst detectors, e.g. NeuroDSP): neighbours at the same frequency
    # merge across short gaps; a group is kept when at least one member passed the full acceptance rule, or
    # when it spans `long_episode_cycles` and passes that rule measured as one episode
    grp = merge_groups(cs, ce, table["frequency_hz"], w.valid, fw, params)
    n_grp = int(grp[-1]) + 1 if grp.size else 0
    size = np.bincount(grp, minlength=n_grp)
    has_ok = np.bincount(grp, weights=ok, minlength=n_grp) > 0
    first = np.flatnonzero(np.concatenate(([True], np.diff(grp) > 0))) if grp.size else grp
    last = np.concatenate((first[1:], [grp.size])) - 1
    dur = (ce - cs).astype(float)
    f_w = (np.bincount(grp, weights=table["frequency_hz"] * dur, minlength=n_grp)
           / np.maximum(np.bincount(grp, weights=dur, minlength=n_grp), 1))
    # a group spanning `long_episode_cycles` is measured as one episode even when no member passed alone:
    # with spikes on its peaks an SSO breaks into short pieces just under the power rule (params)
    span_cycles = (ce[last] - cs[first]) / fw * f_w if grp.size else np.zeros(0)
    multi = (has_ok | (span_cycles >= params.long_episode_cycles)) & (size > 1)
    merged = measure(cs[first[multi]], ce[last[multi]], f_w[multi])
    merged_ok, _ = acceptance(merged, params, lo, hi, floor_mv=floor)
    # members of multi-member groups whose merged measure failed stay as they were (accepted ones only)
    failed = np.zeros(n_grp, bool)
    failed[np.flatnonzero(multi)[~merged_ok]] = True
    fallback = failed[grp] & ok                      # np.isin(grp, failed groups) without its ~10 µs
    singles = (size[grp] == 1) & ok
    out = EpisodeTable(np.concatenate((table.a[singles | fallback], merged.a[merged_ok])))
    out = out.rows(np.argsort(out["start_s"], kind="stable"))
    out.attrs["noise_floor_mv"] = floor
    return out
