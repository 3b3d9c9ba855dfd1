"""Plugin surface: neo annotations usable by elephant, NWB round trip, scikit-learn transformers."""

from __future__ import annotations

import datetime
import warnings

import numpy as np
import pandas as pd
import pytest

import drgephys
from drgephys.interop import OscillationFeatures, SpikeTrainFeatures, annotate, from_nwb, to_nwb
from drgephys.sim import simulate_trace


@pytest.fixture(scope="module")
def firing_sim():
    return simulate_trace(duration_s=8.0, fs_hz=20000.0, sso=True, sso_time_fraction=0.5,
                          pattern="irregular", rate_hz=4.0, seed=8)


def _segment(sim):
    import neo
    import quantities as pq

    seg = neo.Segment()
    seg.analogsignals.append(neo.AnalogSignal(sim.v[:, None], units="mV", sampling_rate=sim.fs * pq.Hz))
    return seg


def test_annotate_adds_spiketrain_and_epochs_that_elephant_reads(firing_sim):
    import elephant.statistics as es

    seg = _segment(firing_sim)
    res = annotate(seg)
    st = seg.spiketrains[0]
    ep = seg.epochs[0]
    assert len(st) == len(res.spikes) > 0
    np.testing.assert_allclose(st.times.magnitude, res.spikes["peak_s"].to_numpy())
    np.testing.assert_allclose(st.array_annotations["half_width_ms"], res.spikes["half_width_ms"].to_numpy())
    assert len(ep) == len(res.oscillations) > 0
    np.testing.assert_allclose(ep.array_annotations["frequency_hz"], res.oscillations["frequency_hz"].to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rate = es.mean_firing_rate(st).rescale("Hz").magnitude
        cv = es.cv(es.isi(st).magnitude)
    assert rate == pytest.approx(len(st) / 8.0, rel=0.05)
    assert 0 < cv < 3
    with pytest.raises(TypeError, match="must be a neo.Segment"):
        annotate(st)


def test_nwb_round_trip_gives_the_same_tables(firing_sim, tmp_path):
    pynwb = pytest.importorskip("pynwb")
    res = drgephys.analyze(drgephys.Trace(firing_sim.v, firing_sim.fs, file="cell.abf"))
    nwb = pynwb.NWBFile(session_description="t", identifier="t",
                        session_start_time=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
    to_nwb(res, nwb)
    with pytest.raises(ValueError, match="already has a processing module"):
        to_nwb(res, nwb)
    path = tmp_path / "out.nwb"
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        back = from_nwb(io.read())
    for name in ("oscillations", "spikes"):
        a = getattr(res, name)
        b = back[name]
        assert list(b.columns) == list(a.columns)
        num = [c for c in a.columns if a[c].dtype.kind == "f"]
        np.testing.assert_allclose(b[num].to_numpy(float), a[num].to_numpy(float), equal_nan=True)
    assert back["spikes"]["trigger"].tolist() == res.spikes["trigger"].astype(str).tolist()


def test_transformers_in_a_cross_validated_pipeline():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    traces, labels = [], []
    for i in range(10):
        has = i % 2 == 0
        s = simulate_trace(duration_s=3.0, fs_hz=10000.0, sso=has, sso_time_fraction=0.6, seed=300 + i)
        traces.append(drgephys.Trace(s.v, s.fs))
        labels.append(int(has))
    pipe = make_pipeline(OscillationFeatures(), StandardScaler(), LogisticRegression())
    scores = cross_val_score(pipe, traces, labels, cv=2)
    assert scores.mean() >= 0.8
    X = SpikeTrainFeatures().fit(traces[:2]).transform(traces[:2])
    assert X.shape[0] == 2 and np.all(np.isfinite(X))
    with pytest.raises(TypeError, match="list of drgephys Trace"):
        OscillationFeatures().fit([np.zeros(10)])
    names = OscillationFeatures().fit(traces[:1]).get_feature_names_out()
    assert "sso_frequency_hz" in names
