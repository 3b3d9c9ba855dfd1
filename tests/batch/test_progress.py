"""The progress bar: shown (tqdm) when asked, absent otherwise; never changes the tables."""

from __future__ import annotations

from pathlib import Path

from drgephys.batch import analyze_paths

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def test_progress_bar_counts_the_files_when_asked(capsys):
    files = [SAMPLE / "injured_tonic.abf", SAMPLE / "control_silent_hum50.abf"]
    shown = analyze_paths(files, progress=True)
    err = capsys.readouterr().err
    assert "2/2" in err and "file" in err
    quiet = analyze_paths(files, progress=False)
    assert capsys.readouterr().err == ""
    assert shown.recordings.equals(quiet.recordings)
