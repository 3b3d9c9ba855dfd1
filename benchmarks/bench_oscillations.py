"""Speed, memory and accuracy of `drgephys.oscillations.detect_oscillations`.

Speed: a 60-s sweep at 10, 20 and 50 kHz with the spike table given (median and best of repeated runs,
one core: the detector itself is single-threaded), target >= 1000x real time per core at 20 kHz (<= 60 ms).
Memory: peak traced allocation (``tracemalloc``) during one call, against 3x the sweep's float32 size.
Accuracy: (a) a hand-made generator independent of the simulator (``benchmarks/synth_episodes.py``: Tukey-enveloped
sinusoids in pink + white noise, hum on two thirds of the traces); (b) when ``drgephys.sim`` provides
``simulate_cohort``/``simulate_trace`` and ``score``, a simulated cohort scored by ``drgephys.sim.score``.

Usage::

    python benchmarks/bench_oscillations.py [--quick] [--seed 7] [--out benchmarks/results/oscillations.md]
"""

from __future__ import annotations

import argparse
import os
import datetime as _dt
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from _common import git_commit, machine_info, markdown_table  # noqa: E402
from synth_episodes import make_trace, match  # noqa: E402

from drgephys.oscillations import OscillationParams, detect_oscillations, summarize_oscillations  # noqa: E402


def bench_speed(seed: int, repeats: int) -> list[list]:
    rows = []
    for fs in (10_000.0, 20_000.0, 50_000.0):
        eps = [(s, s + 0.8, 45.0, 2.0) for s in np.arange(1.0, 58.0, 4.0)]
        v, spikes = make_trace(60.0, fs, episodes=eps, seed=seed, hum_hz=50.0,
                               spike_times_s=np.arange(3.0, 58.0, 4.0) + 0.9)
        detect_oscillations(v, fs, spikes=spikes)            # warm-up (imports, FFT plans)
        times, cpu = [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            det = detect_oscillations(v, fs, spikes=spikes)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        tracemalloc.start()
        detect_oscillations(v, fs, spikes=spikes)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        f32 = v.size * 4
        rows.append([f"{fs / 1000:g} kHz", f"{v.size:,}", f"{np.median(times) * 1e3:.1f}", f"{min(times) * 1e3:.1f}",
                     f"{np.median(cpu) * 1e3:.1f}", f"{60.0 / min(times):,.0f}x / {60.0 / np.median(cpu):,.0f}x",
                     f"{peak / 1e6:.1f}",
                     f"{peak / f32:.2f}", len(det)])
    return rows


def _random_episodes(rng, duration_s):
    eps, t = [], 0.3
    while True:
        f = float(np.exp(rng.uniform(np.log(15.0), np.log(150.0))))
        pp = float(rng.uniform(0.5, 4.0))
        dur = float(rng.uniform(8, 40) / f) + 0.1
        if t + dur > duration_s - 0.3:
            return eps
        eps.append((t, t + dur, f, pp))
        t += dur + rng.uniform(0.3, 1.5)


def bench_synthetic(seed: int, n_traces: int) -> dict:
    rng = np.random.default_rng(seed)
    hits = n_true = true_dets = n_det = 0
    ferr, aerr, serr, eerr = [], [], [], []
    neg_cells = neg_eps = mains_eps = 0
    for k in range(n_traces):
        hum = (None, 50.0, 60.0)[k % 3]
        eps = _random_episodes(rng, 10.0)
        v, spikes = make_trace(10.0, 20_000.0, episodes=eps, seed=seed * 1000 + k, hum_hz=hum)
        det = detect_oscillations(v, 20_000.0, spikes=spikes)
        h, n, td, nd, pairs = match(eps, det)
        hits, n_true, true_dets, n_det = hits + h, n_true + n, true_dets + td, n_det + nd
        for ep, row in pairs:
            ferr.append(abs(row.frequency_hz - ep[2]))
            aerr.append(abs(row.amplitude_mv / ep[3] - 1))
            serr.append(abs(row.start_s - ep[0]))
            eerr.append(abs(row.end_s - ep[1]))
        # the same noise without SSO (a "cell without SSO"), with its hum and tonic firing on half of them
        times = np.arange(0.2, 9.8, 1 / 8.0) if k % 2 else ()
        v0, sp0 = make_trace(10.0, 20_000.0, seed=seed * 1000 + k, hum_hz=hum, spike_times_s=times)
        d0 = detect_oscillations(v0, 20_000.0, spikes=sp0)
        neg_cells += 1
        neg_eps += len(d0)
        if hum:
            mains_eps += int(np.sum(np.abs(d0["frequency_hz"] - hum) < 2.0))
    rec, prec = hits / n_true, true_dets / max(n_det, 1)
    pos_detected = n_traces  # every positive trace holds >= 1 episode; counted below via hits
    return {"traces": n_traces, "true_episodes": n_true, "recall": rec, "precision": prec,
            "f1": 2 * rec * prec / (rec + prec), "freq_med": np.median(ferr), "freq_p90": np.percentile(ferr, 90),
            "amp_med": np.median(aerr), "amp_p90": np.percentile(aerr, 90), "start_med": np.median(serr),
            "end_med": np.median(eerr), "neg_cells": neg_cells, "neg_eps": neg_eps, "mains_eps": mains_eps,
            "pos_traces": pos_detected}


SIM_COHORTS = {
    "default cohort (CohortSpec())": {},
    "balanced (SSO prevalence 0.5 in both groups, hum on half)": {"prevalence": 0.5, "hum_share": 0.5},
    "balanced, noisy (pink 0.3 + white 0.15 mV)": {"prevalence": 0.5, "hum_share": 0.5,
                                                   "trace": {"pink_noise_mv": 0.3, "white_noise_mv": 0.15}},
}


def bench_sim(seed: int, quick: bool):
    """Accuracy on the project's simulator (``drgephys.sim``), scored by ``drgephys.sim.score``.

    Spikes are detected by ``drgephys.spikes.detect_spikes`` and given to the detector, as
    ``drgephys.analysis`` does. Returns a list of (cohort name, pooled score dict, per-cell rows) or None
    when the simulator is not available.
    """
    try:
        from drgephys.sim import score, simulate_trace
        from drgephys.sim.cohort import CONTROL, INJURED, CohortSpec, cell_spec, simulate_cohort_table
        from drgephys.spikes import detect_spikes
    except ImportError:
        return None
    import dataclasses
    out = []
    for name, opts in SIM_COHORTS.items():
        groups = (CONTROL, INJURED)
        if "prevalence" in opts:
            groups = tuple(dataclasses.replace(g, sso_prevalence=opts["prevalence"]) for g in groups)
        spec = CohortSpec(groups=groups, animals_per_group=2 if quick else 4, cells_per_animal=3 if quick else 5,
                          hum_share=opts.get("hum_share", CohortSpec().hum_share), trace=opts.get("trace", {}))
        table = simulate_cohort_table(spec, seed)
        truths, results, cells = [], [], []
        for _, row in table.iterrows():      # one iteration per cell (each a whole trace)
            tr = simulate_trace(cell_spec(row, spec), seed=int(row["cell_seed"]))
            spikes = detect_spikes(tr.v, tr.fs)
            det = detect_oscillations(tr.v, tr.fs, spikes=spikes)
            truths.append(tr.truth)
            results.append({"oscillations": det, "spikes": spikes})
            cells.append({"sso_cell": bool(tr.truth["sso_cell"]), "hum_hz": tr.truth["hum_hz"],
                          "n_true": len(tr.truth["episodes"]), "n_det": len(det), "fs_hz": tr.fs})
        out.append((name, score(truths, results), pd.DataFrame(cells)))
    return out


def bench_noise(seed: int, n_traces: int) -> dict:
    """False episodes on noise only: pink + white (3 x 3 levels) with Ornstein-Uhlenbeck noise on half."""
    from scipy import signal as ss
    n_ep, secs, rows = 0, 0.0, []
    fs = 2000.0
    for k in range(n_traces):
        v, sp = make_trace(20.0, fs, seed=seed * 7919 + k, pink_sd=(0.1, 0.3, 0.5)[k % 3],
                           white_sd=(0.05, 0.1, 0.2)[(k // 3) % 3])
        if k % 2:
            rng = np.random.default_rng(seed * 7919 + k)
            a = np.exp(-1 / (fs * 0.005))
            v = v + ss.lfilter([1.0], [1.0, -a], 0.3 * np.sqrt(1 - a * a) * rng.standard_normal(v.size))
        det = detect_oscillations(v, fs, spikes=sp)
        n_ep += len(det)
        secs += v.size / fs
        rows += det[["frequency_hz", "n_cycles", "power_db", "sinusoidality"]].round(2).values.tolist()
    return {"episodes": n_ep, "seconds": secs, "traces": n_traces, "rows": rows}


def bench_hum_stress(seed: int) -> dict:
    """Mains estimation next to long SSOs near the mains frequency: 12-s traces at 10 kHz, hum 0.6 mV p-p at
    50 Hz + offset (-0.1..+0.1 Hz), with no SSO, one 3-s SSO at 50.3 Hz, one 5-s SSO at 49.6 Hz, or two
    (47 Hz for 1 s, 50.2 Hz for 3 s)."""
    n = good_f = clean = 0
    for off in (-0.1, -0.05, 0.0, 0.05, 0.1):
        for eps in ([], [(3.0, 6.0, 50.3, 2.0)], [(3.0, 8.0, 49.6, 2.0)], [(1.0, 2.0, 47.0, 1.0), (6.0, 9.0, 50.2, 3.0)]):
            for k in range(2):
                v, sp = make_trace(12.0, 10_000.0, episodes=eps, hum_hz=50.0 + off, hum_pp_mv=0.6, seed=seed + k,
                                   pink_sd=0.15, white_sd=0.08)
                det = detect_oscillations(v, 10_000.0, spikes=sp)
                found = [ln for ln in det.attrs["mains_lines"] if abs(ln["frequency_hz"] - 50.0) < 1.0]
                n += 1
                good_f += bool(found) and abs(found[0]["frequency_hz"] - 50.0 - off) < 0.01
                false = [r for r in det.itertuples() if not any(r.start_s < e[1] and r.end_s > e[0] for e in eps)]
                clean += (not false) and len(det) == len(eps)
    return {"n": n, "good_f": good_f, "clean": clean}


LIMITATIONS = """## Known limitations (measured)

- An SSO phase-locked at exactly the mains frequency for more than half of `mains_window_s` (10 s) is taken
  for hum (tests: 3 s at exactly 50.000 Hz is kept; 5 s is absorbed in part, leaving edge residues).
- An SSO within ~0.5 Hz of the mains frequency that covers ~40 % of a recording and is larger than the hum
  splits the hum-only blocks into distant groups; the hum frequency is then ambiguous (side lobes 1/gap
  apart). A mild prior for the nominal frequency settles most cases; the stress test above shows what is
  left (a 5-s SSO at 49.6 Hz in 12 s with the mains at 50.05 Hz: hum placed at 49.945 Hz, 2 false
  episodes at 50 Hz).
- Spikes are blanked with their AHPs: an episode more than half covered by spikes can be missed (simulator:
  a burst of 8 spikes over the second half of a 0.5-s episode).
- `amplitude_mv` (90th percentile of the noise-corrected 6-cycle wavelet envelope per cycle) reads 3-4 % low
  on simulator episodes (their random amplitude modulation is smoothed by the wavelet) and 4-5 % high in
  strong pink noise; a single low-frequency episode in heavy noise can be off by ~11 %.
- Memory: one float32 copy of the sweep plus ~3.5 MB per minute of wavelet power at the working rate (fixed
  by the band, not by the sampling rate) and buffers: the ratio to the sweep's float32 size is largest at low
  sampling rates (see the table).
"""

REAL_FILES = ["2020_03_02_0000.abf", "2020_07_29_0062.abf", "2019_05_02_DIC2_0011.abf", "171116sh_0019.abf",
              "17o05028_ic_steps.abf"]


def bench_real() -> list[list]:
    """Episodes found on real pyABF recordings (``<repo>/../shared/real_data``), spikes detected here."""
    import logging
    root = BENCH_DIR.parent / ".." / "shared" / "real_data" / "swharden__pyABF" / "data" / "abfs"
    try:
        import neo
    except ImportError:
        return []
    logging.getLogger("neo").setLevel(logging.ERROR)
    rows = []
    for name in REAL_FILES:
        path = root / name
        if not path.exists():
            continue
        block = neo.io.AxonIO(str(path)).read_block()
        n_ep, n_sw, secs, freqs = 0, 0, 0.0, []
        for seg in block.segments:
            sig = seg.analogsignals[0]
            v = np.asarray(sig.rescale("mV").magnitude).ravel()
            fs = float(sig.sampling_rate.rescale("Hz").magnitude)
            det = detect_oscillations(v, fs)
            n_ep, n_sw, secs = n_ep + len(det), n_sw + 1, secs + v.size / fs
            freqs += det["frequency_hz"].round(1).tolist()
        rows.append([name, n_sw, f"{secs:.0f}", n_ep, ", ".join(map(str, freqs[:8])) or "-"])
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer traces and repeats")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=str(BENCH_DIR / "results" / "oscillations.md"))
    args = ap.parse_args(argv)

    speed = bench_speed(args.seed, 5 if args.quick else 15)
    syn = bench_synthetic(args.seed, 15 if args.quick else 60)
    lines = [
        "# drgephys.oscillations — measured numbers",
        "",
        f"- date: {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M UTC}",
        f"- machine: {machine_info()}",
        f"- commit: {git_commit()}",
        f"- command: `python benchmarks/bench_oscillations.py{' --quick' if args.quick else ''} --seed {args.seed}`",
        f"- parameters: `OscillationParams()` defaults (band {OscillationParams().band_hz} Hz)",
        "",
        "## Speed and memory (60-s sweep, spike table given, one core)",
        "",
        markdown_table(["rate", "samples", "median wall ms", "best wall ms", "median CPU ms", "x real time (best wall / CPU)",
                        "peak MB (tracemalloc)", "peak / float32 size", "episodes"], speed),
        "",
        f"Load average when measured: {', '.join(f'{x:.2f}' for x in os.getloadavg())} (2 cores shared with "
        "other engineers' jobs: with a load above 2 the wall time includes waiting for a core, and the CPU "
        "time of the process is the per-core cost).",
        "",
        "Targets: >= 1000x real time per core at 20 kHz (<= 60 ms per minute); peak <= 3x the float32 size "
        "plus a constant. Memory: one float32 working copy of the sweep plus the wavelet power at the "
        "working rate (24 x ~36,000 float32 per minute, independent of the sampling rate) and buffers.",
        "",
        "## Accuracy on the hand-made generator (benchmarks/synth_episodes.py, formerly tests/oscillations/synth.py)",
        "",
        f"{syn['traces']} traces of 10 s at 20 kHz, {syn['true_episodes']} episodes (15-150 Hz, 0.5-4 mV "
        "peak-to-peak, 8-40 cycles, Tukey envelope; pink 0.3 + white 0.1 mV noise; hum 50/60 Hz on 2/3), plus "
        f"{syn['neg_cells']} matching traces without SSO (same noise and hum; tonic 8 Hz firing on half).",
        "",
        markdown_table(["metric", "value", "target"], [
            ["episode recall", f"{syn['recall']:.3f}", ""],
            ["episode precision", f"{syn['precision']:.3f}", ""],
            ["episode F1", f"{syn['f1']:.3f}", ">= 0.95"],
            ["frequency error median (Hz)", f"{syn['freq_med']:.3f}", "<= 0.3"],
            ["frequency error p90 (Hz)", f"{syn['freq_p90']:.3f}", "<= 1"],
            ["amplitude error median", f"{100 * syn['amp_med']:.1f} %", "<= 10 %"],
            ["amplitude error p90", f"{100 * syn['amp_p90']:.1f} %", ""],
            ["start error median (s)", f"{syn['start_med']:.3f}", ""],
            ["end error median (s)", f"{syn['end_med']:.3f}", ""],
            ["episodes in cells without SSO", f"{syn['neg_eps']} in {syn['neg_cells']} cells", "0"],
            ["episodes at the mains frequency in hum-only cells", f"{syn['mains_eps']}", "0"],
        ]),
        "",
    ]
    noise = bench_noise(args.seed, 20 if args.quick else 150)
    lines += ["## False episodes on noise only", "",
              f"{noise['traces']} traces of 20 s at 2 kHz ({noise['seconds']:.0f} s): pink 0.1/0.3/0.5 mV x white "
              f"0.05/0.1/0.2 mV, Ornstein-Uhlenbeck (tau 5 ms, 0.3 mV) added on half: **{noise['episodes']} "
              "episodes**" + (f" (frequency, cycles, power dB, sinusoidality: {noise['rows'][:5]})"
                              if noise['rows'] else "") + ".", ""]
    hum = bench_hum_stress(args.seed)
    lines += ["## Mains removal next to long SSOs near the mains frequency", "",
              bench_hum_stress.__doc__.split("\n", 1)[0].strip() + " " +
              " ".join(x.strip() for x in bench_hum_stress.__doc__.split("\n")[1:]).strip(), "",
              f"Hum frequency within 0.01 Hz: {hum['good_f']}/{hum['n']} traces; exactly the true episodes and no "
              f"other: {hum['clean']}/{hum['n']}.", ""]
    real = bench_real()
    if real:
        lines += ["## Real recordings (pyABF test files, channel 0, spikes detected by drgephys.spikes)", "",
                  markdown_table(["file", "sweeps", "seconds", "episodes", "frequencies (Hz)"], real), "",
                  "`2020_03_02_0000.abf` is a passive model cell driven by -100..+300 mV RC current steps: the "
                  "required answer is 0 (a test asserts it). The others are real neurons with no known SSOs; "
                  "their episodes, if any, are listed for inspection, not scored.", ""]
    simres = bench_sim(args.seed, args.quick)
    if simres is None:
        lines += ["## Accuracy on drgephys.sim", "", "Not run: `drgephys.sim.simulate_trace`/`score` not available.", ""]
    else:
        keys = [("episode_f1", ">= 0.95"), ("episode_precision", ""), ("episode_recall", ""),
                ("frequency_error_median_hz", "<= 0.3"), ("frequency_error_p90_hz", "<= 1"),
                ("frequency_bias_hz", ""), ("amplitude_rel_error_median", "<= 0.10"),
                ("sso_cell_balanced_accuracy", ">= 0.95"), ("hum_false_episodes", "0")]
        header = ["metric", "target"] + [name for name, _, _ in simres]
        rows = [[k, tgt] + [f"{res.get(k, float('nan')):.3f}" if isinstance(res.get(k), float)
                            else str(res.get(k)) for _, res, _ in simres] for k, tgt in keys]
        rows.append(["cells (SSO cells, hum cells)", ""] + [
            f"{len(c)} ({int(c['sso_cell'].sum())}, {int(c['hum_hz'].notna().sum())})" for _, _, c in simres])
        rows.append(["true / detected episodes", ""] + [f"{int(c['n_true'].sum())} / {int(c['n_det'].sum())}"
                                                        for _, _, c in simres])
        lines += ["## Accuracy on drgephys.sim (scored by drgephys.sim.score)", "",
                  "Cohorts from `drgephys.sim.cohort` (20-s cells at 10/20/50 kHz, control and injured groups; "
                  "SSO cells fire inside their episodes); spikes detected by `drgephys.spikes.detect_spikes` and "
                  "passed to the detector.", "", markdown_table(header, rows), ""]
    lines += [LIMITATIONS]
    text = "\n".join(lines)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
