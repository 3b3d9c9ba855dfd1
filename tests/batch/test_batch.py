"""Batch runs: failure isolation, groups, atomic outputs, cache, read-only inputs, Dask (resume after SIGKILL:
test_resume.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

import drgephys
from drgephys import tables
from drgephys.batch import analyze_paths, find_files, merge_groups, write_tables



def _hashes(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_find_files_recurses_and_labels_relative(sim_folder):
    labels = [j.label for j in find_files(sim_folder)]
    assert "sub/inj_a.abf" in labels and "ctrl_a.abf" in labels and "broken.abf" in labels
    assert not any(l.endswith(".truth.json") or l in ("groups.csv", "notes.txt") for l in labels)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        find_files(sim_folder / "nope")


def test_one_bad_file_never_kills_the_batch(sim_folder):
    res = analyze_paths(sim_folder, groups=sim_folder / "groups.csv")
    rec = res.recordings
    assert list(rec.columns[: len(tables.RECORDINGS_COLUMNS)]) == list(tables.RECORDINGS_COLUMNS)
    by_file = rec.set_index("file")
    assert by_file.loc["broken.abf", "status"] == "refused"
    assert by_file.loc["broken.abf", "message"] == ("unreadable or corrupt file (error: unpack requires a buffer of "
                                                    "16 bytes)")
    assert "notes.txt" not in by_file.index and "groups.csv" not in by_file.index    # skipped, not refused
    assert [s.label for s in res.skipped] == ["ctrl_a.abf.truth.json", "ctrl_b.abf.truth.json", "groups.csv",
                                              "notes.txt", "sub/inj_a.abf.truth.json", "sub/inj_b.abf.truth.json"]
    ok = rec[rec["status"] == "ok"]
    assert sorted(ok["file"]) == ["ctrl_a.abf", "ctrl_b.abf", "sub/inj_a.abf", "sub/inj_b.abf"]
    assert set(ok["group"]) == {"control", "injured"}  # matched by base name
    assert ok["firing_pattern"].notna().all() and ok["resting_vm_mv"].notna().all()


def test_groups_match_by_relative_path_before_base_name():
    rec = pd.DataFrame({"file": ["a/x.abf", "b/x.abf"]})
    groups = pd.DataFrame({"file": ["a/x.abf", "x.abf"], "group": ["g1", "g2"]})
    out = merge_groups(rec, groups)
    assert out["group"].tolist() == ["g1", "g2"]
    with pytest.raises(ValueError, match="must have a `file` column"):
        merge_groups(rec, pd.DataFrame({"name": ["x"]}))


def test_outputs_written_atomically_and_inputs_untouched(sim_copy, tmp_path):
    before = _hashes(sim_copy)
    out = tmp_path / "out"
    res = analyze_paths(sim_copy, out_dir=out)
    paths = write_tables(res, out)
    assert _hashes(sim_copy) == before
    for name in ("recordings", "oscillations", "spikes", "params"):
        assert paths[name].is_file()
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    with pytest.raises(ValueError, match="must be 'csv' or 'parquet'"):
        write_tables(res, out, format="xlsx")


def test_rerun_uses_cache_and_gives_identical_tables(sim_copy, tmp_path):
    out = tmp_path / "out"
    first = analyze_paths(sim_copy, out_dir=out)
    second = analyze_paths(sim_copy, out_dir=out)
    assert second.cached == [True] * 5 and first.cached == [False] * 5     # 4 recordings and broken.abf
    assert second.log == first.log          # the log of a resumed run is the log of a fresh one
    for name in ("recordings", "oscillations", "spikes"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name), check_dtype=False)


def test_parallel_jobs_give_the_same_tables(sim_folder):
    one = analyze_paths(sim_folder, jobs=1)
    two = analyze_paths(sim_folder, jobs=2)
    for name in ("recordings", "oscillations", "spikes"):
        pd.testing.assert_frame_equal(getattr(one, name), getattr(two, name), check_dtype=False)
    with pytest.raises(ValueError, match="`n_jobs` must be a positive number"):
        analyze_paths(sim_folder, jobs=0)


def test_dask_cluster_gives_the_same_tables(sim_folder):
    distributed = pytest.importorskip("distributed")
    local = analyze_paths(sim_folder)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = analyze_paths(sim_folder, scheduler=cluster.scheduler_address)
    for name in ("recordings", "oscillations", "spikes"):
        pd.testing.assert_frame_equal(getattr(local, name), getattr(remote, name), check_dtype=False)


def test_batch_over_real_recordings_has_a_row_per_sweep_and_a_reason_per_refusal(real_data, tmp_path):
    """Issue acceptance: every sweep gets a row, every refused file a reason, and the exit code is 1."""
    from drgephys.cli import main
    from drgephys.io import load

    out = tmp_path / "real"
    assert main(["analyze", str(real_data), "--out", str(out), "--quiet"]) == 1
    rec = pd.read_csv(out / "recordings.csv")
    assert (rec["status"] != "error").all(), rec.loc[rec["status"] == "error", "message"].tolist()
    refused_files = rec[rec["status"] == "refused"]
    assert refused_files["message"].str.len().min() > 20
    for label, rows in rec.groupby("file"):
        if (rows["status"] == "ok").any():
            r = load(real_data / label)
            assert len(rows) == len(r) + len(r.skipped), label
    expected_refused = {"17o05024_vc_steps.abf", "valid_v2_MIES-NWBv2-0655f7e4.nwb", "4_Ramp600pA_IC.axgx",
                        "16d22006_kim_gapfree.abf", "opto_aps_bad_units.abf"}
    whole_file_refusals = set(rec.loc[rec["sweep"].isna() & (rec["status"] == "refused"), "file"].map(
        lambda s: s.rsplit("/", 1)[-1]))
    assert expected_refused <= whole_file_refusals


def test_parquet_tables_when_pyarrow_is_installed(sim_folder, tmp_path):
    pytest.importorskip("pyarrow")
    res = analyze_paths(sim_folder / "ctrl_a.abf")
    paths = write_tables(res, tmp_path, format="parquet")
    back = pd.read_parquet(paths["recordings"])
    assert back["file"].tolist() == res.recordings["file"].tolist()


def test_cache_entries_read_back_exactly(tmp_path):
    """The resume cache keeps every float at full precision (pandas' to_json keeps 10 digits)."""
    import json

    from drgephys import _cache
    from drgephys.sim import simulate_trace

    sim = simulate_trace(duration_s=4.0, fs_hz=20000.0, sso=True, pattern="tonic", seed=5)
    res = drgephys.analyze(drgephys.Trace(sim.v, sim.fs), file_label="cell")
    parts = res.unbuilt()
    assert all(isinstance(p, tables.Parts) for p in parts.values()), "the analysis keeps its tables unbuilt"
    frames = {n: getattr(res, n) for n in ("recordings", "oscillations", "spikes", "rejected")}
    assert len(frames["spikes"]) and len(frames["oscillations"])
    _cache.save_entry(tmp_path, "k", parts, "ok: cell")
    back, log = _cache.load_entry(tmp_path, "k")
    assert log == "ok: cell"
    for n, df in frames.items():
        pd.testing.assert_frame_equal(back[n].frame(), df, check_exact=True)
    _cache.save_entry(tmp_path, "f", frames, "ok: cell")        # built tables are cached the same way
    back, _ = _cache.load_entry(tmp_path, "f")
    for n, df in frames.items():
        pd.testing.assert_frame_equal(back[n].frame(), df, check_exact=True)
    entry = tmp_path / _cache.CACHE_DIR / "k.json"
    payload = json.loads(entry.read_text())
    payload["format"] = 1                       # an entry of another layout is recomputed, not misread
    entry.write_text(json.dumps(payload))
    assert _cache.load_entry(tmp_path, "k") is None
