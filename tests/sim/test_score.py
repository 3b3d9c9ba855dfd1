"""Scoring: hand-made truth/result pairs with hand-computed metrics."""

import json
import math

import pandas as pd
import pytest

from drgephys.sim import match_spikes, score, score_cohort


def _truth(**kw):
    t = {"fs_hz": 20_000.0, "duration_s": 10.0, "hum_hz": None, "sso_cell": True, "pattern": "bursting",
         "episodes": [{"start_s": 1.0, "end_s": 2.0, "frequency_hz": 50.0, "amplitude_mv": 2.0, "mean_vm_mv": -55},
                      {"start_s": 5.0, "end_s": 6.0, "frequency_hz": 60.0, "amplitude_mv": 1.0, "mean_vm_mv": -54}],
         "spikes": [{"peak_s": 1.5, "threshold_s": 1.4995, "trigger": "oscillation"},
                    {"peak_s": 3.0, "threshold_s": 2.9995, "trigger": "other"}]}
    t.update(kw)
    return t


def _result(osc, spk, **kw):
    return {"oscillations": pd.DataFrame(osc, columns=["start_s", "end_s", "frequency_hz", "amplitude_mv"]),
            "spikes": pd.DataFrame(spk, columns=["peak_s", "trigger"]), **kw}


def test_one_missed_episode_and_one_false():
    r = _result([(1.2, 2.1, 52.0, 2.2), (8.0, 9.0, 50.5, 1.0)],
                [(1.5005, "oscillation"), (3.002, "other"), (4.0, "other")], pattern="bursting")
    s = score(_truth(hum_hz=50), r)
    assert s["episode_recall"] == 0.5          # 1.2-2.1 covers 80 % of 1-2; 5-6 missed
    assert s["episode_precision"] == 0.5       # 8-9 is outside every true episode
    assert s["episode_f1"] == 0.5
    assert s["frequency_error_median_hz"] == pytest.approx(2.0)
    assert s["amplitude_rel_error_median"] == pytest.approx(0.1)
    assert math.isnan(s["mean_vm_error_median_mv"])  # detections without mean_vm_mv
    assert s["hum_false_episodes"] == 1        # 50.5 Hz detection outside episodes, hum 50 Hz
    assert s["n_cells_with_hum"] == 1
    assert s["spike_recall"] == 0.5            # 3.002 is 2 ms away: not matched
    assert s["spike_precision"] == pytest.approx(1 / 3)
    assert s["spike_f1"] == pytest.approx(0.4)
    assert s["spike_timing_error_median_ms"] == pytest.approx(0.5)
    assert s["spike_timing_error_median_samples"] == pytest.approx(10.0)
    assert s["trigger_balanced_accuracy"] == 1.0
    assert s["pattern_balanced_accuracy"] == 1.0
    assert s["sso_cell_balanced_accuracy"] == 1.0


def test_mean_vm_error_on_found_episodes():
    osc = pd.DataFrame({"start_s": [1.0, 5.1], "end_s": [2.0, 6.0], "frequency_hz": [50.0, 60.0],
                        "amplitude_mv": [2.0, 1.0], "mean_vm_mv": [-54.0, -54.5]})
    s = score(_truth(), {"oscillations": osc, "spikes": pd.DataFrame({"peak_s": []})})
    assert s["mean_vm_error_median_mv"] == pytest.approx(0.75)  # |1.0| and |0.5|


def test_coverage_rule_is_half_of_the_episode():
    # 1.0-1.4 covers 40 %: not found; 5.0-5.3 + 5.3-5.6 together cover 60 %: found
    r = _result([(1.0, 1.4, 50, 2), (5.0, 5.3, 61, 1), (5.3, 5.6, 59, 1)], [])
    s = score(_truth(), r)
    assert s["episode_recall"] == 0.5 and s["episode_precision"] == 1.0
    # detection half inside a true episode is TRUE (exactly 50 %)
    s = score(_truth(), _result([(1.5, 2.5, 50, 2)], []))
    assert s["episode_precision"] == 1.0 and s["episode_recall"] == 0.5


def test_hum_harmonic_counted_and_true_detection_not():
    r = _result([(1.0, 2.0, 100.5, 2.0), (7.0, 8.0, 150.0, 1.0), (8.5, 9.0, 120.0, 1.0)], [])
    s = score(_truth(hum_hz=50), r)
    assert s["hum_false_episodes"] == 1  # 150 Hz outside; 100.5 Hz is a true episode; 120 Hz not a harmonic
    assert score(_truth(), r)["hum_false_episodes"] == 0  # no hum in this cell


def test_spike_matching_is_one_to_one_and_greedy():
    mt, md = match_spikes([1.0, 1.0015], [1.0008, 1.0009])
    # closest pair first: (1.0015, 1.0009) at 0.6 ms, then (1.0, 1.0008) at 0.8 ms
    assert sorted(zip(mt.tolist(), md.tolist())) == [(0, 0), (1, 1)]
    mt, md = match_spikes([2.0], [1.9995, 2.0002])
    assert mt.tolist() == [0] and md.tolist() == [1]


def test_empty_detections_give_nan_precision():
    s = score(_truth(), _result([], []))
    assert s["episode_recall"] == 0 and math.isnan(s["episode_precision"]) and math.isnan(s["episode_f1"])
    assert s["spike_recall"] == 0 and math.isnan(s["spike_precision"])
    assert math.isnan(s["frequency_error_median_hz"])


def test_trigger_and_pattern_balanced_accuracy_over_cells():
    a = _truth(pattern="tonic")
    b = _truth(pattern="silent", sso_cell=False, episodes=[], spikes=[])
    ra = _result([(1.0, 2.0, 50, 2)], [(1.5, "other"), (3.0, "other")], pattern="tonic")
    rb = _result([], [], firing_pattern="tonic")
    s = score([a, b], [ra, rb])
    assert s["trigger_balanced_accuracy"] == 0.5   # oscillation→other wrong, other→other right
    assert s["pattern_balanced_accuracy"] == 0.5   # tonic right, silent→tonic wrong
    assert s["sso_cell_balanced_accuracy"] == 1.0
    assert s["n_true_episodes"] == 2 and s["episode_recall"] == 0.5


def test_attribute_result_and_recordings_pattern():
    class Res:
        oscillations = pd.DataFrame({"start_s": [1.0], "end_s": [2.0], "frequency_hz": [50.0], "amplitude_mv": [2.0]})
        spikes = pd.DataFrame({"peak_s": [1.5]})
        recordings = pd.DataFrame({"firing_pattern": ["bursting"]})
    s = score(_truth(), Res())
    assert s["pattern_balanced_accuracy"] == 1.0 and s["spike_recall"] == 0.5
    assert math.isnan(s["trigger_balanced_accuracy"])


def test_score_cohort_folder(tmp_path):
    for name, t in {"a.abf": _truth(), "b.abf": _truth(episodes=[], sso_cell=False, spikes=[])}.items():
        (tmp_path / (name + ".truth.json")).write_text(json.dumps(dict(t, group="g")))
    both = _result([(1.0, 2.0, 50, 2)], [(1.5, "oscillation")])
    both["oscillations"]["file"] = ["/x/a.abf"]
    both["spikes"]["file"] = ["a.abf"]
    cells, summary = score_cohort(tmp_path, both)
    assert list(cells.file) == ["a.abf", "b.abf"]
    assert cells.loc[0, "episode_recall"] == 0.5 and cells.loc[1, "n_detected_episodes"] == 0
    assert summary["sso_cell_balanced_accuracy"] == 1.0 and summary["n_cells"] == 2
    cells2, summary2 = score_cohort(tmp_path, lambda p: both if p.name == "a.abf" else _result([], []))
    assert summary2["episode_recall"] == summary["episode_recall"]


def test_score_validation(tmp_path):
    with pytest.raises(TypeError, match="`result` must have `oscillations` and `spikes`"):
        score(_truth(), {"spikes": pd.DataFrame()})
    with pytest.raises(ValueError, match="a list of results of the same length"):
        score([_truth(), _truth()], [_result([], [])])
    with pytest.raises(ValueError, match="must contain <file>.truth.json"):
        score_cohort(tmp_path, {})


# ------------------------------------------------------------------ per-episode outcomes and false episodes

def test_rate_bins_edges():
    from drgephys.sim import rate_bin

    assert list(rate_bin([0.0, 4.99, 5.0, 9.99, 10.0, 19.99, 20.0, 45.0])) == [
        "< 5 Hz", "< 5 Hz", "5–10 Hz", "5–10 Hz", "10–20 Hz", "10–20 Hz", "≥ 20 Hz", "≥ 20 Hz"]
    with pytest.raises(ValueError, match="`rate_hz` must hold non-negative finite rates"):
        rate_bin([-1.0])


def test_episode_outcomes_by_hand():
    from drgephys.sim import episode_outcomes

    truth = _truth()
    truth["episodes"][0]["firing_rate_hz"] = 12.0  # written by the simulator
    # second episode has no firing_rate_hz key: counted from the spikes (threshold 5.2, 5.5 inside 5-6 s)
    truth["spikes"] += [{"peak_s": 5.2005, "threshold_s": 5.2, "trigger": "oscillation"},
                        {"peak_s": 5.5005, "threshold_s": 5.5, "trigger": "oscillation"}]
    r = _result([(1.2, 2.1, 52.0, 2.2), (8.0, 9.0, 50.5, 1.0)], [])
    out = episode_outcomes(truth, r)
    assert list(out.found) == [True, False]
    assert list(out.firing_rate_hz) == [12.0, 2.0] and list(out.rate_bin) == ["10–20 Hz", "< 5 Hz"]
    assert out.frequency_error_hz[0] == pytest.approx(2.0) and math.isnan(out.frequency_error_hz[1])
    assert out.amplitude_rel_error[0] == pytest.approx(0.1) and list(out.pattern) == ["bursting"] * 2


def test_false_episodes_by_hand():
    from drgephys.sim import false_episodes

    r = _result([(1.2, 2.1, 52.0, 2.2), (8.0, 9.0, 50.5, 1.0), (3.0, 3.5, 40.0, 1.0)], [])
    out = false_episodes(_truth(), r)  # 10 s recording: 2 false detections = 12 per minute
    assert out == {"n_detected": 3, "n_false": 2, "duration_min": pytest.approx(1 / 6), "false_per_min": pytest.approx(12.0)}
    none = false_episodes(_truth(episodes=[]), _result([], []))
    assert none["n_false"] == 0 and none["false_per_min"] == 0.0


def test_episode_outcomes_on_a_simulated_cell():
    from drgephys.sim import episode_outcomes, preset, simulate_trace

    tr = simulate_trace(preset("sso_tonic", duration_s=10, fs_hz=5_000), seed=2)
    exact = {"oscillations": pd.DataFrame([{k: e[k] for k in ("start_s", "end_s", "frequency_hz", "amplitude_mv")}
                                           for e in tr.truth["episodes"]]), "spikes": pd.DataFrame({"peak_s": []})}
    out = episode_outcomes(tr.truth, exact)
    assert len(out) == len(tr.truth["episodes"]) > 0 and out.found.all()
    assert (out.frequency_error_hz == 0).all() and (out.rate_bin == "≥ 20 Hz").any() | (out.rate_bin == "10–20 Hz").any()
