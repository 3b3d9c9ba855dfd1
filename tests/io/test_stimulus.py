"""Stimulus windows (`drgephys.io.stimulus`) and evoked vs spontaneous spikes through the pipeline."""

from __future__ import annotations

import logging

import neo
import numpy as np
import pytest
import quantities as pq

import drgephys
from drgephys.io.stimulus import TAIL_MS, windows_from_command
from drgephys.sim import simulate_trace

from ..conftest import real_file

FS = 20_000.0
TIME_TOL_S = 1.0 / FS


@pytest.fixture(autouse=True)
def _quiet_neo():
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


def test_a_step_gives_one_window_extended_by_the_tail():
    c = np.zeros(60_000)
    c[10_000:30_000] = 150.0                                    # 0.5–1.5 s, 150 pA
    w = windows_from_command(c, FS)
    np.testing.assert_allclose(w, [[0.5, 1.5 + TAIL_MS * 1e-3]], atol=TIME_TOL_S)


def test_a_pulse_train_gives_one_window_per_pulse():
    c = np.zeros(40_000)
    for k in range(5):                                          # 2-ms pulses at 10 Hz
        c[4000 + 2000 * k: 4040 + 2000 * k] = 2000.0
    assert windows_from_command(c, FS).shape == (5, 2)


def test_a_noisy_holding_current_without_stimulus_gives_none():
    c = -30.0 + np.random.default_rng(0).normal(0, 7.0, 200_000)   # a recorded I_Com: ±20 pA of noise
    assert windows_from_command(c, FS).shape == (0, 2)


def _segment(v, command_pa):
    seg = neo.Segment()
    seg.analogsignals.append(neo.AnalogSignal(v[:, None] * pq.mV, sampling_rate=FS * pq.Hz, name="Vm"))
    seg.analogsignals.append(neo.AnalogSignal(command_pa[:, None] * pq.pA, sampling_rate=FS * pq.Hz,
                                              name="I_Com"))
    return seg


def test_spikes_during_a_step_are_evoked_and_left_out_of_the_spontaneous_rate():
    sim = simulate_trace(duration_s=6.0, fs=FS, pattern="tonic", rate_hz=5.0, seed=4)
    step = np.zeros(sim.v.size)
    step[int(2 * FS):int(4 * FS)] = 200.0                       # 2–4 s
    res = drgephys.analyze(_segment(sim.v, step))
    row, spk = res.recordings.iloc[0], res.spikes
    inside = (spk["threshold_s"] >= 2.0) & (spk["threshold_s"] < 4.0 + TAIL_MS * 1e-3)
    assert spk["evoked"].tolist() == inside.tolist() and inside.any() and (~inside).any()
    assert row["evoked_spike_count"] == int(inside.sum())
    assert row["spike_rate_hz"] == pytest.approx((~inside).sum() / (6.0 - 2.0 - TAIL_MS * 1e-3))
    assert row["stimulus_source"] == "file: channel 'I_Com'" and "evoked_present" in row["qc_flags"]


def test_user_windows_override_and_are_recorded():
    sim = simulate_trace(duration_s=6.0, fs=FS, pattern="tonic", rate_hz=5.0, seed=4)
    res = drgephys.analyze(drgephys.Trace(sim.v, FS), stimulus_windows_s=[(1.0, 2.0)])
    spk = res.spikes
    assert spk["evoked"].tolist() == ((spk["threshold_s"] >= 1.0) & (spk["threshold_s"] < 2.0)).tolist()
    assert res.recordings.iloc[0]["stimulus_source"] == "user"
    assert res.params.to_dict()["stimulus_windows_s"] == [[1.0, 2.0]]
    with pytest.raises(ValueError, match=r"`stimulus_windows_s` must hold finite \(start, end\) pairs"):
        drgephys.analyze(drgephys.Trace(sim.v, FS), stimulus_windows_s=[(2.0, 1.0)])


def test_the_cli_takes_stimulus_windows(tmp_path):
    from drgephys.cli import main
    from drgephys.sim import write_abf

    pytest.importorskip("pyabf")
    sim = simulate_trace(duration_s=4.0, fs=FS, pattern="tonic", rate_hz=5.0, seed=4)
    path = tmp_path / "cell.abf"
    write_abf(path, sim.v, FS)
    assert main(["analyze", str(path), "--out", str(tmp_path / "r"), "--stimulus", "1:2", "--quiet"]) == 0
    import pandas as pd

    rec = pd.read_csv(tmp_path / "r" / "recordings.csv")
    assert rec["stimulus_source"].tolist() == ["user"] and rec["evoked_spike_count"].iloc[0] > 0
    assert main(["analyze", str(path), "--out", str(tmp_path / "r2"), "--stimulus", "2:1"]) == 2


def test_an_abf_step_protocol_marks_its_spikes_evoked():
    rec = drgephys.analyze(real_file("swharden__pyABF/data/abfs/17o05028_ic_steps.abf"))
    r = rec.recordings
    assert (r["stimulus_source"] == "file: ABF protocol 'Cmd 0'").all()
    # hyperpolarising steps (sweeps 0-5) evoke nothing: the cell's own firing stays spontaneous
    assert (r["evoked_spike_count"].iloc[:6] == 0).all() and (r["spike_count"].iloc[:6] >= 10).all()
    # depolarising steps: spikes inside them are evoked, the spontaneous ones before them are not
    mixed = r[(r["evoked_spike_count"] > 0) & (r["evoked_spike_count"] < r["spike_count"])]
    assert len(mixed) >= 3
    # large steps: every spike is evoked (the cell falls silent after them), none is left as "tonic"
    assert (r["evoked_spike_count"].iloc[-1] == r["spike_count"].iloc[-1]) and r["firing_pattern"].iloc[-1] == "silent"


def test_a_brief_pulse_protocol_evokes_every_spike():
    r = drgephys.analyze(real_file("swharden__pyABF/data/abfs/File_axon_6.abf")).recordings
    assert (r["evoked_spike_count"] == r["spike_count"]).all() and r["spike_count"].sum() == 32
