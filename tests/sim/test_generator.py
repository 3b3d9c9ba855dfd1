"""simulate_trace: known answers for episodes, spikes, hum; reproducibility; sampling rates; validation."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import find_peaks

from drgephys.sim import TraceSpec, simulate_trace

FREQ_TOL_HZ = 0.5            # truth frequency vs cycles counted on the clean SSO component
AMP_REL_TOL = 0.02           # truth amplitude vs independent per-cycle peak-to-peak
SLOPE_TOL_HZ = 2.0           # frequency change for a 10 mV shift at 3 Hz/mV (30 Hz expected)
HALF_WIDTH_TOL_MS = 0.05     # measured AP half-width vs requested
PEAK_TOL_MV = 1.0            # measured AP peak vs requested
HUM_PHASE_SD_MAX_RAD = 0.05  # phase of the hum in 1-s windows of the noisy trace
HUM_AMP_REL_TOL = 0.05

QUIET = dict(pink_noise_mv=0.0, white_noise_mv=0.0, drift_mv=0.0)


@pytest.fixture(scope="module")
def sso_trace():
    eps = ({"start_s": 0.5, "end_s": 2.5}, {"start_s": 4.0, "end_s": 5.0, "frequency_hz": 90.0, "amplitude_mv": 1.0})
    return simulate_trace(duration_s=6, fs_hz=20_000, sso=True, episodes=eps, seed=11)


def _clean_peaks(tr, e):
    x = tr.components["sso"]
    t = np.arange(x.size) / tr.fs
    pk, _ = find_peaks(x)
    pk = pk[(t[pk] >= e["start_s"]) & (t[pk] < e["end_s"])]
    return x, t, pk


def test_truth_frequency_is_the_mean_instantaneous_frequency(sso_trace):
    for e in sso_trace.truth["episodes"]:
        _, t, pk = _clean_peaks(sso_trace, e)
        measured = (pk.size - 1) / (t[pk[-1]] - t[pk[0]])
        assert measured == pytest.approx(e["frequency_hz"], abs=FREQ_TOL_HZ)
    assert sso_trace.truth["episodes"][1]["frequency_hz"] == pytest.approx(90.0, abs=3.0)


def test_truth_amplitude_is_p90_of_cycle_peak_to_peak(sso_trace):
    for e in sso_trace.truth["episodes"]:
        x, _, pk = _clean_peaks(sso_trace, e)
        pp = [np.ptp(x[a:b]) for a, b in zip(pk[:-1], pk[1:])]
        assert np.percentile(pp, 90) == pytest.approx(e["amplitude_mv"], rel=AMP_REL_TOL)
    assert 0.8 < sso_trace.truth["episodes"][1]["amplitude_mv"] < 1.6  # nominal 1 mV, modulation ±20 %


def test_episode_boundaries_are_half_maximum_of_envelope():
    e = {"start_s": 1.0, "end_s": 3.0}
    tr = simulate_trace(duration_s=4, fs_hz=10_000, sso=True, episodes=(e,), amplitude_modulation=0.0,
                        seed=1, **QUIET)
    x = np.abs(tr.components["sso"])
    t = np.arange(x.size) / tr.fs
    plateau = x[(t > 1.5) & (t < 2.5)].max()
    for edge in (1.0, 3.0):
        near = x[np.abs(t - edge) < 0.5 / 45]  # one cycle around the boundary
        assert near.max() == pytest.approx(0.5 * plateau, rel=0.1)
    assert np.all(x[(t < 1.0 - 0.2 * 2.0 - 1e-3) | (t > 3.0 + 0.2 * 2.0 + 1e-3)] == 0)


def test_frequency_rises_with_membrane_potential():
    kw = dict(duration_s=3, fs_hz=10_000, sso=True, episodes=({"start_s": 0.5, "end_s": 2.5},),
              period_jitter=0.0, seed=2, **QUIET)
    lo = simulate_trace(resting_vm_mv=-65, **kw).truth["episodes"][0]
    hi = simulate_trace(resting_vm_mv=-55, **kw).truth["episodes"][0]
    assert hi["frequency_hz"] - lo["frequency_hz"] == pytest.approx(30.0, abs=SLOPE_TOL_HZ)
    assert hi["mean_vm_mv"] - lo["mean_vm_mv"] == pytest.approx(10.0, abs=0.2)
    # Kovalsky et al. 2009 anchor: 45 Hz at -57 mV (episode at -59 + 2 mV depolarization)
    k = simulate_trace(resting_vm_mv=-59, **kw).truth["episodes"][0]
    assert k["frequency_hz"] == pytest.approx(45.0, abs=1.5)


def test_random_episodes_do_not_overlap_and_cover_the_fraction():
    tr = simulate_trace(duration_s=60, fs_hz=5_000, sso=True, sso_time_fraction=0.3, seed=3)
    eps = tr.truth["episodes"]
    assert len(eps) >= 3 and tr.truth["sso_cell"]
    starts = np.array([e["start_s"] for e in eps])
    ends = np.array([e["end_s"] for e in eps])
    assert np.all(ends > starts) and np.all(starts[1:] - ends[:-1] > 0.2)
    assert starts[0] > 0 and ends[-1] < 60
    assert 0.2 < np.sum(ends - starts) / 60 < 0.4


@pytest.mark.parametrize("hw", [0.5, 1.0, 3.0])
def test_spike_shape(hw):
    tr = simulate_trace(duration_s=3, fs_hz=100_000, pattern="tonic", rate_hz=3, spike_half_width_ms=hw,
                        seed=4, **QUIET)
    v = tr.components["spikes"] + tr.components["baseline"]
    assert len(tr.truth["spikes"]) >= 5
    for s in tr.truth["spikes"]:
        i, j = int(round(s["peak_s"] * tr.fs)), int(round(s["threshold_s"] * tr.fs))
        assert np.argmax(v[i - 20:i + 21]) == pytest.approx(20, abs=1)  # truth peak is the peak
        thr, pk = v[j], v[i]
        assert pk == pytest.approx(35.0, abs=PEAK_TOL_MV)
        assert -45 <= thr <= -30
        width = np.count_nonzero(v[j:i + int(0.02 * tr.fs)] > (thr + pk) / 2) / tr.fs * 1e3
        assert width == pytest.approx(hw, abs=HALF_WIDTH_TOL_MS)
        ahp = -60 - v[i:i + int(0.1 * tr.fs)].min()
        assert 3.0 < ahp < 6.0  # requested 5 mV below baseline


def test_spike_subsample_placement_is_exact():
    tr = simulate_trace(duration_s=2, fs_hz=1_000, pattern="irregular", rate_hz=10, seed=5, **QUIET)
    hi = simulate_trace(duration_s=2, fs_hz=100_000, pattern="irregular", rate_hz=10, seed=5, **QUIET)
    a = [s["peak_s"] for s in tr.truth["spikes"]]
    b = [s["peak_s"] for s in hi.truth["spikes"]]
    np.testing.assert_allclose(a, b, atol=2e-6)  # timing does not depend on the sampling grid


def test_oscillation_spikes_start_at_sso_peaks():
    tr = simulate_trace(duration_s=20, fs_hz=20_000, sso=True, pattern="irregular", rate_hz=5,
                        spike_location="episodes", seed=6)
    spikes = tr.truth["spikes"]
    assert spikes and all(s["trigger"] == "oscillation" for s in spikes)
    x = tr.components["sso"]
    for s in spikes:
        e = next(e for e in tr.truth["episodes"] if e["start_s"] <= s["threshold_s"] <= e["end_s"] + 0.01)
        half = int(tr.fs / e["frequency_hz"] / 2)
        j = int(round(s["threshold_s"] * tr.fs))
        lag_s = (j - half + np.argmax(x[j - half:j + half]) - s["threshold_s"] * tr.fs) / tr.fs
        assert -1.5e-3 < lag_s < 0.5e-3  # onset at the cycle peak; threshold_s lies just after the onset


def test_other_spikes_outside_episodes():
    tr = simulate_trace(duration_s=20, fs_hz=10_000, sso=True, pattern="tonic", rate_hz=5, seed=7)
    trig = {s["trigger"] for s in tr.truth["spikes"]}
    assert trig == {"oscillation", "other"}
    for s in tr.truth["spikes"]:
        # oscillation spikes start at a cycle peak inside [start_s, end_s); threshold_s is < 2 ms later
        inside = any(e["start_s"] <= s["threshold_s"] < e["end_s"] + 2e-3
                     for e in tr.truth["episodes"])
        assert inside == (s["trigger"] == "oscillation")


def test_hum_is_phase_stable_and_constant():
    tr = simulate_trace(duration_s=10, fs_hz=10_000, hum_hz=60, hum_amplitude_mv=0.5, seed=8)
    t = np.arange(tr.v.size) / tr.fs
    z = (tr.v - tr.v.mean()) * np.exp(-2j * np.pi * 60 * t)
    win = z.reshape(10, -1).mean(axis=1) * 2
    assert np.std(np.unwrap(np.angle(win))) < HUM_PHASE_SD_MAX_RAD
    np.testing.assert_allclose(np.abs(win), 0.5, rtol=HUM_AMP_REL_TOL)
    assert tr.truth["hum_hz"] == 60


def test_reproducible_and_seed_sensitive():
    kw = dict(duration_s=2, fs_hz=10_000, sso=True, pattern="bursting", hum_hz=50)
    a, b = simulate_trace(seed=9, **kw), simulate_trace(seed=9, **kw)
    np.testing.assert_array_equal(a.v, b.v)
    assert a.truth == b.truth
    assert not np.array_equal(a.v, simulate_trace(seed=10, **kw).v)
    spec = TraceSpec(**kw)
    np.testing.assert_array_equal(a.v, simulate_trace(spec, seed=np.random.default_rng(9)).v)
    np.testing.assert_array_equal(a.v, simulate_trace(TraceSpec(), seed=9, **kw).v)


@pytest.mark.parametrize("fs", [1_000, 8_000, 10_000, 44_100, 100_000])
def test_all_sampling_rates(fs):
    tr = simulate_trace(duration_s=2, fs_hz=fs, sso=True, pattern="tonic", hum_hz=50, seed=12)
    assert tr.v.shape == (2 * fs,) and tr.v.dtype == np.float64 and np.all(np.isfinite(tr.v))
    assert tr.fs == fs and tr.truth["fs_hz"] == fs
    for s in tr.truth["spikes"]:
        assert tr.v[int(round(s["peak_s"] * fs))] > -10  # every spike is present, even at 1 kHz
    for e in tr.truth["episodes"]:
        assert 10 <= e["frequency_hz"] <= min(200, fs / 4)


def test_truth_is_json_serialisable_and_complete():
    tr = simulate_trace(duration_s=3, fs_hz=10_000, sso=True, pattern="irregular", hum_hz=50, seed=13)
    d = json.loads(json.dumps(tr.truth))
    assert set(d) >= {"fs_hz", "duration_s", "resting_vm_mv", "offset_mv", "hum_hz", "sso_cell", "pattern",
                      "episodes", "spikes", "spec"}
    for e in d["episodes"]:
        assert set(e) == {"start_s", "end_s", "frequency_hz", "amplitude_mv", "mean_vm_mv", "firing_rate_hz"}
        assert np.isfinite(e["mean_vm_mv"]) and e["firing_rate_hz"] >= 0
    for s in d["spikes"]:
        assert set(s) == {"peak_s", "threshold_s", "trigger", "half_width_ms"} and s["threshold_s"] < s["peak_s"]
        assert s["half_width_ms"] == pytest.approx(1.0, abs=0.1)  # the default half-width, near rest
    assert TraceSpec(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in d["spec"].items()}) is not None


def test_silent_cell_has_no_spikes_and_no_episodes():
    tr = simulate_trace(duration_s=2, fs_hz=10_000, seed=14)
    assert tr.truth["spikes"] == [] and tr.truth["episodes"] == [] and tr.truth["sso_cell"] is False
    assert abs(np.median(tr.v) + 60) < 2


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(fs_hz=500), ValueError, "`fs_hz` must be between 1000 and 100000 Hz"),
    (dict(fs_hz="fast"), TypeError, "`fs_hz` must be a number"),
    (dict(hum_hz=55), ValueError, "`hum_hz` must be None, 50 or 60"),
    (dict(pattern="wild"), ValueError, "`pattern` must be one of"),
    (dict(spike_location="soma"), ValueError, "`spike_location` must be"),
    (dict(spike_threshold_mv=-65), ValueError, "`spike_threshold_mv` must be"),
    (dict(resting_vm_mv=-45, spike_threshold_mv=-50), ValueError, "must be above `resting_vm_mv`"),
    (dict(sso_frequency_hz=300), ValueError, "`sso_frequency_hz` must be between 10 and 200 Hz"),
    (dict(episode_duration_s=(2, 1)), ValueError, "`episode_duration_s` must be"),
    (dict(episodes=({"start_s": 1},)), TypeError, "'start_s' and 'end_s'"),
    (dict(duration_s=2, episodes=({"start_s": 1, "end_s": 3},)), ValueError, "0 <= start_s < end_s"),
])
def test_validation(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        TraceSpec(**kwargs)


def test_overlapping_episodes_rejected():
    eps = ({"start_s": 0.5, "end_s": 1.5}, {"start_s": 1.6, "end_s": 2.5})
    with pytest.raises(ValueError, match="`episodes` must not overlap"):
        simulate_trace(duration_s=3, sso=True, episodes=eps, seed=0)


def test_explicit_episodes_make_an_sso_cell():
    tr = simulate_trace(duration_s=3, fs_hz=10_000, episodes=({"start_s": 1.0, "end_s": 2.0},), seed=16)
    assert tr.truth["sso_cell"] and len(tr.truth["episodes"]) == 1


def test_spec_type_checked():
    with pytest.raises(TypeError, match="`spec` must be a drgephys.sim.TraceSpec"):
        simulate_trace({"duration_s": 1})


def test_call_forms_and_fs_alias():
    a = simulate_trace(2, 10_000, pattern="tonic", seed=3)
    b = simulate_trace(duration_s=2, fs=10_000, pattern="tonic", seed=3)
    np.testing.assert_array_equal(a.v, b.v)
    assert a.fs == 10_000 and a.v.size == 20_000


def test_oscillation_trigger_share_leaves_other_spikes_in_episodes():
    tr = simulate_trace(duration_s=30, fs_hz=10_000, sso=True, pattern="irregular", rate_hz=5,
                        spike_location="episodes", oscillation_trigger_share=0.5, seed=15)
    trig = np.array([s["trigger"] == "oscillation" for s in tr.truth["spikes"]])
    assert trig.size > 40 and 0.3 < trig.mean() < 0.7  # binomial(n, 0.5), n > 40


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31), pattern=st.sampled_from(["silent", "tonic", "bursting", "irregular"]),
       fs=st.sampled_from([1_000, 7_000, 20_000]), sso=st.booleans(), loc=st.sampled_from(["anywhere", "episodes"]))
def test_truth_invariants(seed, pattern, fs, sso, loc):
    tr = simulate_trace(duration_s=4, fs_hz=fs, sso=sso, pattern=pattern, spike_location=loc, seed=seed)
    eps, spk = tr.truth["episodes"], tr.truth["spikes"]
    assert np.all(np.isfinite(tr.v)) and tr.truth["sso_cell"] == bool(eps)
    for a, b in zip(eps[:-1], eps[1:]):
        assert a["end_s"] < b["start_s"]
    for e in eps:
        assert 0 <= e["start_s"] < e["end_s"] <= 4 and 10 <= e["frequency_hz"] <= 200 and e["amplitude_mv"] > 0
    peaks = np.array([s["peak_s"] for s in spk])
    assert np.all(np.diff(peaks) >= 0.005 - 1e-9) and (pattern != "silent" or not spk)
    assert all(0 < s["threshold_s"] < s["peak_s"] < 4 for s in spk)
    assert tr.truth["pattern"] == (pattern if spk else "silent")
