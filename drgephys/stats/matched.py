"""SSO frequency at a matched membrane potential: per-group (or common-slope) lines through episodes.

All fits work on summed weighted-regression statistics ``Σw, Σwx, Σwy, Σwx², Σwxy`` (x = potential in mV,
y = frequency in Hz), so bootstrap replicates (count-weighted sums of cells) and relabellings
(sums of animals) are plain matrix products.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Line(NamedTuple):
    """Weighted least-squares line(s) of frequency on potential, from regression sums.

    Attributes
    ----------
    x_mean, y_mean : ndarray
        Weighted mean potential (mV) and frequency (Hz); NaN without weight.
    slope : ndarray
        Hz/mV; NaN when the potentials have no spread.
    sxx_centered : ndarray
        ``Σw(x − x̄)²`` (mV²), for pooled slopes.
    sxy_centered : ndarray
        ``Σw(x − x̄)(y − ȳ)``.
    """

    x_mean: np.ndarray
    y_mean: np.ndarray
    slope: np.ndarray
    sxx_centered: np.ndarray
    sxy_centered: np.ndarray


def fit_line(sums: np.ndarray) -> Line:
    """Weighted least-squares line of each row of ``sums`` (shape (..., 5), see module docstring)."""
    sw, sx, sy, sxx, sxy = np.moveaxis(np.asarray(sums, dtype=float), -1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        xbar = sx / sw
        ybar = sy / sw
        cxx = sxx - sx * xbar
        cxy = sxy - sx * ybar
        spread = cxx > 1e-9 * np.maximum(sw, 1e-300)
        slope = np.where(spread, cxy / np.where(spread, cxx, 1.0), np.nan)
    return Line(xbar, ybar, slope, cxx, cxy)


def line_at(sums: np.ndarray, vm_mv: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least-squares line of each row of ``sums`` (shape (..., 5)) at ``vm_mv``.

    Returns
    -------
    value_at_vm : ndarray
        Fitted frequency (Hz) at ``vm_mv``; NaN when the potentials have no spread.
    sxx_centered : ndarray
        ``Σw(x − x̄)²`` (mV²), for pooled slopes.
    sxy_centered : ndarray
        ``Σw(x − x̄)(y − ȳ)``.
    """
    line = fit_line(sums)
    with np.errstate(invalid="ignore"):
        value = line.y_mean + line.slope * (vm_mv - line.x_mean)
    return value, line.sxx_centered, line.sxy_centered


def group_values(sums_g: np.ndarray, sums_r: np.ndarray, vm_mv: float, slope: str) -> tuple[np.ndarray, np.ndarray]:
    """Fitted frequencies (Hz) of group and reference at ``vm_mv``: own lines, or parallel lines sharing
    the pooled within-group slope (``slope="common"``)."""
    fg, cxx_g, cxy_g = line_at(sums_g, vm_mv)
    fr, cxx_r, cxy_r = line_at(sums_r, vm_mv)
    if slope != "common":
        return fg, fr
    with np.errstate(invalid="ignore", divide="ignore"):
        den = cxx_g + cxx_r
        b = np.where(den > 0, (cxy_g + cxy_r) / np.where(den > 0, den, 1.0), np.nan)
        out = []
        for s in (sums_g, sums_r):
            out.append(s[..., 2] / s[..., 0] + b * (vm_mv - s[..., 1] / s[..., 0]))
    return out[0], out[1]


def matched_difference(sums_g: np.ndarray, sums_r: np.ndarray, n_fit_g: np.ndarray, n_fit_r: np.ndarray, *,
                       vm_mv: float, slope: str, min_cells: int) -> np.ndarray:
    """Fitted frequency difference group − reference at ``vm_mv`` (Hz), NaN where a fit is not possible.

    Parameters
    ----------
    sums_g, sums_r : ndarray, shape (..., 5)
        Regression sums of the group and the reference (see module docstring).
    n_fit_g, n_fit_r : ndarray, shape (...)
        Number of distinct cells with episodes behind each sum; fewer than ``min_cells`` gives NaN.
    vm_mv : float
        Potential (mV) at which the lines are compared.
    slope : {"per_group", "common"}
        Own line per group, or parallel lines with the pooled slope (see :func:`group_values`).
    min_cells : int
        Fewest cells with episodes a side needs for its line.

    Returns
    -------
    ndarray, shape (...)
    """
    fg, fr = group_values(sums_g, sums_r, vm_mv, slope)
    ok = (np.asarray(n_fit_g) >= min_cells) & (np.asarray(n_fit_r) >= min_cells)
    return np.where(ok, fg - fr, np.nan)


def choose_vm(range_g: tuple[float, float], range_r: tuple[float, float], requested: float | None,
              names: tuple[str, str]) -> tuple[float, str]:
    """The matched potential (mV) and a warning ('' when none).

    Default: the middle of the overlap of the two groups' episode-potential ranges. A requested potential
    outside the overlap raises ``ValueError`` (no extrapolation); no overlap gives NaN and a warning.
    """
    lo, hi = max(range_g[0], range_r[0]), min(range_g[1], range_r[1])
    if not (np.isfinite(lo) and np.isfinite(hi)):
        who = [n for n, r in zip(names, (range_g, range_r)) if not np.isfinite(r[0])]
        return np.nan, f"no SSO episodes in group(s) {who}: frequency cannot be compared at matched potential"
    if lo > hi:
        return np.nan, (f"episode potentials do not overlap (group '{names[0]}' {range_g[0]:.1f} to "
                        f"{range_g[1]:.1f} mV, '{names[1]}' {range_r[0]:.1f} to {range_r[1]:.1f} mV): "
                        "refusing to extrapolate the frequency–potential lines")
    if requested is None:
        return 0.5 * (lo + hi), ""
    v = float(requested)
    if not lo <= v <= hi:
        raise ValueError(f"`matched_vm_mv` must lie where both groups have SSO episodes, {lo:.2f} to {hi:.2f} mV "
                         f"('{names[0]}' vs '{names[1]}'); got {v:g} mV. Frequencies outside that range would "
                         "be extrapolated: pick a potential inside it or leave `matched_vm_mv` unset")
    return v, ""
