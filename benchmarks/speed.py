"""Speed and memory of drgephys against the peers on a simulated cohort (issue 9, first version).

Measures, each in its own fresh process so that peak memory is that measurement's alone:

* drgephys, the whole analysis (`drgephys.batch.analyze_paths` — load, spikes and their features, SSO
  episodes, trigger and discharge-pattern classification, tables — then `write_tables` to CSV);
* eFEL's spike peak times alone, bycycle, and NeuroDSP's dual-threshold detector on the SSO band
  (through ``benchmarks/peers.py`` in the peer environment);
* the floor: neo reading the files into float arrays (``peers.py`` with no peer, in drgephys's
  environment);
* linearity: drgephys on one recording and on one 10x longer (same cell parameters);
* batch throughput: `analyze_paths(files, jobs=N)` for each N in ``--jobs``, pool start-up included.

Times exclude interpreter start and imports (reported separately for drgephys); peer times exclude
reading. Peak memory is the process's maximum resident set size (``getrusage``), which includes the
interpreter and imported libraries; the resident size right after imports is reported too.

Targets (reported, not asserted): whole analysis <= 0.25x eFEL's spike-only time and <= 5x the read floor;
peak memory <= 3x the largest sweep's float32 size + 300 MB; 10x longer <= 11x the time; batch throughput
grows with workers (``--jobs``, default 1 and 2 worker processes).

Usage::

    python benchmarks/speed.py [--quick] [--seed 2024] [--repeats 3] [--no-peers] [--jobs 1 2]

OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are removed from the environment of the measured processes only.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
from peers import peak_rss_mb as _peak_rss_mb  # noqa: E402  (stdlib + numpy only: safe in either venv)

RESULTS = C.BENCH_DIR / "results" / "speed.md"
LINEARITY_FACTOR = 10
LINEARITY_FS_HZ = 20000.0
TARGET_VS_EFEL = 0.25
TARGET_VS_FLOOR = 5.0
TARGET_MEM_FACTOR = 3.0
TARGET_MEM_EXTRA_MB = 300.0
TARGET_LINEARITY = 11.0


# ------------------------------------------------------------------ the drgephys worker (fresh process)

def _stage_times(files) -> dict:
    """Time drgephys's stages on every file by wrapping the stage functions `drgephys.pipeline` calls (so
    the timing follows the pipeline as it is): load (open the file and choose the channel, then read each
    window), spikes, SSO episodes, triggers, discharge pattern and resting potential. The rest of the
    whole-analysis time is the quality stage, stitching and table assembly."""
    import contextlib

    import drgephys.analysis as analysis
    import drgephys.pipeline as pipeline
    from drgephys.batch import analyze_paths
    from drgephys.io.sweep import Sweep

    t = {"load": 0.0, "spikes": 0.0, "oscillations": 0.0, "triggers": 0.0, "discharge": 0.0, "resting_vm": 0.0}

    def timed(stage, fn):
        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                t[stage] += time.perf_counter() - t0
        return wrapper

    targets = [(analysis, "open_recording", "load"), (Sweep, "read", "load"), (pipeline, "find_spikes", "spikes"),
               (pipeline, "find_episodes", "oscillations"), (pipeline, "label_triggers", "triggers"),
               (pipeline, "classify_discharge", "discharge"), (pipeline.RestingVm, "add", "resting_vm")]
    with contextlib.ExitStack() as stack:
        for owner, name, stage in targets:
            real = getattr(owner, name)
            setattr(owner, name, timed(stage, real))
            stack.callback(setattr, owner, name, real)
        analyze_paths(files)
    return t


def _worker(files_json: str, out_json: str) -> int:
    """Time drgephys's whole analysis of the files in `files_json` (a cold pass that pays the lazy
    imports, then a warm pass) and its stages; write wall times and memory as JSON."""
    t0 = time.perf_counter()
    from drgephys.batch import analyze_paths, write_tables

    import_s = time.perf_counter() - t0
    rss_after_import = _peak_rss_mb()
    files = json.loads(Path(files_json).read_text())
    walls = []
    for _ in range(2):  # cold, then warm
        with tempfile.TemporaryDirectory(prefix="drgephys-speed-") as tmp:
            t0 = time.perf_counter()
            res = analyze_paths(files, jobs=1)
            write_tables(res, tmp)
            walls.append(time.perf_counter() - t0)
    stages = _stage_times(files)
    fixed_ms = _fixed_cost_ms()
    status = res.recordings["status"].value_counts().to_dict() if len(res.recordings) else {}
    out = {"wall_s": walls[1], "cold_wall_s": walls[0], "import_s": import_s,
           "rss_after_import_mb": rss_after_import, "peak_rss_mb": _peak_rss_mb(), "stages_s": stages,
           "n_sweeps": int(len(res.recordings)), "status": {str(k): int(v) for k, v in status.items()},
           "n_episodes": int(len(res.oscillations)), "n_spikes": int(len(res.spikes)),
           "fixed_ms_per_file": fixed_ms}
    Path(out_json).write_text(json.dumps(out))
    return 0


def _fixed_cost_ms(copies: int = 24, repeats: int = 5) -> float:
    """Per-file wall time (ms) of the whole analysis of `copies` 1-s, 20-kHz, 5-spike ABF files in one
    `analyze_paths` call (best of `repeats`): the cost that does not scale with recording length (reading the
    header, choosing the channel, each detector's per-sweep set-up, tables)."""
    from drgephys.batch import analyze_paths
    from drgephys.sim import simulate_trace, write_abf

    with tempfile.TemporaryDirectory(prefix="drgephys-speed-") as tmp:
        sim = simulate_trace(duration_s=1.0, fs_hz=20000.0, seed=1, pattern="tonic", rate_hz=5.0)
        paths = [Path(tmp) / f"one_second_{i:02d}.abf" for i in range(copies)]
        for path in paths:
            write_abf(path, sim.v, sim.fs)
        best = np.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            analyze_paths(paths, jobs=1)
            best = min(best, time.perf_counter() - t0)
    return best / copies * 1e3


def _batch_worker(jobs: str, files_json: str, out_json: str) -> int:
    """Time one `analyze_paths(files, jobs=N)` call in a fresh process (pool start-up included, as a user
    sees it); write the wall time as JSON."""
    from drgephys.batch import analyze_paths

    files = json.loads(Path(files_json).read_text())
    t0 = time.perf_counter()
    res = analyze_paths(files, jobs=int(jobs))
    wall = time.perf_counter() - t0
    Path(out_json).write_text(json.dumps({"wall_s": wall, "n_sweeps": int(len(res.recordings)),
                                          "n_spikes": int(len(res.spikes))}))
    return 0


def measure_batch(files, env, jobs: int, repeats: int) -> dict:
    """Best-of-`repeats` wall time of the batch API with `jobs` local worker processes."""
    walls, out = [], None
    for _ in range(max(1, repeats)):
        with tempfile.TemporaryDirectory(prefix="drgephys-speed-") as tmp:
            fj, oj = Path(tmp) / "files.json", Path(tmp) / "out.json"
            fj.write_text(json.dumps([str(f) for f in files]))
            proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--_batch", str(jobs), str(fj),
                                   str(oj)], capture_output=True, text=True, env=env)
            if proc.returncode != 0:
                raise RuntimeError(f"drgephys batch worker failed:\n{proc.stderr[-4000:]}")
            r = json.loads(oj.read_text())
            walls.append(r["wall_s"])
            if out is None or r["wall_s"] <= min(walls):
                out = r
    out["walls"] = walls
    return out


def measure_drgephys(files, env) -> dict:
    """Run the worker in a fresh process (drgephys's interpreter); return its measurements."""
    with tempfile.TemporaryDirectory(prefix="drgephys-speed-") as tmp:
        fj, oj = Path(tmp) / "files.json", Path(tmp) / "out.json"
        fj.write_text(json.dumps([str(f) for f in files]))
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--_worker", str(fj), str(oj)],
                              capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"drgephys speed worker failed:\n{proc.stderr[-4000:]}")
        return json.loads(oj.read_text())


def best_of(fn, repeats: int) -> tuple[dict, list[float]]:
    """Run `fn` `repeats` times; return the fastest run's measurements and all wall times."""
    runs = [fn() for _ in range(max(1, repeats))]
    walls = [r["wall_s"] for r in runs]
    best = dict(runs[int(np.argmin(walls))])
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    return best, walls


def best_peer_run(fn, key: str, repeats: int) -> dict:
    """Run a peers.py measurement `repeats` times; keep the run fastest on ``wall_s[key]`` (peak memory:
    the largest of all runs); ``walls`` lists every run's time."""
    runs = [fn() for _ in range(max(1, repeats))]
    walls = [r["wall_s"][key] for r in runs]
    best = dict(runs[int(np.argmin(walls))])
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    best["walls"] = walls
    return best


# ------------------------------------------------------------------ data

def make_data(data_dir: Path, seed: int, quick: bool, log=print) -> tuple[list[Path], dict, tuple[Path, Path]]:
    """Write the cohort and the linearity pair; return cohort files, cohort facts, (short, long)."""
    from drgephys.sim import simulate_trace, write_abf

    data_dir.mkdir(parents=True, exist_ok=True)
    files, table = C.make_cohort(data_dir / "cohort", seed, quick=quick, log=log)
    total_s = float(table["duration_s"].sum())
    facts = {"n_cells": int(len(table)), "total_s": total_s,
             "fs_hz": sorted({float(x) for x in table["fs_hz"]}),
             "max_samples": int((table["duration_s"] * table["fs_hz"]).max())}
    short_s = 6.0 if quick else 30.0
    pair = []
    for k, dur in (("short", short_s), ("long", short_s * LINEARITY_FACTOR)):
        p = data_dir / f"linearity_{k}.abf"
        if not p.exists():
            sim = simulate_trace(duration_s=dur, fs_hz=LINEARITY_FS_HZ, seed=seed, **C.linearity_trace_kwargs())
            write_abf(p, sim.v, sim.fs, truth=sim.truth)
        pair.append(p)
    return files, facts, (pair[0], pair[1])


# ------------------------------------------------------------------ report

def ratio(a, b):
    return float(a) / float(b) if b and np.isfinite(b) and b > 0 else float("nan")


def verdict(value, target, smaller_is_better=True) -> str:
    if not np.isfinite(value):
        return "not measured"
    ok = value <= target if smaller_is_better else value >= target
    return "met" if ok else "**missed**"


def render(m: dict, args, facts: dict) -> str:
    d = m["drgephys"]
    per_min = lambda x: x / facts["total_s"] * 60  # noqa: E731
    rows = [["drgephys, whole analysis (load → tables), warm", d["wall_s"], per_min(d["wall_s"]),
             d["peak_rss_mb"], f"after import: {d['rss_after_import_mb']:.0f} MB"],
            ["drgephys, same, first pass (pays its lazy imports)", d["cold_wall_s"], per_min(d["cold_wall_s"]),
             None, f"`import drgephys.batch` {d['import_s']:.1f} s before it"],
            ["read floor (neo → float arrays)", m["floor"]["wall_s"]["read"], per_min(m["floor"]["wall_s"]["read"]),
             m["floor"]["peak_rss_mb"], f"after import: {m['floor']['rss_after_import_mb']:.0f} MB"]]
    for peer, label in (("efel", "eFEL, spike peak times only"), ("bycycle", "bycycle, SSO band"),
                        ("neurodsp", "NeuroDSP dual threshold, SSO band")):
        if peer in m:
            w = m[peer]["wall_s"][peer]
            rows.append([label, w, per_min(w), m[peer]["peak_rss_mb"],
                         f"+ read {m[peer]['wall_s']['read']:.2f} s; imports {m[peer]['import_s']:.1f} s; "
                         f"after import: {m[peer]['rss_after_import_mb']:.0f} MB"])
    table = C.markdown_table(["what", "wall time (s)", "s per recorded minute", "peak RSS (MB)", "note"], rows)

    efel_s = m["efel"]["wall_s"]["efel"] if "efel" in m else float("nan")
    floor_s = m["floor"]["wall_s"]["read"]
    largest_mb = facts["max_samples"] * 4 / 1024 ** 2
    mem_target = TARGET_MEM_FACTOR * largest_mb + TARGET_MEM_EXTRA_MB
    lin = m["linearity"]
    lin_ratio = ratio(lin["long"]["wall_s"], lin["short"]["wall_s"])
    long_mem_target = TARGET_MEM_FACTOR * lin["long_samples"] * 4 / 1024 ** 2 + TARGET_MEM_EXTRA_MB
    trows = [
        ["whole analysis / eFEL spike-only time", ratio(d["wall_s"], efel_s), f"≤ {TARGET_VS_EFEL}",
         verdict(ratio(d["wall_s"], efel_s), TARGET_VS_EFEL)],
        ["whole analysis / read floor", ratio(d["wall_s"], floor_s), f"≤ {TARGET_VS_FLOOR}",
         verdict(ratio(d["wall_s"], floor_s), TARGET_VS_FLOOR)],
        [f"peak memory, cohort (MB; largest sweep {largest_mb:.1f} MB as float32)", d["peak_rss_mb"],
         f"≤ {mem_target:.0f}", verdict(d["peak_rss_mb"], mem_target)],
        [f"peak memory, {lin['long_s']:.0f} s sweep (MB; {lin['long_samples'] * 4 / 1024 ** 2:.1f} MB as float32)",
         lin["long"]["peak_rss_mb"], f"≤ {long_mem_target:.0f}", verdict(lin["long"]["peak_rss_mb"], long_mem_target)],
        [f"time of a {LINEARITY_FACTOR}x longer recording / short one", lin_ratio, f"≤ {TARGET_LINEARITY}",
         verdict(lin_ratio, TARGET_LINEARITY)],
    ]
    batch = {int(k): b for k, b in m.get("batch", {}).items()}
    if len(batch) >= 2:
        ns = sorted(batch)
        gain = batch[ns[0]]["wall_s"] / batch[ns[1]]["wall_s"]
        trows.append([f"batch throughput, {ns[1]} workers / {ns[0]}", gain, "> 1", verdict(gain, 1.0, False)])
    targets = C.markdown_table(["target", "measured", "target", "verdict"], trows)
    brows = [[n, b["wall_s"], facts["n_cells"] / b["wall_s"], facts["total_s"] / 60 / b["wall_s"],
              ", ".join(f"{x:.2f}" for x in b["walls"])] for n, b in sorted(batch.items())]
    batch_table = C.markdown_table(["worker processes (`--jobs`)", "wall time (s)", "files per s",
                                    "recorded minutes per s", "all runs (s)"], brows) if brows else ""
    st = d["stages_s"]
    total_st = sum(st.values())
    srows = [[k, x, x / total_st if total_st else float("nan")] for k, x in st.items()]
    stages = C.markdown_table(["drgephys stage (whole cohort, warm)", "s", "share"], srows)
    v = C.main_versions()
    pv = m.get("peer_versions", {})
    lines = [
        "# Speed and memory: drgephys vs peers",
        "",
        f"- Date (UTC): {_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M')}",
        f"- Machine: {C.machine_info()}",
        f"- Command: `{C.command_line()}` (repository commit {C.git_commit()})",
        f"- Cohort: {facts['n_cells']} simulated cells, {facts['total_s'] / 60:.1f} min of recording in all, "
        f"sampled at {', '.join(f'{x / 1000:g}' for x in facts['fs_hz'])} kHz, ABF files, seed {args.seed}",
        "- drgephys environment: " + ", ".join(f"{k} {val}" for k, val in v.items()),
        "- Peer environment: " + (", ".join(f"{k} {val}" for k, val in pv.items()) if pv else "not run"),
        f"- Machine load (1/5/15-min load average on 2 cores) before: "
        f"{', '.join(f'{x:.1f}' for x in m['load_before'])}; after: {', '.join(f'{x:.1f}' for x in m['load_after'])} "
        "— other engineers' jobs share the cores, so single timings are noisy.",
        f"- Repeats: best of {args.repeats} for drgephys (all runs: "
        f"{', '.join(f'{x:.2f}' for x in m['drgephys_walls'])} s), and of as many runs for each peer and the "
        f"floor; linearity pair: best of {args.repeats + 2} (short) and {args.repeats} (long).",
        "- One process each, no parallel jobs; times exclude interpreter start and imports (drgephys: second "
        "pass over the files; its first pass is shown too), peer times exclude reading. Peak memory is the "
        "peak resident set size (VmHWM) of the measuring process, interpreter and libraries included.",
        "",
        "## Wall time and memory",
        "",
        table,
        "",
        "Stages, timed in one more pass of the whole analysis by wrapping the stage functions `drgephys.pipeline` "
        "calls (`open_recording` and `Sweep.read`, `find_spikes`, `find_episodes`, `label_triggers`, "
        "`classify_discharge`, `RestingVm.add`); the rest of the whole-analysis time is the quality stage, "
        "stitching, table assembly and writing:",
        "",
        stages,
        "",
        "## Targets (reported, not asserted)",
        "",
        targets,
        "",
        "## Batch throughput",
        "",
        ("`drgephys.batch.analyze_paths(files, jobs=N)` on the cohort in a fresh process, pool start-up and "
         f"the workers' first-pass imports included (best of {args.repeats}; {os.cpu_count()} cores):"),
        "",
        batch_table or "not measured",
        "",
        f"Linearity: {lin['short_s']:.0f} s at {LINEARITY_FS_HZ / 1000:g} kHz took {lin['short']['wall_s']:.2f} s, "
        f"{lin['long_s']:.0f} s took {lin['long']['wall_s']:.2f} s.",
        "",
    ]
    if "compared" in m:
        c = m["compared"]
        lo, hi = c["ratio_range"]
        lines += ["## Against an earlier commit", "",
                  f"The whole analysis of the cohort (warm, fastest of {COMPARE_PASSES} passes in a fresh process), at "
                  f"commit `{c['rev']}` and at this one, run in alternation {c['rounds']} times: median "
                  f"{c['baseline']:.2f} s then, {c['here']:.2f} s now. Ratio now/then, round by round: median "
                  f"{c['ratio']:.3f} ({c['ratio'] - 1:+.1%}), range {lo:.3f}-{hi:.3f}.", ""]
    notes = list(m.get("notes", []))
    notes += diagnose(m, facts)
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(lines)


def diagnose(m: dict, facts: dict) -> list[str]:
    """Plain-language reading of the measurements: where drgephys's time goes and why a target is missed."""
    out = []
    d = m["drgephys"]
    st = d["stages_s"]
    floor = m["floor"]["wall_s"]["read"]
    if floor > 0:
        out.append(f"`drgephys.load` alone takes {st['load']:.2f} s, {st['load'] / floor:.1f}x neo's read of both "
                   f"channels ({floor:.2f} s); spike detection {st['spikes']:.2f} s, SSO detection "
                   f"{st['oscillations']:.2f} s.")
    if d.get("fixed_ms_per_file"):
        fixed = d["fixed_ms_per_file"]
        out.append(f"Fixed cost per file: the whole analysis of a 1-s 20-kHz file takes {fixed:.1f} ms (header, "
                   f"channel choice, each detector's per-sweep set-up, tables); over the {facts['n_cells']} cohort "
                   f"files that is {fixed * facts['n_cells'] / 1e3:.2f} s of the {d['wall_s']:.2f} s.")
    lin = m["linearity"]
    ls, ll = lin["short"]["stages_s"], lin["long"]["stages_s"]
    ratios = {k: ll[k] / ls[k] for k in ("load", "spikes", "oscillations", "triggers") if ls.get(k, 0) > 0}
    per = ", ".join(f"{k} {r:.1f}x" for k, r in ratios.items())
    text = (f"Linearity by stage ({lin['long_s']:.0f} s vs {lin['short_s']:.0f} s, 10x the samples; one pass each, "
            f"so noisier than the best-of whole-analysis ratio above): {per}.")
    over = [k for k, r in ratios.items() if r > TARGET_LINEARITY]
    if over:
        text += f" Above 11x in this single pass: {', '.join(over)}."
    out.append(text)
    if "efel" in m:
        out.append(f"eFEL's {m['efel']['wall_s']['efel']:.2f} s covers spike peak times only (its C++ core after "
                   "resampling to 0.1 ms); drgephys's time also covers SSO episodes, spike features, triggers, "
                   "discharge patterns and tables.")
    return out


#: Whole analysis of the cohort in a fresh process, the same public call at any commit: one warm-up call on 3
#: files (lazy imports, first calls), then `COMPARE_PASSES` warm passes; prints the fastest (the pass least
#: disturbed by other load on the machine).
COMPARE_PASSES = 3
_COHORT_TIME = ("import json, logging, sys, time\nlogging.disable(logging.WARNING)\n"
                "from drgephys.batch import analyze_paths\nfiles = json.load(open(sys.argv[1]))\n"
                "analyze_paths(files[:3])\nbest = float('inf')\n"
                f"for _ in range({COMPARE_PASSES}):\n"
                "    t = time.perf_counter()\n    analyze_paths(files)\n"
                "    best = min(best, time.perf_counter() - t)\n"
                "print(best)\n")


def compare_with(rev: str, files, data_dir: Path, rounds: int) -> dict:
    """Warm whole-analysis time of the cohort at commit `rev` and here, in fresh processes run in alternation
    `rounds` times (`_common.alternate_runs`; each process keeps its fastest of `COMPARE_PASSES` passes).
    Returns the medians (s), every round's times, and the median and range of the per-round ratio here /
    baseline (both sides of a round ran within seconds of each other, so the ratio cancels most of the
    machine's drift)."""
    files_json = data_dir / "compare_files.json"
    files_json.write_text(json.dumps([str(f) for f in files]))
    cmd = [sys.executable, "-c", _COHORT_TIME, str(files_json)]
    with tempfile.TemporaryDirectory(prefix="drgephys-compare-") as tmp, C.checkout(rev, Path(tmp) / "tree") as tree:
        runs = C.alternate_runs({"baseline": (cmd, dict(os.environ, PYTHONPATH=str(tree))), "here": (cmd, None)},
                                rounds, printed=True)
    ratios = [h / b for h, b in zip(runs["here"], runs["baseline"])]
    return {"baseline": statistics.median(runs["baseline"]), "here": statistics.median(runs["here"]),
            "ratio": statistics.median(ratios), "ratio_range": (min(ratios), max(ratios)),
            "runs": runs, "rev": rev, "rounds": rounds}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Speed and memory of drgephys against its peers.")
    ap.add_argument("--_worker", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--_batch", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2],
                    help="worker-process counts for the batch throughput rows (default 1 2)")
    ap.add_argument("--seed", type=int, default=C.DEFAULT_SEED)
    ap.add_argument("--quick", action="store_true", help="small cohort and short linearity pair (smoke run)")
    ap.add_argument("--repeats", type=int, default=3,
                    help="runs of each measurement on the cohort (the fastest is kept)")
    ap.add_argument("--no-peers", action="store_true", help="skip the peer environment")
    ap.add_argument("--data-dir", type=Path, default=None,
                    help="where the simulated files go (default benchmarks/_work/<seed>[-quick])")
    ap.add_argument("--results", type=Path, default=RESULTS, help="Markdown file to write")
    ap.add_argument("--compare-with", metavar="REV", default=None,
                    help="also time the whole analysis at this commit and here, in alternation (medians)")
    ap.add_argument("--rounds", type=int, default=8, help="alternations for --compare-with")
    args = ap.parse_args(argv)
    if args._worker:
        return _worker(*args._worker)
    if args._batch:
        return _batch_worker(*args._batch)

    data_dir = args.data_dir or C.work_dir(args.seed, args.quick)
    files, facts, (short, long_) = make_data(data_dir, args.seed, args.quick)
    env = C.env_without_openblas_overrides()
    m: dict = {"notes": [], "load_before": os.getloadavg()}
    blas = C.blas_info(env)
    if blas:
        m["notes"].append(f"BLAS in the measured processes: {blas}")
    print(f"drgephys on {facts['n_cells']} files ({facts['total_s'] / 60:.1f} min) ...", flush=True)
    m["drgephys"], m["drgephys_walls"] = best_of(lambda: measure_drgephys(files, env), args.repeats)
    print(f"  {m['drgephys']['wall_s']:.2f} s", flush=True)
    m["floor"] = best_peer_run(lambda: C.run_peers(files, Path(sys.executable), peers=(), env=env), "read",
                               args.repeats)
    print(f"read floor {m['floor']['wall_s']['read']:.2f} s", flush=True)
    if not args.no_peers:
        py = C.ensure_peers_python()
        for peer in ("efel", "bycycle", "neurodsp"):
            m[peer] = best_peer_run(lambda: C.run_peers(files, py, peers=(peer,), env=env), peer, args.repeats)
            m["peer_versions"] = m[peer]["versions"]
            print(f"{peer} {m[peer]['wall_s'][peer]:.2f} s", flush=True)
            errs = [s[peer]["error"] for f in m[peer]["files"] for s in f["sweeps"] if "error" in s[peer]]
            if errs:
                m["notes"].append(f"{peer} failed on {len(errs)} sweep(s), first: {errs[0]}")
    else:
        m["notes"].append("peers not run (--no-peers)")
    m["batch"] = {}
    for n in args.jobs:
        m["batch"][n] = measure_batch(files, env, n, args.repeats)
        print(f"batch jobs={n}: {m['batch'][n]['wall_s']:.2f} s", flush=True)
    lin_short, _ = best_of(lambda: measure_drgephys([short], env), args.repeats + 2)
    lin_long, _ = best_of(lambda: measure_drgephys([long_], env), args.repeats)
    short_s = 6.0 if args.quick else 30.0
    m["linearity"] = {"short": lin_short, "long": lin_long, "short_s": short_s,
                      "long_s": short_s * LINEARITY_FACTOR,
                      "long_samples": int(short_s * LINEARITY_FACTOR * LINEARITY_FS_HZ)}
    print(f"linearity {lin_short['wall_s']:.2f} s -> {lin_long['wall_s']:.2f} s", flush=True)
    if args.compare_with:
        m["compared"] = compare_with(args.compare_with, files, data_dir, args.rounds)
        print(f"vs {args.compare_with}: {m['compared']}", flush=True)
    m["load_after"] = os.getloadavg()
    md = render(m, args, facts)
    print(md)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(md)
    (data_dir / "speed.json").write_text(json.dumps({"facts": facts, **m}, indent=1, default=str))
    print(f"written {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
