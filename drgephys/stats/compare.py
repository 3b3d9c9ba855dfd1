"""Injured vs control: differences per metric with hierarchical-bootstrap intervals and permutation p."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .._atomic import atomic_write
from ..errors import RecordingError
from ..qc import blocked_rows, blocked_summary
from ..tables import read_table
from .cells import cell_episode_stats, cell_table, check_group_column
from .pair import MATCHED, METRICS, Cohort, make_pair, make_side, pair_rows
from .params import CompareParams

#: Columns of the comparison table, in order (the contract's first ten, then extras).
COMPARISON_COLUMNS = ["metric", "group", "reference", "n_cells", "n_animals", "estimate", "ci_low", "ci_high",
                      "p_value", "method", "vm_mv", "value_group", "value_reference", "n_cells_reference",
                      "n_animals_reference", "warning"]

__all__ = ["COMPARISON_COLUMNS", "MATCHED", "METRICS", "compare_groups", "compare_results_dir"]


def compare_groups(recordings: pd.DataFrame, oscillations: pd.DataFrame | None, *, by: str = "group",
                   reference=None, cluster: str | None = "animal", n_boot: int | None = None,
                   n_perm: int | None = None, seed: int | None = None, matched_vm_mv: float | None = None,
                   params: CompareParams | None = None, include_flagged: bool = False) -> pd.DataFrame:
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
    include_flagged : bool
        Keep sweeps whose ``qc_flags`` hold a blocking code (`drgephys.qc`: ``baseline_implausible``,
        ``depolarized``). By default they are left out, with a warning saying how many.

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
        When a group has fewer than ``params.min_animals`` animals (also in the ``warning`` column); when
        sweeps with blocking QC flags are left out.
    """
    p = params if params is not None else CompareParams()
    if not isinstance(p, CompareParams):
        raise TypeError(f"`params` must be a CompareParams; got {type(p).__name__}")
    over = {k: v for k, v in dict(n_boot=n_boot, n_perm=n_perm, seed=seed, matched_vm_mv=matched_vm_mv).items()
            if v is not None}
    p = dataclasses.replace(p, **over) if over else p
    if not isinstance(recordings, pd.DataFrame):
        raise TypeError(f"`recordings` must be a pandas DataFrame; got {type(recordings).__name__}")
    check_group_column(recordings, by, "by")
    check_group_column(recordings, cluster, "cluster")
    blocked = blocked_rows(recordings)
    if blocked.any() and not include_flagged:
        warnings.warn(blocked_summary(recordings, blocked) + "; pass include_flagged=True (--include-flagged) to "
                      "keep them", UserWarning, stacklevel=2)
        recordings = recordings.loc[~blocked]
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
    cohort = Cohort(cells=cells, episodes=cell_episode_stats(oscillations, recordings, files),
                    recordings=recordings, oscillations=oscillations, cluster=cluster, params=p)
    rng = np.random.default_rng(p.seed)
    sides = {g: make_side(cells, g, p, rng) for g in groups}  # every group's bootstrap draws, then the relabellings
    rows = []
    for g in [x for x in groups if x != reference]:
        rows.extend(pair_rows(make_pair(cohort, sides[g], sides[reference], rng)))
    out = pd.DataFrame(rows, columns=COMPARISON_COLUMNS)
    return out


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
    recs = read_table(d, "recordings")
    osc = read_table(d, "oscillations")
    table = compare_groups(recs, osc, by=by, reference=reference, cluster=cluster, **kwargs)
    target = Path(out) if out is not None else d / "comparison.csv"
    atomic_write(target, lambda tmp: table.to_csv(tmp, index=False))
    return table
