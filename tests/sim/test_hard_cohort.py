"""The hard cohort: its composition, its ranges, reproducibility and the written folder."""

import json

import numpy as np
import pandas as pd
import pytest

from drgephys.sim import HardCohortSpec, TraceSpec, hard_cohort_table, simulate_hard_cohort
from drgephys.sim.hard_cohort import CASES, SSO_CASES

SMALL = HardCohortSpec(cases=tuple((c, 1) for c in CASES), duration_s=3.0)


@pytest.fixture(scope="module")
def table():
    return hard_cohort_table(seed=2024)


def test_composition_follows_the_spec(table):
    counts = table.groupby("case").size()
    assert counts.to_dict() == {c: n for c, n in HardCohortSpec().cases}
    assert table.file.is_unique and (table.group == table.case).all()
    assert set(table.fs_hz) == {10_000.0, 20_000.0, 50_000.0}
    assert table.sso_cell.to_numpy().tolist() == table.case.isin(SSO_CASES).tolist()
    assert all(isinstance(s, TraceSpec) for s in table.trace_spec)


def test_ranges_of_the_hard_cases(table):
    sso = table[table.sso_cell]
    assert sso.sso_amplitude_mv.between(0.5, 5.0).all() and sso.sso_amplitude_mv.min() < 1.0
    assert sso.sso_frequency_hz.between(25.0, 110.0).all()
    tonic = table[table.case == "sso_tonic"]
    assert tonic.rate_hz.between(5.0, 30.0).all() and (tonic.rate_hz >= 20.0).sum() >= 2
    firing = table[table.case.isin(["sso_tonic", "sso_bursting", "tonic_no_sso", "bursting_no_sso"])]
    assert firing.ahp_mv.between(3.0, 15.0).all() and firing.ahp_tau_ms.between(10.0, 80.0).all()
    summed = firing.ahp_mv * firing.ahp_tau_ms * 1e-3 * firing.rate_hz
    assert (summed <= HardCohortSpec().max_summed_ahp_mv + 1e-9).all()
    broad = table[table.case == "broad_ap"]
    assert broad.spike_half_width_ms.between(3.0, 15.0).all()
    assert all(s.spike_shoulder_fraction >= 0.6 for s in broad.trace_spec)
    assert table.loc[table.case == "hum_only", "hum_hz"].notna().all()
    assert table.loc[table.case == "noise_only", "hum_hz"].isna().all()
    assert all(s.dying_vm_mv is not None for s in table.loc[table.case == "dying", "trace_spec"])
    off = [s.resting_vm_mv + s.offset_mv for s in table.loc[table.case == "offset", "trace_spec"]]
    assert np.all(np.abs(off) <= 5.0)
    # tonic SSO cells need 1-4 cycles per spike wherever the SSO band allows it
    ok = tonic.rate_hz * 1 <= tonic.sso_frequency_hz + 1e-9
    assert ok.all() and ((tonic.sso_frequency_hz <= tonic.rate_hz * 4 + 1e-9) | (tonic.sso_frequency_hz == 25.0)).all()


def test_table_reproducible(table):
    pd.testing.assert_frame_equal(table.drop(columns="trace_spec"), hard_cohort_table(seed=2024).drop(columns="trace_spec"))
    assert not table.cell_seed.equals(hard_cohort_table(seed=2025).cell_seed)


def test_simulate_hard_cohort_writes_truth_with_case(tmp_path):
    df = simulate_hard_cohort(SMALL, seed=3, out_dir=tmp_path)
    assert len(df) == len(CASES) and "trace_spec" not in df.columns
    for _, row in df.iterrows():
        truth = json.loads((tmp_path / (row.file + ".truth.json")).read_text())
        assert truth["case"] == row.case and truth["file"] == row.file
        assert truth["sso_cell"] == (row.n_episodes > 0)
        if row.case in ("noise_only", "hum_only", "sso_silent"):
            assert truth["spikes"] == []
    assert json.loads((tmp_path / "cohort.json").read_text())["spec"]["duration_s"] == 3.0


def test_hard_cohort_traces_reproducible():
    a = simulate_hard_cohort(SMALL, seed=4)
    pd.testing.assert_frame_equal(a, simulate_hard_cohort(SMALL, seed=4))


@pytest.mark.parametrize("kwargs, match", [
    (dict(cases=(("zombie", 2),)), "`cases` must be distinct"),
    (dict(cases=(("hum_only", 1), ("hum_only", 2))), "`cases` must be distinct"),
    (dict(cases=(("hum_only", 0),)), "at least one cell"),
    (dict(sso_amplitude_mv=(2.0, 1.0)), "`sso_amplitude_mv` must be"),
    (dict(cycles_per_spike=(0, 4)), "`cycles_per_spike` must be"),
    (dict(broad_half_width_ms=(1.0, 4.0)), "`broad_half_width_ms` must be"),
    (dict(max_summed_ahp_mv=0), "`max_summed_ahp_mv` must be a positive number in mV"),
    (dict(hum_share=1.5), "`hum_share` must be a share"),
    (dict(trace={"colour": 1}), "`trace` keys must be TraceSpec fields"),
])
def test_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HardCohortSpec(**kwargs)


def test_format_validation():
    with pytest.raises(ValueError, match="`format` must be 'abf' or 'nwb'"):
        simulate_hard_cohort(SMALL, seed=0, format="mat")
    with pytest.raises(ValueError, match="`file_format` must be 'abf' or 'nwb'"):
        hard_cohort_table(SMALL, seed=0, file_format="mat")
