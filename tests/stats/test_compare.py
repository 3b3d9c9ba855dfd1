"""compare_groups: known answers on hand-made tables, refusal to extrapolate, warnings, determinism, errors."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drgephys.stats import COMPARISON_COLUMNS, METRICS, CompareParams, cell_table, compare_groups
from drgephys.tables import PATTERN_VALUES

from .tables import line_cohort, make_tables

SHARE_TOL = 1e-12        # shares computed from counts are exact
FREQ_TOL_HZ = 1e-6       # noise-free lines are recovered to rounding
FAST = CompareParams(n_boot=400, n_perm=400)
CONTRACT = ["metric", "group", "reference", "n_cells", "n_animals", "estimate", "ci_low", "ci_high", "p_value",
            "method"]


def prevalence_cells():
    """Control 4/4 cells with SSOs, injured 2/4 (2 animals × 2 cells each)."""
    cells = []
    for g, sso in (("control", [True, True, True, True]), ("injured", [True, False, True, False])):
        for k, s in enumerate(sso):
            cells.append(dict(group=g, animal=f"{g}{k // 2}", sso=s, freq=50.0 if g == "control" else 40.0,
                              vm=-57.0))
    return cells


def row(table, metric, group="injured"):
    r = table[(table.metric == metric) & (table.group == group)]
    assert len(r) == 1
    return r.iloc[0]


def test_columns_and_one_row_per_metric():
    recs, osc = make_tables(prevalence_cells())
    out = compare_groups(recs, osc, params=FAST)
    assert list(out.columns[:10]) == CONTRACT
    assert list(out.columns) == COMPARISON_COLUMNS
    assert list(out.metric) == METRICS
    assert {f"pattern_share_{p}" for p in PATTERN_VALUES} <= set(out.metric)
    assert set(out.group) == {"injured"} and set(out.reference) == {"control"}


def test_prevalence_difference_known_answer():
    recs, osc = make_tables(prevalence_cells())
    r = row(compare_groups(recs, osc, params=FAST), "sso_prevalence")
    assert r.estimate == pytest.approx(-0.5, abs=SHARE_TOL)
    assert r.value_group == pytest.approx(0.5, abs=SHARE_TOL)
    assert r.value_reference == pytest.approx(1.0, abs=SHARE_TOL)
    assert (r.n_cells, r.n_animals, r.n_cells_reference, r.n_animals_reference) == (4, 2, 4, 2)
    assert r.ci_low <= r.estimate <= r.ci_high


def test_raw_frequency_uses_cells_with_sso_only():
    recs, osc = make_tables(prevalence_cells())
    r = row(compare_groups(recs, osc, params=FAST), "sso_frequency_hz")
    assert r.estimate == pytest.approx(-10.0, abs=FREQ_TOL_HZ)
    assert (r.n_cells, r.n_cells_reference) == (2, 4)


def test_refused_sweeps_do_not_count():
    recs, osc = make_tables(prevalence_cells())
    extra = recs.iloc[[0]].assign(file="refused.abf", status="refused", group="injured", sso_detected=True)
    r = row(compare_groups(pd.concat([recs, extra]), osc, params=FAST), "sso_prevalence")
    assert r.estimate == pytest.approx(-0.5, abs=SHARE_TOL) and r.n_cells == 4


def test_cell_aggregates_sweeps_duration_weighted():
    recs = pd.DataFrame(dict(file=["a.abf", "a.abf"], sweep=[0, 1], channel="0", status="ok", message="",
                             duration_s=[1.0, 3.0], resting_vm_mv=[-60.0, -56.0], sso_detected=[True, False],
                             sso_frequency_hz=[40.0, np.nan], sso_amplitude_mv=[2.0, np.nan],
                             sso_time_fraction=[0.5, 0.0], spike_count=[0, 6], spike_rate_hz=[0.0, 2.0],
                             firing_pattern=["silent", "tonic"], group="x", animal="m1"))
    c = cell_table(recs, by="group", cluster="animal").iloc[0]
    assert c.sso_prevalence == 1.0  # any sweep with SSOs
    assert c.resting_vm_mv == pytest.approx((-60 * 1 - 56 * 3) / 4)
    assert c.sso_time_fraction == pytest.approx(0.5 / 4)
    assert c.sso_frequency_hz == pytest.approx(40.0)
    assert c.spike_rate_hz == pytest.approx(6 / 4)
    assert c.pattern_share_tonic == pytest.approx(0.75) and c.pattern_share_silent == pytest.approx(0.25)


def test_csv_style_booleans_are_understood():
    recs, osc = make_tables(prevalence_cells())
    recs = recs.assign(sso_detected=recs.sso_detected.map({True: "True", False: "False"}))
    assert row(compare_groups(recs, osc, params=FAST), "sso_prevalence").estimate == pytest.approx(-0.5)


def test_matched_frequency_recovers_effect_with_opposite_raw_sign():
    recs, osc = make_tables(line_cohort(), vm_spread_mv=0.5)
    out = compare_groups(recs, osc, params=FAST)
    raw, mat = row(out, "sso_frequency_hz"), row(out, "sso_frequency_hz_at_matched_vm")
    assert raw.estimate > 0  # injured cells sit depolarized: raw frequency is higher
    assert mat.estimate == pytest.approx(-15.0, abs=FREQ_TOL_HZ)
    # default potential: middle of the overlap of episode potentials (−58.5 … −54.5 mV)
    assert mat.vm_mv == pytest.approx(-56.5, abs=1e-9)
    assert mat.value_reference == pytest.approx(60 + 3 * (-56.5 + 57), abs=FREQ_TOL_HZ)


def test_user_matched_potential_inside_overlap_is_used():
    recs, osc = make_tables(line_cohort())
    mat = row(compare_groups(recs, osc, params=FAST, matched_vm_mv=-57.5), "sso_frequency_hz_at_matched_vm")
    assert mat.vm_mv == -57.5 and mat.estimate == pytest.approx(-15.0, abs=FREQ_TOL_HZ)


def test_refuses_to_extrapolate_to_a_requested_potential():
    recs, osc = make_tables(line_cohort())
    with pytest.raises(ValueError, match=r"`matched_vm_mv` must lie where both groups have SSO episodes"):
        compare_groups(recs, osc, params=FAST, matched_vm_mv=-45.0)


def test_no_overlap_gives_nan_and_warning():
    recs, osc = make_tables(line_cohort(control_vm=(-70.0, -62.0), injured_vm=(-55.0, -48.0)))
    mat = row(compare_groups(recs, osc, params=FAST), "sso_frequency_hz_at_matched_vm")
    assert np.isnan(mat.estimate) and np.isnan(mat.ci_low) and np.isnan(mat.p_value)
    assert "refusing to extrapolate" in mat.warning


def test_one_chatty_cell_does_not_dominate_the_fit():
    cells = line_cohort()
    # a control cell with 200 episodes, 10 Hz above the line: weighs as one cell of nine
    cells[4] = dict(cells[4], freq=cells[4]["freq"] + 10.0, n_episodes=200)
    recs, osc = make_tables(cells)
    mat = row(compare_groups(recs, osc, params=FAST), "sso_frequency_hz_at_matched_vm")
    assert abs(mat.estimate - (-15.0)) < 10.0 / 9 * 2  # an episode-weighted fit would move ~10 Hz


def test_fewer_than_two_animals_warns():
    cells = [dict(c, animal="only") if c["group"] == "injured" else c for c in prevalence_cells()]
    recs, osc = make_tables(cells)
    with pytest.warns(UserWarning, match="fewer than 2 animals"):
        out = compare_groups(recs, osc, params=FAST)
    assert out.warning.str.contains("'injured' has 1 animal").all()


def test_same_seed_same_table_other_seed_other_intervals():
    recs, osc = make_tables(line_cohort(n_animals=4), vm_spread_mv=1.0)
    a = compare_groups(recs, osc, params=FAST, seed=3)
    b = compare_groups(recs, osc, params=FAST, seed=3)
    c = compare_groups(recs, osc, params=FAST, seed=4)
    pd.testing.assert_frame_equal(a, b)
    np.testing.assert_allclose(a.estimate, c.estimate, equal_nan=True)
    assert not np.allclose(a.ci_low, c.ci_low, equal_nan=True)


def test_exact_permutation_p_with_two_animals_per_group():
    # 2 vs 2 animals: 6 relabellings, of which the observed split and its mirror are the most extreme
    cells = [dict(group=g, animal=f"{g}{k}", sso=True, vm=-57.0, freq=f + k)
             for g, f in (("control", 60.0), ("injured", 40.0)) for k in range(2) for _ in range(2)]
    recs, osc = make_tables(cells)
    r = row(compare_groups(recs, osc, params=FAST), "sso_frequency_hz")
    assert r.p_value == pytest.approx(2 / 6)
    assert "exact, 6" in r.method


def test_reference_choice_and_antisymmetry():
    recs, osc = make_tables(prevalence_cells())
    a = row(compare_groups(recs, osc, params=FAST), "sso_prevalence")
    b = row(compare_groups(recs, osc, params=FAST, reference="injured"), "sso_prevalence", group="control")
    assert b.estimate == pytest.approx(-a.estimate) and b.reference == "injured"
    renamed = recs.assign(group=recs.group.map({"control": "b_sham", "injured": "a_sni"}))
    assert set(compare_groups(renamed, osc, params=FAST).reference) == {"a_sni"}  # first sorted


def test_three_groups_one_row_each():
    cells = prevalence_cells() + [dict(group="sham", animal=f"s{k // 2}", sso=k < 1, freq=55.0, vm=-57.0)
                                  for k in range(4)]
    recs, osc = make_tables(cells)
    out = compare_groups(recs, osc, params=FAST)
    assert set(out.group) == {"injured", "sham"} and len(out) == 2 * len(METRICS)
    assert row(out, "sso_prevalence", "sham").estimate == pytest.approx(0.25 - 1.0)


def test_cluster_none_treats_cells_as_independent():
    recs, osc = make_tables(prevalence_cells())
    out = compare_groups(recs.drop(columns="animal"), osc, cluster=None, params=FAST)
    assert out.method.str.contains(r"bootstrap \(cells").all() and out.method.str.contains("cell-level").all()
    assert row(out, "sso_prevalence").n_animals == 4


def test_missing_group_column_explains_how_to_fix():
    recs, osc = make_tables(prevalence_cells())
    with pytest.raises(ValueError, match=r"has no column 'group'.*pass --groups groups.csv"):
        compare_groups(recs.drop(columns="group"), osc)
    with pytest.raises(ValueError, match=r"has no column 'animal'"):
        compare_groups(recs.drop(columns="animal"), osc)


@pytest.mark.parametrize("kw, match", [
    (dict(reference="sham"), r"`reference` must be one of the groups"),
    (dict(params=CompareParams(n_boot=400), n_perm=0), r"`n_perm` must be a positive integer"),
])
def test_bad_arguments(kw, match):
    recs, osc = make_tables(prevalence_cells())
    with pytest.raises(ValueError, match=match):
        compare_groups(recs, osc, **kw)


def test_one_group_or_no_ok_rows_refused():
    recs, osc = make_tables(prevalence_cells())
    with pytest.raises(ValueError, match="at least two groups"):
        compare_groups(recs[recs.group == "control"], osc)
    with pytest.raises(ValueError, match="at least one row with status 'ok'"):
        compare_groups(recs.assign(status="error"), osc)
    with pytest.raises(TypeError, match="`recordings` must be a pandas DataFrame"):
        compare_groups(recs.to_dict(), osc)


@pytest.mark.parametrize("kw, match", [
    (dict(n_boot=0), r"`n_boot` must be a positive integer; got 0"),
    (dict(ci_level=1.5), r"`ci_level` must be a number between 0 and 1"),
    (dict(ci_method="bca"), r"`ci_method` must be one of"),
    (dict(slope="free"), r"`slope` must be one of"),
    (dict(cell_stage="double"), r"`cell_stage` must be one of \('adjusted', 'naive'\); got 'double'"),
    (dict(matched_vm_mv=float("nan")), r"`matched_vm_mv` must be a finite potential"),
    (dict(seed=-1), r"`seed` must be a non-negative integer"),
    (dict(min_cells_fit=1), r"`min_cells_fit` must be at least 2"),
])
def test_params_validation(kw, match):
    with pytest.raises(ValueError, match=match):
        CompareParams(**kw)


def test_too_few_cells_for_a_fit_gives_nan_and_says_so():
    cells = line_cohort(n_animals=1, cells_per_animal=2)
    recs, osc = make_tables(cells)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mat = row(compare_groups(recs, osc, params=FAST), "sso_frequency_hz_at_matched_vm")
    assert np.isnan(mat.estimate) and "needs at least 3 cells" in mat.warning


def test_common_slope_model_on_parallel_lines():
    recs, osc = make_tables(line_cohort(), vm_spread_mv=0.5)
    mat = row(compare_groups(recs, osc, params=CompareParams(n_boot=400, n_perm=400, slope="common")),
              "sso_frequency_hz_at_matched_vm")
    assert mat.estimate == pytest.approx(-15.0, abs=FREQ_TOL_HZ)


@settings(max_examples=15, deadline=None)
@given(order_seed=st.integers(0, 2**16), sweep_as_float=st.booleans())
def test_row_order_and_key_types_do_not_change_the_table(order_seed, sweep_as_float):
    recs, osc = make_tables(line_cohort(), vm_spread_mv=0.5)
    base = compare_groups(recs, osc, params=FAST)
    perm = np.random.default_rng(order_seed).permutation(len(recs))
    shuffled = recs.iloc[perm].reset_index(drop=True)
    if sweep_as_float:
        osc = osc.assign(sweep=osc.sweep.astype(float))
    pd.testing.assert_frame_equal(compare_groups(shuffled, osc, params=FAST), base)


def test_episodes_of_refused_sweeps_are_ignored():
    recs, osc = make_tables(line_cohort(), vm_spread_mv=0.5)
    bad = osc.iloc[[0]].assign(file=recs.file.iloc[0], sweep=1, frequency_hz=500.0)
    recs2 = pd.concat([recs, recs.iloc[[0]].assign(sweep=1, status="error")], ignore_index=True)
    a = row(compare_groups(recs, osc, params=FAST), "sso_frequency_hz_at_matched_vm")
    b = row(compare_groups(recs2, pd.concat([osc, bad]), params=FAST), "sso_frequency_hz_at_matched_vm")
    assert b.estimate == pytest.approx(a.estimate)


def test_method_names_the_second_stage_and_intervals_stay_in_range():
    recs, osc = make_tables(prevalence_cells())
    out = compare_groups(recs, osc, params=FAST).set_index("metric")
    means = out.drop(index="sso_frequency_hz_at_matched_vm")
    assert means.method.str.contains(r"bootstrap \(adjusted animals→cells, 400\) percentile 95% CI").all()
    # the matched line is fitted to cells' regression sums as drawn (no adjusted second stage)
    assert "bootstrap (animals→cells, 400)" in out.loc["sso_frequency_hz_at_matched_vm", "method"]
    # prevalence: control is all 1, injured 0/1 cells → each group's replicate means stay in 0–1
    r = out.loc["sso_prevalence"]
    assert -1.0 <= r.ci_low <= r.estimate <= r.ci_high <= 0.0
    naive = compare_groups(recs, osc, params=dataclasses.replace(FAST, cell_stage="naive"))
    assert naive.method.str.contains(r"bootstrap \(animals→cells, 400\)").all()
