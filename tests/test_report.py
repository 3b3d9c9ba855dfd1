"""The HTML report: self-contained, QC figures for the sweeps that matter first, a sortable table linking to
them, titles by file name; rendered in headless Chromium without console messages."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from drgephys.cli import main
from drgephys.report import build_report, select_qc_sweeps

from .batch.conftest import sim_folder  # noqa: F401  (fixture)
from .conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
#: Where the browser test keeps its screenshot (CI can archive the folder).
ARTIFACTS = Path(os.environ.get("DRGEPHYS_ARTIFACTS", REPO / "test-artifacts"))


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs, self.tables, self.headings, self._h = [], 0, [], None
        self.links, self.ids, self.scripts_src, self.hrefs = [], set(), [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "img":
            self.imgs.append(a)
        elif tag == "table":
            self.tables += 1
        elif tag in ("h1", "h2", "h3"):
            self._h = tag
        elif tag == "a":
            self.links.append(a.get("href", ""))
        elif tag == "script" and "src" in a:
            self.scripts_src.append(a["src"])
        for k in ("href", "src"):
            if k in a:
                self.hrefs.append(a[k])

    def handle_data(self, data):
        if self._h:
            self.headings.append((self._h, data.strip()))
            self._h = None


def _parse(path) -> _Collect:
    p = _Collect()
    p.feed(Path(path).read_text())
    return p


def test_report_is_self_contained_with_qc_figures(sim_folder, tmp_path):  # noqa: F811
    out = tmp_path / "res"
    main(["analyze", str(sim_folder), "--out", str(out), "--groups", str(sim_folder / "groups.csv"), "--quiet"])
    assert main(["report", str(out), "--out", str(tmp_path / "r.html"), "--max-recordings", "2"]) == 0
    p = _parse(tmp_path / "r.html")
    assert {"Summary", "Recordings", "Refused or failed", "Quality control"} <= {h for _, h in p.headings}
    qc = [i for i in p.imgs if i.get("alt", "").startswith("QC ")]
    assert len(qc) == 2
    assert all(i["src"].startswith("data:image/png;base64,") for i in p.imgs)
    assert not p.scripts_src and all(h.startswith(("#", "data:")) for h in p.hrefs)   # nothing external
    assert p.tables >= 2


def test_report_on_a_folder_without_tables_is_a_usage_error(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "must hold recordings.csv" in capsys.readouterr().err


def test_select_qc_sweeps_puts_sso_then_flagged_then_a_sample():
    recs = pd.DataFrame({
        "file": [f"f{i:02d}.abf" for i in range(10)], "sweep": 0,
        "status": ["ok"] * 9 + ["refused"],
        "sso_detected": [False, False, True, False, "True", False, False, False, False, True],
        "sso_time_fraction": [0, 0, 0.1, 0, 0.5, 0, 0, 0, 0, 0.9],
        "qc_flags": [None, "", None, "drift", None, None, "hum; saturation", None, None, None]})
    chosen = select_qc_sweeps(recs, 6, seed=1)
    assert chosen["file"].tolist()[:4] == ["f04.abf", "f02.abf", "f03.abf", "f06.abf"]   # refused f09 skipped
    assert chosen["reason"].tolist() == ["SSO", "SSO", "QC flags", "QC flags", "sample", "sample"]
    assert set(chosen["file"][4:]) <= {"f00.abf", "f01.abf", "f05.abf", "f07.abf", "f08.abf"}
    assert chosen["file"].tolist() == select_qc_sweeps(recs, 6, seed=1)["file"].tolist()   # reproducible
    assert select_qc_sweeps(recs, 1)["file"].tolist() == ["f04.abf"]
    no_flags = select_qc_sweeps(recs.drop(columns="qc_flags"), 3)
    assert no_flags["reason"].tolist() == ["SSO", "SSO", "sample"]
    with pytest.raises(ValueError, match="`max_figures` must be a non-negative int"):
        select_qc_sweeps(recs, -1)


@pytest.fixture(scope="module")
def sso_results(tmp_path_factory):
    """Analysed folder whose SSO cells sort last alphabetically, analysed by absolute file paths, with a
    `qc_flags` column added to one sweep."""
    from drgephys.sim import simulate_trace, write_abf

    d = tmp_path_factory.mktemp("report_data")
    specs = {"a_silent.abf": dict(pattern="silent"), "b_tonic.abf": dict(pattern="tonic", rate_hz=4.0),
             "c_silent.abf": dict(pattern="silent"), "d_irregular.abf": dict(pattern="irregular", rate_hz=2.0),
             "x_sso.abf": dict(sso=True, sso_time_fraction=0.5, pattern="silent"),
             "y_sso.abf": dict(sso=True, sso_time_fraction=0.3, pattern="bursting")}
    for i, (name, kw) in enumerate(specs.items()):
        sim = simulate_trace(duration_s=4.0, fs_hz=10000.0, seed=300 + i, **kw)
        write_abf(d / name, sim.v, sim.fs, truth=sim.truth)
    out = d / "results"
    assert main(["analyze", *[str(d / n) for n in specs], "--out", str(out), "--quiet"]) == 0
    recs = pd.read_csv(out / "recordings.csv")
    assert recs["file"].str.startswith(str(d)).all()                       # labels are absolute paths
    assert recs.set_index(recs["file"].map(lambda f: Path(f).name))["sso_detected"].astype(str).to_dict() == {
        "a_silent.abf": "False", "b_tonic.abf": "False", "c_silent.abf": "False", "d_irregular.abf": "False",
        "x_sso.abf": "True", "y_sso.abf": "True"}
    recs["qc_flags"] = np.where(recs["file"].str.endswith("c_silent.abf"), "drift", "")
    recs.to_csv(out / "recordings.csv", index=False)
    return d, out


def test_report_shows_sso_cells_first_titled_by_file_name(sso_results, tmp_path):
    data, out = sso_results
    page = build_report(out, tmp_path / "report.html", max_recordings=4)
    p = _parse(page)
    titles = [h for level, h in p.headings if level == "h3"]
    recs = pd.read_csv(out / "recordings.csv")
    frac = dict(zip(recs["file"].map(lambda f: Path(f).name), recs["sso_time_fraction"]))
    sso_first = sorted(["x_sso.abf", "y_sso.abf"], key=lambda n: -frac[n])   # larger SSO time fraction first
    assert titles[:3] == [f"{sso_first[0]} — sweep 0", f"{sso_first[1]} — sweep 0", "c_silent.abf — sweep 0"]
    assert len(titles) == 4 and titles[3].split(" — ")[0] in {"a_silent.abf", "b_tonic.abf", "d_irregular.abf"}
    qc_alts = [i["alt"] for i in p.imgs if i.get("alt", "").startswith("QC ")]
    assert qc_alts == [f"QC {t}" for t in titles]
    assert all(str(data) not in t for t in titles + qc_alts)
    # the table links each drawn sweep to its figure, and every link has a target
    figure_links = [h for h in p.links if h.startswith("#qc-")]
    assert len(figure_links) == 4 and all(h[1:] in p.ids for h in figure_links)
    text = page.read_text()
    assert 'class="sortable recordings"' in text and "<th>qc_flags</th>" in text
    assert "2 with SSOs, 1 with QC flags, 1 drawn at random" in text


def _chromium(*args, cwd) -> subprocess.CompletedProcess:
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
           f"--user-data-dir={cwd / 'chromium-profile'}", "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=cwd)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless browser test needs Debian's chromium at "
                                                   "/usr/bin/chromium (apt-get install -y chromium)")
def test_report_renders_in_headless_chromium_without_console_messages(sso_results, tmp_path):
    _, out = sso_results
    page = build_report(out, tmp_path / "report.html", max_recordings=4)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report-screenshot.png"
    shot.unlink(missing_ok=True)
    run = _chromium(f"--screenshot={shot}", "--window-size=1280,2400", page.as_uri(), cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console                                   # no errors, nor anything else
    assert shot.is_file() and shot.stat().st_size > 50_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # the sort script ran, and clicking a header sorts the rows (numerically, twice = descending)
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text().replace(
        "</body>", "<script>var th=[].slice.call(document.querySelectorAll('table.recordings th'))"
                   ".filter(function(h){return h.textContent==='sso_time_fraction'})[0];th.click();th.click();"
                   "</script></body>"))
    dom = _chromium("--dump-dom", probe.as_uri(), cwd=tmp_path)
    assert [line for line in dom.stderr.splitlines() if ":CONSOLE" in line] == []
    table = re.search(r'<table class="sortable recordings"[^>]*>.*?</table>', dom.stdout, re.S).group(0)
    assert 'data-sortable="ready"' in table
    head = re.findall(r"<th[^>]*>(.*?)</th>", table)
    col = head.index("sso_time_fraction")
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    values = [re.findall(r"<td[^>]*>(.*?)</td>", r)[col] for r in rows]
    nums = [float(v) for v in values]
    assert nums == sorted(nums, reverse=True) and nums[0] > 0
