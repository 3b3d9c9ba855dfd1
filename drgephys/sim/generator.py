"""The trace generator :func:`simulate_trace`: a DRG membrane potential with exact ground truth."""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.signal import oaconvolve

from drgephys.sim import action_potential as AP
from drgephys.sim import components as C
from drgephys.sim.locking import locked_cycles
from drgephys.sim.spec import SimulatedTrace, TraceSpec
from drgephys.sim.spiketrain import as_generator, spike_train

#: Minimum silence between the full envelopes (support) of two random episodes, s.
EPISODE_GAP_S = 0.2
#: Spikes closer than this after moving onto SSO peaks are dropped (the later one), s.
MIN_SPIKE_INTERVAL_S = 0.005
#: Samples whose spike component exceeds this (mV, absolute) are excluded from an episode's ``mean_vm_mv``.
SPIKE_EXCLUSION_MV = 0.5


def simulate_trace(spec: TraceSpec | float | None = None, fs: float | None = None, *, seed=None,
                   **overrides) -> SimulatedTrace:
    """Simulate one current-clamp trace of a DRG neuron with exact ground truth.

    The potential is ``resting + slow drift [+ a dying cell's depolarization] + SSO-related depolarization
    + SSO episodes + action potentials + 1/f noise + white noise + mains hum [+ offset]``, all vectorized
    (see :class:`TraceSpec`).

    Episode definition (what an honest detector should match): an episode's ``start_s``/``end_s`` are the
    points where its raised-cosine envelope reaches **half** of its plateau (the envelope's full extent
    is 40 % of the episode longer: ramps of 20 % on each side). ``frequency_hz`` is the mean instantaneous
    frequency over ``[start_s, end_s)`` (= cycles per second); ``amplitude_mv`` is the 90th percentile of
    the peak-to-peak of the clean oscillation over its cycles (peak to peak) lying inside the episode;
    ``mean_vm_mv`` is the mean of the final trace over the episode, excluding samples where the spike
    component exceeds 0.5 mV in magnitude; ``firing_rate_hz`` is the number of spikes whose ``threshold_s``
    lies in ``[start_s, end_s)`` divided by the episode's duration.

    Spikes: ``threshold_s`` is where the noise-free AP template's dV/dt first reaches 20 mV/ms, ``peak_s``
    its maximum, ``half_width_ms`` the template's width at half amplitude between them (each spike's own
    template, on a 2 µs grid); spikes launched from an SSO peak (their onset, at ``spike_threshold_mv``, is
    the peak of a cycle) have ``trigger="oscillation"``, the rest ``"other"``. The truth ``pattern`` is
    ``spec.pattern``, or ``"silent"`` when the trace ended up without spikes.

    Parameters
    ----------
    spec : TraceSpec or float, optional
        Generating parameters (default ``TraceSpec()``), or the duration in s as in
        ``simulate_trace(10, 20_000, pattern="tonic")``.
    fs : float, optional
        Sampling rate in Hz (same as the ``fs_hz`` field).
    seed : int, numpy.random.Generator or None
        Random seed; the same seed and parameters give an identical trace.
    **overrides
        Fields of :class:`TraceSpec` replacing those of ``spec`` (e.g. ``duration_s=10, fs_hz=50_000``).

    Returns
    -------
    SimulatedTrace
        ``.v`` (mV), ``.fs`` (Hz), ``.truth`` (JSON-serialisable dict with ``fs_hz``, ``duration_s``,
        ``resting_vm_mv``, ``offset_mv``, ``hum_hz``, ``sso_cell``, ``pattern``, ``episodes``, ``spikes``,
        ``spec``) and ``.components`` (noise-free parts; ``baseline`` includes a dying cell's depolarization,
        not the offset).
    """
    if fs is not None:
        overrides["fs_hz"] = fs
    if isinstance(spec, (int, float, np.integer, np.floating)) and not isinstance(spec, bool):
        overrides["duration_s"], spec = float(spec), None
    if spec is None:
        spec = TraceSpec(**overrides)
    elif not isinstance(spec, TraceSpec):
        raise TypeError(f"`spec` must be a drgephys.sim.TraceSpec; got {type(spec).__name__}. "
                        "Pass parameters as keywords instead, e.g. simulate_trace(duration_s=10).")
    elif overrides:
        spec = dataclasses.replace(spec, **overrides)
    rng = as_generator(seed)
    rngs = rng.spawn(6)  # one stream per component: changing one part leaves the others unchanged
    fs = float(spec.fs_hz)
    n = int(round(spec.duration_s * fs))
    t = np.arange(n) / fs

    baseline = spec.resting_vm_mv + C.slow_drift(n, fs, spec.drift_mv, spec.drift_time_s, rngs[0])
    if spec.dying_vm_mv is not None:
        baseline += C.depolarization(t, spec.resting_vm_mv, spec.dying_vm_mv, spec.dying_onset_s, spec.dying_tau_s)
    eps = _episode_bounds(spec, rngs[1]) if spec.sso or spec.episodes else []
    sso = np.zeros(n)
    ep_truth, ep_peaks = [], []
    for e in eps:
        a, b = C.support(e["start_s"], e["end_s"])
        i0, i1 = max(0, int(np.floor(a * fs))), min(n, int(np.ceil(b * fs)) + 1)
        baseline[i0:i1] += spec.sso_depolarization_mv * C.envelope(t[i0:i1], e["start_s"], e["end_s"])
    for e in eps:
        tr, peaks = _add_episode(spec, e, t, baseline, sso, fs=fs, rng=rngs[2])
        ep_truth.append(tr)
        ep_peaks.append(peaks)

    onset, trigger = _spike_onsets(spec, eps, ep_peaks, rngs[3])
    if spec.dying_vm_mv is not None and onset.size:  # depolarization block: no spike above threshold
        ok = np.interp(onset, t, baseline) <= spec.spike_threshold_mv
        onset, trigger = onset[ok], [g for g, k in zip(trigger, ok) if k]
    spikes = np.zeros(n)
    spike_truth = []
    if onset.size:
        base = np.interp(onset, t, baseline + sso)
        thr = np.maximum(spec.spike_threshold_mv, base)
        shape = AP.calibrate(spec.spike_half_width_ms, spec.spike_shoulder_fraction,
                             spec.spike_threshold_mv - spec.resting_vm_mv, spec.spike_peak_mv - spec.resting_vm_mv,
                             spec.ahp_mv, spec.ahp_tau_ms * 1e-3)
        spikes = _add_spikes(spec, shape, onset, base, thr, n=n, fs=fs)
        pk, th, hw = AP.ap_timing(shape, thr - base, spec.spike_peak_mv - base, spec.ahp_mv, spec.ahp_tau_ms * 1e-3)
        spike_truth = [{"peak_s": float(o + p), "threshold_s": float(o + q), "trigger": g, "half_width_ms": float(h)}
                       for o, p, q, g, h in zip(onset, pk, th, trigger, hw)]

    mains = C.hum(n, fs, spec.hum_hz, spec.hum_amplitude_mv, spec.hum_harmonics, rngs[4])
    noise = C.pink_noise(n, fs, spec.pink_noise_mv, rngs[5]) + spec.white_noise_mv * rngs[5].standard_normal(n)
    v = baseline + sso + spikes + mains + noise
    if spec.offset_mv:
        v += spec.offset_mv

    keep = np.abs(spikes) <= SPIKE_EXCLUSION_MV
    thresholds = np.array([s["threshold_s"] for s in spike_truth])
    for tr in ep_truth:
        j0, j1 = int(np.ceil(tr["start_s"] * fs)), int(np.ceil(tr["end_s"] * fs))
        seg, ok = v[j0:j1], keep[j0:j1]
        tr["mean_vm_mv"] = float(seg[ok].mean() if ok.any() else seg.mean())
        inside = np.count_nonzero((thresholds >= tr["start_s"]) & (thresholds < tr["end_s"]))
        tr["firing_rate_hz"] = float(inside / (tr["end_s"] - tr["start_s"]))
    truth = {
        "fs_hz": fs, "duration_s": n / fs, "resting_vm_mv": float(spec.resting_vm_mv),
        "offset_mv": float(spec.offset_mv),
        # a pattern that produced no spike (e.g. SSO-driven firing confined to short episodes) is silent
        "hum_hz": spec.hum_hz, "sso_cell": bool(ep_truth), "pattern": spec.pattern if spike_truth else "silent",
        "episodes": ep_truth, "spikes": spike_truth, "spec": spec.to_dict(),
    }
    return SimulatedTrace(v=v, fs=fs, truth=truth,
                          components={"baseline": baseline, "sso": sso, "spikes": spikes, "hum": mains})


def _episode_bounds(spec: TraceSpec, rng) -> list[dict]:
    """Explicit episodes, or random non-overlapping ones covering ~``sso_time_fraction`` of the trace."""
    if spec.episodes is not None:
        eps = sorted((dict(e) for e in spec.episodes), key=lambda e: e["start_s"])
        for a, b in zip(eps[:-1], eps[1:]):
            if C.support(**_se(a))[1] > C.support(**_se(b))[0]:
                raise ValueError(f"`episodes` must not overlap (including their 20 % envelope ramps); got "
                                 f"{a} and {b}. Leave a gap of at least 0.4 x the shorter episode.")
        return eps
    dur = spec.duration_s
    lo, hi = spec.episode_duration_s
    lo = max(lo, 5.0 / spec.sso_frequency_hz)
    hi = max(hi, lo)
    target = spec.sso_time_fraction * dur
    if target <= 0:
        return []
    d = np.exp(rng.uniform(np.log(lo), np.log(hi), int(target / lo) + 2))
    d = d[: max(1, int(np.searchsorted(np.cumsum(d), target)) + 1)]
    full = d * (1 + C.RAMP_FRACTION)
    while d.size and full.sum() + EPISODE_GAP_S * (d.size + 1) > dur:
        d, full = d[:-1], full[:-1]
    if d.size == 0:
        return []
    free = dur - full.sum() - EPISODE_GAP_S * (d.size + 1)
    gaps = EPISODE_GAP_S + free * rng.dirichlet(np.ones(d.size + 1))
    starts = np.cumsum(gaps[:-1]) + np.concatenate([[0.0], np.cumsum(full[:-1])]) + d * C.RAMP_FRACTION / 2
    return [{"start_s": float(s), "end_s": float(s + x)} for s, x in zip(starts, d)]


def _se(e):
    return {"start_s": e["start_s"], "end_s": e["end_s"]}


def _add_episode(spec, e, t, baseline, sso, *, fs, rng):
    """Add one SSO episode to ``sso`` in place; return its truth dict and its cycle-peak times (s)."""
    start, end = e["start_s"], e["end_s"]
    a, b = C.support(start, end)
    n = t.size
    i0, i1 = max(0, int(np.floor(a * fs))), min(n, int(np.ceil(b * fs)) + 1)
    j0, j1 = int(np.ceil(start * fs)), int(np.ceil(end * fs))
    tt = t[i0:i1]
    vslow = baseline[i0:i1]
    vm_ep = float(baseline[j0:j1].mean()) if j1 > j0 else float(vslow.mean())
    if "frequency_hz" in e:
        f0 = float(e["frequency_hz"])
    elif spec.sso_ref_vm_mv is None:
        f0 = spec.sso_frequency_hz
    else:
        f0 = spec.sso_frequency_hz + spec.sso_slope_hz_per_mv * (vm_ep - spec.sso_ref_vm_mv)
    fmax = min(200.0, fs / 5)
    f0 = float(np.clip(f0, 10.0, fmax))
    finst = f0 + spec.sso_slope_hz_per_mv * (vslow - vm_ep)
    finst = finst + spec.period_jitter * f0 * C.smooth_noise(tt, 1.0 / f0, rng)
    finst = np.clip(finst, 5.0, fs / 4)
    phase = rng.uniform(0, 2 * np.pi) + 2 * np.pi * np.cumsum(finst) / fs
    amp_pp = float(e.get("amplitude_mv", spec.sso_amplitude_mv))
    mod = np.maximum(0.2, 1 + spec.amplitude_modulation * C.smooth_noise(tt, 5.0 / f0, rng))
    h = spec.harmonic_fraction
    grid = np.linspace(0, 2 * np.pi, 4097)
    wpp = np.ptp(np.cos(grid) + h * np.cos(2 * grid))
    osc = amp_pp / wpp * C.envelope(tt, start, end) * mod * (np.cos(phase) + h * np.cos(2 * phase))
    sso[i0:i1] += osc
    # cycle peaks: phase crossing a multiple of 2π (sub-sample by linear interpolation)
    k = np.floor(phase / (2 * np.pi))
    idx = np.flatnonzero(np.diff(k) > 0)
    frac = (2 * np.pi * k[idx + 1] - phase[idx]) / (phase[idx + 1] - phase[idx])
    peaks = tt[idx] + frac / fs
    inside = (tt >= start) & (tt < end)
    # per-cycle peak-to-peak between consecutive peaks fully inside the episode
    pidx = idx[(peaks >= start) & (peaks < end)] + 1
    if pidx.size >= 2:
        pp = np.maximum.reduceat(osc, pidx[:-1]) - np.minimum.reduceat(osc, pidx[:-1])
        amp = float(np.percentile(pp, 90))
    else:
        amp = float(np.ptp(osc[inside])) if inside.any() else 0.0
    truth = {"start_s": float(start), "end_s": float(end),
             "frequency_hz": float(finst[inside].mean()) if inside.any() else f0,
             "amplitude_mv": amp, "mean_vm_mv": float("nan")}
    return truth, peaks[(peaks >= start) & (peaks < end)]


def _spike_onsets(spec, eps, ep_peaks, rng):
    """Spike onset times (s) and triggers, following ``spec.pattern`` and ``spec.spike_location``."""
    if spec.pattern == "silent" or (spec.cycles_per_spike is not None and not eps):
        return np.empty(0), []  # SSO-locked firing needs SSO cycles to launch spikes
    margin = 0.01
    if spec.cycles_per_spike is not None and eps:
        onset, trig = _locked_onsets(spec, eps, ep_peaks, rng)
    elif spec.spike_location == "episodes" and eps:
        starts = np.array([e["start_s"] for e in eps])
        lens = np.array([e["end_s"] - e["start_s"] for e in eps])
        tr = spike_train(spec.pattern, float(lens.sum()), rate_hz=spec.rate_hz, seed=rng, **_burst_kw(spec))
        cum = np.concatenate([[0.0], np.cumsum(lens)])
        j = np.clip(np.searchsorted(cum, tr, side="right") - 1, 0, len(eps) - 1)
        onset = starts[j] + tr - cum[j]
    else:
        onset = spike_train(spec.pattern, spec.duration_s, rate_hz=spec.rate_hz, seed=rng, **_burst_kw(spec))
    if spec.cycles_per_spike is None:
        onset, trig = _onto_peaks(spec, onset, eps, ep_peaks, rng)
    order = np.argsort(onset, kind="stable")
    onset, trig = onset[order], trig[order]
    for _ in range(20):  # drop the later of two spikes closer than MIN_SPIKE_INTERVAL_S (a few passes)
        bad = np.flatnonzero(np.diff(onset) < MIN_SPIKE_INTERVAL_S) + 1
        if bad.size == 0:
            break
        onset, trig = np.delete(onset, bad[:1] if bad.size == 1 else bad[::2]), \
            np.delete(trig, bad[:1] if bad.size == 1 else bad[::2])
    keep = (onset >= margin) & (onset <= spec.duration_s - margin)
    onset, trig = onset[keep], trig[keep]
    return onset, ["oscillation" if g else "other" for g in trig]


def _burst_kw(spec):
    """``spike_train`` keywords of the ``bursting`` pattern (the defaults leave the train unchanged)."""
    return {"burst_size": tuple(spec.burst_size), "intra_burst_isi_s": spec.intra_burst_isi_ms / 1000.0}


def _onto_peaks(spec, onset, eps, ep_peaks, rng):
    """Move the eligible spikes falling inside episodes onto the nearest cycle peak (trigger True)."""
    margin = 0.01
    onset = onset[(onset >= margin) & (onset <= spec.duration_s - margin)]
    trig = np.zeros(onset.size, dtype=bool)
    eligible = rng.random(onset.size) < spec.oscillation_trigger_share
    for e, pk in zip(eps, ep_peaks):
        m = (onset >= e["start_s"]) & (onset < e["end_s"]) & eligible
        if m.any() and pk.size:
            j = np.clip(np.searchsorted(pk, onset[m]), 1, pk.size - 1) if pk.size > 1 else np.zeros(m.sum(), int)
            if pk.size > 1:
                j = np.where(np.abs(pk[j - 1] - onset[m]) <= np.abs(pk[j] - onset[m]), j - 1, j)
            onset[m] = pk[j]
            trig[m] = True
    return onset, trig


def _locked_onsets(spec, eps, ep_peaks, rng):
    """SSO-locked firing (``cycles_per_spike``): onsets on chosen cycle peaks of the episodes laid end to end.

    Spikes not eligible under ``oscillation_trigger_share`` are moved to a uniformly random phase of their
    cycle (trigger False)."""
    peaks = np.concatenate(ep_peaks) if ep_peaks else np.empty(0)
    if peaks.size == 0:
        return np.empty(0), np.zeros(0, dtype=bool)
    dur = float(sum(e["end_s"] - e["start_s"] for e in eps))
    idx = locked_cycles(spec.pattern, peaks.size, peaks.size / dur, spec.rate_hz,
                        cycles_per_spike=spec.cycles_per_spike, burst_size=spec.burst_size, rng=rng)
    onset = peaks[idx]
    # each spike's cycle length: to the next peak of its episode (from the previous one for an episode's last)
    ep = np.concatenate([np.full(p.size, k) for k, p in enumerate(ep_peaks)])
    same = ep[1:] == ep[:-1]
    d = np.diff(peaks)
    nxt = np.concatenate([np.where(same, d, np.nan), [np.nan]])
    prv = np.concatenate([[np.nan], np.where(same, d, np.nan)])
    period = np.where(np.isfinite(nxt), nxt, prv)[idx]
    period = np.where(np.isfinite(period), period, dur / peaks.size)  # an episode with a single peak
    eligible = rng.random(onset.size) < spec.oscillation_trigger_share
    shift = rng.uniform(-0.5, 0.5, onset.size) * period
    return np.where(eligible, onset, onset + shift), eligible


def _add_spikes(spec, shape, onset, base, thr, *, n, fs):
    """Sum of AP templates placed at sub-sample ``onset`` times.

    The fast part (pre-potential and spike, whose height depends on the local baseline) is evaluated exactly
    on short windows by index arithmetic + ``np.bincount``; the AHP, identical for every spike, is the
    convolution of its kernel with an impulse train whose weights are split between the two samples around
    each onset (linear interpolation of the sub-sample shift)."""
    pre = float(np.max(AP.pre_tau_s(thr - base))) * 6
    out = np.zeros(n)
    w = int(np.ceil((pre + shape.extent_s + 1e-3) * fs)) + 1
    chunk = max(1, 4_000_000 // w)
    for c in range(0, onset.size, chunk):  # bounded memory; a few iterations
        o = onset[c:c + chunk, None]
        idx = np.floor((o - pre) * fs).astype(np.int64) + np.arange(w)[None, :]
        ok = (idx >= 0) & (idx < n)
        wav = AP.ap_waveforms(idx / fs, o, base[c:c + chunk, None], thr[c:c + chunk, None], spec.spike_peak_mv,
                              shape, ahp_mv=spec.ahp_mv, ahp_tau_s=spec.ahp_tau_ms * 1e-3, with_ahp=False)
        out += np.bincount(idx[ok], wav[ok], minlength=n)
    if spec.ahp_mv > 0:
        x = onset * fs
        i0 = np.floor(x).astype(np.int64)
        frac = x - i0
        imp = np.bincount(i0, 1 - frac, minlength=n + 1) + np.bincount(i0 + 1, frac, minlength=n + 2)[: n + 1]
        klen = int(np.ceil((6 * spec.ahp_tau_ms * 1e-3 + shape.extent_s) * fs)) + 1
        kern = AP.ahp_waveform(np.arange(klen) / fs, shape, spec.ahp_mv, spec.ahp_tau_ms * 1e-3)
        out += oaconvolve(imp[:n], kern)[:n]
    return out
