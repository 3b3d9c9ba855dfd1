"""classify_triggers: SSO phase at threshold and the oscillation / other rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drgephys.sim import simulate_trace
from drgephys.spikes import TriggerParams, classify_triggers, detect_spikes

PHASE_TOL_RAD = 0.35
PHASE_INVARIANCE_TOL_RAD = 1e-6
BALANCED_ACCURACY_MIN = 0.9
#: The simulator's SSO as a plain sinusoid (no period jitter, amplitude modulation, second harmonic or
#: frequency-potential slope) on a flat baseline without 1/f noise: spikes launched from its peaks start at
#: phase 0 exactly.
PLAIN = dict(period_jitter=0.0, amplitude_modulation=0.0, harmonic_fraction=0.0, sso_slope_hz_per_mv=0.0,
             drift_mv=0.0, pink_noise_mv=0.0)


def _episodes(*rows):
    return pd.DataFrame(rows, columns=["start_s", "end_s", "frequency_hz"])


def _cell(fs, f, *, duration_s=5.0, episode=(0.5, 4.5), noise=0.3, seed=0, rate_hz=5.0):
    """A simulated cell firing tonically, with one SSO episode (4 mV p-p at ``f`` Hz): spikes inside the
    episode are launched from SSO peaks (truth trigger ``"oscillation"``), the others are ``"other"``."""
    ep = {"start_s": episode[0], "end_s": episode[1], "frequency_hz": f, "amplitude_mv": 4.0}
    return simulate_trace(duration_s=duration_s, fs_hz=fs, episodes=(ep,), pattern="tonic", rate_hz=rate_hz,
                          white_noise_mv=noise, seed=seed, **PLAIN)


def _at_troughs(sim):
    """The same trace with its SSO inverted (``v − 2·sso``, the simulator's noise-free SSO component): the
    spikes launched from SSO peaks now start at SSO troughs (the simulator launches in-episode spikes from
    SSO peaks or leaves them at random phases; it has no way to put them on troughs)."""
    return sim.v - 2 * sim.components["sso"]


def _labels(sim):
    return np.array([sp["trigger"] for sp in sim.truth["spikes"]])


def _scene(fs=20_000, f=50.0, seed=0, noise=0.3):
    """SSO (4 mV p-p) in [0.5, 4.5) s with spikes at SSO peaks and outside the episode, and the same trace with
    the SSO inverted (spikes at SSO troughs: ``"other"``): ``[(v, labels), (v, labels)], fs, episodes``."""
    sim = _cell(fs, f, noise=noise, seed=seed)
    labels = _labels(sim)
    assert (labels == "oscillation").sum() >= 8 and (labels == "other").sum() >= 2
    traces = [(sim.v, labels), (_at_troughs(sim), np.full(labels.size, "other"))]
    return traces, fs, _episodes((0.5, 4.5, sim.truth["episodes"][0]["frequency_hz"]))


@pytest.mark.parametrize("fs,f", [(10_000, 30.0), (20_000, 50.0), (50_000, 100.0)])
def test_balanced_accuracy_on_simulated_scene(fs, f):
    traces, fs, epi = _scene(fs=fs, f=f, seed=int(f))
    pred, label = [], []
    for v, lab in traces:
        s = detect_spikes(v, fs)
        assert len(s) == lab.size
        pred.append(classify_triggers(v, fs, s, epi)["trigger"].to_numpy())
        label.append(lab)
    pred, label = np.concatenate(pred), np.concatenate(label)
    bal = np.mean([np.mean(pred[label == c] == c) for c in ("oscillation", "other")])
    assert bal >= BALANCED_ACCURACY_MIN


def test_phase_is_zero_at_sso_peak_and_pi_at_trough():
    fs, f = 20_000, 40.0
    sim = _cell(fs, f, duration_s=3.0, episode=(0.5, 3.0), noise=0.0, rate_hz=2.0, seed=1)
    inside = _labels(sim) == "oscillation"
    assert inside.sum() >= 2
    epi = _episodes((0.5, 3.0, f))
    peak = classify_triggers(sim.v, fs, detect_spikes(sim.v, fs), epi)
    trough = classify_triggers(_at_troughs(sim), fs, detect_spikes(_at_troughs(sim), fs), epi)
    # the detected threshold sits within ~0.1 ms of the SSO peak (the AP's onset): allow that much phase
    assert np.all(np.abs(peak["sso_phase_rad"].to_numpy()[inside]) < PHASE_TOL_RAD)
    assert np.all(np.abs(np.abs(trough["sso_phase_rad"].to_numpy()[inside]) - np.pi) < PHASE_TOL_RAD)
    assert (peak["trigger"][inside] == "oscillation").all() and (trough["trigger"] == "other").all()


def test_no_episodes_means_all_other_and_nan_phase():
    [(v, _), _], fs, _ = _scene()
    s = detect_spikes(v, fs)
    for epi in (None, _episodes()):
        out = classify_triggers(v, fs, s, epi)
        assert (out["trigger"] == "other").all()
        assert out["sso_phase_rad"].isna().all()
        pd.testing.assert_frame_equal(out.drop(columns=["trigger", "sso_phase_rad"]), s)


def test_flat_trace_inside_episode_is_other():
    """An 'episode' without an oscillation in the trace: the fit explains nothing → other."""
    fs = 20_000
    sim = simulate_trace(duration_s=2.0, fs_hz=fs, pattern="tonic", rate_hz=2.0, white_noise_mv=0.3, seed=2,
                         **PLAIN)
    s = detect_spikes(sim.v, fs)
    assert len(s) == len(sim.truth["spikes"]) > 0
    out = classify_triggers(sim.v, fs, s, _episodes((0.0, 2.0, 50.0)))
    assert (out["trigger"] == "other").all()


def test_empty_spikes_table():
    fs = 20_000
    v = np.full(20_000, -60.0)
    s = detect_spikes(v, fs)
    out = classify_triggers(v, fs, s, _episodes((0.0, 1.0, 50.0)))
    assert len(out) == 0 and {"trigger", "sso_phase_rad"} <= set(out.columns)


def test_errors():
    v = np.zeros(100)
    s = detect_spikes(v, 1000.0)
    with pytest.raises(ValueError, match=r"`spikes` must have columns .* missing \['end_index'\]"):
        classify_triggers(v, 1000.0, s.drop(columns=["end_index"]), None)
    with pytest.raises(TypeError, match=r"`spikes` must be a pandas DataFrame"):
        classify_triggers(v, 1000.0, [1, 2], None)
    with pytest.raises(ValueError, match=r"`episodes` must have columns"):
        classify_triggers(v, 1000.0, s, pd.DataFrame({"start_s": [0.0]}))
    with pytest.raises(TypeError, match=r"`params` must be a TriggerParams"):
        classify_triggers(v, 1000.0, s, None, params={})
    with pytest.raises(ValueError, match=r"`fs` must be a positive number in Hz"):
        classify_triggers(v, 0, s, None)
    with pytest.raises(ValueError, match=r"`band_hz` must satisfy 0 < low < high"):
        TriggerParams(band_hz=(100.0, 10.0))
    with pytest.raises(ValueError, match=r"`min_fit_r2` must be in \[0, 1\)"):
        TriggerParams(min_fit_r2=1.5)


@settings(max_examples=10, deadline=None)
@given(offset_mv=st.floats(-20.0, 20.0), gain=st.floats(0.5, 2.0))
def test_phase_invariant_to_offset_and_gain(offset_mv, gain):
    """The fit has its own offset and the rule no absolute level: shifting or scaling the potential
    (with the same spike table) leaves phases and labels unchanged."""
    [(v, _), _], fs, epi = _scene(seed=3)
    s = detect_spikes(v, fs)
    a = classify_triggers(v, fs, s, epi)
    b = classify_triggers(gain * (v - v.mean()) + v.mean() + offset_mv, fs, s, epi,
                          params=TriggerParams(foot_dvdt_mv_per_ms=gain * TriggerParams().foot_dvdt_mv_per_ms))
    np.testing.assert_allclose(a["sso_phase_rad"], b["sso_phase_rad"], atol=PHASE_INVARIANCE_TOL_RAD)
    assert a["trigger"].tolist() == b["trigger"].tolist()


def test_excluded_spans_read_like_the_mask():
    """`_Spans` (no trace-length mask) answers like `spans_to_mask` at any sample index."""
    from drgephys._numerics.spans import spans_to_mask
    from drgephys.spikes.trigger import _Spans

    rng = np.random.default_rng(5)
    n = 10_000
    starts = rng.integers(-50, n, 40)
    stops = starts + rng.integers(-5, 400, 40)          # overlapping, empty and clipped spans
    idx = np.arange(n)
    np.testing.assert_array_equal(_Spans(starts, stops, n)[idx], spans_to_mask(starts, stops, n))
    np.testing.assert_array_equal(_Spans([], [], n)[idx], np.zeros(n, bool))


#: Share of a weak SSO's launched spikes whose phase lands within π/4 of the truth (the 2-cycle pre-spike
#: fit this replaced: 0.41 on this cell; the centred fit: 0.97).
MIN_PHASE_HITS = 0.9


def test_phase_of_a_weak_sso_firing_every_second_cycle():
    """A hard-cohort cell (seed 2024, sso_tonic_c06): a 0.8 mV p-p, 54 Hz SSO in 0.3 mV pink + white noise,
    firing at 21 Hz from every 2nd-3rd peak, 12.6-mV AHPs. The true phase at each threshold is 0 (the
    simulator's noise-free SSO, by its analytic signal)."""
    from scipy.signal import hilbert

    import drgephys
    from drgephys.sim import hard_cohort_table

    table = hard_cohort_table(seed=2024)
    row = table[table["file"] == "sso_tonic_c06.abf"].iloc[0]
    sim = simulate_trace(row["trace_spec"], seed=int(row["cell_seed"]))
    res = drgephys.analyze(drgephys.Trace(sim.v, sim.fs))
    spk = res.spikes[res.spikes["sso_phase_rad"].notna()]
    assert len(spk) >= 150                                      # the spikes inside detected episodes
    true = np.angle(hilbert(sim.components["sso"]))[np.round(spk["threshold_s"].to_numpy() * sim.fs).astype(int)]
    assert np.abs(true).max() < 0.1
    err = np.abs(np.angle(np.exp(1j * (spk["sso_phase_rad"].to_numpy() - true))))
    assert np.mean(err <= np.pi / 4) >= MIN_PHASE_HITS
    assert np.mean(spk["trigger"] == "oscillation") >= MIN_PHASE_HITS - 0.05
