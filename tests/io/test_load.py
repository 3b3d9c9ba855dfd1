"""Loading real recordings through neo: channel choice, refusals with reasons, values vs pyABF."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import drgephys
from drgephys.errors import RecordingError
from drgephys.io import load
from drgephys.io import plausible as P

from ..conftest import REAL, real_file

ABF = "swharden__pyABF/data/abfs/"
#: pyABF prints values with 8 decimals; neo's AxonIO reproduces them to float32 precision
PYABF_VALUE_TOL_MV = 1e-4
PYABF_STD_REL_TOL = 1e-5
#: ABF1 and ABF2 copies of 18425108 agree within this (mV), per the real-data README
ABF1_ABF2_TOL_MV = 0.05

# file → expected outcome: "ok" or the refusal reason RecordingError.reason must carry
EXPECTED_OUTCOME = {
    ABF + "17o05024_vc_steps.abf": "voltage clamp",
    "AllenInstitute__ipfx/tests/data/valid_v2_MIES-NWBv2-0655f7e4.nwb": "voltage clamp",
    "AurelieBre__DRGPatchClampProcessing/4_Ramp600pA_IC.axgx": "command only",
    ABF + "16d22006_kim_gapfree.abf": "not a membrane potential",
    ABF + "opto_aps_bad_units.abf": "mislabelled units",
    **{f"BlueBrain__BluePyEfe/tests/exp_data/B6/B6_Ch0_IDRest_18{i}.ibw": "command only" for i in range(1, 6)},
    **{f"BlueBrain__BluePyEfe/tests/exp_data/B6/B6_Ch3_IDRest_18{i}.ibw": "ok" for i in range(1, 6)},
    **{ABF + f: "ok" for f in [
        "2020_07_29_0062.abf", "2020_03_02_0000.abf", "2019_07_24_0055_fsi.abf", "171116sh_0019.abf",
        "17o05028_ic_steps.abf", "17o05027_ic_ramp.abf", "18711001.abf", "opto_aps_good_units.abf",
        "18425108.abf", "18425108_abf1.abf", "2019_05_02_DIC2_0011.abf", "File_axon_6.abf"]},
    "BlueBrain__BluePyEfe/tests/data_abf/cell01/96711008.abf": "ok",
    "AllenInstitute__ipfx/tests/data/2018_03_20_0005.nwb": "ok",
    "BlueBrain__eFEL/tests/testdata/allfeatures/testdata.txt": "ok",
    "BlueBrain__eFEL/tests/testdata/basic/spontaneous.txt": "ok",
    "BlueBrain__eFEL/tests/testdata/basic/zero_ISI_log_slope_skip95824004.abf.csv": "ok",
    "AllenInstitute__ipfx/tests/data/spike_test_pair.txt": "ok",
    "AllenInstitute__ipfx/tests/data/spike_test_var_dt.txt": "ok",
    "AllenInstitute__ipfx/tests/data/spike_test_high_init_dvdt.txt": "ok",
}


@pytest.mark.parametrize("rel,outcome", sorted(EXPECTED_OUTCOME.items()))
def test_every_real_file_loads_or_is_refused_with_its_reason(rel, outcome):
    path = real_file(rel)
    if outcome == "ok":
        rec = load(path)
        assert len(rec) >= 1
        for tr in rec:
            assert np.all(np.isfinite(tr.v)) and tr.fs > 0
            assert -150 < np.median(tr.v) < 60
    else:
        with pytest.raises(RecordingError) as info:
            load(path)
        assert info.value.reason == outcome
        assert str(info.value).count(path.name) == 1                  # named once, at the start
        assert str(info.value).startswith(f"{path}: ") and len(info.value.detail) <= 300


def test_real_data_table_covers_every_recording(real_data):
    """No real recording is left out of the per-file expectations above."""
    exts = {".abf", ".nwb", ".axgx", ".ibw", ".txt", ".csv"}
    found = {p.relative_to(real_data).as_posix() for p in real_data.rglob("*")
             if p.suffix.lower() in exts and "EXPECTED" not in p.parts}
    assert found == set(EXPECTED_OUTCOME)


def test_bad_units_message_tells_how_to_override():
    path = real_file(ABF + "opto_aps_bad_units.abf")
    with pytest.raises(RecordingError, match=r"pA.*units='mV'"):
        load(path)


def test_voltage_clamp_refusal_names_file_channel_and_units():
    path = real_file(ABF + "17o05024_vc_steps.abf")
    with pytest.raises(RecordingError, match=r"17o05024_vc_steps\.abf.*channel 0 'IN 0' \[pA\]"):
        load(path)


def test_units_override_reads_a_mislabelled_channel():
    """With units='mV' the mislabelled file loads only if its values are a plausible potential: they are
    not (gain is wrong too), so the refusal says so; with the right gain and offset it loads."""
    path = real_file(ABF + "opto_aps_bad_units.abf")
    with pytest.raises(RecordingError, match="outside the plausible membrane-potential range"):
        load(path, channel=0, units="mV")
    rec = load(path, channel=0, units="mV", gain=1 / 20.5, offset_mv=1.5)
    assert -80 < np.median(rec[0].v) < -70


def test_second_channel_chosen_and_abf1_abf2_agree():
    a = load(real_file(ABF + "18425108.abf"))
    b = load(real_file(ABF + "18425108_abf1.abf"))
    assert a[0].channel == 1 and b[0].channel == 1
    assert a[0].metadata["channel_name"] == "10_Vm"
    assert a.channel_report["chosen"].tolist() == [False, True]
    assert a[0].n_samples == b[0].n_samples
    assert np.max(np.abs(a[0].v - b[0].v)) < ABF1_ABF2_TOL_MV
    assert b[0].fs == pytest.approx(25000.000000000004, rel=0, abs=1e-9)  # non-integer rate kept exactly


def test_values_match_pyabf_sweep_table(real_data):
    table = pd.read_csv(real_data / "EXPECTED" / "pyabf_sweep_values.csv")
    files = {p.name: p for p in real_data.rglob("*.abf")}
    checked = skipped = 0
    for name, rows in table.groupby("file"):
        try:
            rec = load(files[name])
        except RecordingError:
            continue  # refused files are covered above
        ch = rec[0].channel
        rows = rows[rows["channel"] == ch]
        by_sweep = {t.sweep: t for t in rec}
        for _, r in rows.iterrows():
            tr = by_sweep.get(int(r["sweep"]))
            if tr is None:
                assert any(s["sweep"] == r["sweep"] for s in rec.skipped)
                skipped += 1
                continue
            assert tr.n_samples == r["n_points"]
            assert tr.v[0] == pytest.approx(r["first_value"], abs=PYABF_VALUE_TOL_MV)
            assert tr.v[-1] == pytest.approx(r["last_value"], abs=PYABF_VALUE_TOL_MV)
            assert np.std(tr.v) == pytest.approx(r["stdev"], rel=PYABF_STD_REL_TOL, abs=PYABF_VALUE_TOL_MV)
            checked += 1
    loaded_files = {n for n in table["file"].unique() if EXPECTED_OUTCOME.get(ABF + n, "ok") == "ok"}
    assert checked + skipped == len(table[table["file"].isin(loaded_files)].drop_duplicates(["file", "sweep"]))
    assert checked > 100 and skipped <= 1


def test_ascii_traces_are_sniffed_as_ms_or_s():
    t = load(real_file("BlueBrain__eFEL/tests/testdata/allfeatures/testdata.txt"))[0]
    assert t.fs == 4000.0 and t.times is None and t.n_samples == 12000
    p = load(real_file("AllenInstitute__ipfx/tests/data/spike_test_pair.txt"))[0]
    assert p.fs == 200000.0 and p.t0 == pytest.approx(1.03, abs=1e-6)
    irregular = load(real_file("AllenInstitute__ipfx/tests/data/spike_test_var_dt.txt"))[0]
    assert irregular.times is not None and irregular.times.size == 911


def test_nwb_current_clamp_loads():
    rec = load(real_file("AllenInstitute__ipfx/tests/data/2018_03_20_0005.nwb"))
    assert len(rec) == 1 and rec[0].fs == 50000.0 and rec[0].n_samples == 900000


def test_missing_empty_folder_and_pickle_paths_are_refused(tmp_path):
    with pytest.raises(RecordingError, match="no such file"):
        load(tmp_path / "nope.abf")
    with pytest.raises(RecordingError, match=": a folder, not a file; pass a recording file"):
        load(tmp_path)
    empty = tmp_path / "empty.abf"
    empty.write_bytes(b"")
    with pytest.raises(RecordingError, match="empty file"):
        load(empty)
    pkl = tmp_path / "x.pkl"
    pkl.write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(RecordingError, match="pickle files are refused"):
        load(pkl)
    junk = tmp_path / "junk.abf"
    junk.write_bytes(b"not an abf file at all" * 10)
    with pytest.raises(RecordingError, match="unreadable or corrupt"):
        load(junk)
    with pytest.raises(TypeError, match="must be a file path"):
        load(123)


def test_nix_path_that_does_not_exist_is_not_created(tmp_path):
    target = tmp_path / "ghost.nix"
    with pytest.raises(RecordingError):
        load(target)
    assert not target.exists()


def test_inputs_are_not_modified(tmp_path):
    import hashlib
    import shutil

    src = real_file(ABF + "17o05027_ic_ramp.abf")
    p = tmp_path / src.name
    shutil.copy(src, p)
    before = hashlib.sha256(p.read_bytes()).hexdigest()
    mtime = p.stat().st_mtime_ns
    load(p)
    assert hashlib.sha256(p.read_bytes()).hexdigest() == before and p.stat().st_mtime_ns == mtime


def test_top_level_exports():
    assert drgephys.load is load
    assert issubclass(drgephys.RecordingError, ValueError)


def test_unparseable_units_override_is_a_value_error():
    path = Path(__file__).resolve().parents[2] / "sample_data" / "injured_tonic.abf"
    with pytest.raises(ValueError, match=r"`units` must be a unit name quantities understands.*got 'foo'"):
        load(path, units="foo")


def _reference_verdict(x):
    """The channel verdict as first written: every statistic read off the sorted subsample."""
    x = np.sort(x)
    p_lo, lo, med, hi, p_hi = np.percentile(x, [1, 0.5, 50, 99.5, 99])
    if hi - lo < P.MIN_SPREAD_MV:
        return "constant", med
    vals, counts = np.unique(x, return_counts=True)
    if counts.max() / x.size > P.COMMAND_MODE_SHARE and vals.size < 256:
        return "command_levels", med
    if max(counts[-1], counts[0]) / x.size > P.SATURATION_SHARE:
        return "saturated", med
    if not (P.VM_LEVEL_RANGE_MV[0] <= med <= P.VM_LEVEL_RANGE_MV[1]):
        return "level_out_of_range", med
    if abs(med) < P.NO_CELL_LEVEL_MV and p_hi - p_lo < P.NO_CELL_SPREAD_MV:
        return "flat_near_zero", med
    return "", med


@pytest.mark.parametrize("n", [1, 2, 7, 1000, 16_384])
def test_channel_verdict_without_sorting_equals_the_sorted_one(n):
    """The channel assessment counts (mode at the median, extremes) instead of sorting its subsample: the
    same code and level as the statistics of the sorted subsample, on each kind of channel."""
    assert P.COMMAND_MODE_SHARE >= 0.5                 # (the mode is looked for at the median)
    rng = np.random.default_rng(n)
    vm = rng.normal(-60.0, 2.0, n)
    kinds = [vm, np.round(vm, 1), np.full(n, -65.0), np.where(rng.random(n) < 0.6, -70.0, rng.normal(-40, 5, n)),
             np.where(rng.random(n) < 0.6, -70.0, np.round(rng.normal(-40, 5, n))), np.minimum(vm, -61.0),
             np.maximum(vm, -58.0), rng.normal(0.0, 0.1, n), vm + 300.0, np.repeat([-80.0, -20.0], -(-n // 2))[:n]]
    for x in kinds:
        code, _, level = P._sample_verdict(x)
        ref_code, ref_level = _reference_verdict(x)
        assert (code, level) == (ref_code, ref_level)


