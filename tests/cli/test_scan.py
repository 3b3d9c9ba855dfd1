"""Folder scans: files that are not recordings are skipped and listed, never refused; empty scans and a
file given as --out are one-line messages."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from drgephys.batch import scan
from drgephys.cli import main
from drgephys.io.scan import skip_reason

from ..batch.conftest import sim_folder  # noqa: F401  (fixture)


def _trace_rows(n=300, header=""):
    t = np.arange(n) / 10000.0
    v = -60 + np.sin(np.arange(n) / 7.0)
    return header + "\n".join(f"{a:.6f},{b:.4f}" for a, b in zip(t, v)) + "\n"


@pytest.fixture
def lab_folder(sim_folder, tmp_path):  # noqa: F811
    """One good recording beside what a lab keeps next to its recordings."""
    d = tmp_path / "lab"
    d.mkdir()
    shutil.copy(sim_folder / "ctrl_a.abf", d / "ctrl_a.abf")
    (d / "README.md").write_text("# cells of 3 May\n")
    (d / "groups.csv").write_text("file,group,animal\nctrl_a.abf,control,A1\n")
    (d / "expected.csv").write_text("cell,frequency_hz,amplitude_mv\n"
                                    + "".join(f"{i % 7},{20 + i % 5},{1 + i % 3}\n" for i in range(300)))
    (d / "short.csv").write_text("sweep,rate_hz\n0,2.5\n1,3.0\n")
    (d / "notes.txt").write_text("cell 3 lost after 2 min\n")
    (d / "params.json").write_text("{}")
    (d / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (d / ".drgephys-cache").mkdir()
    (d / ".drgephys-cache" / "x.json").write_text("{}")
    return d


def test_skip_reasons_are_exact(lab_folder, tmp_path):
    assert skip_reason(lab_folder / "README.md") == ("not_a_recording_format", "not a recording format (.md)")
    assert skip_reason(lab_folder / "groups.csv") == (
        "not_a_trace", "no rows of numbers in its first lines (a note or a table, not a trace)")
    assert skip_reason(lab_folder / "expected.csv") == (
        "not_a_trace", "a table with a header ('cell', 'frequency_hz', 'amplitude_mv') whose first column is not a "
                       "time base")
    assert skip_reason(lab_folder / "short.csv") == (
        "not_a_trace", "only 2 rows of numbers (a table; a trace has at least 100)")
    (tmp_path / "trace.csv").write_text(_trace_rows(header="time_s,vm_mv\n"))
    (tmp_path / "bare.txt").write_text(_trace_rows().replace(",", " "))
    (tmp_path / "binary.dat").write_bytes(b"\0\1\2" * 100)
    for name in ("trace.csv", "bare.txt", "binary.dat", "cell.abf"):
        assert skip_reason(tmp_path / name) == ("", ""), name


def test_skipped_files_are_listed_not_refused_and_keep_exit_0(lab_folder, tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["analyze", str(lab_folder), "--out", str(out)]) == 0
    rec = pd.read_csv(out / "recordings.csv")
    assert rec["file"].tolist() == ["ctrl_a.abf"] and rec["status"].tolist() == ["ok"]
    log = (out / "analysis.log").read_text().splitlines()
    assert log[0].startswith("ok: ctrl_a.abf: 1 sweeps, ")
    assert log[1:] == [
        "skipped: README.md: not a recording format (.md)",
        "skipped: expected.csv: a table with a header ('cell', 'frequency_hz', 'amplitude_mv') whose first column "
        "is not a time base",
        "skipped: groups.csv: no rows of numbers in its first lines (a note or a table, not a trace)",
        "skipped: notes.txt: no rows of numbers in its first lines (a note or a table, not a trace)",
        "skipped: params.json: not a recording format (.json)",
        "skipped: short.csv: only 2 rows of numbers (a table; a trace has at least 100)",
    ]
    assert capsys.readouterr().err == ("  skipped: 6 files that are not recordings: README.md, expected.csv, "
                                       f"groups.csv, notes.txt, params.json, ... (reasons in {out / 'analysis.log'})\n")


def test_a_file_named_explicitly_is_never_skipped(lab_folder, tmp_path, capsys):
    jobs, skipped = scan([lab_folder / "expected.csv"])
    assert [j.label for j in jobs] == [str(lab_folder / "expected.csv")] and skipped == []
    assert main(["analyze", str(lab_folder / "notes.txt"), "--out", str(tmp_path / "r")]) == 1
    assert capsys.readouterr().err == ("  refused: " + str(lab_folder / "notes.txt") + ": not a numeric text trace "
                                       "(no rows of numbers found in the first lines)\n")


def test_empty_folder_says_no_recordings_found(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["analyze", str(empty), "--out", str(tmp_path / "r")]) == 1
    assert capsys.readouterr().err == f"drgephys: no recordings found in {empty}\n"
    assert not (tmp_path / "r").exists()
    (empty / "README.md").write_text("nothing yet\n")
    assert main(["analyze", str(empty), "--out", str(tmp_path / "r"), "--quiet"]) == 1
    assert capsys.readouterr().err == (f"drgephys: no recordings found in {empty}\n"
                                       "  skipped: README.md: not a recording format (.md)\n")


def test_out_that_is_a_file_is_a_one_line_usage_error(sim_folder, tmp_path, capsys):  # noqa: F811
    f = tmp_path / "results"
    f.write_text("not a folder")
    is_a_file = f"drgephys: error: --out `{f}` is a file; pass a folder (it is created when missing)\n"
    assert main(["analyze", str(sim_folder / "ctrl_a.abf"), "--out", str(f)]) == 2
    assert capsys.readouterr().err == is_a_file
    assert main(["simulate", "--out", str(f), "--animals", "1", "--cells", "1", "--duration", "1"]) == 2
    assert capsys.readouterr().err == is_a_file
    assert main(["analyze", str(sim_folder / "ctrl_a.abf"), "--out", str(f / "sub")]) == 2
    assert capsys.readouterr().err == f"drgephys: error: cannot write to --out `{f / 'sub'}`: Not a directory\n"
    assert main(["report", str(tmp_path), "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (f"drgephys: error: --out `{tmp_path}` is a folder; pass the path of the file "
                                       "to write\n")
