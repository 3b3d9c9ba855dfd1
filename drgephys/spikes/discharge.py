"""Discharge pattern of one sweep: `discharge_features` (rate, ISI regularity, bursts, SSO locking) and
`classify_discharge` (silent / tonic / bursting / irregular with the shipped model)."""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_positive
from .model_file import default_arrays

#: Inputs of the discharge-pattern model, in order (keys of `discharge_features`).
MODEL_FEATURES = ("log10_rate_hz", "log10_median_isi_s", "isi_rate_log_ratio", "log10_cv", "log10_cv2",
                  "log10_lv", "log_isi_sd", "bimodality", "burst_fraction")

#: Floor of CV, CV2 and LV before their log10 (a perfectly regular train has 0).
LOG_FLOOR = 1e-3

#: Share of ISIs that fall within ±`LOCK_TOLERANCE` periods of a whole number of SSO periods by chance.
LOCK_TOLERANCE = 0.2

#: Two ISI groups count as burst / between-burst intervals when their geometric means differ by at least
#: this many decades (a factor 3; intra-burst intervals in DRG bursts are ~30 ms, Kovalsky et al. 2009).
MIN_MODE_SEPARATION_DEC = 0.5


def _otsu_split(x: np.ndarray):
    """Otsu threshold of a 1-D sample: the cut maximising between-group variance (vectorized over cuts).

    Returns (threshold, eta, mean_low, mean_high); eta = between-group / total variance (≈ 0.64 for
    one Gaussian mode, → 1 for two well separated modes).
    """
    s = np.sort(x)
    m = s.size
    if m < 4:
        return np.nan, np.nan, np.nan, np.nan
    total = s.var()
    if total <= 0:
        return np.nan, np.nan, np.nan, np.nan
    k = np.arange(1, m)  # low group = s[:k]
    c = np.cumsum(s)[:-1]
    mu_lo = c / k
    mu_hi = (s.sum() - c) / (m - k)
    between = (k / m) * ((m - k) / m) * (mu_hi - mu_lo) ** 2
    best = int(np.argmax(between))
    return 0.5 * (s[best] + s[best + 1]), float(between[best] / total), float(mu_lo[best]), float(mu_hi[best])


def _elephant_stats(isi: np.ndarray):
    """CV, CV2 and LV of elephant.statistics (Shinomoto et al. 2003), evaluated with the same numpy
    operations in the same order (bit-identical; elephant's quantities/scipy wrappers cost ~0.5 ms per
    sweep): ``cv`` is ``scipy.stats.variation`` (ddof 0: std × 1.0 / mean), ``cv2`` is
    ``2 · mean(|Δisi| / (isi[:-1] + isi[1:]))`` and ``lv`` is ``3 · mean((Δisi / (isi[:-1] + isi[1:]))²)``.
    `tests/spikes/test_discharge.py` checks them against elephant."""
    if isi.size < 2:
        return np.nan, np.nan, np.nan
    cv = isi.std() * 1.0 / isi.mean()
    cv_i = np.diff(isi) / (isi[:-1] + isi[1:])
    return float(cv), float(2. * np.mean(np.abs(cv_i))), float(3. * np.mean(np.power(cv_i, 2)))


def discharge_features(spike_times_s, duration_s, *, sso_frequency_hz=None) -> dict:
    """Firing-pattern features of one sweep.

    Parameters
    ----------
    spike_times_s : array_like, shape (n_spikes,)
        Spike times in s (any order; sorted here).
    duration_s : float
        Length of the observed sweep in s (the rate's denominator).
    sso_frequency_hz : float, optional
        SSO frequency of the sweep; enables the SSO-locking measures (NaN without it).

    Returns
    -------
    dict
        ``n_spikes``, ``rate_hz``, ``log10_rate_hz``, ``mean_isi_s``, ``median_isi_s``,
        ``log10_median_isi_s``, ``isi_rate_log_ratio`` (log10 of median ISI × rate: ≈ 0 when firing is
        spread over the sweep, ≪ 0 when it clusters in bursts or episodes), ``cv``, ``cv2``,
        ``lv`` (elephant.statistics; Shinomoto et al. 2003: LV ≈ 0 regular, ≈ 1 Poisson, > 1 bursty),
        ``log10_cv``, ``log10_cv2``, ``log10_lv`` (floored at `LOG_FLOOR`),
        ``log_isi_sd`` (SD of log10 ISI, decades), ``bimodality`` (Otsu between-group share of log-ISI
        variance: ≈ 0.64 for one mode, → 1 for two), ``burst_isi_threshold_s`` (the log-ISI valley,
        NaN when the two ISI groups are < `MIN_MODE_SEPARATION_DEC` apart), ``burst_fraction`` (share
        of spikes bordered by an ISI below that threshold), ``n_bursts``, ``sso_locking`` (share of ISIs
        within ±0.2 SSO periods of a whole number of periods) and ``sso_locking_index`` ((share − 0.4)
        / 0.6: 0 at chance, 1 fully locked). Undefined values are NaN (0, 1 or 2 spikes are fine).

    Raises
    ------
    ValueError, TypeError
        On a non-positive duration, non-finite spike times or a non-positive SSO frequency.
    """
    duration_s = check_positive(duration_s, "duration_s", "s")
    st = np.asarray(spike_times_s, dtype=float).reshape(-1)
    if not np.all(np.isfinite(st)):
        raise ValueError("`spike_times_s` must be finite spike times in s; got NaN/inf values")
    if sso_frequency_hz is not None and not (isinstance(sso_frequency_hz, float) and math.isnan(sso_frequency_hz)):
        sso_frequency_hz = check_positive(sso_frequency_hz, "sso_frequency_hz", "Hz")
    else:
        sso_frequency_hz = None
    st = np.sort(st)
    n = int(st.size)
    isi = np.diff(st)
    isi = isi[isi > 0]
    rate = n / duration_s
    out = {"n_spikes": n, "duration_s": duration_s, "rate_hz": rate,
           "log10_rate_hz": math.log10(rate) if rate > 0 else np.nan,
           "mean_isi_s": float(isi.mean()) if isi.size else np.nan,
           "median_isi_s": float(np.median(isi)) if isi.size else np.nan}
    out["log10_median_isi_s"] = math.log10(out["median_isi_s"]) if isi.size else np.nan
    # ≈ 0 for firing spread over the sweep (regular or Poisson), ≪ 0 when spikes cluster (bursts, or
    # firing confined to SSO episodes) so the typical ISI is much shorter than duration / n
    out["isi_rate_log_ratio"] = math.log10(out["median_isi_s"] * rate) if isi.size else np.nan
    out["cv"], out["cv2"], out["lv"] = _elephant_stats(isi)
    for k in ("cv", "cv2", "lv"):  # regular ≈ −1.5…−1, Poisson ≈ 0, bursty > 0: linear in class evidence
        out["log10_" + k] = math.log10(max(out[k], LOG_FLOOR)) if np.isfinite(out[k]) else np.nan
    log_isi = np.log10(isi) if isi.size else isi
    out["log_isi_sd"] = float(log_isi.std()) if isi.size >= 2 else np.nan
    cut, eta, mu_lo, mu_hi = _otsu_split(log_isi)
    out["bimodality"] = eta
    separated = np.isfinite(cut) and (mu_hi - mu_lo) >= MIN_MODE_SEPARATION_DEC
    out["burst_isi_threshold_s"] = float(10 ** cut) if separated else np.nan
    if isi.size >= 3:
        short = log_isi < cut if separated else np.zeros(isi.size, dtype=bool)
        in_burst = np.zeros(isi.size + 1, dtype=bool)
        in_burst[:-1] |= short
        in_burst[1:] |= short
        out["burst_fraction"] = float(in_burst.mean())
        out["n_bursts"] = int(np.count_nonzero(np.diff(np.concatenate(([0], short.astype(int)))) == 1))
    else:
        out["burst_fraction"] = np.nan
        out["n_bursts"] = 0
    if sso_frequency_hz is None or isi.size == 0:
        out["sso_locking"] = np.nan
        out["sso_locking_index"] = np.nan
    else:
        cycles = isi * sso_frequency_hz
        near = (np.abs(cycles - np.round(cycles)) <= LOCK_TOLERANCE) & (np.round(cycles) >= 1)
        share = float(near.mean())
        out["sso_locking"] = share
        out["sso_locking_index"] = (share - 2 * LOCK_TOLERANCE) / (1 - 2 * LOCK_TOLERANCE)
    return out


def feature_vector(features: dict) -> np.ndarray:
    """The model inputs (`MODEL_FEATURES`, in order) from a `discharge_features` dict; NaN kept."""
    return np.array([float(features.get(k, np.nan)) for k in MODEL_FEATURES], dtype=float)


def classify_discharge(spike_times_s, duration_s, *, sso_frequency_hz=None, model=None) -> str:
    """Discharge pattern of one sweep: ``"silent"``, ``"tonic"``, ``"bursting"`` or ``"irregular"``.

    Rule: fewer than 2 spikes → ``"silent"`` (no interval, no pattern). Otherwise the features of
    `discharge_features` go to the model (default: the shipped `DischargePatternClassifier`);
    features that are undefined for very short trains (e.g. CV2 with one interval) are filled with the
    model's training medians.

    Parameters
    ----------
    spike_times_s : array_like
        Spike times in s.
    duration_s : float
        Sweep length in s.
    sso_frequency_hz : float, optional
        Passed to `discharge_features` (not a model input).
    model : DischargePatternClassifier, optional
        A fitted classifier whose inputs are `MODEL_FEATURES`; the shipped default when None.
    """
    feats = discharge_features(spike_times_s, duration_s, sso_frequency_hz=sso_frequency_hz)
    if feats["n_spikes"] < 2:
        return "silent"
    x = feature_vector(feats)
    if model is None:   # the shipped model, built once and evaluated directly (`model_file.default_arrays`)
        m = default_arrays()
        x = np.where(np.isfinite(x), x, m["fill"])
        logits = ((x[None, :] - m["mean"]) / m["scale"]) @ m["coef_t"] + m["intercept"]
        return m["classes"][int(np.argmax(logits, axis=1)[0])]
    fill = getattr(model, "fill_values_", np.zeros_like(x))
    x = np.where(np.isfinite(x), x, fill)
    return str(model.predict(x[None, :])[0])
