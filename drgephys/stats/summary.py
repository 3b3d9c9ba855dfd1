"""Per-group values with hierarchical-bootstrap intervals (for tables and figures)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .cells import cell_episode_stats, cell_table, check_group_column, episode_vm_range
from .matched import fit_line
from .params import CompareParams, bootstrap_levels
from .resample import bootstrap_counts, interval, replicate_means

SUMMARY_COLUMNS = ["group", "metric", "n_cells", "n_animals", "value", "ci_low", "ci_high", "method"]


def summarize_groups(recordings: pd.DataFrame, *, by: str = "group", cluster: str | None = "animal",
                     metrics=("sso_prevalence", "sso_time_fraction", "sso_frequency_hz", "spike_rate_hz"),
                     params: CompareParams | None = None) -> pd.DataFrame:
    """Mean per-cell value of each group with a hierarchical-bootstrap interval.

    Parameters
    ----------
    recordings : DataFrame
        ``recordings`` table of ``drgephys analyze`` with the ``by`` (and ``cluster``) column.
    by, cluster : str
        Group and animal columns (``cluster=None``: cells independent).
    metrics : sequence of str
        Per-cell metrics of :func:`drgephys.stats.cell_table` (e.g. ``"sso_prevalence"``).
    params : CompareParams, optional
        ``n_boot``, ``ci_level``, ``ci_method``, ``resample_cells``, ``cell_stage`` and ``seed`` are used.

    Returns
    -------
    pandas.DataFrame
        One row per group and metric, columns :data:`SUMMARY_COLUMNS`.
    """
    p = params if params is not None else CompareParams()
    check_group_column(recordings, by, "by")
    check_group_column(recordings, cluster, "cluster")
    cells = cell_table(recordings, by=by, cluster=cluster)
    cells = cells.loc[cells["group"].notna() & cells["cluster"].notna()].reset_index(drop=True)
    bad = [m for m in metrics if m not in cells.columns]
    if bad:
        raise ValueError(f"`metrics` must be per-cell metrics {list(cells.columns[5:])}; got unknown {bad}")
    rng = np.random.default_rng(p.seed)
    cells["group"] = cells["group"].astype(str)
    adjust = p.resample_cells and p.cell_stage == "adjusted"
    method = (f"hierarchical bootstrap ({bootstrap_levels(p, clustered=cluster is not None)}, {p.n_boot}) "
              f"{p.ci_method} {round(p.ci_level * 100)}% CI")
    rows = []
    for g, d in cells.groupby("group", sort=True):
        codes = pd.factorize(d["cluster"].astype(str), sort=True)[0]
        counts = bootstrap_counts(codes, p.n_boot, rng, resample_cells=p.resample_cells)
        for m in metrics:
            y = d[m].to_numpy(dtype=float)
            ok = np.isfinite(y)
            yv = np.where(ok, y, 0.0)
            boot = replicate_means(counts, y, codes, adjust=adjust)
            value = yv.sum() / ok.sum() if ok.any() else np.nan
            n_an = int(len(np.unique(codes[ok])))
            lo, hi = interval(boot, p.ci_level, p.ci_method, n_an) if ok.any() else (np.nan, np.nan)
            rows.append(dict(group=g, metric=m, n_cells=int(ok.sum()), n_animals=n_an, value=value, ci_low=lo,
                             ci_high=hi, method=method))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def frequency_vm_fits(recordings: pd.DataFrame, oscillations: pd.DataFrame, *, by: str = "group") -> pd.DataFrame:
    """Per-group weighted line of episode frequency on episode potential (each cell weighing 1).

    Returns
    -------
    pandas.DataFrame
        One row per group: ``group``, ``n_cells`` (cells with episodes), ``vm_min_mv``, ``vm_max_mv``
        (range of episode potentials), ``vm_mean_mv``, ``frequency_at_mean_hz``, ``slope_hz_per_mv``
        (NaN with fewer than two cells or no spread of potentials).
    """
    check_group_column(recordings, by, "by")
    cells = cell_table(recordings, by=by, cluster=None)
    cells = cells.loc[cells["group"].notna()].reset_index(drop=True)
    files = cells["file"].to_numpy(dtype=object)
    ep = cell_episode_stats(oscillations, recordings, files)
    rows = []
    for g in sorted(cells["group"].astype(str).unique()):
        m = (cells["group"].astype(str) == g).to_numpy() & (ep[:, 0] > 0)
        line = fit_line(ep[m].sum(0))
        lo, hi = episode_vm_range(oscillations, recordings, files, m)
        rows.append(dict(group=g, n_cells=int(m.sum()), vm_min_mv=lo, vm_max_mv=hi, vm_mean_mv=float(line.x_mean),
                         frequency_at_mean_hz=float(line.y_mean),
                         slope_hz_per_mv=float(line.slope) if m.sum() >= 2 else np.nan))
    return pd.DataFrame(rows, columns=["group", "n_cells", "vm_min_mv", "vm_max_mv", "vm_mean_mv",
                                       "frequency_at_mean_hz", "slope_hz_per_mv"])


__all__ = ["SUMMARY_COLUMNS", "frequency_vm_fits", "summarize_groups"]
