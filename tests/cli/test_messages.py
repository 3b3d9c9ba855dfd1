"""Refusals name the file once and summarise the channels (<= 300 characters); warnings are one line each."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

import drgephys
from drgephys.cli import main
from drgephys.errors import RecordingError

from ..batch.conftest import sim_folder  # noqa: F401  (fixture)

MAX_MESSAGE = 300


def test_forty_command_channels_are_summarised():
    import neo
    import quantities as pq

    steps = np.where((np.arange(4000) // 500) % 2 == 0, -70.0, -60.0)
    sig = neo.AnalogSignal(np.column_stack([steps] * 40), units="mV", sampling_rate=10 * pq.kHz,
                           array_annotations={"channel_names": np.array([f"DA{k}" for k in range(40)])})
    with pytest.raises(RecordingError) as info:
        drgephys.from_neo(sig, file="cell.axgx")
    err = info.value
    assert str(err) == ("cell.axgx: only command/stimulus channels, no recorded membrane potential (40 channels: "
                        "40 command outputs (channels 0..39 'DA0'..'DA39' [mV])).")
    assert err.detail == str(err)[len("cell.axgx: "):] and err.code == "command_only"
    assert len(err.channel_reasons) == 40
    assert err.channel_reasons[39] == "channel 39 'DA39' [mV]: channel name 'DA39' marks a command/stimulus output"


def test_a_forty_channel_file_in_a_batch(tmp_path, capsys):
    n = 4000
    cols = [np.arange(n) / 10000.0] + [-80.0 + 5 * ((np.arange(n) // 500 + k) % 8) for k in range(40)]
    (tmp_path / "data").mkdir()
    np.savetxt(tmp_path / "data" / "steps.txt", np.column_stack(cols), fmt="%.5f")
    out = tmp_path / "res"
    assert main(["analyze", str(tmp_path / "data"), "--out", str(out)]) == 1
    msg = ("no plausible membrane-potential channel (40 channels: 40 saturated channels (channels 0..39 "
           "'Column 1'..'Column 40' [mV])). Override with units='mV', channel=N (--units mV --channel N).")
    assert capsys.readouterr().err == f"  refused: steps.txt: {msg}\n"
    assert pd.read_csv(out / "recordings.csv")["message"].tolist() == [msg]
    log = (out / "analysis.log").read_text().splitlines()
    assert log[0] == f"refused: steps.txt: {msg}" and len(log) == 41
    assert log[1] == "  channel 0 'Column 1' [mV]: the trace is saturated (12.5% of samples clipped at -45 mV)"


def test_a_corrupt_file_is_named_once(tmp_path, capsys):
    fake = tmp_path / "fake.abf"
    fake.write_bytes(b"ABF2junk" * 50)
    with pytest.raises(RecordingError) as info:
        drgephys.load(fake)
    assert str(info.value).count("fake.abf") == 1
    assert main(["analyze", str(tmp_path), "--out", str(tmp_path / "res")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("  refused: fake.abf: unreadable or corrupt file (") and err.count("fake.abf") == 1


def test_every_refusal_of_the_real_recordings_is_short_and_names_its_file_once(real_data, tmp_path):
    out = tmp_path / "real"
    assert main(["analyze", str(real_data), "--out", str(out), "--quiet"]) == 1
    rec = pd.read_csv(out / "recordings.csv")
    bad = rec[rec["status"] != "ok"]
    assert len(bad) >= 10
    for _, r in bad.iterrows():
        name = r["file"].rsplit("/", 1)[-1]
        assert len(r["message"]) <= MAX_MESSAGE and name not in r["message"], r["message"]
    for _, r in bad.drop_duplicates("file").iterrows():
        if pd.isna(r["sweep"]):               # a whole file refused: the error names the file once
            with pytest.raises(RecordingError) as info:
                drgephys.load(real_data / r["file"])
            assert str(info.value) == f"{real_data / r['file']}: {r['message']}"


def test_compare_warnings_are_one_line_each(sim_folder, tmp_path, capsys):  # noqa: F811
    data = tmp_path / "data"
    shutil.copytree(sim_folder, data)
    (data / "groups.csv").write_text("file,group,animal\nctrl_a.abf,control,A1\nctrl_b.abf,control,A1\n"
                                     "inj_a.abf,injured,A2\ninj_b.abf,injured,A2\n")
    main(["analyze", str(data), "--out", str(tmp_path / "res"), "--groups", str(data / "groups.csv"), "--quiet"])
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "res"), "--quiet"]) == 0
    assert capsys.readouterr().err == (
        "drgephys: warning: fewer than 2 animals: 'injured' has 1 animal(s), 'control' has 1 animal(s); "
        "animal-to-animal variation cannot be estimated, so intervals and p-values are unreliable\n")


def test_analysis_warnings_are_logged_per_file_and_shown_one_line_each(tmp_path, capsys):
    from drgephys.sim import simulate_trace

    sim = simulate_trace(duration_s=4.0, fs_hz=20000.0, pattern="silent", seed=3)
    v = sim.v[::40]                                          # 500 Hz: the 200-Hz band top cannot be kept
    np.savetxt(tmp_path / "slow.txt", np.column_stack([np.arange(v.size) * 2.0, v]), fmt="%.6f")   # ms
    out = tmp_path / "res"
    assert main(["analyze", str(tmp_path / "slow.txt"), "--out", str(out)]) == 0
    line = "band top 200 Hz clipped to 166.667 Hz (fs/3) for a recording sampled at 500 Hz"
    assert capsys.readouterr().err == f"drgephys: warning: {tmp_path / 'slow.txt'}: {line}\n"
    assert (out / "analysis.log").read_text().splitlines()[1] == f"  warning: {line}"
