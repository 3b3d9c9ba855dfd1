"""Cohorts: group effects visible in the true-parameter table; simulate_cohort writes a complete folder."""

import json

import numpy as np
import pandas as pd
import pytest

from drgephys.sim import CohortSpec, GroupEffects, simulate_cohort, simulate_cohort_table
from drgephys.sim.cohort import CONTROL, INJURED

BINOMIAL_Z = 4.0  # prevalence within 4 binomial SDs (false-failure rate < 1e-4)


def test_prevalence_within_binomial_tolerance():
    spec = CohortSpec(animals_per_group=100, cells_per_animal=20, animal_sd_logit_prevalence=0.0)
    df = simulate_cohort_table(spec, seed=1)
    for g in (CONTROL, INJURED):
        x = df.loc[df.group == g.name, "sso_cell"]
        sd = np.sqrt(g.sso_prevalence * (1 - g.sso_prevalence) / x.size)
        assert abs(x.mean() - g.sso_prevalence) < BINOMIAL_Z * sd


def test_group_effects_in_the_table():
    df = simulate_cohort_table(CohortSpec(animals_per_group=60, cells_per_animal=10), seed=2)
    g = df.groupby("group")
    assert g.resting_vm_mv.mean()["injured"] - g.resting_vm_mv.mean()["control"] == pytest.approx(5, abs=1.0)
    # axotomy lowers SSO frequency at the reference potential (Liu et al. 2000)
    f = g.sso_frequency_at_ref_hz.mean()
    assert f["control"] - f["injured"] == pytest.approx(15, abs=3)
    silent = df.assign(s=df.pattern == "silent").groupby("group").s.mean()
    assert silent["control"] > silent["injured"]
    assert set(df.fs_hz) == {10_000.0, 20_000.0, 50_000.0}
    assert df.hum_hz.notna().mean() == pytest.approx(0.3, abs=0.05)
    assert set(df.hum_hz.dropna()) == {50, 60}
    assert df.loc[~df.sso_cell, "sso_frequency_hz"].isna().all()
    assert df.loc[df.pattern == "silent", "rate_hz"].isna().all()


def test_animal_random_effects_correlate_cells():
    spec = CohortSpec(groups=(GroupEffects("a", resting_vm_sd_mv=1.0),), animals_per_group=200,
                      cells_per_animal=5, animal_sd_resting_vm_mv=3.0)
    df = simulate_cohort_table(spec, seed=3)
    animal_means = df.groupby("animal").resting_vm_mv.mean()
    # SD of animal means ≈ sqrt(3² + 1²/5) = 3.03 (cells alone would give 0.45)
    assert animal_means.std() == pytest.approx(np.sqrt(9 + 1 / 5), rel=0.15)


def test_table_reproducible_and_unique_files():
    a = simulate_cohort_table(seed=4)
    pd.testing.assert_frame_equal(a, simulate_cohort_table(seed=4))
    assert not a.equals(simulate_cohort_table(seed=5))
    assert a.file.is_unique and len(a) == 2 * 4 * 5
    assert a.file.str.endswith(".abf").all()


@pytest.mark.parametrize("fmt", ["abf", "nwb"])
def test_simulate_cohort_writes_folder(tmp_path, fmt):
    spec = CohortSpec(animals_per_group=1, cells_per_animal=2, duration_s=1.0, fs_choices_hz=(10_000.0,),
                      groups=(CONTROL, GroupEffects("injured", sso_prevalence=1.0)))
    df = simulate_cohort(spec, seed=6, out_dir=tmp_path, format=fmt)
    assert len(df) == 4 and {"n_episodes", "n_spikes", "truth_sso_frequency_hz"} <= set(df.columns)
    groups = pd.read_csv(tmp_path / "groups.csv")
    assert list(groups.columns) == ["file", "group", "animal", "cell"] and len(groups) == 4
    for f in groups.file:
        assert (tmp_path / f).is_file() and f.endswith("." + fmt)
        truth = json.loads((tmp_path / (f + ".truth.json")).read_text())
        assert truth["file"] == f and truth["fs_hz"] == 10_000.0
    cohort = json.loads((tmp_path / "cohort.json").read_text())
    assert cohort["seed"] == 6 and cohort["spec"]["animals_per_group"] == 1
    assert df.loc[df.group == "injured", "sso_cell"].all()
    assert not list(tmp_path.glob(".*tmp")) and not list(tmp_path.glob(".*." + fmt))


def test_cohort_table_matches_traces():
    spec = CohortSpec(animals_per_group=1, cells_per_animal=3, duration_s=4.0, fs_choices_hz=(10_000.0,),
                      groups=(GroupEffects("x", sso_prevalence=1.0),), animal_sd_sso_frequency_hz=0.0)
    df = simulate_cohort(spec, seed=7)
    pd.testing.assert_frame_equal(df[simulate_cohort_table(spec, seed=7).columns], simulate_cohort_table(spec, 7))
    ok = df.n_episodes > 0
    assert ok.all()
    # episodes sit near the expected potential, so their frequency is near the table's expectation
    np.testing.assert_allclose(df.truth_sso_frequency_hz, df.sso_frequency_hz, atol=6.0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(animals_per_group=0), "`animals_per_group` must be a positive integer"),
    (dict(hum_share=2), "`hum_share` must be a share"),
    (dict(groups=(CONTROL, CONTROL)), "distinct names"),
    (dict(trace={"colour": 1}), "`trace` keys must be TraceSpec fields"),
])
def test_cohort_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CohortSpec(**kwargs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(sso_prevalence=1.5), "`sso_prevalence` must be a share"),
    (dict(pattern_probabilities=(("tonic", 0.5),)), "`pattern_probabilities` must be"),
    (dict(sso_frequency_at_ref_hz=5), "`sso_frequency_at_ref_hz` must be between"),
])
def test_group_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GroupEffects("g", **kwargs)


def test_format_validation():
    with pytest.raises(ValueError, match="`format` must be 'abf' or 'nwb'"):
        simulate_cohort(seed=0, format="mat")
    with pytest.raises(TypeError, match="`groups` must be a non-empty tuple of GroupEffects"):
        CohortSpec(groups=("control",))
