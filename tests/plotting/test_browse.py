"""The interactive viewer: what it draws equals the tables, it sends few points at any zoom and refines."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

import drgephys
from drgephys.io import Trace

pytest.importorskip("plotly", reason="the viewer extra is part of the test extra")
from drgephys.plotting import browse  # noqa: E402

from ..conftest import REPO  # noqa: E402

SSO_FILE = REPO / "sample_data" / "injured_sso_bursting.abf"


@pytest.fixture(scope="module")
def sso_result():
    return drgephys.analyze(SSO_FILE)


def _drawn(viewer):
    """(episodes start/end, spikes peak_s/peak_mv/trigger) as drawn by the figure."""
    data = {t.name.split(" (")[0]: t for t in viewer.figure.data}
    bars = data["SSO episodes"]
    x, w = np.asarray(bars.x, float), np.asarray(bars.width, float)
    episodes = pd.DataFrame({"start_s": x - w / 2, "end_s": x + w / 2}).sort_values("start_s")
    rows = []
    for name, t in data.items():
        if name.startswith("spikes: "):
            rows += [(float(a), float(b), name[len("spikes: "):]) for a, b in zip(t.x, t.y)]
    spikes = pd.DataFrame(rows, columns=["peak_s", "peak_mv", "trigger"]).sort_values("peak_s")
    return episodes.reset_index(drop=True), spikes.reset_index(drop=True)


def test_drawn_episodes_and_spikes_equal_the_tables(sso_result):
    # both marker groups drawn: one spike relabelled (the detector labels all 15 of this file "oscillation",
    # as its truth does)
    spikes = sso_result.spikes.copy()
    spikes.loc[spikes.index[-1], "trigger"] = "other"
    result = drgephys.analysis.AnalysisResult(sso_result.recordings, sso_result.oscillations, spikes,
                                              sso_result.params)
    viewer = browse(SSO_FILE, result=result)
    osc, spk = result.oscillations, result.spikes
    assert len(osc) >= 3 and len(spk) >= 5 and set(spk["trigger"]) == {"oscillation", "other"}
    episodes, spikes = _drawn(viewer)
    np.testing.assert_allclose(episodes[["start_s", "end_s"]], osc.sort_values("start_s")[["start_s", "end_s"]],
                               rtol=0, atol=1e-9)
    want = spk.sort_values("peak_s")
    np.testing.assert_array_equal(spikes["peak_s"], want["peak_s"])
    np.testing.assert_array_equal(spikes["peak_mv"], want["peak_mv"])
    assert spikes["trigger"].tolist() == want["trigger"].astype(str).tolist()
    # hover text carries each episode's measures
    text = list(viewer.figure.data[1].hovertext)
    for t, f in zip(text, osc.sort_values("start_s")["frequency_hz"]):
        assert f"frequency {f:.1f} Hz" in t and "cycles" in t and "amplitude" in t

    # zoomed on one episode: exactly the rows overlapping the view are drawn
    viewer.show_episode(2)
    a, b = viewer.view_s
    episodes, spikes = _drawn(viewer)
    on = osc[(osc["end_s"] > a) & (osc["start_s"] < b)]
    np.testing.assert_allclose(episodes["start_s"], np.sort(on["start_s"]), atol=1e-9)
    assert spikes["peak_s"].tolist() == sorted(spk.loc[spk["peak_s"].between(a, b), "peak_s"])


def test_view_sends_at_most_max_points_and_refines_to_raw_samples():
    fs, n = 20_000.0, 3_000_000
    rng = np.random.default_rng(1)
    v = -60 + rng.standard_normal(n)
    v[1_234_567] = 40.0                                          # one spike-like sample
    tr = Trace(v, fs, t0=2.0, file="synthetic.abf", sweep=0)
    empty = drgephys.analysis.AnalysisResult(pd.DataFrame({"file": ["synthetic.abf"], "sweep": [0]}),
                                             pd.DataFrame(columns=["start_s", "end_s", "frequency_hz"]),
                                             pd.DataFrame(columns=["peak_s", "peak_mv", "trigger"]), params=None)
    viewer = browse(tr, result=empty, max_points=1000)
    vm = viewer.figure.data[0]
    assert len(vm.x) <= 1000 and np.max(vm.y) == 40.0           # the peak survives the reduction
    # drawn from the sweep's start (t0 = 2 s is in the header), like the tables' times
    assert vm.x[0] == pytest.approx(0.0) and vm.x[-1] == pytest.approx((n - 1) / fs)
    for width in (100.0, 10.0, 1.0, 0.04):
        viewer.zoom(60.0, 60.0 + width)
        pts = viewer.points_sent()
        assert max(pts.values()) <= 1000, (width, pts)
    # 0.04 s = 801 samples < max_points: the raw samples themselves, at their exact times
    i = np.round(np.asarray(vm.x) * fs).astype(int)
    np.testing.assert_allclose(np.asarray(vm.x), i / fs, atol=1e-12)
    np.testing.assert_array_equal(np.asarray(vm.y), v[i])
    assert np.all(np.diff(i) == 1) and i[0] <= (60.0 * fs) + 1 and i[-1] >= 60.04 * fs - 1
    viewer.figure.layout.xaxis.autorange = True                 # double-click: back to the whole sweep
    assert viewer.view_s == pytest.approx((0.0, (n - 1) / fs))


def test_time_frequency_panel_shows_the_episode_frequency(sso_result):
    viewer = browse(SSO_FILE, result=sso_result, tf_max_s=10.0)
    assert "zoom to ≤ 10 s" in viewer.figure.layout.annotations[1].text   # 30-s view: not computed
    assert viewer.points_sent()["time–frequency"] == 0
    ep = sso_result.oscillations.sort_values("amplitude_mv").iloc[-1]
    viewer.zoom(ep["start_s"] - 1.0, ep["end_s"] + 1.0)
    hm = next(t for t in viewer.figure.data if t.name == "time–frequency")
    z, f, t = np.asarray(hm.z), np.asarray(hm.y), np.asarray(hm.x)
    assert 0 < z.size <= 5000
    inside = (t > ep["start_s"]) & (t < ep["end_s"])
    peak = f[np.argmax(z[:, inside].mean(axis=1))]
    assert abs(peak - ep["frequency_hz"]) <= 8.0               # 4-Hz bins of 0.25-s windows


def test_qc_flags_and_significance_shown_only_when_the_columns_exist(sso_result):
    bare = drgephys.analysis.AnalysisResult(sso_result.recordings.drop(columns="qc_flags"),
                                            sso_result.oscillations.drop(columns="p_value"),
                                            sso_result.spikes, params=None)
    plain = browse(SSO_FILE, result=bare)
    assert "QC flags" not in plain.header.value and "significance" not in "".join(plain.figure.data[1].hovertext)
    assert "channel report" in plain.header.value and "injured_sso_bursting.abf — sweep 0" in plain.header.value
    assert str(REPO) not in plain.header.value.split("title=")[0]          # title by file name
    recs = sso_result.recordings.assign(qc_flags="drift; hum")
    osc = sso_result.oscillations.assign(p_value=np.linspace(0.001, 0.04, len(sso_result.oscillations)))
    res = drgephys.analysis.AnalysisResult(recs, osc, sso_result.spikes, params=None)
    flagged = browse(SSO_FILE, result=res)
    assert "QC flags:" in flagged.header.value and "drift" in flagged.header.value and "hum" in flagged.header.value
    assert all("significance p = " in t for t in flagged.figure.data[1].hovertext)


def test_results_folder_source_and_file_choice(tmp_path):
    import shutil

    from drgephys.batch import analyze_paths, write_tables

    data = tmp_path / "data"
    data.mkdir()
    for name in ("injured_sso_bursting.abf", "injured_tonic.abf"):
        shutil.copy(REPO / "sample_data" / name, data / name)
    write_tables(analyze_paths(data), tmp_path / "results", extra_params={"inputs": [str(data)]})
    with pytest.raises(ValueError, match="`file` must name one of the 2"):
        browse(tmp_path / "results")
    viewer = browse(tmp_path / "results", file="injured_sso_bursting.abf")
    assert "channel report" in viewer.header.value
    assert len(viewer.episodes) >= 3 and (viewer.episodes["file"] == viewer.episodes["file"].iloc[0]).all()
    with pytest.raises(ValueError, match="`sweep` must be one of the recording's sweeps \\[0\\]; got 3"):
        browse(tmp_path / "results", 3, file="injured_tonic.abf")


def test_invalid_arguments_raise(sso_result):
    with pytest.raises(TypeError, match="`source` must be"):
        browse(42)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        browse(REPO / "no_such_file.abf")
    with pytest.raises(ValueError, match="`max_points` must be an int ≥ 100"):
        browse(SSO_FILE, result=sso_result, max_points=10)
    with pytest.raises(TypeError, match="`sweep` must be a non-negative int"):
        browse(SSO_FILE, sweep=-1)
    with pytest.raises(TypeError, match="`result` must be None"):
        browse(sso_result, result=sso_result)
    with pytest.raises(ValueError, match="`start_s` must be finite"):
        browse(SSO_FILE, result=sso_result).zoom(5.0, 1.0)


def test_missing_extra_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "tsdownsample", None)       # makes `import tsdownsample` fail
    with pytest.raises(ImportError, match=r'pip install "drgephys\[viewer\]"'):
        browse(SSO_FILE)
