"""End-to-end speed as a user meets it: ``drgephys analyze`` timed as a whole process, against eFEL's spike-only
time measured in the same run, with 1 and 2 worker processes and on a 2-worker Dask ``LocalCluster``.

What is timed (wall clock, best of ``--repeats`` rounds in which every configuration runs once, so all share
the machine's drift; each run writes a fresh ``--out`` with ``--no-resume``):

* ``import drgephys`` and ``import drgephys.batch`` in a fresh interpreter (minus an empty interpreter);
* ``drgephys analyze COHORT --jobs 1`` / ``--jobs 2`` / ``--scheduler <LocalCluster>``: start-up, scan,
  analysis, tables, log and params written — everything the user waits for;
* the same on the cohort linked 4 times (192 files), where start-up weighs less: the batch throughput;
* eFEL 5 (``peak_time`` only, in its own process; its time excludes its import and the file reading),
  best of ``--repeats`` runs like every drgephys time (one eFEL run against the best of three drgephys runs
  favoured drgephys on a noisy machine).

drgephys is byte-compiled first (`compileall`), as pip does when it installs the package: where
``PYTHONDONTWRITEBYTECODE`` is set (it is on the benchmark machine) an editable install would otherwise
compile its ~70 modules from source in every process (~0.08 s), which no installed copy does.

With ``--compare-with REV``, ``analyze`` at commit REV (a git worktree) and here are also run in alternation
(``--rounds``, medians): a before/after pair measured under the same machine load.

Writes ``benchmarks/results/cli_speed.md``. Usage::

    DRGEPHYS_PEERS_PYTHON=benchmarks/.venv-peers/bin/python python benchmarks/cli_speed.py [--repeats 3] \
        [--compare-with 4bcdb7a]
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (DEFAULT_SEED, REPO_ROOT, alternate, checkout, command_line, ensure_peers_python,  # noqa: E402
                     git_commit, machine_info, make_cohort, markdown_table, run_peers, work_dir)

RESULTS = REPO_ROOT / "benchmarks" / "results" / "cli_speed.md"
CLI = Path(sys.executable).with_name("drgephys")


def _wall(cmd: list, env=None) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    dt = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return dt


def _best(fn, repeats: int) -> tuple[float, list[float]]:
    runs = [fn() for _ in range(repeats)]
    return min(runs), runs


def _import_s(module: str, repeats: int) -> float:
    empty, _ = _best(lambda: _wall([sys.executable, "-c", "pass"]), repeats)
    full, _ = _best(lambda: _wall([sys.executable, "-c", f"import {module}"]), repeats)
    return full - empty


def _analyze(data: Path, out: Path, extra: list) -> float:
    shutil.rmtree(out, ignore_errors=True)
    return _wall([str(CLI), "analyze", str(data), "--out", str(out), "--no-resume", "--quiet", *extra])


def _compare_with(rev: str, data: Path, tmp: Path, rounds: int) -> dict:
    """Median wall of ``drgephys analyze`` (default ``--jobs``) at commit `rev` (its own ``drgephys.cli.main``)
    and here, run in alternation `rounds` times."""
    args = ["analyze", str(data), "--out", str(tmp / "out"), "--no-resume", "--quiet"]
    with checkout(rev, tmp / "baseline") as tree:
        env = dict(os.environ, PYTHONPATH=str(tree))
        # the console script's own entry point when it has one (`console`, which also freezes objects before
        # exit), else `main`, as the installed `drgephys` script of that commit would run it
        entry = "console" if "def console(" in (tree / "drgephys" / "cli.py").read_text() else "main"
        old = [sys.executable, "-c", f"import sys; from drgephys.cli import {entry}; sys.exit({entry}())", *args]
        walls = alternate({"baseline": (old, env), "here": ([str(CLI), *args], None)}, rounds)
    return walls | {"rounds": rounds}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--compare-with", metavar="REV", default=None,
                    help="also time `analyze` at this commit and here, in alternation (medians)")
    ap.add_argument("--rounds", type=int, default=12, help="alternations for --compare-with")
    ap.add_argument("--copies", type=int, default=4, help="cohort copies for the throughput runs")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    files, _ = make_cohort(work_dir(DEFAULT_SEED, False) / "cohort", DEFAULT_SEED, log=lambda *a: None)
    data = files[0].parent
    minutes = None
    tmp = Path(tempfile.mkdtemp(prefix="drgephys-cli-speed-"))
    try:
        big = tmp / "big"
        for k in range(args.copies):      # the same recordings under other names: 4x the work, same start-up
            d = big / f"copy{k}"
            d.mkdir(parents=True)
            for f in files:
                os.symlink(f, d / f.name)
        import pyabf  # noqa: F401  (the cohort's writer; its files are ABF)
        import drgephys

        compileall.compile_dir(Path(drgephys.__file__).parent, quiet=1)   # as an installed package has it

        minutes = sum(drgephys.load(f)[0].duration_s for f in files) / 60.0
        # eFEL: best of `repeats`, as every drgephys run below (timing noise on a shared machine)
        py = ensure_peers_python()
        efel_runs = [run_peers(files, py, peers=("efel",)) for _ in range(args.repeats)]
        efel_all = [r["wall_s"]["efel"] for r in efel_runs]
        efel_s, peers = min(efel_all), efel_runs[0]
        rows = []
        imp = {m: _import_s(m, args.repeats) for m in ("drgephys", "drgephys.batch")}
        from distributed import LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl:
            sched = ["--scheduler", cl.scheduler_address]
            first = _analyze(data, tmp / "out", sched)          # the workers import drgephys once
            configs = {"--jobs 1": ["--jobs", "1"], "--jobs 2": ["--jobs", "2"], "Dask 2 workers": sched}
            # every configuration once per round, rounds repeated: the machine's speed drifts over minutes
            # (other users' jobs), and interleaving gives each configuration the same drift
            walls: dict = {}
            for _ in range(args.repeats):
                for label, extra in configs.items():
                    walls.setdefault(label, []).append(_analyze(data, tmp / "out", extra))
                    walls.setdefault(label + " ×4", []).append(_analyze(big, tmp / "out", extra))
            runs = {label: (min(w), w) for label, w in walls.items()}
        compared = _compare_with(args.compare_with, data, tmp, args.rounds) if args.compare_with else None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n = len(files)
    for label, (best, all_runs) in runs.items():
        k = args.copies if "×4" in label else 1
        rows.append([f"`drgephys analyze` {label}", n * k, round(best, 2), round(best / efel_s / k, 3),
                     round(n * k / best, 1), ", ".join(f"{r:.2f}" for r in all_runs)])
    j1, j2 = runs["--jobs 1 ×4"][0], runs["--jobs 2 ×4"][0]
    dk = runs["Dask 2 workers ×4"][0]
    targets = [
        ["whole process, --jobs 1 / eFEL spike-only", round(runs["--jobs 1"][0] / efel_s, 3), "≤ 0.35 (stretch 0.25)"],
        ["whole process, --jobs 2 / eFEL spike-only", round(runs["--jobs 2"][0] / efel_s, 3), "≤ 0.35"],
        ["`import drgephys` (s)", round(imp["drgephys"], 3), "≤ 0.3"],
        ["throughput --jobs 2 / --jobs 1 (×4 cohort)", round(j1 / j2, 2), "≥ 1.6"],
        ["throughput Dask 2 workers / --jobs 1 (×4 cohort)", round(j1 / dk, 2), "≥ 1.5"],
        ["throughput --jobs 2 / --jobs 1 (cohort once)", round(runs["--jobs 1"][0] / runs["--jobs 2"][0], 2), "—"],
    ]
    lines = [
        "# End-to-end speed of the command line", "",
        f"- Commit {git_commit()}; {machine_info()}",
        f"- Command: `{command_line()}`",
        f"- Cohort: {n} simulated ABF files, {minutes:.1f} min of recording (10/20/50 kHz), seed {DEFAULT_SEED}; "
        f"×4: the same files linked {args.copies} times ({n * args.copies} files).",
        f"- eFEL {peers['versions'].get('efel')}: {efel_s:.2f} s for spike peak times only (its C++ core, in "
        "its own process, import and reading excluded; best of "
        f"{len(efel_all)}: {', '.join(f'{x:.2f}' for x in efel_all)}) — the reference of every ratio.",
        "- drgephys byte-compiled before timing (`compileall`, as pip does on install; this machine sets "
        f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}).",
        f"- `import drgephys`: {imp['drgephys']:.2f} s; `import drgephys.batch` (what `analyze` loads): "
        f"{imp['drgephys.batch']:.2f} s (fresh interpreter, minus an empty one).",
        f"- Dask: `LocalCluster(n_workers=2, threads_per_worker=1)`; its first run (workers importing drgephys) "
        f"took {first:.2f} s.", "",
        markdown_table(["run", "files", "wall (s)", "÷ eFEL (per cohort)", "files / s", "all runs (s)"], rows), "",
        "## Targets (reported, not asserted)", "",
        markdown_table(["target", "measured", "goal"], targets), "",
    ]
    if compared:
        lines += ["## Against an earlier commit", "",
                  f"`drgephys analyze` on the cohort (default `--jobs`), commit `{args.compare_with}` and this one "
                  f"run in alternation {compared['rounds']} times, both byte-compiled: median "
                  f"{compared['baseline']:.2f} s then, {compared['here']:.2f} s now "
                  f"({compared['here'] / compared['baseline'] - 1:+.1%}).", ""]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
