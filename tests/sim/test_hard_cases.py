"""The hard cases of the simulator: SSO-locked firing, broad humped APs, AHP ranges, dying and offset cells."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import find_peaks

from drgephys.sim import PRESETS, TraceSpec, preset, simulate_trace
from drgephys.sim import action_potential as AP
from drgephys.sim.locking import locked_cycles

QUIET = dict(pink_noise_mv=0.0, white_noise_mv=0.0, drift_mv=0.0)
ONSET_LAG_S = (-1.5e-3, 0.5e-3)  # cycle peak relative to threshold_s (threshold lies just after the onset)
CYCLE_FRACTION_TOL = 0.25        # ISI x mean frequency within this of a whole number (5 % period jitter)
RATE_REL_TOL = 0.15              # in-episode rate vs the rate aimed at (tonic, cycles 2-3 mixed)
HALF_WIDTH_TOL_MS = 0.05         # measured half-width vs requested (grid 0.01 ms at 100 kHz)
CALIBRATION_TOL_MS = 0.01        # calibrated template's half-width vs requested (2 us grid)
PEAK_TOL_MV = 1.0
AHP_DEPTH_TOL_MV = 0.6           # AHP minimum vs requested depth (the kernel's tail adds a little)
AHP_TAU_REL_TOL = 0.05


@pytest.fixture(scope="module")
def locked20():
    """A cell firing at 20 Hz on the peaks of a 45 Hz SSO (preset sso_tonic), noise-free."""
    eps = ({"start_s": 0.5, "end_s": 3.5}, {"start_s": 5.0, "end_s": 8.0})
    return simulate_trace(preset("sso_tonic", duration_s=9.0, fs_hz=20_000, episodes=eps, **QUIET), seed=21)


def _cycle_peaks(tr):
    x = tr.components["sso"]
    pk, _ = find_peaks(x)
    return pk / tr.fs


def test_locked_spikes_start_at_cycle_peaks(locked20):
    spikes = locked20.truth["spikes"]
    assert len(spikes) > 100 and all(s["trigger"] == "oscillation" for s in spikes)
    peaks = _cycle_peaks(locked20)
    for s in spikes:
        lag = peaks[np.argmin(np.abs(peaks - s["threshold_s"]))] - s["threshold_s"]
        assert ONSET_LAG_S[0] < lag < ONSET_LAG_S[1]


def test_locked_isis_are_two_or_three_whole_cycles(locked20):
    peaks = _cycle_peaks(locked20)
    for e in locked20.truth["episodes"]:
        th = np.array([s["threshold_s"] for s in locked20.truth["spikes"] if e["start_s"] <= s["threshold_s"] < e["end_s"]])
        cycles = np.diff(th) * e["frequency_hz"]
        assert np.all(np.abs(cycles - np.round(cycles)) < CYCLE_FRACTION_TOL)
        # cycle peaks between two spikes: 45/20 = 2.25 cycles per spike -> gaps of 2 or 3 cycles
        skipped = np.array([np.count_nonzero((peaks > a + 2e-3) & (peaks <= b + 2e-3)) for a, b in zip(th[:-1], th[1:])])
        assert set(skipped) == {2, 3}
        assert np.mean(skipped) == pytest.approx(2.25, abs=0.25)
        assert e["firing_rate_hz"] == pytest.approx(20.0, rel=RATE_REL_TOL)


def test_oscillation_goes_on_between_locked_spikes(locked20):
    x = locked20.components["sso"]
    th = np.array([s["threshold_s"] for s in locked20.truth["spikes"]])
    e = locked20.truth["episodes"][0]
    inside = th[(th > e["start_s"] + 0.6) & (th < e["end_s"] - 0.6)]  # on the envelope's plateau
    for a, b in zip(inside[:-1], inside[1:]):
        seg = x[int((a + 0.003) * locked20.fs):int((b - 0.003) * locked20.fs)]
        assert np.ptp(seg) > 0.5 * e["amplitude_mv"]


def test_truth_firing_rate_counts_the_spikes_inside_each_episode():
    tr = simulate_trace(preset("sso_bursting", duration_s=20, fs_hz=10_000), seed=3)
    th = np.array([s["threshold_s"] for s in tr.truth["spikes"]])
    assert tr.truth["episodes"]
    for e in tr.truth["episodes"]:
        n = np.count_nonzero((th >= e["start_s"]) & (th < e["end_s"]))
        assert e["firing_rate_hz"] == n / (e["end_s"] - e["start_s"])
    assert 0 < tr.truth["episodes"][0]["firing_rate_hz"]


def test_locked_bursts_ride_consecutive_cycle_peaks():
    eps = ({"start_s": 0.5, "end_s": 9.5},)
    tr = simulate_trace(preset("sso_bursting", duration_s=10, fs_hz=20_000, episodes=eps, **QUIET), seed=4)
    th = np.array([s["threshold_s"] for s in tr.truth["spikes"]])
    assert th.size > 30 and {s["trigger"] for s in tr.truth["spikes"]} == {"oscillation"}
    cycles = np.diff(th) * tr.truth["episodes"][0]["frequency_hz"]
    intra = cycles[cycles < 2.5]
    # spikes of a burst: one cycle apart (cycles_per_spike low end); silences >= 0.25 s (>= 11 cycles at 45 Hz)
    assert intra.size > th.size / 3 and np.all(np.abs(intra - 1) < CYCLE_FRACTION_TOL)
    assert np.all(cycles[cycles >= 2.5] > 11 - CYCLE_FRACTION_TOL)


def test_locked_spikes_not_launched_by_a_peak_sit_at_any_phase():
    eps = ({"start_s": 0.5, "end_s": 9.5},)
    tr = simulate_trace(preset("sso_tonic", duration_s=10, fs_hz=20_000, episodes=eps, oscillation_trigger_share=0.5,
                               **QUIET), seed=12)
    peaks = _cycle_peaks(tr)
    lag = {"oscillation": [], "other": []}
    for s in tr.truth["spikes"]:
        lag[s["trigger"]].append(peaks[np.argmin(np.abs(peaks - s["threshold_s"]))] - s["threshold_s"])
    assert len(lag["other"]) > 40 and len(lag["oscillation"]) > 40  # binomial(n ~ 180, 0.5)
    on_peak = lambda x: (ONSET_LAG_S[0] < np.asarray(x)) & (np.asarray(x) < ONSET_LAG_S[1])  # noqa: E731
    assert on_peak(lag["oscillation"]).all()
    assert on_peak(lag["other"]).mean() < 0.3  # uniform phase: ~2 ms of a 22 ms cycle lands near the peak


@settings(max_examples=40, deadline=None)
@given(pattern=st.sampled_from(["tonic", "bursting", "irregular"]), f=st.floats(20, 150), rate=st.floats(3, 40),
       lo=st.integers(1, 3), extra=st.integers(0, 4), seed=st.integers(0, 2**31))
def test_locked_cycles_gaps_follow_the_pattern(pattern, f, rate, lo, extra, seed):
    hi = lo + extra
    n = 4000
    idx = locked_cycles(pattern, n, f, rate, cycles_per_spike=(lo, hi), burst_size=(2, 5),
                        rng=np.random.default_rng(seed))
    assert idx.size > 0 and np.all(np.diff(idx) >= lo) and idx[0] >= 0 and idx[-1] < n
    gaps = np.diff(idx)
    m = f / rate
    if pattern == "tonic":
        mc = min(max(m, lo), hi)
        assert set(gaps) <= {int(np.floor(mc)), int(np.ceil(mc))}
        assert gaps.mean() == pytest.approx(mc, abs=0.1 + 4 * np.sqrt(0.25 / gaps.size))
    elif pattern == "bursting":
        assert np.count_nonzero(gaps == lo) >= gaps.size // 3  # spikes of a burst are `lo` cycles apart
        long_gaps = gaps[gaps > lo]
        assert long_gaps.size and long_gaps.min() >= max(3 * 4 * lo, 0.25 * f)
    else:
        assert gaps.mean() == pytest.approx(max(m, lo), rel=0.2)


def test_rate_above_what_the_cycles_allow_is_capped():
    # 45 Hz SSO, one spike per cycle at most: a 60 Hz rate gives 45 Hz
    idx = locked_cycles("tonic", 450, 45.0, 60.0, cycles_per_spike=(1, 4), burst_size=(2, 5),
                        rng=np.random.default_rng(0))
    assert np.all(np.diff(idx) == 1)


@pytest.mark.parametrize("hw, shoulder", [(3.0, 0.6), (8.0, 0.7), (15.0, 0.85)])
def test_broad_humped_ap_half_width_and_shoulder(hw, shoulder):
    tr = simulate_trace(duration_s=2, fs_hz=100_000, pattern="tonic", rate_hz=2, resting_vm_mv=-55,
                        spike_threshold_mv=-30, spike_peak_mv=45, spike_half_width_ms=hw,
                        spike_shoulder_fraction=shoulder, ahp_mv=8, ahp_tau_ms=40, seed=5, **QUIET)
    v = tr.components["baseline"] + tr.components["spikes"]
    assert len(tr.truth["spikes"]) >= 2
    for s in tr.truth["spikes"]:
        i, j = int(round(s["peak_s"] * tr.fs)), int(round(s["threshold_s"] * tr.fs))
        thr, pk = v[j], v[i]
        assert pk == pytest.approx(45.0, abs=PEAK_TOL_MV) and np.argmax(v[i - 20:i + 21]) == pytest.approx(20, abs=1)
        width = np.count_nonzero(v[j:i + int(0.05 * tr.fs)] > (thr + pk) / 2) / tr.fs * 1e3
        assert width == pytest.approx(hw, abs=HALF_WIDTH_TOL_MS)
        assert s["half_width_ms"] == pytest.approx(hw, abs=HALF_WIDTH_TOL_MS)
        # the shoulder: a third of the half-width after the peak the AP is still above half amplitude,
        # falling far slower than a fast AP's repolarisation
        k = i + int(hw / 3 * 1e-3 * tr.fs)
        assert v[k] > (thr + pk) / 2
        assert abs(v[k + 10] - v[k]) / (10 / tr.fs * 1e3) < 10.0  # mV/ms on the shoulder


def test_fast_ap_has_no_shoulder():
    tr = simulate_trace(duration_s=1, fs_hz=100_000, pattern="tonic", rate_hz=3, spike_half_width_ms=1.0, seed=6,
                        **QUIET)
    v = tr.components["baseline"] + tr.components["spikes"]
    s = tr.truth["spikes"][0]
    i, j = int(round(s["peak_s"] * tr.fs)), int(round(s["threshold_s"] * tr.fs))
    assert v[i + int(2e-3 * tr.fs)] < (v[i] + v[j]) / 2  # 2 ms after the peak a 1 ms AP is down


@settings(max_examples=12, deadline=None)
@given(hw=st.floats(1.5, 15), shoulder=st.floats(0.6, 0.9), delta=st.floats(3, 40), height=st.floats(50, 110))
def test_calibrated_humped_template_has_the_requested_half_width(hw, shoulder, delta, height):
    shape = AP.calibrate(hw, shoulder, delta, delta + height, 8.0, 0.04)
    assert AP.measured_half_width_ms(shape, delta, delta + height, 8.0, 0.04) == pytest.approx(hw, abs=CALIBRATION_TOL_MS)


@pytest.mark.parametrize("depth, tau", [(3.0, 10.0), (8.0, 40.0), (15.0, 80.0)])
def test_ahp_depth_and_recovery(depth, tau):
    tr = simulate_trace(duration_s=2, fs_hz=50_000, pattern="tonic", rate_hz=1, ahp_mv=depth, ahp_tau_ms=tau, seed=7,
                        **QUIET)
    v = tr.components["spikes"]
    s = tr.truth["spikes"][0]
    i = int(round(s["peak_s"] * tr.fs))
    seg = v[i:i + int(0.6 * tr.fs)]
    m = int(np.argmin(seg))
    assert -seg[m] == pytest.approx(depth, abs=AHP_DEPTH_TOL_MV)
    t = np.arange(seg.size) / tr.fs
    sel = (t > t[m] + tau * 1e-3) & (t < t[m] + 3 * tau * 1e-3)
    slope = np.polyfit(t[sel], np.log(-seg[sel]), 1)[0]
    assert -1 / slope * 1e3 == pytest.approx(tau, rel=AHP_TAU_REL_TOL)


def test_dying_cell_depolarises_and_stops_firing():
    tr = simulate_trace(preset("dying", duration_s=20, fs_hz=10_000), seed=8)
    assert np.median(tr.v) > -20.0
    assert tr.v[-tr.v.size // 10:].mean() == pytest.approx(-10.0, abs=1.0)  # it stays there
    base = tr.components["baseline"]
    for s in tr.truth["spikes"]:  # depolarization block: no spike once the baseline is above threshold
        assert base[int(s["threshold_s"] * tr.fs)] < -40.0
    assert tr.truth["spikes"] and max(s["peak_s"] for s in tr.truth["spikes"]) < 4.0


def test_offset_recording_sits_near_zero():
    tr = simulate_trace(preset("offset", duration_s=10, fs_hz=20_000), seed=9)
    assert abs(np.median(tr.v)) < 3.0 and tr.v.max() == pytest.approx(100.0, abs=5.0)
    assert tr.truth["offset_mv"] == 60.0 and tr.truth["resting_vm_mv"] == -60.0
    sso = simulate_trace(duration_s=4, fs_hz=10_000, episodes=({"start_s": 1, "end_s": 3},), offset_mv=60.0, seed=9,
                         **QUIET)
    assert sso.truth["episodes"][0]["mean_vm_mv"] == pytest.approx(-60 + 2 + 60, abs=0.2)


@pytest.mark.parametrize("name", ["noise_only", "hum_only", "tonic_no_sso", "bursting_no_sso"])
def test_negative_presets_have_no_episode(name):
    tr = simulate_trace(preset(name, duration_s=10, fs_hz=10_000), seed=10)
    assert tr.truth["episodes"] == [] and tr.truth["sso_cell"] is False
    firing = name.endswith("no_sso")
    assert bool(tr.truth["spikes"]) == firing and all(s["trigger"] == "other" for s in tr.truth["spikes"])
    if name == "hum_only":
        assert tr.truth["hum_hz"] == 50


@settings(max_examples=12, deadline=None)
@given(name=st.sampled_from(sorted(PRESETS)), seed=st.integers(0, 2**31))
def test_presets_reproducible(name, seed):
    a = simulate_trace(preset(name, duration_s=4, fs_hz=10_000), seed=seed)
    b = simulate_trace(preset(name, duration_s=4, fs_hz=10_000), seed=seed)
    np.testing.assert_array_equal(a.v, b.v)
    assert a.truth == b.truth and np.all(np.isfinite(a.v))


def test_preset_validation():
    with pytest.raises(ValueError, match="`name` must be one of"):
        preset("zombie")
    with pytest.raises(TypeError, match="`base` must be a drgephys.sim.TraceSpec"):
        preset("dying", base={"duration_s": 1})
    assert preset("sso_tonic", base=TraceSpec(duration_s=5.0), rate_hz=25.0).rate_hz == 25.0


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(spike_half_width_ms=20), ValueError, "`spike_half_width_ms` must be between 0.3 and 15 ms"),
    (dict(spike_half_width_ms=8), ValueError, "at most 5 ms for a fast AP"),
    (dict(spike_half_width_ms=1.0, spike_shoulder_fraction=0.7), ValueError, "at least 1.5 ms for a humped AP"),
    (dict(spike_half_width_ms=4, spike_shoulder_fraction=0.3), ValueError, "`spike_shoulder_fraction` must be 0"),
    (dict(spike_shoulder_fraction=1.2), ValueError, "`spike_shoulder_fraction` must be between 0 and 0.9"),
    (dict(ahp_tau_ms=-1), ValueError, "`ahp_tau_ms` must be between 2 and 500 ms"),
    (dict(ahp_mv=40), ValueError, "`ahp_mv` must be between 0 and 30 mV"),
    (dict(cycles_per_spike=(0, 3), spike_location="episodes"), ValueError, "`cycles_per_spike` must be"),
    (dict(cycles_per_spike=(3, 2), spike_location="episodes"), ValueError, "`cycles_per_spike` must be"),
    (dict(cycles_per_spike=(1.5, 2), spike_location="episodes"), ValueError, "whole numbers"),
    (dict(cycles_per_spike=(1, 4)), ValueError, "needs `spike_location='episodes'`"),
    (dict(burst_size=(1, 5)), ValueError, "`burst_size` must be"),
    (dict(intra_burst_isi_ms=0), ValueError, "`intra_burst_isi_ms` must be between"),
    (dict(dying_vm_mv=-70), ValueError, "`dying_vm_mv` must be between -40 and 20 mV"),
    (dict(resting_vm_mv=-35, spike_threshold_mv=-30, dying_vm_mv=-38), ValueError, "must be above `resting_vm_mv`"),
    (dict(dying_tau_s=0), ValueError, "`dying_tau_s` must be between"),
    (dict(offset_mv=500), ValueError, "`offset_mv` must be between -150 and 150 mV"),
    (dict(offset_mv="big"), TypeError, "`offset_mv` must be a number in mV"),
])
def test_validation_of_new_fields(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        TraceSpec(**kwargs)


def test_new_fields_round_trip_through_to_dict():
    spec = preset("sso_bursting")
    d = spec.to_dict()
    assert d["cycles_per_spike"] == [1, 4] and d["burst_size"] == [2, 5]
    back = TraceSpec(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items()})
    assert back == spec


@settings(max_examples=15, deadline=None)
@given(pattern=st.sampled_from(["tonic", "bursting", "irregular"]), f=st.floats(25, 110), rate=st.floats(5, 30),
       seed=st.integers(0, 2**31))
def test_locked_firing_invariants(pattern, f, rate, seed):
    eps = ({"start_s": 0.3, "end_s": 2.3}, {"start_s": 3.3, "end_s": 4.6})
    tr = simulate_trace(duration_s=5, fs_hz=5_000, episodes=eps, sso_ref_vm_mv=None, sso_frequency_hz=f,
                        pattern=pattern, rate_hz=rate, spike_location="episodes", cycles_per_spike=(1, 4),
                        burst_size=(2, 5), seed=seed)
    th = np.array([s["threshold_s"] for s in tr.truth["spikes"]])
    assert all(s["trigger"] == "oscillation" for s in tr.truth["spikes"])
    assert np.all(np.diff(th) >= 0.005 - 1e-9)
    within = [(th >= e["start_s"]) & (th < e["end_s"] + 2e-3) for e in tr.truth["episodes"]]
    assert np.all(np.any(within, axis=0))  # every spike starts at a cycle peak inside an episode
    for e in tr.truth["episodes"]:
        n = np.count_nonzero((th >= e["start_s"]) & (th < e["end_s"]))
        assert e["firing_rate_hz"] == n / (e["end_s"] - e["start_s"]) <= e["frequency_hz"] * 1.2
