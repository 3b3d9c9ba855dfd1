"""Hostile input: damaged, truncated, mislabelled and absurd files through `load` and `analyze`.

Every case must end in a `RecordingError` with a message, or a correct result — never another exception, a
hang (per-case deadline) or a partly written output.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import drgephys
from drgephys.errors import RecordingError

#: Per-case time limit (ms): a hang or a runaway allocation fails the case
CASE_DEADLINE_MS = 20_000
#: Hypothesis examples per strategy; 4 strategies × 260 ≥ 1,000 generated cases in all
N_CASES = 260


class _Seeds(dict):
    """Valid files' bytes by extension (a short repr keeps hypothesis reports readable)."""

    def __repr__(self):
        return f"<seed files {sorted(self)}>"


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    """Small valid files of each kind to damage: ABF1, NWB, ASCII (ms), ASCII (s)."""
    from drgephys.sim import simulate_trace, write_abf

    d = tmp_path_factory.mktemp("seeds")
    sim = simulate_trace(duration_s=0.5, fs_hz=10000.0, pattern="tonic", rate_hz=8.0, seed=1)
    write_abf(d / "a.abf", sim.v, sim.fs)
    try:
        from drgephys.sim import write_nwb

        write_nwb(d / "b.nwb", sim.v, sim.fs)
    except ImportError:
        pass
    t_ms = np.arange(sim.v.size) / sim.fs * 1e3
    np.savetxt(d / "c.txt", np.column_stack([t_ms, sim.v]), fmt="%.6f")
    np.savetxt(d / "d.csv", np.column_stack([t_ms / 1e3, sim.v]), delimiter=",", fmt="%.7f")
    return _Seeds({p.suffix: p.read_bytes() for p in d.iterdir()
                   if p.is_file() and not p.name.endswith(".json")})


def _check(path: Path, out_dir: Path):
    """Load then analyze; accept a result or a RecordingError only; outputs complete or absent."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            rec = drgephys.load(path)
        except RecordingError as err:
            assert str(err)
            return "refused"
        for tr in rec:
            assert np.all(np.isfinite(tr.v)) and tr.fs > 0
        res = drgephys.analyze(rec)
        assert (res.recordings["status"].isin(["ok", "refused"])).all()
        from drgephys.batch import analyze_paths, write_tables

        batch = analyze_paths(path)
        assert (batch.recordings["status"] != "error").all(), batch.recordings["message"].tolist()
        write_tables(batch, out_dir)
        assert sorted(p.name for p in out_dir.iterdir()) == ["analysis.log", "oscillations.csv", "params.json",
                                                            "recordings.csv", "rejected.csv", "spikes.csv"]
        return "ok"


_fuzz = settings(max_examples=N_CASES, deadline=CASE_DEADLINE_MS, derandomize=True,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@_fuzz
@given(data=st.data())
def test_truncated_files(seeds, tmp_path, data):
    ext = data.draw(st.sampled_from(sorted(seeds)))
    blob = seeds[ext]
    cut = data.draw(st.integers(0, len(blob)))
    p = tmp_path / f"t{ext}"
    p.write_bytes(blob[:cut])
    out = tmp_path / "out"
    shutil.rmtree(out, ignore_errors=True)
    _check(p, out)


@_fuzz
@given(data=st.data())
def test_header_bit_flips(seeds, tmp_path, data):
    ext = data.draw(st.sampled_from(sorted(seeds)))
    blob = bytearray(seeds[ext])
    n = data.draw(st.integers(1, 8))
    for _ in range(n):
        i = data.draw(st.integers(0, min(len(blob), 2048) - 1))
        blob[i] ^= 1 << data.draw(st.integers(0, 7))
    p = tmp_path / f"f{ext}"
    p.write_bytes(bytes(blob))
    out = tmp_path / "out"
    shutil.rmtree(out, ignore_errors=True)
    _check(p, out)


@_fuzz
@given(blob=st.binary(min_size=0, max_size=4096),
       ext=st.sampled_from([".abf", ".nwb", ".axgx", ".ibw", ".wcp", ".smr", ".txt", ".csv", ".ABF", ".dat",
                            ".nix", ".edr"]))
def test_random_bytes_with_any_extension(tmp_path, blob, ext):
    p = tmp_path / f"r{ext}"
    p.write_bytes(blob)
    out = tmp_path / "out"
    shutil.rmtree(out, ignore_errors=True)
    _check(p, out)


@_fuzz
@given(n=st.integers(1, 400), dt=st.sampled_from([1e-12, 1e-9, 1e-6, 5e-5, 1e-3, 0.25, 10.0, 1e6]),
       scale=st.sampled_from([1.0, 1e-3, 1e6]), bad=st.sampled_from(["", "nan", "inf", "-inf"]),
       where=st.integers(0, 399), sep=st.sampled_from([" ", ",", "\t"]))
def test_absurd_text_traces(tmp_path, n, dt, scale, bad, where, sep):
    rng = np.random.default_rng(n)
    t = np.arange(n) * dt
    v = (-60 + rng.normal(0, 1, n)) * scale
    rows = [f"{a!r}{sep}{b!r}" for a, b in zip(t, v)]
    if bad and rows:
        k = where % len(rows)
        rows[k] = f"{t[k]!r}{sep}{bad}"
    p = tmp_path / "x.txt"
    p.write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    shutil.rmtree(out, ignore_errors=True)
    _check(p, out)
