"""Known-answer and negative tests of detect_oscillations on traces of the simulator (drgephys.sim)."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drgephys.oscillations import OscillationParams, detect_oscillations, summarize_oscillations
from drgephys.sim import components as sim_components
from drgephys.sim import score, simulate_trace
from drgephys.spikes import detect_spikes

FS = 20000.0
FREQ_TOL_HZ = 0.3          # project target: median frequency error <= 0.3 Hz
AMP_REL_TOL = 0.10         # project target: median amplitude error <= 10 %
AMP_CASE_TOL = 0.15        # single episode (the 90th percentile of noisy cycles reads high at low SNR)
BOUNDARY_TOL_S = 0.05      # episode start/end vs the envelope's half-maximum points (see _boundary_tol_s)
COLUMNS = ["start_s", "end_s", "frequency_hz", "amplitude_mv", "n_cycles", "mean_vm_mv", "power_db",
           "period_cv", "amplitude_cv", "sinusoidality", "p_value"]

#: Known-answer traces: the simulator's SSO as a plain sinusoid under its envelope (no period jitter, amplitude
#: modulation, second harmonic, frequency-potential slope or depolarization) on a flat baseline (no drift)
#: with 0.3 mV pink and 0.1 mV white noise, so each episode's truth is the frequency and amplitude asked for.
PLAIN = dict(period_jitter=0.0, amplitude_modulation=0.0, harmonic_fraction=0.0, sso_slope_hz_per_mv=0.0,
             sso_depolarization_mv=0.0, drift_mv=0.0, pink_noise_mv=0.3, white_noise_mv=0.1)
#: AP after-hyperpolarization of the firing traces (8 mV, recovering with 15 ms).
AHP = dict(ahp_mv=8.0, ahp_tau_ms=15.0)


def _trace(duration_s, fs=FS, *, episodes=(), seed=0, **spec):
    """``simulate_trace`` with :data:`PLAIN` settings (overridden by ``spec``) and explicit episodes
    ``(start_s, end_s, frequency_hz, peak_to_peak_mv)``."""
    eps = tuple(dict(start_s=s, end_s=e, frequency_hz=f, amplitude_mv=a) for s, e, f, a in episodes) or None
    return simulate_trace(duration_s=duration_s, fs_hz=fs, episodes=eps, seed=seed, **{**PLAIN, **spec})


def _spikes(sim, ahp_taus=4.0):
    """The true spikes of ``sim`` as the spans ``detect_oscillations`` blanks: from the threshold sample to
    ``ahp_taus`` AHP time constants after the peak (an empty table for a silent trace)."""
    tau_s = sim.truth["spec"]["ahp_tau_ms"] * 1e-3
    thr = [int(np.floor(s["threshold_s"] * sim.fs)) for s in sim.truth["spikes"]]
    end = [min(sim.v.size - 1, int(round((s["peak_s"] + ahp_taus * tau_s) * sim.fs))) for s in sim.truth["spikes"]]
    return pd.DataFrame({"threshold_index": thr, "end_index": end}, dtype="int64")


def _boundary_tol_s(truth):
    """Start/end tolerance of a true episode: BOUNDARY_TOL_S, or, on the long raised-cosine ramps of the
    simulator's envelope (``RAMP_FRACTION`` = 0.4 of the episode each side), the shift of the half-maximum
    point that an amplitude error of AMP_CASE_TOL causes (ramp · AMP_CASE_TOL · 2/π), when larger."""
    ramp_s = sim_components.RAMP_FRACTION * (truth["end_s"] - truth["start_s"])
    return max(BOUNDARY_TOL_S, ramp_s * AMP_CASE_TOL * 2 / np.pi)


def _at_boundaries(row, truth):
    tol = _boundary_tol_s(truth)
    return abs(row.start_s - truth["start_s"]) <= tol and abs(row.end_s - truth["end_s"]) <= tol


def _detect(sim, **kw):
    return detect_oscillations(sim.v, sim.fs, spikes=_spikes(sim), **kw)


def _one(det, start, end):
    """The detection overlapping [start, end] most."""
    ov = np.minimum(det["end_s"], end) - np.maximum(det["start_s"], start)
    assert (ov > 0).any(), f"no detection overlaps [{start}, {end}]:\n{det}"
    return det.iloc[int(np.argmax(ov))]


def _all_found_none_false(sim, det):
    """Every true episode found and every detection true (drgephys.sim.score's 50 % overlap rule), and each
    true episode's frequency within FREQ_TOL_HZ in the detection overlapping it most."""
    s = score(sim.truth, {"oscillations": det, "spikes": pd.DataFrame({"peak_s": []})})
    n = len(sim.truth["episodes"])
    assert (s["n_true_episodes"], s["n_detected_episodes"]) == (n, n), det
    assert s["episode_recall"] == s["episode_precision"] == 1.0, det
    for ep in sim.truth["episodes"]:
        assert abs(_one(det, ep["start_s"], ep["end_s"]).frequency_hz - ep["frequency_hz"]) <= FREQ_TOL_HZ


KNOWN = [(15.0, 3.0), (40.0, 2.0), (73.3, 1.5), (120.0, 2.5), (180.0, 3.0)]


def _known(freq, pp):
    start, end = 1.0, 1.0 + max(30 / freq, 0.4)
    sim = _trace(4.0, episodes=[(start, end, freq, pp)], seed=int(freq))
    return sim.truth["episodes"][0], _detect(sim)


@pytest.mark.parametrize("freq, pp", KNOWN)
def test_known_episode_frequency_amplitude_boundaries(freq, pp):
    truth, det = _known(freq, pp)
    assert (truth["frequency_hz"], truth["amplitude_mv"]) == pytest.approx((freq, pp), rel=1e-3)
    assert list(det.columns) == COLUMNS
    assert len(det) == 1, det
    row = det.iloc[0]
    assert abs(row.frequency_hz - truth["frequency_hz"]) <= FREQ_TOL_HZ
    assert abs(row.amplitude_mv / truth["amplitude_mv"] - 1) <= AMP_CASE_TOL
    assert _at_boundaries(row, truth)
    assert row.n_cycles == pytest.approx((row.end_s - row.start_s) * row.frequency_hz)
    assert row.mean_vm_mv == pytest.approx(-60.0, abs=0.5)
    assert 0.8 <= row.sinusoidality <= 1.0 and row.power_db > 10 and row.period_cv < 0.1


def test_known_episodes_median_amplitude_error():
    errors = [abs(det.iloc[0].amplitude_mv / truth["amplitude_mv"] - 1)
              for truth, det in (_known(f, pp) for f, pp in KNOWN)]
    assert np.median(errors) <= AMP_REL_TOL


def test_mean_vm_from_original_trace_not_drift_removed():
    sim = _trace(4.0, episodes=[(1.0, 2.0, 40.0, 2.0)], resting_vm_mv=-52.0, seed=3)
    v = sim.v + np.linspace(0.0, 8.0, sim.v.size)          # slow drift: -52 at 0 s to -44 at 4 s
    row = _one(detect_oscillations(v, FS, spikes=_spikes(sim)), 1.0, 2.0)
    assert row.mean_vm_mv == pytest.approx(-52.0 + 8.0 * 1.5 / 4.0, abs=0.3)


def test_several_episodes_all_found_none_false():
    eps = [(0.5, 1.2, 25.0, 2.0), (2.0, 2.5, 60.0, 1.5), (3.2, 3.6, 110.0, 2.0), (4.5, 5.5, 45.0, 1.0)]
    sim = _trace(6.0, episodes=eps, seed=4)
    _all_found_none_false(sim, _detect(sim))


@pytest.mark.parametrize("seed", range(4))
def test_noise_only_gives_no_episode(seed):
    sim = _trace(20.0, seed=100 + seed, pink_noise_mv=0.4, white_noise_mv=0.15)
    assert len(_detect(sim)) == 0


def _with_hum(sim, hum_hz, pp_mv, seed):
    """``sim.v`` plus a pure mains line at ``hum_hz`` made by the simulator's hum component (``TraceSpec``
    poses hum at exactly 50 or 60 Hz only; real mains wander by a tenth of a hertz)."""
    rng = np.random.default_rng(seed)
    return sim.v + sim_components.hum(sim.v.size, sim.fs, hum_hz, pp_mv / 2, (1.0,), rng)


@pytest.mark.parametrize("hum_hz, offset_hz", [(50.0, 0.0), (50.0, 0.1), (60.0, -0.1), (60.0, 0.05)])
def test_hum_only_gives_no_episode_and_is_reported(hum_hz, offset_hz):
    sim = _trace(10.0, seed=7)
    det = detect_oscillations(_with_hum(sim, hum_hz + offset_hz, 1.0, seed=7), FS, spikes=_spikes(sim))
    assert len(det) == 0, det
    lines = det.attrs["mains_lines"]
    assert any(abs(ln["frequency_hz"] - hum_hz - offset_hz) < 0.01 for ln in lines), lines


def test_hum_with_harmonics_gives_no_episode():
    sim = _trace(10.0, seed=8, hum_hz=60, hum_amplitude_mv=0.5, hum_harmonics=(1.0, 0.6, 0.4))
    det = _detect(sim)
    assert len(det) == 0, det
    found = sorted(round(ln["frequency_hz"]) for ln in det.attrs["mains_lines"])
    assert found == [60, 120, 180]


@pytest.mark.parametrize("sso_hz, dur_s", [(50.0, 1.0), (60.0, 1.0), (50.0, 3.0), (60.3, 3.0)])
def test_sso_at_mains_frequency_survives_hum_removal(sso_hz, dur_s):
    """Even phase-locked at exactly the mains frequency for 3 s (under half the hum's median window)."""
    hum_hz = round(sso_hz / 10) * 10
    sim = _trace(12.0, episodes=[(2.0, 2.0 + dur_s, sso_hz, 2.0)], seed=9, hum_hz=hum_hz, hum_amplitude_mv=0.5,
                 hum_harmonics=(1.0,))
    det = _detect(sim)
    assert len(det) == 1, det
    row, truth = det.iloc[0], sim.truth["episodes"][0]
    assert abs(row.frequency_hz - truth["frequency_hz"]) <= FREQ_TOL_HZ
    assert abs(row.amplitude_mv / truth["amplitude_mv"] - 1) <= 2 * AMP_REL_TOL
    assert _at_boundaries(row, truth)


@pytest.mark.parametrize("rate_hz", [8.0, 12.5, 20.0])
@pytest.mark.parametrize("blank_taus", [1.0, 3.0])
def test_tonic_firing_gives_no_episode(rate_hz, blank_taus):
    """AHP remnants of regular firing (the simulator's tonic pattern: ISI CV 0.1) must not become episodes at
    multiples of the rate, even when blanking stops after one AHP time constant."""
    sim = _trace(10.0, seed=10, pattern="tonic", rate_hz=rate_hz, **AHP)
    assert len(sim.truth["spikes"]) > 6 * rate_hz
    assert len(detect_oscillations(sim.v, FS, spikes=_spikes(sim, blank_taus))) == 0


def test_episode_with_spikes_on_its_peaks_is_found_once():
    sim = _trace(4.0, episodes=[(1.0, 3.0, 40.0, 3.0)], seed=11, pattern="tonic", rate_hz=2.0,
                 spike_location="episodes", **AHP)
    assert {s["trigger"] for s in sim.truth["spikes"]} == {"oscillation"}
    det = _detect(sim)
    assert len(det) == 1
    assert abs(det.iloc[0].frequency_hz - sim.truth["episodes"][0]["frequency_hz"]) <= FREQ_TOL_HZ


def test_spikes_none_detects_spikes_itself():
    """``spikes=None`` runs ``detect_spikes`` (same table as passing its output) and measures the episode as
    the true spike spans do."""
    sim = _trace(5.0, episodes=[(1.0, 2.0, 45.0, 2.0)], seed=12, pattern="tonic", rate_hz=3.0, **AHP)
    assert len(sim.truth["spikes"]) > 10
    a = _detect(sim)
    b = detect_oscillations(sim.v, FS)
    pd.testing.assert_frame_equal(b, detect_oscillations(sim.v, FS, spikes=detect_spikes(sim.v, FS)))
    assert len(a) == len(b) == 1
    assert b.iloc[0].frequency_hz == pytest.approx(a.iloc[0].frequency_hz, abs=0.05)


def test_current_step_edges_give_no_episode():
    sim = _trace(3.0, seed=13, pink_noise_mv=0.1, white_noise_mv=0.1)
    v, spikes = sim.v, _spikes(sim)
    t = np.arange(v.size) / FS
    tau = 0.02
    on, off = (t >= 0.5), (t >= 2.0)
    for amp in (-100.0, -13.0, 13.0, 300.0):
        step = amp * (on * (1 - np.exp(-(t - 0.5) / tau)) - off * (1 - np.exp(-(t - 2.0) / tau)))
        assert len(detect_oscillations(v + step, FS, spikes=spikes)) == 0, amp
    for amp in (-20.0, 3.0, 20.0):                 # instantaneous jumps (bridge or offset errors)
        assert len(detect_oscillations(v + amp * (on.astype(float) - off), FS, spikes=spikes)) == 0, amp


@pytest.mark.parametrize("fs", [1000.0, 2000.0, 5000.0, 10000.0, 25000.0, 50000.0])
def test_sampling_rates(fs):
    sim = _trace(4.0, fs, episodes=[(1.0, 2.0, 35.0, 2.0), (2.5, 3.0, 120.0, 2.0)], seed=14)
    _all_found_none_false(sim, _detect(sim))


def test_band_top_clipped_below_nyquist_with_warning():
    sim = _trace(3.0, 1000.0, episodes=[(1.0, 2.0, 35.0, 2.0)], seed=15)
    params = OscillationParams(band_hz=(10.0, 450.0))
    with pytest.warns(UserWarning, match=r"band top 450 Hz clipped to 333\.333 Hz"):
        det = _detect(sim, params=params)
    assert det.attrs["band_hz"] == pytest.approx((10.0, 1000.0 / 3))
    assert len(det) == 1


def test_too_slow_recording_raises():
    with pytest.raises(ValueError, match=r"`fs` is too low for `band_hz`"):
        detect_oscillations(np.zeros(1000), 50.0)


@settings(max_examples=5, deadline=None)
@given(scale=st.floats(0.5, 3.0))
def test_frequency_invariant_to_amplitude_scaling(scale):
    sim = _trace(3.0, 10000.0, episodes=[(1.0, 2.0, 47.0, 2.0)], seed=16)
    ref = _detect(sim)
    vm = np.mean(sim.v)
    det = detect_oscillations(vm + scale * (sim.v - vm), 10000.0, spikes=_spikes(sim))
    assert len(det) == len(ref) == 1
    assert det.iloc[0].frequency_hz == pytest.approx(ref.iloc[0].frequency_hz, abs=1e-3)
    assert det.iloc[0].amplitude_mv == pytest.approx(scale * ref.iloc[0].amplitude_mv, rel=1e-3)


_LONG = _trace(5.0, 10000.0, episodes=[(2.5, 3.5, 63.0, 2.0)], seed=17)


@settings(max_examples=5, deadline=None)
@given(shift_s=st.floats(0.0, 1.5))
def test_frequency_invariant_to_time_shift(shift_s):
    k = int(round(shift_s * 10000.0))
    det = detect_oscillations(_LONG.v[k:k + 30000], 10000.0, spikes=_spikes(_LONG))
    assert len(det) == 1
    row, truth = det.iloc[0], _LONG.truth["episodes"][0]
    assert abs(row.frequency_hz - truth["frequency_hz"]) <= FREQ_TOL_HZ
    assert abs(row.start_s - (truth["start_s"] - k / 10000.0)) <= _boundary_tol_s(truth)


def test_params_are_frozen_and_serialisable():
    p = OscillationParams()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.min_cycles = 2  # type: ignore[misc]
    d = dataclasses.asdict(p)
    assert d["band_hz"] == (10.0, 200.0) and d["wavelet_cycles"] == 6.0 and d["min_cycles"] == 3.0


@pytest.mark.parametrize("kwargs, exc, pattern", [
    ({"band_hz": (200.0, 10.0)}, ValueError, r"`band_hz` must be a pair \(low, high\) with 0 < low < high"),
    ({"band_hz": "low"}, TypeError, r"`band_hz` must be a pair"),
    ({"min_cycles": -1.0}, ValueError, r"`min_cycles` must be > 0; got -1.0"),
    ({"n_freqs": 1}, ValueError, r"`n_freqs` must be an integer >= 2"),
    ({"power_percentile": 100.0}, ValueError, r"`power_percentile` must lie in \(0, 100\)"),
    ({"wavelet_cycles": "six"}, TypeError, r"`wavelet_cycles` must be a finite number"),
    ({"max_fs_ratio": 2.0}, ValueError, r"`max_fs_ratio` must be > 2"),
])
def test_params_validation(kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        OscillationParams(**kwargs)


@pytest.mark.parametrize("v, fs, spikes, exc, pattern", [
    (np.zeros(20000), -1.0, None, ValueError, r"`fs` must be a positive number in Hz; got -1"),
    (np.zeros(20000), "fast", None, TypeError, r"`fs` must be a positive number in Hz"),
    (np.zeros((2, 20000)), 20000.0, None, ValueError, r"`v` must be a 1-D array"),
    (np.full(20000, np.nan), 20000.0, None, ValueError, r"`v` must be finite"),
    (np.zeros(100), 20000.0, None, ValueError, r"`v` must last at least 3 cycles"),
    (np.zeros(20000), 20000.0, [1, 2], TypeError, r"`spikes` must be the DataFrame"),
    (np.zeros(20000), 20000.0, pd.DataFrame({"peak_index": [5]}), ValueError, r"missing \['threshold_index', 'end_index'\]"),
    (np.zeros(20000), 20000.0, pd.DataFrame({"threshold_index": [5], "end_index": [20000]}), ValueError,
     r"0 <= threshold_index <= end_index < len\(v\) = 20000"),
    (np.zeros(20000), 20000.0, pd.DataFrame({"threshold_index": [50], "end_index": [10]}), ValueError,
     r"spans must satisfy"),
])
def test_input_validation(v, fs, spikes, exc, pattern):
    with pytest.raises(exc, match=pattern):
        detect_oscillations(v, fs, spikes=spikes)


def test_params_type_checked():
    with pytest.raises(TypeError, match=r"`params` must be an OscillationParams; got dict"):
        detect_oscillations(np.zeros(20000), 20000.0, spikes=None, params={})


def test_flat_trace_gives_empty_table_with_columns():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        det = detect_oscillations(np.full(20000, -60.0), 20000.0,
                                  spikes=pd.DataFrame(columns=["threshold_index", "end_index"]))
    assert len(det) == 0 and list(det.columns) == COLUMNS


def test_summary():
    eps = pd.DataFrame({"start_s": [0.0, 2.0, 5.0], "end_s": [1.0, 2.5, 8.0], "frequency_hz": [40.0, 80.0, 42.0],
                        "amplitude_mv": [1.0, 3.0, 2.0]})
    s = summarize_oscillations(eps, 10.0)
    assert s["sso_detected"] is True
    assert s["sso_frequency_hz"] == 42.0           # durations 1, 0.5, 3 s: weighted median is the 3-s episode
    assert s["sso_amplitude_mv"] == 2.0
    assert s["sso_time_fraction"] == pytest.approx(0.45)
    empty = summarize_oscillations(eps.iloc[:0], 10.0)
    assert empty["sso_detected"] is False and np.isnan(empty["sso_frequency_hz"])
    assert empty["sso_time_fraction"] == 0.0
    with pytest.raises(ValueError, match=r"`duration_s` must be a positive number in s; got -1.0"):
        summarize_oscillations(eps, -1)
    with pytest.raises(TypeError, match=r"`episodes` must be the DataFrame"):
        summarize_oscillations([1, 2], 10.0)
    with pytest.raises(ValueError, match=r"missing \['amplitude_mv'\]"):
        summarize_oscillations(eps.drop(columns="amplitude_mv"), 10.0)



def test_input_untouched_and_output_sorted_and_disjoint():
    eps = [(0.5, 1.2, 25.0, 2.0), (1.6, 2.4, 90.0, 1.5), (3.0, 3.6, 40.0, 2.0)]
    sim = _trace(4.0, episodes=eps, seed=21, pattern="tonic", rate_hz=1.0, **AHP)
    assert len(sim.truth["spikes"]) > 0
    before = sim.v.copy()
    det = _detect(sim)
    assert np.array_equal(sim.v, before)
    assert len(det) == 3
    assert np.all(np.diff(det["start_s"]) > 0) and np.all(det["start_s"].to_numpy()[1:] >= det["end_s"].to_numpy()[:-1])
