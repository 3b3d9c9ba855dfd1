"""summarize_groups, frequency_vm_fits and the synthetic tables: known answers and contract columns."""

from __future__ import annotations

import numpy as np
import pytest

from drgephys.sim import CohortSpec, simulate_cohort_table
from drgephys.stats import CompareParams, SUMMARY_COLUMNS, frequency_vm_fits, summarize_groups
from drgephys.stats.synthetic import tables_from_cohort
from drgephys.tables import OSCILLATIONS_COLUMNS, RECORDINGS_COLUMNS

from .tables import line_cohort, make_tables

SLOPE_TOL_HZ_PER_MV = 1e-9


def test_summary_known_prevalence_and_interval():
    cells = [dict(group="a", animal=f"m{k // 2}", sso=k < 3, freq=50.0, vm=-57.0) for k in range(8)]
    cells += [dict(group="b", animal=f"n{k // 2}", sso=True, freq=40.0, vm=-57.0) for k in range(4)]
    recs, _ = make_tables(cells)
    s = summarize_groups(recs, metrics=("sso_prevalence", "sso_frequency_hz"),
                         params=CompareParams(n_boot=500)).set_index(["group", "metric"])
    assert list(s.reset_index().columns) == SUMMARY_COLUMNS
    a = s.loc[("a", "sso_prevalence")]
    assert a.value == pytest.approx(3 / 8) and a.n_cells == 8 and a.n_animals == 4
    assert 0 <= a.ci_low <= a.value <= a.ci_high <= 1
    b = s.loc[("b", "sso_prevalence")]
    assert (b.value, b.ci_low, b.ci_high) == (1.0, 1.0, 1.0)  # every resample has only SSO cells
    assert s.loc[("a", "sso_frequency_hz")].n_cells == 3


def test_summary_rejects_unknown_metric():
    recs, _ = make_tables(line_cohort())
    with pytest.raises(ValueError, match=r"`metrics` must be per-cell metrics"):
        summarize_groups(recs, metrics=("nope",))


def test_frequency_vm_fits_recover_the_lines():
    recs, osc = make_tables(line_cohort(), vm_spread_mv=0.5)
    f = frequency_vm_fits(recs, osc).set_index("group")
    assert f.loc["control", "slope_hz_per_mv"] == pytest.approx(3.0, abs=SLOPE_TOL_HZ_PER_MV)
    assert f.loc["injured", "slope_hz_per_mv"] == pytest.approx(3.0, abs=SLOPE_TOL_HZ_PER_MV)
    c = f.loc["control"]
    assert c.frequency_at_mean_hz == pytest.approx(60 + 3 * (c.vm_mean_mv + 57))
    assert (c.vm_min_mv, c.vm_max_mv) == (pytest.approx(-65.5), pytest.approx(-54.5))


def test_synthetic_tables_follow_the_analyze_contract():
    cohort = simulate_cohort_table(CohortSpec(animals_per_group=2, cells_per_animal=3), seed=0)
    recs, osc = tables_from_cohort(cohort, seed=0)
    assert set(RECORDINGS_COLUMNS) <= set(recs.columns) and {"group", "animal"} <= set(recs.columns)
    assert set(OSCILLATIONS_COLUMNS) <= set(osc.columns)
    assert len(recs) == len(cohort) and (recs.status == "ok").all()
    assert set(osc.file) == set(cohort.loc[cohort.sso_cell, "file"])
    assert np.all(osc.end_s > osc.start_s)
