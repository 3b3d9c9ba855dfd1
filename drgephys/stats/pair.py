"""One group against the reference: every metric's estimate, bootstrap interval and permutation p-value.

Internal to :mod:`drgephys.stats`: :func:`drgephys.stats.compare_groups` builds a :class:`Cohort` (the cells
and what is read from them), one :class:`Side` per group (its cells, animals and bootstrap draws) and one
:class:`Pair` per non-reference group (both sides and the relabellings of their pooled animals); each metric
gives an :class:`Outcome`, which becomes a row of the comparison table.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd

from ..tables import PATTERN_VALUES
from .cells import CELL_METRICS, episode_vm_range
from .matched import choose_vm, group_values, matched_difference
from .params import CompareParams, bootstrap_levels
from .resample import bootstrap_counts, interval, permutation_p, relabellings, replicate_means

#: The matched-potential frequency metric (a line fit, not a mean of per-cell values).
MATCHED = "sso_frequency_hz_at_matched_vm"
#: Metrics of the comparison table, in row order.
METRICS = list(CELL_METRICS[:3]) + [MATCHED] + list(CELL_METRICS[3:]) + [f"pattern_share_{p}"
                                                                       for p in PATTERN_VALUES]


def _method(p: CompareParams, cluster, exact: bool, n_relab: int) -> str:
    """The ``method`` column: bootstrap levels, replicates, interval and permutation test."""
    ci = "expanded-percentile" if p.ci_method == "expanded" else "percentile"
    perm = f"exact, {n_relab}" if exact else str(n_relab)
    unit = "animal" if cluster is not None else "cell"
    return (f"hierarchical bootstrap ({bootstrap_levels(p, clustered=cluster is not None)}, {p.n_boot}) {ci} "
            f"{round(p.ci_level * 100)}% CI; {unit}-level permutation p ({perm})")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Cohort:
    """What every group-vs-reference comparison of one :func:`drgephys.stats.compare_groups` call reads.

    Attributes
    ----------
    cells : DataFrame
        :func:`drgephys.stats.cell_table` of the ok cells that have a group and a cluster, plus ``ckey``
        (group and cluster joined: an animal with cells in two groups counts as two animals).
    episodes : ndarray, shape (n_cells, 5)
        The cells' episode regression sums (:func:`drgephys.stats.cells.cell_episode_stats`), rows in the
        order of ``cells``.
    recordings, oscillations : DataFrame
        The input tables (episode potentials are read from them for the matched potential).
    cluster : str or None
        Animal column (``None``: cells independent).
    params : CompareParams
    """

    cells: pd.DataFrame
    episodes: np.ndarray
    recordings: pd.DataFrame
    oscillations: pd.DataFrame | None
    cluster: str | None
    params: CompareParams


@dataclasses.dataclass(frozen=True, kw_only=True)
class Side:
    """One group of a comparison: its cells, their animals and its hierarchical-bootstrap draws.

    Attributes
    ----------
    name : str
    rows : ndarray of int
        Rows of the group's cells in the cohort's cell table.
    codes : ndarray of int
        Animal code (0 … n_animals − 1) of each of those cells.
    counts : ndarray of int, shape (n_boot, n_cells)
        How often each cell is drawn per bootstrap replicate (:func:`drgephys.stats.resample.bootstrap_counts`).
    """

    name: str
    rows: np.ndarray
    codes: np.ndarray
    counts: np.ndarray

    @property
    def n_animals(self) -> int:
        """Number of animals of the group."""
        return int(self.codes.max()) + 1

    def animals_with(self, valid: np.ndarray) -> int:
        """Number of the group's animals with at least one cell where ``valid`` (over all cohort cells)."""
        return int(len(np.unique(self.codes[valid[self.rows]])))


@dataclasses.dataclass(frozen=True, kw_only=True)
class Pair:
    """A group against the reference, with the animal-level relabellings of their pooled animals.

    Attributes
    ----------
    cohort : Cohort
    group, ref : Side
    pooled_rows : ndarray of int
        ``group.rows`` then ``ref.rows``.
    pooled_animal : ndarray of int
        Animal of each pooled cell, the reference's animals numbered after the group's.
    labels : ndarray of bool, shape (n_relabellings, n_pooled_animals)
        :func:`drgephys.stats.resample.relabellings`: True where an animal is assigned to the group.
    exact : bool
        The relabellings are all of them (exact permutation test).
    warning : str
        The pair's few-animals warning ("" when none).
    """

    cohort: Cohort
    group: Side
    ref: Side
    pooled_rows: np.ndarray
    pooled_animal: np.ndarray
    labels: np.ndarray
    exact: bool
    warning: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Outcome:
    """One metric of a pair, before it becomes a row of the table.

    Attributes
    ----------
    metric : str
    estimate : float
        Group − reference.
    values : (float, float)
        Group's and reference's values.
    boot, null : ndarray
        Bootstrap replicate differences and relabelled differences.
    n_cells, n_animals : (int, int)
        Cells and animals with a value, group's then reference's.
    vm_mv : float
        Matched potential (NaN for the other metrics).
    note : str
        The metric's warning ("" when none).
    """

    metric: str
    estimate: float
    values: tuple
    boot: np.ndarray
    null: np.ndarray
    n_cells: tuple
    n_animals: tuple
    vm_mv: float = np.nan
    note: str = ""


def make_side(cells: pd.DataFrame, name: str, params: CompareParams, rng: np.random.Generator) -> Side:
    """The cells of group ``name`` with their bootstrap counts (drawn from ``rng``)."""
    rows = np.flatnonzero(cells["group"].to_numpy() == name)
    codes = pd.factorize(cells["ckey"].to_numpy()[rows], sort=True)[0]
    counts = bootstrap_counts(codes, params.n_boot, rng, resample_cells=params.resample_cells)
    return Side(name=name, rows=rows, codes=codes, counts=counts)


def make_pair(cohort: Cohort, group: Side, ref: Side, rng: np.random.Generator) -> Pair:
    """``group`` against ``ref``: pooled animals, their relabellings (drawn from ``rng``), the warning."""
    p = cohort.params
    warn = ""
    few = [f"'{s.name}' has {s.n_animals} animal(s)" for s in (group, ref) if s.n_animals < p.min_animals]
    if few and cohort.cluster is not None:
        warn = (f"fewer than {p.min_animals} animals: {', '.join(few)}; animal-to-animal variation cannot be "
                "estimated, so intervals and p-values are unreliable")
        warnings.warn(warn, UserWarning, stacklevel=3)
    lab, exact = relabellings(group.n_animals + ref.n_animals, group.n_animals, p.n_perm, rng)
    return Pair(cohort=cohort, group=group, ref=ref, pooled_rows=np.concatenate([group.rows, ref.rows]),
                pooled_animal=np.concatenate([group.codes, ref.codes + group.n_animals]), labels=lab, exact=exact,
                warning=warn)


def pair_rows(pair: Pair) -> list[dict]:
    """The rows of one group against the reference, one per metric of :data:`METRICS`."""
    return [_row(pair, _matched_outcome(pair) if metric == MATCHED else _mean_outcome(pair, metric))
            for metric in METRICS]


def _row(pair: Pair, out: Outcome) -> dict:
    """A row of the comparison table: interval, p-value, method and warnings of ``out``."""
    p, cluster = pair.cohort.params, pair.cohort.cluster
    est = out.estimate
    n_clu = min(pair.group.n_animals, pair.ref.n_animals)
    lo, hi = interval(out.boot, p.ci_level, p.ci_method, n_clu) if np.isfinite(est) else (np.nan, np.nan)
    pv = permutation_p(est, out.null, pair.exact)
    failed = float(np.mean(~np.isfinite(out.boot))) if np.isfinite(est) and out.boot.size else 0.0
    note = f"{failed:.0%} of bootstrap replicates had no value (interval conditional on the rest)" \
        if failed > 0.05 else ""
    # the matched line is fitted to cells' regression sums as drawn: no adjusted second stage (see params)
    method_p = dataclasses.replace(p, cell_stage="naive") if out.metric == MATCHED else p
    return dict(metric=out.metric, group=pair.group.name, reference=pair.ref.name, n_cells=out.n_cells[0],
                n_animals=out.n_animals[0], estimate=est, ci_low=lo, ci_high=hi, p_value=pv,
                method=_method(method_p, cluster, pair.exact, len(pair.labels)), vm_mv=out.vm_mv,
                value_group=out.values[0], value_reference=out.values[1], n_cells_reference=out.n_cells[1],
                n_animals_reference=out.n_animals[1],
                warning="; ".join(x for x in (pair.warning, out.note, note) if x))


def _mean_outcome(pair: Pair, metric: str) -> Outcome:
    """Difference of the mean per-cell ``metric`` (cells without a value skipped)."""
    p, g, r = pair.cohort.params, pair.group, pair.ref
    y = pair.cohort.cells[metric].to_numpy(dtype=float)
    valid = np.isfinite(y)
    yv = np.where(valid, y, 0.0)
    vg_ = valid[g.rows].sum()
    vr_ = valid[r.rows].sum()
    mg = yv[g.rows].sum() / vg_ if vg_ else np.nan
    mr = yv[r.rows].sum() / vr_ if vr_ else np.nan
    extra = "" if vg_ and vr_ else f"no cells with a value in {[s.name for s, k in ((g, vg_), (r, vr_)) if not k]}"
    adjust = p.resample_cells and p.cell_stage == "adjusted"  # no double-counted within-animal variance
    boot = (replicate_means(g.counts, y[g.rows], g.codes, adjust=adjust)
            - replicate_means(r.counts, y[r.rows], r.codes, adjust=adjust))
    n_pooled = pair.labels.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        s_a = np.bincount(pair.pooled_animal, weights=yv[pair.pooled_rows], minlength=n_pooled)
        n_a = np.bincount(pair.pooled_animal, weights=valid[pair.pooled_rows].astype(float), minlength=n_pooled)
        lab = pair.labels
        null = (lab @ s_a) / (lab @ n_a) - (~lab @ s_a) / (~lab @ n_a)
    ag, ar = g.animals_with(valid), r.animals_with(valid)
    return Outcome(metric=metric, estimate=mg - mr, values=(mg, mr), boot=boot, null=null,
                    n_cells=(int(vg_), int(vr_)), n_animals=(ag, ar), note=extra or _few_animals(pair, ag, ar))


def _few_animals(pair: Pair, ag: int, ar: int) -> str:
    """Row warning when the cells with a value come from fewer than ``min_animals`` animals of a group."""
    p = pair.cohort.params
    few = [f"'{name}' {n}" for name, n in ((pair.group.name, ag), (pair.ref.name, ar)) if 0 < n < p.min_animals]
    if not few or pair.cohort.cluster is None:
        return ""
    return (f"values from fewer than {p.min_animals} animals ({', '.join(few)}): the interval cannot include "
            "animal-to-animal variation")


def _matched_outcome(pair: Pair) -> Outcome:
    """Difference of the groups' frequency–potential lines at the matched potential."""
    c, g, r = pair.cohort, pair.group, pair.ref
    p, ep = c.params, c.episodes
    files = c.cells["file"].to_numpy(dtype=object)
    has = ep[:, 0] > 0
    rg = episode_vm_range(c.oscillations, c.recordings, files, np.isin(np.arange(len(files)), g.rows) & has)
    rr = episode_vm_range(c.oscillations, c.recordings, files, np.isin(np.arange(len(files)), r.rows) & has)
    vm, msg = choose_vm(rg, rr, p.matched_vm_mv, (g.name, r.name))
    n_cells = int(has[g.rows].sum()), int(has[r.rows].sum())
    ag, ar = g.animals_with(has), r.animals_with(has)
    if not np.isfinite(vm):
        return Outcome(metric=MATCHED, estimate=np.nan, values=(np.nan, np.nan), boot=np.empty(0),
                        null=np.empty(0), n_cells=n_cells, n_animals=(ag, ar), note=msg)
    if min(n_cells) < p.min_cells_fit:
        msg = (f"frequency–potential fit needs at least {p.min_cells_fit} cells with episodes per group; got "
               f"{n_cells[0]} ('{g.name}') and {n_cells[1]} ('{r.name}')")
    line = dict(vm_mv=vm, slope=p.slope)
    sums_g, sums_r = ep[g.rows].sum(0), ep[r.rows].sum(0)
    est = float(matched_difference(sums_g, sums_r, n_cells[0], n_cells[1], min_cells=p.min_cells_fit, **line))
    vg, vr = (float(v) if np.isfinite(est) else np.nan for v in group_values(sums_g, sums_r, **line))
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = matched_difference(g.counts @ ep[g.rows], r.counts @ ep[r.rows], (g.counts[:, has[g.rows]] > 0).sum(1),
                                  (r.counts[:, has[r.rows]] > 0).sum(1), min_cells=2, **line)
        lab = pair.labels
        a_sums = np.zeros((lab.shape[1], 5))
        np.add.at(a_sums, pair.pooled_animal, ep[pair.pooled_rows])
        a_fit = np.bincount(pair.pooled_animal, weights=has[pair.pooled_rows].astype(float), minlength=lab.shape[1])
        null = matched_difference(lab @ a_sums, ~lab @ a_sums, lab @ a_fit, ~lab @ a_fit, min_cells=p.min_cells_fit,
                                  **line)
    return Outcome(metric=MATCHED, estimate=est, values=(vg, vr), boot=boot, null=null, n_cells=n_cells,
                    n_animals=(ag, ar), vm_mv=vm, note=msg or _few_animals(pair, ag, ar))
