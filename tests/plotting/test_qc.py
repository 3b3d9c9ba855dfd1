"""QC figures: spectrogram colorbar, title by file name, drawing without pyplot."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

import drgephys
from drgephys.plotting.qc import qc_figure, spectrogram_db

from ..conftest import REPO


def test_qc_figure_has_a_labelled_colorbar_and_a_file_name_title():
    rec = drgephys.load(REPO / "sample_data" / "injured_sso_bursting.abf")
    fig = qc_figure(rec[0], figure=Figure())
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert "PSD (dB re 1 mV²/Hz)" in labels and len(fig.axes) == 4   # trace, spectrogram, colorbar, ISI
    assert fig.get_suptitle() == "injured_sso_bursting.abf — sweep 0"
    assert str(REPO) not in fig.get_suptitle()


def test_spectrogram_db_finds_a_sinusoid_and_respects_max_columns():
    fs = 20_000.0
    t = np.arange(int(20 * fs)) / fs
    v = -60 + 1.0 * np.sin(2 * np.pi * 42.0 * t) + 0.05 * np.random.default_rng(0).standard_normal(t.size)
    tt, f, db = spectrogram_db(v.astype(np.float32), fs, max_columns=50)
    assert db.shape == (f.size, tt.size) and tt.size <= 50 and f.min() >= 10 and f.max() <= 200
    assert abs(f[np.argmax(db.mean(axis=1))] - 42.0) <= 4.0
    with pytest.raises(ValueError, match="`window_s` must be a positive duration"):
        spectrogram_db(v, fs, window_s=0)


def test_spike_spans_are_bridged_before_the_spectrum():
    fs = 10_000.0
    v = -60 + 0.05 * np.random.default_rng(1).standard_normal(int(4 * fs))
    i = int(2 * fs)
    v[i:i + 20] += np.hanning(20) * 90.0                      # a 2-ms spike
    import pandas as pd

    from drgephys.plotting.qc import spike_spans
    spikes = pd.DataFrame({"threshold_index": [i - 2], "end_index": [i + 22]})
    spans = spike_spans(spikes, 0, v.size)
    assert spans.tolist() == [[i - 2, i + 22]]
    t, f, raw = spectrogram_db(v, fs)
    _, _, bridged = spectrogram_db(v, fs, spans=spans)
    col = np.argmin(np.abs(t - 2.0))
    assert raw[:, col].mean() - bridged[:, col].mean() > 10.0   # the spike's broadband power is gone
    assert spike_spans(spikes.rename(columns={"end_index": "x"})) is None
