"""compare_results_dir: reads an analyze folder, writes comparison.csv atomically, clear errors."""

from __future__ import annotations

import pandas as pd
import pytest

from drgephys.errors import RecordingError
from drgephys.stats import COMPARISON_COLUMNS, compare_results_dir

from .tables import line_cohort, make_tables

ATOL = 1e-9


@pytest.fixture()
def results_dir(tmp_path):
    recs, osc = make_tables(line_cohort(), vm_spread_mv=0.5)
    recs.to_csv(tmp_path / "recordings.csv", index=False)
    osc.to_csv(tmp_path / "oscillations.csv", index=False)
    return tmp_path


def test_writes_comparison_csv_and_leaves_no_temporary_file(results_dir):
    table = compare_results_dir(results_dir, n_boot=300, n_perm=300)
    target = results_dir / "comparison.csv"
    assert target.is_file()
    back = pd.read_csv(target)
    assert list(back.columns) == COMPARISON_COLUMNS
    pd.testing.assert_series_equal(back.estimate, table.estimate, check_exact=False, atol=ATOL)
    assert not [p for p in results_dir.iterdir() if p.name.startswith(".comparison-")]
    mat = back[back.metric == "sso_frequency_hz_at_matched_vm"].iloc[0]
    assert mat.estimate == pytest.approx(-15.0, abs=1e-6)


def test_out_path_and_reference(results_dir, tmp_path):
    out = tmp_path / "sub" / "cmp.csv"
    table = compare_results_dir(results_dir, reference="injured", out=out, n_boot=300, n_perm=300)
    assert out.is_file() and set(table.reference) == {"injured"}
    assert not (results_dir / "comparison.csv").exists()


def test_missing_folder_or_tables(tmp_path):
    with pytest.raises(RecordingError, match="must be an existing folder"):
        compare_results_dir(tmp_path / "nope")
    with pytest.raises(RecordingError, match=r"must hold recordings.csv .*Run `drgephys analyze"):
        compare_results_dir(tmp_path)


def test_missing_group_column_points_to_groups_csv(results_dir):
    recs = pd.read_csv(results_dir / "recordings.csv").drop(columns=["group"])
    recs.to_csv(results_dir / "recordings.csv", index=False)
    with pytest.raises(ValueError, match=r"no column 'group'; pass --groups groups.csv"):
        compare_results_dir(results_dir)
    assert not (results_dir / "comparison.csv").exists()


def test_cli_compare_round_trip(results_dir):
    cli = pytest.importorskip("drgephys.cli")
    code = cli.main(["compare", str(results_dir), "--by", "group", "--quiet"])
    assert code == 0 and (results_dir / "comparison.csv").is_file()
