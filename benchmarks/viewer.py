"""Benchmark: the interactive viewer (`drgephys.plotting.browse`) on a 1-hour 50-kHz sweep.

1. Simulates the sweep in 60-s pieces (`drgephys.sim.simulate_trace`: SSO episodes, 50 Hz hum, the four
   discharge patterns in turn) into one float32 array (180 M samples, 0.72 GB); the tables drawn are the
   simulation's truth (episodes, spikes with their trigger), so the benchmark times drawing, not analysis.
2. Times `browse(trace, result=...)`: the first build in the process (plotly, ipywidgets and tsdownsample
   imports timed apart) and a second build.
3. Zooms from the whole hour down to 10 ms (the same code path as a zoom in the browser: a change of
   ``xaxis.range`` re-renders the view) and records, per zoom, the time to redraw and the points each trace
   holds — what the browser receives — and the size of the figure's JSON.

Writes ``benchmarks/results/viewer.md``. Needs the ``viewer`` extra.
Usage: ``python benchmarks/viewer.py [--duration-s 3600] [--fs 50000] [--max-points 5000]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO_ROOT, command_line, git_commit, machine_info, markdown_table  # noqa: E402

RESULTS = REPO_ROOT / "benchmarks" / "results" / "viewer.md"
#: Targets of the issue.
TARGET_BUILD_S, TARGET_POINTS = 2.0, 20_000


def simulate(duration_s: float, fs: float, piece_s: float, seed: int, log=print):
    """(v float32, episodes DataFrame, spikes DataFrame) of a sweep simulated piece by piece."""
    from drgephys.sim import simulate_trace

    n_piece = int(round(piece_s * fs))
    n_pieces = int(np.ceil(duration_s / piece_s))
    v = np.empty(n_piece * n_pieces, np.float32)
    eps, spk = [], []
    patterns = ("irregular", "tonic", "bursting", "silent")
    for k in range(n_pieces):
        sim = simulate_trace(piece_s, fs, seed=seed + k, sso=True, hum_hz=50, pattern=patterns[k % 4])
        v[k * n_piece:(k + 1) * n_piece] = sim.v
        off = k * piece_s
        for e in sim.truth["episodes"]:
            eps.append(dict(start_s=e["start_s"] + off, end_s=e["end_s"] + off, frequency_hz=e["frequency_hz"],
                            amplitude_mv=e["amplitude_mv"],
                            n_cycles=e["frequency_hz"] * (e["end_s"] - e["start_s"]), mean_vm_mv=e["mean_vm_mv"]))
        for s in sim.truth["spikes"]:
            i = int(round(s["peak_s"] * fs))
            spk.append(dict(peak_s=s["peak_s"] + off, threshold_s=s["threshold_s"] + off,
                            peak_mv=float(sim.v[min(i, sim.v.size - 1)]), trigger=s["trigger"]))
        if k % 10 == 0:
            log(f"  simulated piece {k + 1}/{n_pieces}")
    return v, pd.DataFrame(eps), pd.DataFrame(spk)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration-s", type=float, default=3600.0)
    ap.add_argument("--fs", type=float, default=50_000.0)
    ap.add_argument("--piece-s", type=float, default=60.0)
    ap.add_argument("--max-points", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)

    t = time.perf_counter()
    v, eps, spk = simulate(args.duration_s, args.fs, args.piece_s, args.seed)
    sim_s = time.perf_counter() - t
    print(f"simulated {v.size:,} samples in {sim_s:.0f} s: {len(eps)} episodes, {len(spk)} spikes")

    t = time.perf_counter()
    import anywidget  # noqa: F401
    import ipywidgets  # noqa: F401
    import plotly.basewidget  # noqa: F401  (FigureWidget; imports plotly.io's renderers, which import nbformat)
    import plotly.graph_objects as go
    import plotly.subplots  # noqa: F401
    import tsdownsample  # noqa: F401

    for cls in (go.Scatter, go.Bar, go.Heatmap):  # plotly loads each trace type's validators on first use
        cls()
    import_s = time.perf_counter() - t
    jsonschema_fmt = "rfc3987_syntax" in sys.modules

    from drgephys.analysis import AnalysisResult
    from drgephys.io import Trace
    from drgephys.plotting import browse

    trace = Trace(v, args.fs, file="simulated_1h_50kHz", sweep=0)
    result = AnalysisResult(pd.DataFrame({"file": ["simulated_1h_50kHz"], "sweep": [0]}),
                            eps.assign(file="simulated_1h_50kHz", sweep=0), spk.assign(file="simulated_1h_50kHz",
                                                                                         sweep=0), params=None)
    builds = []
    for _ in range(3):
        t = time.perf_counter()
        viewer = browse(trace, result=result, max_points=args.max_points)
        builds.append(time.perf_counter() - t)
    shares = np.shares_memory(viewer._v, trace.v)
    print(f"imports {import_s:.2f} s; builds {', '.join(f'{b:.2f}' for b in builds)} s; no copy: {shares}")

    mid = v.size / args.fs / 2
    rng = np.random.default_rng(args.seed)
    zooms = [("whole sweep (initial view)", None)]
    for width in (600.0, 60.0, 10.0, 1.0, 0.1, 0.01):
        if 2 * width >= v.size / args.fs:
            continue
        for c in (mid, float(rng.uniform(width, v.size / args.fs - width))):
            zooms.append((f"{width:g} s at {c - width / 2:.1f} s", (c - width / 2, c + width / 2)))
    zooms.append(("reset (double-click)", "reset"))
    rows, worst = [], 0
    for label, rng_s in zooms:
        t = time.perf_counter()
        if rng_s == "reset":
            viewer.figure.layout.xaxis.autorange = False
            viewer.figure.layout.xaxis.autorange = True
        elif rng_s is not None:
            viewer.figure.layout.xaxis.range = rng_s  # what a zoom in the browser changes
        dt = time.perf_counter() - t
        pts = viewer.points_sent()
        worst = max(worst, max(pts.values()))
        json_kb = len(viewer.figure.to_json()) / 1024
        if rng_s is None:
            thinned = [t.name for t in viewer.figure.data if "shown: zoom in" in (t.name or "")]
        rows.append([label, "–" if rng_s is None else f"{dt * 1e3:.0f}", pts["Vm"], pts["SSO episodes"],
                     sum(n for k, n in pts.items() if k.startswith("spikes")), pts["time–frequency"],
                     max(pts.values()), f"{json_kb:.0f}"])
        print(label, rows[-1][1:])

    build_ok = "met" if max(builds[1:]) <= TARGET_BUILD_S else "missed"
    first_ok = "met" if builds[0] <= TARGET_BUILD_S else "missed"
    pts_ok = "met" if worst <= TARGET_POINTS else "missed"
    text = f"""# Viewer: a 1-hour 50-kHz sweep in `drgephys.plotting.browse`

Generated by `benchmarks/viewer.py`. The sweep ({v.size:,} samples, float32, {v.nbytes / 1e9:.2f} GB) is simulated in
{args.piece_s:g}-s pieces by `drgephys.sim.simulate_trace` (SSO episodes, 50 Hz hum, the four discharge patterns in
turn; {sim_s:.0f} s); the tables drawn are the simulation's truth ({len(eps)} SSO episodes, {len(spk)} spikes), so
the numbers are the viewer's own. A zoom is made the way the browser makes it: `figure.layout.xaxis.range`
changes and the viewer's callback redraws the view from the full-resolution array (MinMaxLTTB, tsdownsample,
`max_points={args.max_points}`). "points" are what each trace of the figure holds, i.e. what is sent to the
browser: samples of the Vm line, episode bars, spike markers (all triggers), heatmap cells. The viewer keeps a
reference to the trace's array, no copy (`np.shares_memory`: {shares}), and makes no time array (`Trace` holds
float64 samples: {trace.v.nbytes / 1e9:.2f} GB).

| measure | value | target |
|---|---|---|
| imports (plotly FigureWidget and trace types, ipywidgets, anywidget, tsdownsample), once per kernel | {import_s:.2f} s | – |
| build `browse(trace, result=...)`, first in the process (after the imports) | {builds[0]:.2f} s | ≤ {TARGET_BUILD_S:g} s: {first_ok} |
| build, next two | {builds[1]:.2f} s, {builds[2]:.2f} s | ≤ {TARGET_BUILD_S:g} s: {build_ok} |
| most points in any trace, any zoom below | {worst:,} | ≤ {TARGET_POINTS:,}: {pts_ok} |

{markdown_table(["view", "redraw (ms)", "Vm points", "episode bars", "spike markers", "heatmap cells",
                 "max per trace", "figure JSON (kB)"], rows)}

The imports are paid once per kernel. plotly's FigureWidget imports plotly.io's renderers, which import
nbformat and so jsonschema; {"in this environment jsonschema's format checkers include rfc3987_syntax (installed with JupyterLab through jupyter_events), whose import alone builds a grammar for about 2 s" if jsonschema_fmt else "rfc3987_syntax (which JupyterLab's jupyter_events installs and which adds about 2 s to that import) is not installed here"}.

The time–frequency panel is computed for views of ≤ 60 s (`tf_max_s`), so the whole-hour and 600-s views show
a note instead. Marker and bar traces are thinned evenly to `max_points` when a view holds more (their legend
says "1 in k shown"); in the whole-sweep view: {", ".join(thinned) or "none"}.

Machine: {machine_info()}  
Commit: {git_commit()}  
Command: `{command_line()}`
"""
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
