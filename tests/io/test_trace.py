"""Trace / Recording objects and the neo boundary (to_neo / from_neo)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drgephys.errors import RecordingError
from drgephys.io import Trace, from_neo


def _noisy(n=5000, level=-60.0, seed=0):
    return level + np.random.default_rng(seed).normal(0, 0.5, n)


def test_trace_validates_inputs():
    with pytest.raises(ValueError, match=r"`fs` must be a positive number in Hz; got -1"):
        Trace(_noisy(), -1)
    with pytest.raises(ValueError, match="must be finite"):
        Trace(np.array([0.0, np.nan]), 1000.0)
    with pytest.raises(ValueError, match="1-D array"):
        Trace(np.zeros((3, 3)), 1000.0)
    with pytest.raises(TypeError, match="plain array in mV"):
        import quantities as pq

        Trace(np.zeros(10) * pq.V, 1000.0)


def test_round_trip_through_neo_keeps_values_rate_and_t0():
    tr = Trace(_noisy(), 25000.000000000004, t0=1.5, file="x.abf", sweep=3)
    sig = tr.to_neo()
    assert str(sig.units.dimensionality) == "mV"
    back = from_neo(sig)[0]
    np.testing.assert_allclose(back.v, tr.v)
    assert back.fs == tr.fs and back.t0 == pytest.approx(1.5)


def test_from_neo_converts_volts_and_picks_voltage_channel():
    import neo
    import quantities as pq

    seg = neo.Segment()
    seg.analogsignals.append(neo.AnalogSignal(np.random.default_rng(1).normal(0, 5, (2000, 1)), units="pA",
                                              sampling_rate=10 * pq.kHz, name="I"))
    seg.analogsignals.append(neo.AnalogSignal(_noisy(2000)[:, None] / 1000.0, units="V",
                                              sampling_rate=10 * pq.kHz, name="Vm"))
    rec = from_neo(seg)
    assert rec[0].channel == 1 and rec[0].units == "V"
    assert np.median(rec[0].v) == pytest.approx(-60.0, abs=0.1)


def test_from_neo_refuses_current_only_and_constant():
    import neo
    import quantities as pq

    cur = neo.AnalogSignal(np.random.default_rng(2).normal(0, 5, (2000, 1)), units="pA", sampling_rate=10 * pq.kHz)
    with pytest.raises(RecordingError, match="only currents"):
        from_neo(cur)
    flat = neo.AnalogSignal(np.full((2000, 1), -65.0), units="mV", sampling_rate=10 * pq.kHz)
    with pytest.raises(RecordingError, match="constant"):
        from_neo(flat)
    clipped = np.clip(_noisy(4000, level=-60), -np.inf, -60.2)[:, None]
    with pytest.raises(RecordingError, match="saturated"):
        from_neo(neo.AnalogSignal(clipped, units="mV", sampling_rate=10 * pq.kHz))
    with pytest.raises(TypeError, match="must be a neo Block"):
        from_neo(np.zeros(10))


@settings(max_examples=25, deadline=None)
@given(scale=st.sampled_from(["V", "mV", "uV"]), level=st.floats(-90, -30))
def test_units_conversion_is_invariant(scale, level):
    import neo
    import quantities as pq

    factor = {"V": 1e-3, "mV": 1.0, "uV": 1e3}[scale]
    v = _noisy(3000, level=level, seed=3)
    rec = from_neo(neo.AnalogSignal((v * factor)[:, None], units=scale, sampling_rate=20 * pq.kHz))
    np.testing.assert_allclose(rec[0].v, v, rtol=1e-9, atol=1e-9)


def test_recording_shows_an_html_summary_with_the_channel_choice():
    import neo
    import quantities as pq

    seg = neo.Segment()
    seg.analogsignals.append(neo.AnalogSignal(_noisy(2000)[:, None], units="mV", sampling_rate=10 * pq.kHz,
                                              name="Vm"))
    html = from_neo(seg)._repr_html_()
    assert "Recording" in html and "10000 Hz" in html and "<table" in html and "plausible" in html
