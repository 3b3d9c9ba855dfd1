"""The `drgephys` command: exit codes, outputs, usage errors."""

from __future__ import annotations

import json
import sys

import pandas as pd
import pytest

from drgephys import cli
from drgephys.cli import main

from .batch.conftest import sim_folder  # noqa: F401  (fixture)


def test_analyze_writes_tables_and_exits_1_when_some_files_refused(sim_folder, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "res"
    code = main(["analyze", str(sim_folder), "--out", str(out), "--groups", str(sim_folder / "groups.csv")])
    assert code == 1  # broken.abf is refused (notes.txt, groups.csv and the truth files are skipped)
    rec = pd.read_csv(out / "recordings.csv")
    assert {"group", "animal"} <= set(rec.columns)
    params = json.loads((out / "params.json").read_text())
    assert {"drgephys", "neo", "numpy", "scipy"} <= set(params["versions"])
    assert "spikes" in params["params"] and "oscillations" in params["params"]
    captured = capsys.readouterr()
    assert captured.out == (f"drgephys: 5 files, 4 sweeps analysed, 1 refused/failed; 0 SSO episodes, "
                            f"{len(pd.read_csv(out / 'spikes.csv'))} spikes → {out}\n")
    assert captured.err.splitlines() == [
        "  refused: broken.abf: unreadable or corrupt file (error: unpack requires a buffer of 16 bytes)",
        "  skipped: 6 files that are not recordings: ctrl_a.abf.truth.json, ctrl_b.abf.truth.json, groups.csv, "
        f"notes.txt, sub/inj_a.abf.truth.json, ... (reasons in {out / 'analysis.log'})"]


def test_analyze_exits_0_when_every_file_is_analysed(sim_folder, tmp_path):  # noqa: F811
    code = main(["analyze", str(sim_folder / "ctrl_a.abf"), "--out", str(tmp_path / "r"), "--quiet"])
    assert code == 0


@pytest.mark.parametrize("argv,msg", [
    (["analyze", "nowhere", "--out", "x"], "`nowhere` does not exist; pass recording files or folders"),
    (["analyze", ".", "--out", "x", "--jobs", "0"], "--jobs must be a positive number of processes; got 0"),
    (["analyze", ".", "--out", "x", "--groups", "missing.csv"],
     "--groups `missing.csv` does not exist; pass a CSV with a `file` column"),
    (["analyze", ".", "--out", "x", "--config", "missing.toml"],
     "--config `missing.toml` does not exist; pass a TOML file"),
    (["analyze", ".", "--out", "x", "--units", "foo"],
     "--units must be a unit name quantities understands, e.g. 'mV', 'V' or 'pA'; got 'foo'"),
    (["analyze", ".", "--out", "x", "--chunk-s", "0"], "--chunk-s must be a positive number of seconds; got 0"),
])
def test_usage_errors_exit_2(argv, msg, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        code = main(argv)
        raise SystemExit(code)
    assert info.value.code == 2
    assert capsys.readouterr().err == f"drgephys: error: {msg}\n"


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


def test_console_script_exits_with_the_code_of_main(monkeypatch, capsys):
    """The ``drgephys`` script: `main`'s exit code, with the finished command's objects frozen out of the
    shutdown's last garbage collection."""
    import gc

    monkeypatch.setattr(sys, "argv", ["drgephys", "analyze", "/no/such/folder", "--out", "x"])
    try:
        with pytest.raises(SystemExit) as exit_:
            cli.console()
        assert exit_.value.code == 2
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert "does not exist" in capsys.readouterr().err
