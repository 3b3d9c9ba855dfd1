"""Coverage study of drgephys.stats.compare_groups on simulated cohorts with known effects.

For each scenario and seed: simulate the cohort's true cell parameters (drgephys.sim.simulate_cohort_table),
turn them into analyze-like tables with measurement noise (drgephys.stats.synthetic.tables_from_cohort),
compare groups, and score against the population differences (drgephys.stats.synthetic.true_effects).

Reports per scenario and metric: 95 % CI coverage, bias (mean estimate − truth) and mean absolute error as
shares of the effect, rejection rate at p < 0.05, and for the confounded scenario how often the matched
estimate has the true sign while the raw difference has the opposite one.

Usage: python benchmarks/bench_stats_coverage.py [--seeds 200] [--ci-method percentile|expanded]
       [--cell-stage adjusted|naive] [--animals-only] [--slope per_group|common] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from drgephys.sim import CohortSpec
from drgephys.sim.cohort import CONTROL, INJURED, simulate_cohort_table
from drgephys.stats import CompareParams, compare_groups
from drgephys.stats.synthetic import tables_from_cohort, true_effects

OUT = Path(__file__).resolve().parent / "results" / "stats.md"

#: Control and injured with SSOs common enough to compare frequencies (6 animals × 8 cells per group).
STUDY = CohortSpec(groups=(dataclasses.replace(CONTROL, sso_prevalence=0.4),
                           dataclasses.replace(INJURED, sso_prevalence=0.7)),
                   animals_per_group=6, cells_per_animal=8)
#: Same, but no group difference at all (injured is a copy of control).
NULL = dataclasses.replace(STUDY, groups=(dataclasses.replace(CONTROL, sso_prevalence=0.4),
                                          dataclasses.replace(CONTROL, name="injured", sso_prevalence=0.4)))
#: Injury lowers frequency at matched potential by 15 Hz but injured cells sit 10 mV depolarized
#: (3 Hz/mV), so the raw difference is about +15 Hz: opposite sign.
CONFOUNDED = dataclasses.replace(STUDY, groups=(
    dataclasses.replace(CONTROL, sso_prevalence=0.5, resting_vm_mean_mv=-63.0),
    dataclasses.replace(INJURED, sso_prevalence=0.5, resting_vm_mean_mv=-53.0)))
#: As STUDY with twice the animals and more cells (12 × 10 per group): how errors shrink.
LARGE = dataclasses.replace(STUDY, animals_per_group=12, cells_per_animal=10)
#: The simulator's default cohort (4 animals × 5 cells, 5 % vs 30 % SSO cells).
DEFAULT = CohortSpec()
SCENARIOS = {"study (6×8 per group)": STUDY, "null (no effect)": NULL,
             "confounded (injured +10 mV)": CONFOUNDED, "large (12×10 per group)": LARGE,
             "simulator default (4×5)": DEFAULT}


def run(spec, seeds, params) -> pd.DataFrame:
    rows = []
    for s in seeds:
        table = simulate_cohort_table(spec, seed=s)
        recs, osc = tables_from_cohort(table, seed=s + 10_000, ref_vm_mv=spec.ref_vm_mv)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            c = compare_groups(recs, osc, params=dataclasses.replace(params, seed=s))
        rows.append(c.assign(seed=s))
    return pd.concat(rows, ignore_index=True)


def score(res: pd.DataFrame, truth: dict) -> pd.DataFrame:
    """Per metric: coverage (all finite rows / rows without a warning), bias and mean absolute error
    (absolute, and as a share of the effect when the effect is not ~0), interval width, p < 0.05 rate."""
    out = []
    for metric, d in res.groupby("metric", sort=False):
        t = float(truth["injured"][metric])
        fin = d[np.isfinite(d["estimate"])]
        clean = fin[fin["warning"].fillna("") == ""]

        def cover(x, t=t):
            return ((x["ci_low"] <= t + 1e-12) & (t - 1e-12 <= x["ci_high"])).mean() if len(x) else np.nan

        eff = abs(t) if abs(t) > 0.02 * max(1.0, fin["estimate"].abs().mean() if len(fin) else 1.0) else np.nan
        bias = fin["estimate"].mean() - t
        mae = (fin["estimate"] - t).abs().mean()
        out.append({"metric": metric, "truth": t, "cohorts": len(fin), "coverage": cover(fin),
                    "no-warning cohorts": len(clean), "coverage (no warning)": cover(clean),
                    "bias": bias, "bias/effect": bias / eff, "MAE": mae, "MAE/effect": mae / eff,
                    "CI width": (fin["ci_high"] - fin["ci_low"]).mean(), "p<0.05": (fin["p_value"] < 0.05).mean()})
    return pd.DataFrame(out)


def _markdown(df: pd.DataFrame) -> str:
    fmt = lambda x: ("" if np.isnan(x) else f"{x:.3g}") if isinstance(x, (float, np.floating)) else str(x)  # noqa: E731
    head = "| " + " | ".join(df.columns) + " |"
    sep = "|" + "---|" * len(df.columns)
    body = ["| " + " | ".join(fmt(v) for v in r) + " |" for r in df.itertuples(index=False)]
    return "\n".join([head, sep, *body])


def speed(params) -> str:
    """Median wall time of compare_groups on 100 cells (5 animals × 10 cells per group), 5 runs."""
    spec = dataclasses.replace(STUDY, animals_per_group=5, cells_per_animal=10)
    recs, osc = tables_from_cohort(simulate_cohort_table(spec, seed=0), seed=1)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        compare_groups(recs, osc, params=params)
        times.append(time.perf_counter() - t0)
    return (f"Speed: compare_groups on 100 cells ({len(osc)} episodes), n_boot {params.n_boot}, n_perm "
            f"{params.n_perm}: median {np.median(times) * 1e3:.0f} ms over 5 runs (min {min(times) * 1e3:.0f} ms).")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--ci-method", default=CompareParams.ci_method, choices=["expanded", "percentile"])
    ap.add_argument("--cell-stage", default=CompareParams.cell_stage, choices=["adjusted", "naive"],
                    help="second bootstrap stage: adjusted (default) or naive cell resampling")
    ap.add_argument("--slope", default="per_group", choices=["per_group", "common"])
    ap.add_argument("--n-boot", type=int, default=2000)
    ap.add_argument("--animals-only", action="store_true", help="one-stage bootstrap (cells not resampled)")
    ap.add_argument("--out", default=None, help=f"markdown file to write (default: print only); e.g. {OUT}")
    a = ap.parse_args(argv)
    params = CompareParams(n_boot=a.n_boot, n_perm=2000, ci_method=a.ci_method, slope=a.slope,
                           resample_cells=not a.animals_only, cell_stage=a.cell_stage)
    seeds = list(range(a.seeds))
    lines = [f"## Coverage study: {a.seeds} cohorts per scenario, CI method `{a.ci_method}`, slope `{a.slope}`, "
             f"{'animals only' if a.animals_only else a.cell_stage + ' animals→cells'}, "
             f"n_boot {a.n_boot}", "",
             f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}", "",
             speed(params), ""]
    for name, spec in SCENARIOS.items():
        t0 = time.perf_counter()
        res = run(spec, seeds, params)
        dt = time.perf_counter() - t0
        sc = score(res, true_effects(spec))
        lines += [f"### {name}", "", f"{dt:.1f} s for {a.seeds} cohorts ({dt / a.seeds * 1e3:.0f} ms per cohort, "
                  "simulation + compare)", "", _markdown(sc), ""]
        if spec is CONFOUNDED:
            raw = res[res.metric == "sso_frequency_hz"].set_index("seed")["estimate"]
            mat = res[res.metric == "sso_frequency_hz_at_matched_vm"].set_index("seed")["estimate"]
            both = pd.concat([raw, mat], axis=1, keys=["raw", "matched"]).dropna()
            lines += [f"Confounded cohorts: raw difference > 0 in {(both.raw > 0).mean():.1%}, matched < 0 in "
                      f"{(both.matched < 0).mean():.1%}, both (opposite signs, matched correct) in "
                      f"{((both.raw > 0) & (both.matched < 0)).mean():.1%} of {len(both)} cohorts; mean raw "
                      f"{both.raw.mean():+.2f} Hz, mean matched {both.matched.mean():+.2f} Hz "
                      f"(truth {true_effects(spec)['injured']['sso_frequency_hz_at_matched_vm']:+.1f} Hz).", ""]
    text = "\n".join(lines)
    print(text)
    if a.out:
        Path(a.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
