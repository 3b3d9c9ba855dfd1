"""Spike removal (`drgephys.spikes.removal`): the AHP fits are the least-squares fits they claim to be, the
subtraction writes the fitted model, and the AHPs of a firing cell without SSO leave a flat trace."""

from __future__ import annotations

import numpy as np
import pytest

import drgephys.spikes.removal as removal
from drgephys._numerics.scipy_private import median_filter
from drgephys._numerics.spans import fill_spans, merge_spans
from drgephys.oscillations import OscillationParams
from drgephys.sim import preset, simulate_trace
from drgephys.spikes import find_spikes
from drgephys.spikes.removal import AHP_TAU_GRID_MS, FAST_RATIO, RemovalSettings, _Segments, remove_spikes

#: Agreement of the fit with a per-spike `numpy.linalg.lstsq` (relative, on the coefficients).
COEF_RTOL = 1e-7
#: What is left of 8-mV AHPs in the intervals of a cell firing at 20 Hz without SSO (SD, mV): the simulator's
#: pink + white noise is ~0.3 mV (0.38 measured); left in, the AHPs measure 2.2 mV SD.
MAX_RESIDUAL_SD_MV = 0.6


@pytest.fixture(scope="module")
def tonic():
    tr = simulate_trace(preset("tonic_no_sso", duration_s=5.0, fs_hz=20_000.0), seed=1)
    return tr, find_spikes(tr.v, tr.fs)


def _segments(tr, spk):
    start = np.asarray(spk["trough_index"], np.int64)
    stop = np.append(np.asarray(spk["foot_index"], np.int64)[1:] - 10, tr.v.size)
    stop = np.minimum(stop, start + int(0.3 * tr.fs))
    return _Segments(start, stop, tr.fs)


def test_the_fit_is_the_least_squares_fit_over_the_tau_grid(tonic):
    tr, spk = tonic
    seg = _segments(tr, spk)
    base = (np.arange(tr.v.size), np.full(tr.v.size, float(np.median(tr.v))))
    coef, tau = seg.fit(tr.v[seg.idx], base)
    for k in range(0, seg.start.size, 7):
        idx = seg.idx[seg.offsets[k]:seg.offsets[k] + seg.lens[k]]
        t = (idx - seg.start[k]) / tr.fs
        y = tr.v[idx] - base[1][idx]
        best = None
        for tau_ms in AHP_TAU_GRID_MS:
            a = np.stack([np.exp(-t / (tau_ms * 1e-3)), np.exp(-t * FAST_RATIO / (tau_ms * 1e-3))], axis=1)
            c, *_ = np.linalg.lstsq(a, y, rcond=None)
            ss = float(np.sum((y - a @ c) ** 2))
            if best is None or ss < best[0]:
                best = (ss, c, tau_ms * 1e-3)
        assert tau[k] == pytest.approx(best[2])
        np.testing.assert_allclose(coef[k], best[1], rtol=COEF_RTOL, atol=1e-9)


def test_the_fit_does_not_depend_on_its_block_size(tonic, monkeypatch):
    tr, spk = tonic
    seg = _segments(tr, spk)
    base = (np.arange(tr.v.size), np.full(tr.v.size, float(np.median(tr.v))))
    whole = seg.fit(tr.v[seg.idx], base)
    monkeypatch.setattr(removal, "FIT_BLOCK", 3 * seg.t_grid.size)        # three spikes per block
    seg = _segments(tr, spk)                                              # (its blocks are laid out once)
    assert len(seg._blocks) > 1
    pieces = seg.fit(tr.v[seg.idx], base)
    np.testing.assert_array_equal(whole[1], pieces[1])
    np.testing.assert_allclose(whole[0], pieces[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("block", [removal.SUBTRACT_BLOCK, 5_000])
def test_subtract_writes_the_fitted_model_over_each_recovery(tonic, monkeypatch, block):
    tr, spk = tonic
    monkeypatch.setattr(removal, "SUBTRACT_BLOCK", block)
    seg = _segments(tr, spk)
    rng = np.random.default_rng(0)
    coef = rng.normal(size=(seg.start.size, 2))
    tau = rng.choice(np.asarray(AHP_TAU_GRID_MS) * 1e-3, seg.start.size)
    x = np.zeros(tr.v.size)
    seg.subtract(x, coef, tau)
    want = np.zeros(tr.v.size)
    for k in range(seg.start.size):
        t = np.arange(seg.stop[k] - seg.start[k]) / tr.fs
        want[seg.start[k]:seg.stop[k]] -= coef[k, 0] * np.exp(-t / tau[k]) + coef[k, 1] * np.exp(-t * FAST_RATIO / tau[k])
    np.testing.assert_allclose(x, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(seg.model_at(np.arange(tr.v.size), coef, tau), -want, rtol=1e-12, atol=1e-12)


def test_a_firing_cell_without_sso_is_flat_between_its_spikes(tonic):
    tr, spk = tonic
    out = remove_spikes(tr.v, tr.fs, spk, OscillationParams().removal())
    assert out.through and out.x is not tr.v
    keep = np.ones(tr.v.size, bool)
    for s, e in zip(out.starts, out.ends):
        keep[s:e] = False
    keep[:int(0.5 * tr.fs)] = keep[-int(0.5 * tr.fs):] = False     # the running median's edges
    assert np.std(out.x[keep]) <= MAX_RESIDUAL_SD_MV
    assert np.std(tr.v[keep]) > 2 * MAX_RESIDUAL_SD_MV               # the AHPs were there to remove


def test_blank_mode_keeps_the_trace_and_bridges_each_spike_with_its_ahp(tonic):
    tr, spk = tonic
    settings = RemovalSettings("blank", pre_ms=1.0, post_ms=5.0, fit_max_ms=300.0, min_fit_ms=6.0,
                               baseline_window_s=0.5)
    out = remove_spikes(tr.v, tr.fs, spk, settings)
    assert out.x is tr.v and not out.through
    assert np.all(out.starts[1:] > out.ends[:-1])                        # merged, sorted
    thr = np.asarray(spk["threshold_index"])
    assert np.all(np.searchsorted(out.ends, thr, side="right") < out.ends.size)


def test_no_spikes_leave_the_trace_as_it_is(tonic):
    tr, spk = tonic
    none = {k: np.asarray(spk[k])[:0] for k in ("threshold_index", "trough_index", "foot_index", "end_index")}
    out = remove_spikes(tr.v, tr.fs, none, OscillationParams().removal())
    assert out.x is tr.v and out.starts.size == 0


@pytest.mark.parametrize("rate_hz", [removal.EARLY_BASELINE_RATE_HZ, removal.BASELINE_RATE_HZ])
@pytest.mark.parametrize("window_s", [0.05, 0.5, 30.0])
def test_the_baseline_is_the_whole_running_median_where_the_fits_read_it(tonic, rate_hz, window_s):
    """`_Baseline` runs the median only around the recoveries; at the points it returns the values are
    those of the running median of the whole subsample, and it returns both neighbours of every fit
    sample (so `np.interp` gives the whole baseline's values)."""
    tr, spk = tonic
    seg = _segments(tr, spk)
    n = tr.v.size
    spans = merge_spans(np.asarray(spk["foot_index"]) - 20, np.asarray(spk["trough_index"]) + 1, n)
    idx, vals = removal._Baseline(tr.v, seg, spans, window_s, rate_hz)()
    stride = max(int(round(tr.fs / rate_hz)), 1)
    bridged = tr.v.copy()
    fill_spans(bridged, *spans, merged=True)
    sub = bridged[::stride]
    w = min(max(int(round(window_s * tr.fs / stride)) | 1, 3), sub.size | 1)
    whole = median_filter(sub, w)
    assert np.all(idx % stride == 0) and np.all(np.diff(idx) > 0)
    np.testing.assert_array_equal(vals, whole[idx // stride])
    assert idx.size < sub.size                                  # it did leave points out
    grid = np.arange(0, n, stride)
    np.testing.assert_array_equal(np.interp(seg.idx, idx, vals), np.interp(seg.idx, grid, whole))
