"""Parameters of the group comparison (:class:`CompareParams`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

CI_METHODS = ("expanded", "percentile")
CELL_STAGES = ("adjusted", "naive")
SLOPE_MODELS = ("per_group", "common")


@dataclass(frozen=True)
class CompareParams:
    """How :func:`drgephys.stats.compare_groups` estimates differences, intervals and p-values.

    Parameters
    ----------
    n_boot : int
        Hierarchical bootstrap replicates (default 2000). Animals are resampled with replacement within
        each group, then cells within each resampled animal (Saravanan, Berman & Sober 2020, Neurons
        Behav Data Anal Theory 3:1; Davison & Hinkley 1997, ch. 3.8), with the adjusted second stage of
        ``cell_stage``.
    n_perm : int
        Animal-level permutations of the group labels (default 2000). When the number of distinct
        relabellings is at most ``n_perm`` they are enumerated and the p-value is exact.
    ci_level : float
        Confidence level of the intervals (default 0.95).
    seed : int
        Seed of the random generator (``numpy.random.default_rng``); the same seed gives the same table.
    matched_vm_mv : float or None
        Membrane potential (mV) at which frequencies are compared. ``None`` (default): the middle of the
        overlap of the groups' episode-potential ranges. Frequency depends on potential (≈3 Hz/mV,
        Kovalsky et al. 2009) and axotomy lowers it at any given potential (Liu et al. 2000), so raw
        and matched differences are both reported.
    min_animals : int
        Groups with fewer animals get a warning (default 2: with one animal, animal-to-animal variation
        cannot be estimated and the interval is too narrow).
    min_cells_fit : int
        Fewest cells with episodes a group needs for a frequency–potential fit (default 3).
    ci_method : {"percentile", "expanded"}
        ``"percentile"`` (default): the (1 ± level)/2 quantiles of the bootstrap differences.
        ``"expanded"``: percentiles at ``Φ(±√(n/(n−1))·t_{n−1, 1−α/2})`` with ``n`` the smaller number
        of animals of the two groups (Hesterberg 2015, Am Stat 69:371, "expanded percentile interval"),
        meant for the one-stage bootstrap (``resample_cells=False``), which is too narrow with few
        animals; with the adjusted two-stage bootstrap it is conservative (its variance is already
        unbiased). Measured coverage of each combination: ``benchmarks/results/stats.md``.
    slope : {"per_group", "common"}
        Frequency–potential model: a separate line per group (default) or parallel lines with one shared
        slope (ANCOVA; more precise when the groups' potentials barely overlap, biased if slopes differ).
    resample_cells : bool
        True (default): two-stage bootstrap, cells resampled within each resampled animal. False: keep
        each resampled animal's cells (one-stage cluster bootstrap; its variance is low by a factor
        (a − 1)/a, too narrow with few animals unless ``ci_method="expanded"``; 87–89 % coverage on two
        metrics at 4 animals × 5 cells even then).
    cell_stage : {"adjusted", "naive"}
        Second stage of the two-stage bootstrap (ignored when ``resample_cells`` is False).
        ``"adjusted"`` (default): Davison & Hinkley's (1997, §3.8) adjusted strategy, see
        :func:`drgephys.stats.resample.adjusted_values`: each cell is re-expressed as grand mean + shrunk
        animal deviation + inflated within-animal residual so that the animal stage carries only the
        moment estimate of the between-animal variance and the cell stage an unbiased within-animal
        variance; the bootstrap variance of a group mean is then ≈ its unbiased estimate (variance of
        animal means / number of animals) instead of counting the within-animal variance twice (Ren et
        al. 2010, J Appl Stat 37:1487; Field & Welsh 2007, JRSS B 69:369). Replicate means stay within
        the observed range of the cell values. Measured 95 % coverage 91.7–97.5 % for every estimable
        mean metric in every scenario of the coverage study (``benchmarks/results/stats.md``). The
        frequency at matched potential is a line through cells' episode regression sums, which this
        re-expression does not apply to: its row always uses the naive second stage (measured
        95.4–96.4 %; the row's ``method`` says so). ``"naive"``: cells resampled as they are
        (Saravanan et al. 2020); counts the within-animal variance twice, so intervals are conservative
        when cells vary more than animals (measured 94–99.5 % coverage, 25 of 44 metric×scenario cells
        above 98 %).
    """

    n_boot: int = 2000
    n_perm: int = 2000
    ci_level: float = 0.95
    seed: int = 0
    matched_vm_mv: float | None = None
    min_animals: int = 2
    min_cells_fit: int = 3
    ci_method: str = "percentile"
    slope: str = "per_group"
    resample_cells: bool = True
    cell_stage: str = "adjusted"

    def __post_init__(self):
        for name in ("n_boot", "n_perm", "min_animals", "min_cells_fit"):
            x = getattr(self, name)
            if isinstance(x, bool) or not isinstance(x, int) or x < 1:
                raise ValueError(f"`{name}` must be a positive integer; got {x!r}")
        if self.min_cells_fit < 2:
            raise ValueError(f"`min_cells_fit` must be at least 2 cells (a line needs two points); "
                             f"got {self.min_cells_fit!r}")
        if isinstance(self.ci_level, bool) or not isinstance(self.ci_level, (int, float)) \
                or not 0 < self.ci_level < 1:
            raise ValueError(f"`ci_level` must be a number between 0 and 1 (e.g. 0.95); got {self.ci_level!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"`seed` must be a non-negative integer; got {self.seed!r}")
        if self.matched_vm_mv is not None:
            try:
                ok = math.isfinite(float(self.matched_vm_mv))
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ValueError(f"`matched_vm_mv` must be a finite potential in mV or None; "
                                 f"got {self.matched_vm_mv!r}")
        if not isinstance(self.resample_cells, bool):
            raise TypeError(f"`resample_cells` must be True or False; got {self.resample_cells!r}")
        if self.ci_method not in CI_METHODS:
            raise ValueError(f"`ci_method` must be one of {CI_METHODS}; got {self.ci_method!r}")
        if self.cell_stage not in CELL_STAGES:
            raise ValueError(f"`cell_stage` must be one of {CELL_STAGES}; got {self.cell_stage!r}")
        if self.slope not in SLOPE_MODELS:
            raise ValueError(f"`slope` must be one of {SLOPE_MODELS}; got {self.slope!r}")


def bootstrap_levels(params: CompareParams, *, clustered: bool) -> str:
    """What the hierarchical bootstrap of ``params`` resamples, as the ``method`` columns name it.

    Parameters
    ----------
    params : CompareParams
    clustered : bool
        Cells are grouped in animals (False: every cell independent).

    Returns
    -------
    str
        ``"adjusted animals→cells"``, ``"animals→cells"`` or ``"animals"`` with animals;
        ``"cells, adjusted"`` or ``"cells"`` without.
    """
    adjusted = params.resample_cells and params.cell_stage == "adjusted"
    if not clustered:
        return "cells, adjusted" if adjusted else "cells"
    if not params.resample_cells:
        return "animals"
    return "adjusted animals→cells" if adjusted else "animals→cells"
