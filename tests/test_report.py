"""The HTML report: self-contained, parsed back, QC figures present."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from drgephys.cli import main

from .batch.conftest import sim_folder  # noqa: F401  (fixture)


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs, self.tables, self.headings, self._h = [], 0, [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a)
        elif tag == "table":
            self.tables += 1
        elif tag in ("h1", "h2", "h3"):
            self._h = tag

    def handle_data(self, data):
        if self._h:
            self.headings.append(data.strip())
            self._h = None


def test_report_is_self_contained_with_qc_figures(sim_folder, tmp_path):  # noqa: F811
    out = tmp_path / "res"
    main(["analyze", str(sim_folder), "--out", str(out), "--groups", str(sim_folder / "groups.csv"), "--quiet"])
    assert main(["report", str(out), "--out", str(tmp_path / "r.html"), "--max-recordings", "2"]) == 0
    p = _Collect()
    p.feed((tmp_path / "r.html").read_text())
    assert {"Summary", "Recordings", "Refused or failed", "Quality control"} <= set(p.headings)
    qc = [i for i in p.imgs if i.get("alt", "").startswith("QC ")]
    assert len(qc) == 2
    assert all(i["src"].startswith("data:image/png;base64,") for i in p.imgs)
    assert p.tables >= 2


def test_report_on_a_folder_without_tables_is_a_usage_error(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "no recordings.csv" in capsys.readouterr().err
