"""Writers round-trip through neo (AxonIO for ABF1, NWBIO for NWB) and write the truth beside the file."""

import json
import sys
import warnings

import numpy as np
import pytest

neo = pytest.importorskip("neo")

from drgephys.sim import simulate_trace, truth_path, write_abf, write_nwb  # noqa: E402
from drgephys.sim.writers import ABF_RESOLUTION_MV, abf_scale_factor  # noqa: E402

NWB_REL_TOL = 2**-23  # float32 storage


def _abf_read(path):
    sig = neo.io.AxonIO(str(path)).read_block().segments[0].analogsignals[0]
    return sig.rescale("mV").magnitude.ravel(), float(sig.sampling_rate.rescale("Hz").magnitude), str(sig.units)


@pytest.fixture(scope="module")
def trace():
    return simulate_trace(duration_s=2, fs_hz=20_000, sso=True, pattern="tonic", hum_hz=50, seed=1)


def test_abf_roundtrip_within_one_step(tmp_path, trace):
    pytest.importorskip("pyabf")
    p = write_abf(tmp_path / "cell.abf", trace.v, trace.fs, truth=trace.truth)
    x, fs, units = _abf_read(p)
    step = np.max(np.abs(trace.v)) * 1.02 / 32767
    assert x.size == trace.v.size and fs == trace.fs and "mV" in units
    assert np.max(np.abs(x - trace.v)) <= step
    assert json.loads(truth_path(p).read_text()) == json.loads(json.dumps(trace.truth))


def test_abf_keeps_resolution_over_150_mv(tmp_path):
    pytest.importorskip("pyabf")
    v = np.linspace(-150, 150, 30_001)
    assert 10 / 32768 / abf_scale_factor(150) <= ABF_RESOLUTION_MV
    x, _, _ = _abf_read(write_abf(tmp_path / "ramp.abf", v, 10_000))
    assert np.max(np.abs(x - v)) <= ABF_RESOLUTION_MV / 2


def test_abf_refuses_out_of_range(tmp_path):
    pytest.importorskip("pyabf")
    with pytest.raises(ValueError, match=r"`v` must stay within ±300 mV"):
        write_abf(tmp_path / "x.abf", np.array([0.0, 0.5e3]), 1000)
    assert not list(tmp_path.iterdir())


def test_abf_missing_pyabf_message(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyabf.abfWriter", None)
    with pytest.raises(ImportError, match=r"pip install pyabf.*drgephys\[sim\]"):
        write_abf(tmp_path / "x.abf", np.zeros(10), 1000)


def test_nwb_roundtrip(tmp_path, trace):
    pytest.importorskip("pynwb")
    p = write_nwb(tmp_path / "cell.nwb", trace.v, trace.fs, truth=trace.truth)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        blocks = neo.io.NWBIO(str(p), mode="r").read_all_blocks()
    sig = blocks[0].segments[0].analogsignals[0]
    x = sig.rescale("mV").magnitude.ravel()
    assert float(sig.sampling_rate.rescale("Hz").magnitude) == trace.fs
    np.testing.assert_allclose(x, trace.v, rtol=NWB_REL_TOL, atol=1e-9)
    assert sig.annotations["nwb_neurodata_type"][1] == "CurrentClampSeries"
    assert truth_path(p).name == "cell.nwb.truth.json" and truth_path(p).is_file()


@pytest.mark.parametrize("writer", [write_abf, write_nwb])
def test_writer_validation(tmp_path, writer):
    with pytest.raises(ValueError, match="`fs` must be a positive number in Hz"):
        writer(tmp_path / "x", np.zeros(10), -1)
    with pytest.raises(ValueError, match="`v` must be finite"):
        writer(tmp_path / "x", np.array([0.0, np.nan]), 1000)
