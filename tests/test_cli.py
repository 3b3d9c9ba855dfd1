"""The `drgephys` command: exit codes, outputs, usage errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from drgephys.cli import main

from .batch.conftest import sim_folder  # noqa: F401  (fixture)


def test_analyze_writes_tables_and_exits_1_when_some_files_refused(sim_folder, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "res"
    code = main(["analyze", str(sim_folder), "--out", str(out), "--groups", str(sim_folder / "groups.csv")])
    assert code == 1  # broken.abf and notes.txt are refused
    rec = pd.read_csv(out / "recordings.csv")
    assert {"group", "animal"} <= set(rec.columns)
    params = json.loads((out / "params.json").read_text())
    assert {"drgephys", "neo", "numpy", "scipy"} <= set(params["versions"])
    assert "spikes" in params["params"] and "oscillations" in params["params"]
    assert "refused: broken.abf" in capsys.readouterr().err


def test_analyze_exits_0_when_every_file_is_analysed(sim_folder, tmp_path):  # noqa: F811
    code = main(["analyze", str(sim_folder / "ctrl_a.abf"), "--out", str(tmp_path / "r"), "--quiet"])
    assert code == 0


@pytest.mark.parametrize("argv,msg", [
    (["analyze", "nowhere", "--out", "x"], "does not exist"),
    (["analyze", ".", "--out", "x", "--jobs", "0"], "--jobs must be a positive"),
    (["analyze", ".", "--out", "x", "--groups", "missing.csv"], "--groups"),
    (["analyze", ".", "--out", "x", "--config", "missing.toml"], "--config"),
    (["analyze", ".", "--out", "x", "--units", "foo"], "--units: `units` must be a unit name"),
])
def test_usage_errors_exit_2(argv, msg, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        code = main(argv)
        raise SystemExit(code)
    assert info.value.code == 2
    assert msg in capsys.readouterr().err


def test_bad_config_section_is_a_usage_error(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[nonsense]\nx = 1\n")
    assert main(["analyze", str(tmp_path), "--out", str(tmp_path / "o"), "--config", str(cfg)]) == 2
    assert "unknown parameter section" in capsys.readouterr().err


def test_missing_subcommand_is_usage_error():
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2


def test_simulate_writes_a_cohort_that_analyze_reads(tmp_path):
    out = tmp_path / "cohort"
    assert main(["simulate", "--out", str(out), "--animals", "1", "--cells", "1", "--duration", "3"]) == 0
    assert len(list(out.glob("*.abf"))) == 2 and (out / "groups.csv").is_file()
    assert main(["analyze", str(out), "--out", str(tmp_path / "r"), "--groups", str(out / "groups.csv"),
                 "--quiet"]) == 0
    assert main(["simulate", "--out", str(tmp_path / "x"), "--animals", "0"]) == 2


def test_compare_writes_comparison_csv(sim_folder, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "res"
    main(["analyze", str(sim_folder), "--out", str(out), "--groups", str(sim_folder / "groups.csv"), "--quiet"])
    assert main(["compare", str(out), "--by", "group", "--reference", "control"]) == 0
    table = pd.read_csv(out / "comparison.csv")
    assert {"metric", "group", "reference", "n_cells", "n_animals", "estimate", "ci_low", "ci_high", "p_value",
            "method"} <= set(table.columns)
    assert set(table["reference"]) == {"control"} and "sso_prevalence" in set(table["metric"])
    assert main(["compare", str(out), "--by", "genotype"]) == 2
    assert "genotype" in capsys.readouterr().err
