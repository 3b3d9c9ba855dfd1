"""Unit tests of the pre-processing steps and of mains-hum removal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drgephys.oscillations import OscillationParams
from drgephys._numerics import spans as sp
from drgephys.oscillations import preprocess as pp
from drgephys.oscillations.mains import HUM_ROW, hum_waveform, remove_mains
from drgephys.oscillations.tfr import background, morlet_power, wavelet_freqs

STOPBAND_DB = 60.0        # Kaiser design attenuation of the decimation filters
PASSBAND_TOL = 0.01       # relative gain error allowed in the SSO band after decimation
HUM_TOL_MV = 1e-9         # angle-addition hum against per-sample cos/sin (rounding only: ~1e-11 mV seen)


def test_merge_and_mask_spans():
    s, e = sp.merge_spans([10, 5, 30, -4], [20, 12, 31, 2], 25)
    assert s.tolist() == [0, 5] and e.tolist() == [2, 20]
    m = sp.spans_to_mask([3, 8], [5, 9], 10)
    assert np.flatnonzero(m).tolist() == [3, 4, 8]


def test_fill_spans_linear_and_edges():
    x = np.arange(20, dtype=float) ** 2
    sp.fill_spans(x, [5, 0, 17], [9, 2, 20])
    assert x[5:9] == pytest.approx(16 + (81 - 16) * np.arange(1, 5) / 5)
    assert x[0:2] == pytest.approx([4.0, 4.0])        # edge span takes the value on its other side
    assert x[17:] == pytest.approx([256.0] * 3)


def test_spike_spans_margins():
    spikes = pd.DataFrame({"threshold_index": [500, 100], "end_index": [900, 200]})
    cols = pp.spike_columns(spikes, 1000)                     # sorted by time; trough and foot default
    assert cols["threshold_index"].tolist() == [100, 500] and cols["foot_index"].tolist() == [100, 500]
    assert cols["trough_index"].tolist() == [100, 500]
    s, e = pp.spans_from_indices(cols["threshold_index"], cols["end_index"], 10000.0, 1.0, 5.0)
    assert s.tolist() == [90, 490] and e.tolist() == [251, 951]


@pytest.mark.parametrize("fs", [10000.0, 20000.0, 44100.0, 50000.0])
def test_decimation_passband_and_aliasing(fs):
    q = pp.decimation_factor(fs, 200.0, 3.0)
    fw = fs / q
    assert 600.0 <= fw < 700.0                                # lowest rate >= 3 x band top, nearly
    t = np.arange(int(2 * fs)) / fs
    tone = np.sin(2 * np.pi * 150.0 * t)                     # in band: must pass unchanged
    alias = np.sin(2 * np.pi * (fw - 100.0) * t)            # would alias onto 100 Hz
    yt = pp.decimate(tone, fs, q, 200.0)
    ya = pp.decimate(alias, fs, q, 200.0)
    core = slice(yt.size // 4, 3 * yt.size // 4)
    ref = np.sin(2 * np.pi * 150.0 * np.arange(yt.size) * q / fs)
    assert np.max(np.abs(yt[core] - ref[core])) <= PASSBAND_TOL
    assert 20 * np.log10(np.std(ya[core]) / np.std(alias)) <= -STOPBAND_DB + 3


def test_running_median_keeps_steps_out_of_the_residual():
    fs = 600.0
    t = np.arange(int(3 * fs)) / fs
    y = np.where(t >= 1.0, 50.0 * (1 - np.exp(-(t - 1.0) / 0.02)), 0.0) - 60.0
    r, base = pp.remove_drift(y, fs, 0.5)
    assert np.max(np.abs(r)) < 0.5                        # a linear high-pass would leave ~50 mV
    assert base[-1] == pytest.approx(-10.0, abs=1e-3)


def test_mains_line_removed_off_nominal_and_sso_kept():
    fs = 600.0
    rng = np.random.default_rng(0)
    t = np.arange(int(20 * fs)) / fs
    hum = 0.5 * np.cos(2 * np.pi * 50.08 * t + 0.3)
    env = ((t > 5) & (t < 7)).astype(float)
    sso = 1.0 * env * np.sin(2 * np.pi * 50.0 * t + 1.1)
    r = hum + sso + 0.1 * rng.standard_normal(t.size)
    out, lines = remove_mains(r, fs, np.ones(t.size, bool), 200.0, OscillationParams())
    assert len(lines) == 1 and lines[0]["frequency_hz"] == pytest.approx(50.08, abs=0.005)
    assert lines[0]["amplitude_mv"] == pytest.approx(1.0, rel=0.05)
    resid = out - sso
    assert np.std(resid[(t < 4) | (t > 8)]) < 0.12           # hum gone outside the SSO
    inside = (t > 5.2) & (t < 6.8)
    kept = np.dot(out[inside], sso[inside]) / np.dot(sso[inside], sso[inside])
    assert kept == pytest.approx(1.0, abs=0.1)               # the SSO at the mains frequency survives


@settings(max_examples=40, deadline=None)
@given(n=st.one_of(st.integers(1, 5 * HUM_ROW + 7), st.just(37_501)), n_lines=st.integers(0, 4),
       seed=st.integers(0, 2**32 - 1))
def test_hum_waveform_is_the_interpolated_sinusoids(n, n_lines, seed):
    rng = np.random.default_rng(seed)
    fs = 625.0
    t_b = np.sort(rng.uniform(-0.1, n / fs + 0.1, 6))
    amp = rng.normal(size=(6, n_lines)) + 1j * rng.normal(size=(6, n_lines))
    freqs = rng.uniform(45.0, 0.45 * fs, n_lines)
    t = np.arange(n) / fs
    want = np.zeros(n)
    for j, f in enumerate(freqs):      # the direct form: a cosine and a sine per sample
        a = np.interp(t, t_b, amp[:, j])
        want += a.real * np.cos(2 * np.pi * f * t) - a.imag * np.sin(2 * np.pi * f * t)
    got = hum_waveform(amp, t_b, freqs, n, fs)
    assert got.shape == (n,)
    np.testing.assert_allclose(got, want, rtol=0, atol=HUM_TOL_MV)


def test_mains_absent_changes_nothing():
    fs = 600.0
    rng = np.random.default_rng(1)
    t = np.arange(int(10 * fs)) / fs
    r = 0.2 * rng.standard_normal(t.size) + 1.0 * ((t > 2) & (t < 3)) * np.sin(2 * np.pi * 50.3 * t)
    out, lines = remove_mains(r, fs, np.ones(t.size, bool), 200.0, OscillationParams())
    assert lines == [] and np.array_equal(out, r)


def test_background_follows_aperiodic_spectrum_and_ignores_a_long_peak():
    fs = 600.0
    rng = np.random.default_rng(2)
    n = int(20 * fs)
    spec = (rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1))
    f = np.fft.rfftfreq(n, 1 / fs)
    spec /= np.sqrt(np.maximum(f, 1.0))
    x = np.fft.irfft(spec, n)
    x /= x.std()
    t = np.arange(n) / fs
    x_sso = x + 3.0 * np.sin(2 * np.pi * 40.0 * t) * (t < 14)        # present 70 % of the time
    freqs = wavelet_freqs(10.0, 200.0, 24)
    bg0, _ = background(morlet_power(x, fs, freqs, 6.0), freqs, np.ones(n, bool), 3.0)
    bg1, _ = background(morlet_power(x_sso, fs, freqs, 6.0), freqs, np.ones(n, bool), 3.0)
    k = int(np.argmin(np.abs(freqs - 40.0)))
    assert 10 * np.log10(bg1[k] / bg0[k]) <= 3.5                        # clipped near the aperiodic line
    far = np.abs(np.log(freqs / 40.0)) > np.log(1.6)
    assert np.allclose(bg1[far], bg0[far], rtol=0.15)
