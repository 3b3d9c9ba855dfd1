"""Injured vs control: differences per metric with hierarchical-bootstrap intervals and permutation p."""

from __future__ import annotations

import dataclasses
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import RecordingError
from ..tables import PATTERN_VALUES
from .cells import CELL_METRICS, cell_episode_stats, cell_table, episode_vm_range
from .matched import choose_vm, group_values, matched_difference
from .params import CompareParams
from .resample import bootstrap_counts, interval, permutation_p, relabellings, replicate_means

#: Columns of the comparison table, in order (the contract's first ten, then extras).
COMPARISON_COLUMNS = ["metric", "group", "reference", "n_cells", "n_animals", "estimate", "ci_low", "ci_high",
                      "p_value", "method", "vm_mv", "value_group", "value_reference", "n_cells_reference",
                      "n_animals_reference", "warning"]

MATCHED = "sso_frequency_hz_at_matched_vm"
METRICS = list(CELL_METRICS[:3]) + [MATCHED] + list(CELL_METRICS[3:]) + [f"pattern_share_{p}"
                                                                       for p in PATTERN_VALUES]


def _check_column(df: pd.DataFrame, col, what: str) -> None:
    if col is not None and col not in df.columns:
        raise ValueError(f"`recordings` has no column {col!r}; pass --groups groups.csv (with columns file, {col}, "
                         f"...) to drgephys analyze, or set `{what}` to one of "
                         f"{[c for c in df.columns if c not in ('file', 'status', 'message')]}")


def _method(p: CompareParams, cluster, exact: bool, n_relab: int) -> str:
    lvl = (("adjusted animals→cells" if p.cell_stage == "adjusted" else "animals→cells") if p.resample_cells
           else "animals") if cluster is not None else ("cells, adjusted" if p.cell_stage == "adjusted" and
                                                        p.resample_cells else "cells")
    ci = "expanded-percentile" if p.ci_method == "expanded" else "percentile"
    perm = f"exact, {n_relab}" if exact else str(n_relab)
    unit = "animal" if cluster is not None else "cell"
    return (f"hierarchical bootstrap ({lvl}, {p.n_boot}) {ci} {round(p.ci_level * 100)}% CI; "
            f"{unit}-level permutation p ({perm})")


def compare_groups(recordings: pd.DataFrame, oscillations: pd.DataFrame | None, *, by: str = "group",
                   reference=None, cluster: str | None = "animal", n_boot: int | None = None,
                   n_perm: int | None = None, seed: int | None = None, matched_vm_mv: float | None = None,
                   params: CompareParams | None = None) -> pd.DataFrame:
    """Compare every group with a reference group, metric by metric, respecting animals.

    Parameters
    ----------
    recordings : DataFrame
        ``recordings`` table of ``drgephys analyze`` (one row per sweep) with the ``by`` and ``cluster``
        columns of the groups CSV. Only ``status == "ok"`` rows count; a cell is a ``file``.
    oscillations : DataFrame or None
        ``oscillations`` table (one row per episode), joined to cells on ``file``.
    by : str
        Group column (default ``"group"``).
    reference : optional
        Reference group; default ``"control"`` when present, else the first in sorted order.
    cluster : str or None
        Animal column (default ``"animal"``); ``None`` treats every cell as independent.
    n_boot, n_perm, seed, matched_vm_mv : optional
        Override the fields of ``params`` (defaults 2000, 2000, 0, None).
    params : CompareParams, optional

    Returns
    -------
    pandas.DataFrame
        One row per metric and non-reference group, columns :data:`COMPARISON_COLUMNS`. ``estimate`` is
        group − reference: of means of per-cell values (``sso_prevalence``: share of cells with SSOs;
        ``sso_frequency_hz`` and ``sso_amplitude_mv``: cells with SSOs only), or, for
        ``sso_frequency_hz_at_matched_vm``, of frequency–potential lines at ``vm_mv`` (mV).

    Raises
    ------
    ValueError
        Missing columns, fewer than two groups, an unknown reference, or a ``matched_vm_mv`` outside the
        potentials where both groups have episodes.

    Warns
    -----
    UserWarning
        When a group has fewer than ``params.min_animals`` animals (also in the ``warning`` column).
    """
    p = params if params is not None else CompareParams()
    if not isinstance(p, CompareParams):
        raise TypeError(f"`params` must be a CompareParams; got {type(p).__name__}")
    over = {k: v for k, v in dict(n_boot=n_boot, n_perm=n_perm, seed=seed, matched_vm_mv=matched_vm_mv).items()
            if v is not None}
    p = dataclasses.replace(p, **over) if over else p
    if not isinstance(recordings, pd.DataFrame):
        raise TypeError(f"`recordings` must be a pandas DataFrame; got {type(recordings).__name__}")
    _check_column(recordings, by, "by")
    _check_column(recordings, cluster, "cluster")
    cells = cell_table(recordings, by=by, cluster=cluster)
    missing = cells["group"].isna() | cells["cluster"].isna()
    if missing.any():
        warnings.warn(f"{int(missing.sum())} cell(s) without a `{by}`/`{cluster}` value left out, e.g. "
                      f"{list(cells.loc[missing, 'file'][:3])}", UserWarning, stacklevel=2)
        cells = cells.loc[~missing].reset_index(drop=True)
    cells["group"] = cells["group"].astype(str)
    groups = sorted(cells["group"].unique())
    if len(groups) < 2:
        raise ValueError(f"`{by}` must hold at least two groups among ok cells to compare; got {groups}")
    if reference is None:
        reference = "control" if "control" in groups else groups[0]
    reference = str(reference)
    if reference not in groups:
        raise ValueError(f"`reference` must be one of the groups {groups}; got {reference!r}")
    if cluster is not None:  # an animal in two groups is treated as two clusters (warned)
        shared = cells.groupby("cluster")["group"].nunique()
        if (shared > 1).any():
            warnings.warn(f"animal(s) {list(shared.index[shared > 1][:3])} have cells in several groups; treated "
                          "as separate clusters per group (the permutation test then assumes independence)",
                          UserWarning, stacklevel=2)
    cells["ckey"] = cells["group"] + "\x1f" + cells["cluster"].astype(str)
    files = cells["file"].to_numpy(dtype=object)
    ep = cell_episode_stats(oscillations, recordings, files)
    rng = np.random.default_rng(p.seed)
    gidx = {g: np.flatnonzero(cells["group"].to_numpy() == g) for g in groups}
    codes = {g: pd.factorize(cells["ckey"].to_numpy()[gidx[g]], sort=True)[0] for g in groups}
    counts = {g: bootstrap_counts(codes[g], p.n_boot, rng, resample_cells=p.resample_cells) for g in groups}
    rows = []
    for g in [x for x in groups if x != reference]:
        rows.extend(_compare_pair(cells, ep, g, reference, gidx, codes, counts, p, cluster, rng,
                                  oscillations, recordings))
    out = pd.DataFrame(rows, columns=COMPARISON_COLUMNS)
    return out


def _compare_pair(cells, ep, g, ref, gidx, codes, counts, p, cluster, rng, oscillations, recordings) -> list:
    ig, ir = gidx[g], gidx[ref]
    na_g, na_r = int(codes[g].max()) + 1, int(codes[ref].max()) + 1
    warn = ""
    few = [f"'{name}' has {n} animal(s)" for name, n in ((g, na_g), (ref, na_r)) if n < p.min_animals]
    if few and cluster is not None:
        warn = (f"fewer than {p.min_animals} animals: {', '.join(few)}; animal-to-animal variation cannot be "
                "estimated, so intervals and p-values are unreliable")
        warnings.warn(warn, UserWarning, stacklevel=3)
    both = np.concatenate([ig, ir])
    akey = np.concatenate([codes[g], codes[ref] + na_g])
    lab, exact = relabellings(na_g + na_r, na_g, p.n_perm, rng)
    n_clu = min(na_g, na_r)
    method = _method(p, cluster, exact, len(lab))
    cg, cr = counts[g], counts[ref]
    rows = []

    # the matched line is fitted to cells' regression sums as drawn: no adjusted second stage (see params)
    method_matched = _method(dataclasses.replace(p, cell_stage="naive"), cluster, exact, len(lab))

    def row(metric, est, vg, vr, boot, null, nc_g, nc_r, an_g, an_r, vm=np.nan, extra=""):
        lo, hi = interval(boot, p.ci_level, p.ci_method, n_clu) if np.isfinite(est) else (np.nan, np.nan)
        pv = permutation_p(est, null, exact)
        failed = float(np.mean(~np.isfinite(boot))) if np.isfinite(est) and boot.size else 0.0
        note = f"{failed:.0%} of bootstrap replicates had no value (interval conditional on the rest)" \
            if failed > 0.05 else ""
        w = "; ".join(x for x in (warn, extra, note) if x)
        rows.append(dict(metric=metric, group=g, reference=ref, n_cells=nc_g, n_animals=an_g, estimate=est,
                         ci_low=lo, ci_high=hi, p_value=pv,
                         method=method_matched if metric == MATCHED else method, vm_mv=vm, value_group=vg,
                         value_reference=vr, n_cells_reference=nc_r, n_animals_reference=an_r, warning=w))

    def n_anim(idx, valid):
        return int(len(np.unique(cells["ckey"].to_numpy()[idx][valid[idx]])))

    for metric in METRICS:
        if metric == MATCHED:
            _matched_row(row, cells, ep, g, ref, ig, ir, cg, cr, akey, both, lab, p, oscillations, recordings,
                         n_anim, cluster)
            continue
        y = cells[metric].to_numpy(dtype=float)
        valid = np.isfinite(y)
        yv = np.where(valid, y, 0.0)
        vg_ = valid[ig].sum()
        vr_ = valid[ir].sum()
        mg = yv[ig].sum() / vg_ if vg_ else np.nan
        mr = yv[ir].sum() / vr_ if vr_ else np.nan
        extra = "" if vg_ and vr_ else f"no cells with a value in {[n for n, k in ((g, vg_), (ref, vr_)) if not k]}"
        adjust = p.resample_cells and p.cell_stage == "adjusted"  # no double-counted within-animal variance
        boot = (replicate_means(cg, y[ig], codes[g], adjust=adjust)
                - replicate_means(cr, y[ir], codes[ref], adjust=adjust))
        with np.errstate(invalid="ignore", divide="ignore"):
            s_a = np.bincount(akey, weights=yv[both], minlength=lab.shape[1])
            n_a = np.bincount(akey, weights=valid[both].astype(float), minlength=lab.shape[1])
            null = (lab @ s_a) / (lab @ n_a) - (~lab @ s_a) / (~lab @ n_a)
        ag, ar = n_anim(ig, valid), n_anim(ir, valid)
        row(metric, mg - mr, mg, mr, boot, null, int(vg_), int(vr_), ag, ar,
            extra=extra or _few_animals(ag, ar, g, ref, p, cluster))
    return rows


def _few_animals(ag: int, ar: int, g: str, ref: str, p: CompareParams, cluster) -> str:
    """Row warning when the cells with a value come from fewer than ``min_animals`` animals of a group."""
    few = [f"'{name}' {n}" for name, n in ((g, ag), (ref, ar)) if 0 < n < p.min_animals]
    if not few or cluster is None:
        return ""
    return (f"values from fewer than {p.min_animals} animals ({', '.join(few)}): the interval cannot include "
            "animal-to-animal variation")


def _matched_row(row, cells, ep, g, ref, ig, ir, cg, cr, akey, both, lab, p, oscillations, recordings, n_anim,
                 cluster):
    files = cells["file"].to_numpy(dtype=object)
    has = ep[:, 0] > 0
    rg = episode_vm_range(oscillations, recordings, files, np.isin(np.arange(len(files)), ig) & has)
    rr = episode_vm_range(oscillations, recordings, files, np.isin(np.arange(len(files)), ir) & has)
    vm, msg = choose_vm(rg, rr, p.matched_vm_mv, (g, ref))
    ng, nr = int(has[ig].sum()), int(has[ir].sum())
    ag, ar = n_anim(ig, has), n_anim(ir, has)
    if not np.isfinite(vm):
        row(MATCHED, np.nan, np.nan, np.nan, np.empty(0), np.empty(0), ng, nr, ag, ar, extra=msg)
        return
    if min(ng, nr) < p.min_cells_fit:
        msg = (f"frequency–potential fit needs at least {p.min_cells_fit} cells with episodes per group; got "
               f"{ng} ('{g}') and {nr} ('{ref}')")
    est = float(matched_difference(ep[ig].sum(0), ep[ir].sum(0), ng, nr, vm, p.slope, p.min_cells_fit))
    vg, vr = (float(v) if np.isfinite(est) else np.nan
              for v in group_values(ep[ig].sum(0), ep[ir].sum(0), vm, p.slope))
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = matched_difference(cg @ ep[ig], cr @ ep[ir], (cg[:, has[ig]] > 0).sum(1),
                                  (cr[:, has[ir]] > 0).sum(1), vm, p.slope, 2)
        a_sums = np.zeros((lab.shape[1], 5))
        np.add.at(a_sums, akey, ep[both])
        a_fit = np.bincount(akey, weights=has[both].astype(float), minlength=lab.shape[1])
        null = matched_difference(lab @ a_sums, ~lab @ a_sums, lab @ a_fit, ~lab @ a_fit, vm, p.slope,
                                  p.min_cells_fit)
    msg = msg or _few_animals(ag, ar, g, ref, p, cluster)
    row(MATCHED, est, vg, vr, boot, null, ng, nr, ag, ar, vm=vm, extra=msg)


def _read_table(d: Path, name: str) -> pd.DataFrame:
    for ext, reader in ((".csv", pd.read_csv), (".parquet", pd.read_parquet)):
        f = d / f"{name}{ext}"
        if f.is_file():
            return reader(f)
    raise RecordingError(f"`results_dir` must hold {name}.csv (or .parquet) written by drgephys analyze; got none "
                         f"in {d}. Run `drgephys analyze ... --out {d}` first", file=str(d), code="missing_table")


def compare_results_dir(results_dir, *, by: str = "group", reference=None, cluster: str | None = "animal",
                        out=None, **kwargs) -> pd.DataFrame:
    """Compare groups in an ``analyze`` output folder and write ``comparison.csv`` atomically.

    Parameters
    ----------
    results_dir : path
        Folder with ``recordings.csv`` and ``oscillations.csv`` (or ``.parquet``).
    by, reference, cluster : see :func:`compare_groups`
    out : path, optional
        Output CSV (default ``results_dir/comparison.csv``); written to a temporary file then renamed.
    **kwargs
        ``n_boot``, ``n_perm``, ``seed``, ``matched_vm_mv``, ``params`` for :func:`compare_groups`.

    Returns
    -------
    pandas.DataFrame
        The comparison table that was written.
    """
    d = Path(results_dir)
    if not d.is_dir():
        raise RecordingError(f"`results_dir` must be an existing folder written by drgephys analyze; got {str(d)!r}",
                             file=str(d), code="missing_folder")
    recs = _read_table(d, "recordings")
    osc = _read_table(d, "oscillations")
    table = compare_groups(recs, osc, by=by, reference=reference, cluster=cluster, **kwargs)
    target = Path(out) if out is not None else d / "comparison.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".comparison-", suffix=".csv.tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            table.to_csv(fh, index=False)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return table
