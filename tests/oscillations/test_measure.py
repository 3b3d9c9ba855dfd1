"""`screen_episode` settles a candidate's acceptance only when the full measures would give the same
answer, and its cheap columns equal `measure_episode`'s exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drgephys.oscillations import OscillationParams, explain_oscillations
from drgephys.oscillations.detect import COLUMNS, _Table, _acceptance
from drgephys.oscillations.episodes import find_candidates
from drgephys.oscillations.measure import measure_episode, screen_episode

from .synth import make_trace

#: Columns `screen_episode` measures in every case (the others are NaN when it decides early).
CHEAP = ("start_s", "end_s", "frequency_hz", "n_cycles", "power_db")

TRACES = {
    "sso_spikes": dict(episodes=[(0.5, 1.3, 40.0, 1.5), (2.0, 2.6, 120.0, 0.8), (3.2, 4.4, 15.0, 3.0)],
                       spike_times_s=(1.0, 2.3, 3.9), hum_hz=50.0, seed=3),
    "noise_only": dict(pink_sd=0.5, white_sd=0.2, spike_times_s=(0.7, 2.9), seed=11),
    "weak_sso": dict(episodes=[(0.4, 1.6, 25.0, 0.5), (2.5, 4.0, 70.0, 0.35)], pink_sd=0.4, seed=5),
}


def _candidates(name):
    p = OscillationParams()
    v, spikes = make_trace(duration_s=5.0, fs=10000.0, **TRACES[name])
    st = explain_oscillations(v, 10000.0, spikes=spikes, params=p)
    fw, freqs, bg = st["working_fs_hz"], st["freqs_hz"], st["background"]
    cs, ce, fi, _ = find_candidates(st["power"], st["threshold"], freqs, st["valid"], fw, p)
    lf, lbg = np.log10(freqs), np.log10(bg)

    def bg_at(f):
        return float(10 ** np.interp(math.log10(f), lf, lbg))

    return st, p, bg_at, list(zip(cs.tolist(), ce.tolist(), freqs[fi].tolist()))


@pytest.mark.parametrize("name", sorted(TRACES))
@pytest.mark.parametrize("need_ok", [True, False])
def test_screen_matches_full_measure(name, need_ok):
    st, p, bg_at, cands = _candidates(name)
    lo, hi = st["band_hz"]
    args = (st["residual_mv"], st["filled_mv"], st["valid"])
    assert cands, "the trace must give candidates"
    n_decided = 0
    for s, e, f0 in cands:
        full = measure_episode(*args, s, e, f0, bg_at, st["working_fs_hz"], p)
        row, decided = screen_episode(*args, s, e, f0, bg_at, st["working_fs_hz"], p, lo, hi, need_ok)
        for c in CHEAP:
            assert row[c] == full[c], c
        ok, basic = _acceptance(_Table([[full[c] for c in COLUMNS]]), p, lo, hi)
        if decided is None:
            np.testing.assert_array_equal([row[c] for c in COLUMNS], [full[c] for c in COLUMNS])
        else:
            n_decided += 1
            assert decided[1] == basic[0]
            if need_ok:
                assert decided[0] == ok[0]
            else:
                assert not decided[0]
    if name == "noise_only":   # noise candidates fail the minima: they are settled by the cheap measures
        assert n_decided > 0
