"""The peer harness (benchmarks/peers.py): episode extraction on hand-made inputs, and one end-to-end run
in the peer environment on a tiny ABF file (skipped when that environment is absent)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "benchmarks"

TIME_TOL_S = 1e-9          # exact sample arithmetic
FREQ_TOL_HZ = 1e-9
AMP_TOL_MV = 1e-9


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


peers = _load("peers")
common = _load("_common")


def test_runs_of_true_finds_edges_and_inner_runs():
    mask = np.array([1, 1, 0, 0, 1, 0, 1, 1, 1], dtype=bool)
    np.testing.assert_array_equal(peers.runs_of_true(mask), [[0, 2], [4, 5], [6, 9]])


def test_runs_of_true_empty_and_all_false():
    assert peers.runs_of_true(np.zeros(0, dtype=bool)).shape == (0, 2)
    assert peers.runs_of_true(np.zeros(5, dtype=bool)).shape == (0, 2)


def _bycycle_frame():
    # 6 cycles trough-to-trough, period 100 samples; cycles 1-3 and 5 are burst cycles
    last = np.arange(6) * 100 + 10
    return pd.DataFrame({
        "sample_last_trough": last,
        "sample_next_trough": last + 100,
        "period": np.array([100, 100, 80, 120, 100, 50]),
        "volt_amp": np.array([9.0, 1.0, 2.0, 3.0, 9.0, 4.0]),
        "is_burst": np.array([False, True, True, True, False, True]),
    })


def test_episodes_from_bycycle_groups_consecutive_burst_cycles():
    fs = 1000.0
    eps = peers.episodes_from_bycycle(_bycycle_frame(), fs)
    assert len(eps) == 2
    first, second = eps
    assert first["start_s"] == pytest.approx(110 / fs, abs=TIME_TOL_S)
    assert first["end_s"] == pytest.approx(410 / fs, abs=TIME_TOL_S)
    assert first["n_cycles"] == 3
    assert first["frequency_hz"] == pytest.approx(fs / 100.0, abs=FREQ_TOL_HZ)   # mean period 100 samples
    assert first["amplitude_mv"] == pytest.approx(np.percentile([1.0, 2.0, 3.0], 90), abs=AMP_TOL_MV)
    assert second["start_s"] == pytest.approx(510 / fs, abs=TIME_TOL_S)
    assert second["frequency_hz"] == pytest.approx(fs / 50.0, abs=FREQ_TOL_HZ)
    assert second["amplitude_mv"] == pytest.approx(4.0, abs=AMP_TOL_MV)


def test_episodes_from_bycycle_no_burst_or_empty():
    df = _bycycle_frame().assign(is_burst=False)
    assert peers.episodes_from_bycycle(df, 1000.0) == []
    assert peers.episodes_from_bycycle(df.iloc[:0], 1000.0) == []


def test_episodes_from_mask_uses_nan_aware_mean_and_doubled_envelope():
    fs = 100.0
    mask = np.array([0, 1, 1, 1, 0, 0, 1, 1], dtype=bool)
    freq = np.array([np.nan, np.nan, 40.0, 44.0, 0, 0, 10.0, 20.0])
    amp = np.array([np.nan, 1.0, 2.0, np.nan, 0, 0, 0.5, 0.5])
    eps = peers.episodes_from_mask(mask, freq, amp, fs)
    assert len(eps) == 2
    assert eps[0]["start_s"] == pytest.approx(0.01, abs=TIME_TOL_S)
    assert eps[0]["end_s"] == pytest.approx(0.04, abs=TIME_TOL_S)
    assert eps[0]["frequency_hz"] == pytest.approx(42.0, abs=FREQ_TOL_HZ)
    assert eps[0]["amplitude_mv"] == pytest.approx(np.percentile([2.0, 4.0], 90), abs=AMP_TOL_MV)
    assert eps[1]["frequency_hz"] == pytest.approx(15.0, abs=FREQ_TOL_HZ)
    assert eps[1]["amplitude_mv"] == pytest.approx(1.0, abs=AMP_TOL_MV)


def test_episodes_from_mask_all_nan_gives_nan_not_error():
    eps = peers.episodes_from_mask(np.ones(3, bool), np.full(3, np.nan), np.full(3, np.nan), 10.0)
    assert len(eps) == 1 and np.isnan(eps[0]["frequency_hz"]) and np.isnan(eps[0]["amplitude_mv"])


def test_run_files_rejects_unknown_peer():
    with pytest.raises(ValueError, match="`peers` must be among"):
        peers.run_files([], peers=("bycycle", "ipfx"))


def test_peers_script_does_not_import_drgephys():
    text = (BENCH / "peers.py").read_text()
    assert "import drgephys" not in text and "from drgephys" not in text


def test_peers_env_var_pointing_nowhere_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv(common.PEERS_ENV_VAR, str(tmp_path / "nope" / "python"))
    with pytest.raises(FileNotFoundError, match="DRGEPHYS_PEERS_PYTHON"):
        common.find_peers_python()


def test_markdown_table_formats_missing_values():
    md = common.markdown_table(["metric", "a"], [["x", float("nan")], ["y", 0.123456], ["z", None]])
    assert md.splitlines()[2] == "| x | — |"
    assert "0.123" in md and md.splitlines()[4] == "| z | — |"


# ------------------------------------------------------------------ end to end in the peer environment

@pytest.fixture(scope="module")
def peer_python():
    try:
        py = common.find_peers_python()
    except FileNotFoundError as err:
        pytest.skip(str(err))
    if py is None:
        pytest.skip(f"peer environment absent: set {common.PEERS_ENV_VAR} or create {common.PEERS_VENV} "
                    "(benchmarks/accuracy.py does it)")
    return py


SSO_HZ = 40.0
SSO_PP_MV = 2.0
SSO_SPAN_S = (2.0, 5.0)
SPIKE_TIMES_S = (6.0, 6.5, 7.25)
EPISODE_EDGE_TOL_S = 0.15     # filters smear the edges by a few cycles
PEER_FREQ_TOL_HZ = 1.0
PEER_AMP_TOL_MV = 0.5
SPIKE_TOL_S = 0.5e-3


def _tiny_abf(path: Path, fs: float = 20000.0, duration_s: float = 8.0) -> None:
    pyabf_writer = pytest.importorskip("pyabf.abfWriter")
    t = np.arange(int(fs * duration_s)) / fs
    rng = np.random.default_rng(7)
    v = -55.0 + 0.1 * rng.standard_normal(t.size)
    on = (t >= SSO_SPAN_S[0]) & (t < SSO_SPAN_S[1])
    v += on * (SSO_PP_MV / 2) * np.sin(2 * np.pi * SSO_HZ * t)
    k = np.arange(-40, 120)
    for ts in SPIKE_TIMES_S:
        i = int(round(ts * fs))
        v[i + k] += np.where(k < 0, 90.0 * np.exp(k / 6.0), 90.0 * np.exp(-k / 10.0))
    pyabf_writer.writeABF1(np.atleast_2d(v.astype(np.float32)), str(path), fs, units="mV")


def test_peers_end_to_end_on_a_tiny_abf(peer_python, tmp_path):
    f = tmp_path / "tiny.abf"
    _tiny_abf(f)
    out = common.run_peers([f], peer_python)
    assert out["versions"]["bycycle"] == "1.2.0"
    (entry,) = out["files"]
    assert entry["error"] is None
    (sweep,) = entry["sweeps"]
    assert sweep["fs_hz"] == 20000.0
    np.testing.assert_allclose(sweep["efel"]["spikes_s"], SPIKE_TIMES_S, atol=SPIKE_TOL_S)
    for peer in ("bycycle", "neurodsp"):
        eps = sweep[peer]["episodes"]
        hit = [e for e in eps if e["start_s"] < SSO_SPAN_S[1] and e["end_s"] > SSO_SPAN_S[0]]
        assert len(hit) >= 1, (peer, eps)
        best = max(hit, key=lambda e: e["end_s"] - e["start_s"])
        assert best["start_s"] == pytest.approx(SSO_SPAN_S[0], abs=EPISODE_EDGE_TOL_S), peer
        assert best["end_s"] == pytest.approx(SSO_SPAN_S[1], abs=EPISODE_EDGE_TOL_S), peer
        assert best["frequency_hz"] == pytest.approx(SSO_HZ, abs=PEER_FREQ_TOL_HZ), peer
        assert best["amplitude_mv"] == pytest.approx(SSO_PP_MV, abs=PEER_AMP_TOL_MV), peer
    assert set(out["wall_s"]) == {"read", "bycycle", "neurodsp", "efel"}


# ------------------------------------------------------------------ the peer-output parser of accuracy.py

accuracy = _load("accuracy")


def _peer_json():
    return {
        "peers": ["bycycle", "neurodsp", "efel"],
        "files": [
            {"path": "/x/a.abf", "error": None, "sweeps": [{
                "sweep": 0,
                "bycycle": {"episodes": [{"start_s": 1.0, "end_s": 2.0, "frequency_hz": 40.0,
                                          "amplitude_mv": 2.0, "n_cycles": 40}]},
                "neurodsp": {"episodes": []},
                "efel": {"spikes_s": [0.5, 0.75]}}]},
            {"path": "/x/b.abf", "error": "OSError: unreadable", "sweeps": []},
            {"path": "/x/c.abf", "error": None, "sweeps": [{
                "sweep": 0, "bycycle": {"error": "ValueError: boom"},
                "neurodsp": {"episodes": [{"start_s": 0.0, "end_s": 0.5, "frequency_hz": 0.2,
                                           "amplitude_mv": 1.0}]},
                "efel": {"spikes_s": []}}]},
        ],
    }


def test_peer_results_builds_score_ready_tables():
    res = accuracy.peer_results(_peer_json())
    assert set(res) == {"bycycle", "neurodsp", "efel"}
    a = res["bycycle"]["/x/a.abf"]
    assert list(a["oscillations"]["frequency_hz"]) == [40.0]
    assert len(a["spikes"]) == 0 and a["error"] is None
    assert list(res["efel"]["/x/a.abf"]["spikes"]["peak_s"]) == [0.5, 0.75]
    empty = res["neurodsp"]["/x/a.abf"]["oscillations"]
    assert len(empty) == 0 and set(accuracy.EPISODE_COLUMNS) <= set(empty.columns)
    assert res["bycycle"]["/x/b.abf"]["error"] == "OSError: unreadable"
    assert len(res["bycycle"]["/x/b.abf"]["oscillations"]) == 0
    assert res["bycycle"]["/x/c.abf"]["error"] == "ValueError: boom"


def test_peer_results_score_with_drgephys_sim():
    sim = pytest.importorskip("drgephys.sim")
    truth = {"fs_hz": 10000.0, "duration_s": 3.0, "hum_hz": None, "sso_cell": True, "pattern": "silent",
             "episodes": [{"start_s": 1.0, "end_s": 2.0, "frequency_hz": 41.0, "amplitude_mv": 2.5,
                           "mean_vm_mv": -55.0}],
             "spikes": [{"peak_s": 0.5, "threshold_s": 0.4995, "trigger": "other"}]}
    res = accuracy.peer_results(_peer_json())
    s = sim.score(truth, res["bycycle"]["/x/a.abf"])
    assert s["episode_recall"] == 1.0 and s["episode_precision"] == 1.0
    assert s["frequency_error_median_hz"] == pytest.approx(1.0, abs=FREQ_TOL_HZ)
    e = sim.score(truth, res["efel"]["/x/a.abf"])
    assert e["spike_recall"] == 1.0 and e["spike_precision"] == pytest.approx(0.5)


def test_edge_detections_counts_both_ends():
    res = accuracy.peer_results(_peer_json())
    n_edge, n_all, n_files = accuracy.edge_detections(res["neurodsp"], {"a.abf": 3.0, "b.abf": 3.0,
                                                                        "c.abf": 3.0})
    assert (n_edge, n_all, n_files) == (1, 1, 1)
