"""Shared plumbing for the benchmark scripts: the peer environment, machine and version facts, tables.

Runs in drgephys's environment. The peers themselves run in a separate virtual environment
(``benchmarks/requirements-peers.txt``) through ``benchmarks/peers.py``.
"""

from __future__ import annotations

import compileall
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
PEERS_SCRIPT = BENCH_DIR / "peers.py"
PEERS_REQUIREMENTS = BENCH_DIR / "requirements-peers.txt"
PEERS_VENV = BENCH_DIR / ".venv-peers"
PEERS_ENV_VAR = "DRGEPHYS_PEERS_PYTHON"
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def find_peers_python() -> Path | None:
    """The peer environment's interpreter: ``$DRGEPHYS_PEERS_PYTHON``, else ``benchmarks/.venv-peers``.

    Returns None when neither exists.

    Raises
    ------
    FileNotFoundError
        When ``DRGEPHYS_PEERS_PYTHON`` is set to a path that does not exist.
    """
    env = os.environ.get(PEERS_ENV_VAR)
    if env:
        p = Path(env)
        if not p.exists():
            raise FileNotFoundError(f"`{PEERS_ENV_VAR}` must point to the peer environment's python; got "
                                    f"{env!r}, which does not exist. Unset it to let the benchmark create "
                                    f"{PEERS_VENV}")
        return p
    p = _venv_python(PEERS_VENV)
    return p if p.exists() else None


def ensure_peers_python(log=print) -> Path:
    """Return the peer interpreter, creating ``benchmarks/.venv-peers`` when there is none.

    The environment is made with ``python -m venv`` and ``pip install -r requirements-peers.txt``
    (a few minutes, once).
    """
    found = find_peers_python()
    if found is not None:
        return found
    log(f"creating the peer environment {PEERS_VENV} from {PEERS_REQUIREMENTS.name} (once; a few minutes)")
    subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
    py = _venv_python(PEERS_VENV)
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "-r", str(PEERS_REQUIREMENTS)], check=True)
    return py


def env_without_openblas_overrides() -> dict:
    """A copy of the environment without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (for timing runs only)."""
    env = dict(os.environ)
    for k in OPENBLAS_VARS:
        env.pop(k, None)
    return env


def run_peers(files, python: Path, *, peers=("bycycle", "neurodsp", "efel"), band=(10.0, 200.0),
              env: dict | None = None, out_json: Path | None = None) -> dict:
    """Run ``benchmarks/peers.py`` in the peer environment on `files`; return its parsed JSON output.

    Raises
    ------
    RuntimeError
        When the peer script fails (its stderr is included).
    """
    with tempfile.TemporaryDirectory(prefix="drgephys-peers-") as tmp:
        files_json = Path(tmp) / "files.json"
        files_json.write_text(json.dumps([str(f) for f in files]))
        out = Path(out_json) if out_json is not None else Path(tmp) / "peers.json"
        cmd = [str(python), str(PEERS_SCRIPT), str(files_json), str(out), "--peers", ",".join(peers),
               "--band", str(float(band[0])), str(float(band[1]))]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"peer run failed ({' '.join(cmd)}):\n{proc.stderr[-4000:]}")
        return json.loads(out.read_text())


def machine_info() -> str:
    """One line: CPU model, cores, memory, OS, Python."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines()
                      if l.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 ** 2:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    return (f"{cpu}, {os.cpu_count()} cores{mem}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def main_versions() -> dict:
    """Versions of drgephys and the libraries of its environment that the benchmarks touch."""
    out = {}
    for name in ("drgephys", "numpy", "scipy", "pandas", "neo", "elephant", "sklearn", "pyabf"):
        try:
            mod = __import__(name)
            out[name] = getattr(mod, "__version__", "unknown")
        except Exception as err:  # reported, not fatal
            out[name] = f"unavailable ({type(err).__name__})"
    return out


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + (" (uncommitted changes)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A GitHub-flavoured Markdown table; floats get 3 significant digits, None/NaN become '—'."""
    def fmt(x):
        if x is None:
            return "—"
        if isinstance(x, float):
            if x != x:
                return "—"
            return f"{x:.3g}" if abs(x) < 1e4 else f"{x:.0f}"
        return str(x)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(fmt(x) for x in r) + " |" for r in rows]
    return "\n".join(lines)


def command_line() -> str:
    """The command that ran this script, relative to the repository root when possible."""
    args = list(sys.argv)
    try:
        args[0] = str(Path(args[0]).resolve().relative_to(REPO_ROOT))
    except ValueError:
        pass
    return "python " + " ".join(args)


# ------------------------------------------------------------------ the simulated cohort (drgephys.sim)

DEFAULT_SEED = 2024
WORK_DIR = BENCH_DIR / "_work"


def work_dir(seed: int, quick: bool) -> Path:
    """Where a run's simulated files go (git-ignored); reused by later runs with the same seed."""
    return WORK_DIR / f"seed{seed}{'-quick' if quick else ''}"


def blas_info(env: dict | None = None) -> str:
    """The BLAS kernel numpy runs with in a process started with `env` (threadpoolctl), one line."""
    code = ("import json, numpy, threadpoolctl; "
            "print(json.dumps([(i.get('internal_api'), i.get('version'), i.get('architecture'), "
            "i.get('num_threads')) for i in threadpoolctl.threadpool_info()]))")
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
        info = json.loads(out.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return ""
    return "; ".join(f"{a} {v} kernel {arch}, {n} threads" for a, v, arch, n in info)


#: Cohort design of the benchmarks: 2 groups x 4 animals x 6 cells = 48 cells of 30 s (24 min in all).
#: SSO prevalence is raised above the literature defaults of `drgephys.sim` (5 % control, 30 % injured;
#: Liu et al. 2000) so that enough episodes are scored; the other group effects are the simulator's.
COHORT_DESIGN = {"animals_per_group": 4, "cells_per_animal": 6, "duration_s": 30.0,
                 "control_sso_prevalence": 0.3, "injured_sso_prevalence": 0.6}
QUICK_DESIGN = {"animals_per_group": 2, "cells_per_animal": 3, "duration_s": 10.0,
                "control_sso_prevalence": 0.3, "injured_sso_prevalence": 0.6}


def cohort_spec(quick: bool = False, noise_scale: float = 1.0):
    """The benchmark cohort as a `drgephys.sim.CohortSpec` (10/20/50 kHz, hum on ~30 % of cells).

    `noise_scale` multiplies the simulator's default pink and white noise (same cells otherwise).
    """
    import dataclasses

    from drgephys.sim import CohortSpec, TraceSpec

    d = QUICK_DESIGN if quick else COHORT_DESIGN
    base = CohortSpec()
    prevalence = {"control": d["control_sso_prevalence"], "injured": d["injured_sso_prevalence"]}
    groups = tuple(dataclasses.replace(g, sso_prevalence=prevalence.get(g.name, g.sso_prevalence))
                   for g in base.groups)
    trace = {}
    if noise_scale != 1.0:
        ts = TraceSpec()
        trace = {"pink_noise_mv": ts.pink_noise_mv * noise_scale, "white_noise_mv": ts.white_noise_mv * noise_scale}
    return dataclasses.replace(base, groups=groups, animals_per_group=d["animals_per_group"],
                               cells_per_animal=d["cells_per_animal"], duration_s=d["duration_s"],
                               fs_choices_hz=(10_000.0, 20_000.0, 50_000.0), hum_share=0.3, trace=trace)


def make_cohort(out_dir: Path, seed: int, *, quick: bool = False, fmt: str = "abf", noise_scale: float = 1.0,
                log=print):
    """Write the benchmark cohort into `out_dir` (skipped when its ``cohort.json`` already matches).

    Returns
    -------
    (list of Path, pandas.DataFrame)
        The data files (in table order) and the cohort table (true parameters per cell).
    """
    import pandas as pd

    from drgephys.sim import simulate_cohort, simulate_cohort_table

    spec = cohort_spec(quick, noise_scale)
    out_dir = Path(out_dir)
    table = simulate_cohort_table(spec, seed, file_format=fmt)
    files = [out_dir / f for f in table["file"]]
    marker = out_dir / "cohort.json"
    fresh = marker.exists() and all(f.exists() for f in files)
    if fresh:
        try:
            fresh = json.loads(marker.read_text()).get("seed") == seed and \
                json.loads(marker.read_text()).get("spec") == json.loads(json.dumps(spec.to_dict(), default=str))
        except ValueError:
            fresh = False
    if not fresh:
        log(f"simulating {len(table)} cells into {out_dir} ...")
        table = simulate_cohort(spec, seed, out_dir, format=fmt)
    truths = [json.loads((out_dir / (f + ".truth.json")).read_text()) for f in table["file"]]
    table = table.assign(n_episodes=[len(t["episodes"]) for t in truths],
                         n_spikes=[len(t["spikes"]) for t in truths])
    return files, pd.DataFrame(table)


def linearity_trace_kwargs() -> dict:
    """One cell for the linearity pair: SSO episodes, irregular firing, 50 Hz hum."""
    return {"sso": True, "pattern": "irregular", "rate_hz": 2.0, "hum_hz": 50, "resting_vm_mv": -57.0,
            "spike_location": "episodes"}


#: Hard cohort of the accuracy benchmark (drgephys.sim.HardCohortSpec defaults: 52 cells of 20 s) and its
#: quick version (one cell per case, 10 s).
HARD_QUICK_CASES_PER_CASE = 1
HARD_QUICK_DURATION_S = 10.0


def hard_cohort_spec(quick: bool = False):
    """The benchmark's hard cohort as a `drgephys.sim.HardCohortSpec` (its defaults; quick: 1 cell per case)."""
    import dataclasses

    from drgephys.sim import HardCohortSpec

    spec = HardCohortSpec()
    if quick:
        spec = dataclasses.replace(spec, cases=tuple((c, HARD_QUICK_CASES_PER_CASE) for c, _ in spec.cases),
                                   duration_s=HARD_QUICK_DURATION_S)
    return spec


def make_hard_cohort(out_dir: Path, seed: int, *, quick: bool = False, fmt: str = "abf", log=print):
    """Write the hard cohort into `out_dir` (skipped when its ``cohort.json`` already matches).

    Returns
    -------
    (list of Path, pandas.DataFrame)
        The data files (in table order) and the cohort table (``case`` per cell, ``n_episodes``, ``n_spikes``).
    """
    from drgephys.sim import hard_cohort_table, simulate_hard_cohort, truth_path

    spec = hard_cohort_spec(quick)
    out_dir = Path(out_dir)
    table = hard_cohort_table(spec, seed, file_format=fmt)
    files = [out_dir / f for f in table["file"]]
    # fresh when every file's truth was made from the TraceSpec the table now gives it (and the same cell seed)
    fresh = all(f.exists() and truth_path(f).exists() for f in files)
    if fresh:
        try:
            fresh = all(json.loads(truth_path(f).read_text())["spec"] == json.loads(json.dumps(ts.to_dict()))
                        for f, ts in zip(files, table["trace_spec"])) and \
                json.loads((out_dir / "cohort.json").read_text()).get("seed") == seed
        except (ValueError, KeyError, OSError):
            fresh = False
    table = table.drop(columns="trace_spec")
    if not fresh:
        log(f"simulating {len(table)} hard-case cells into {out_dir} ...")
        table = simulate_hard_cohort(spec, seed, out_dir, format=fmt)
    truths = [json.loads((out_dir / (f + ".truth.json")).read_text()) for f in table["file"]]
    table = table.assign(n_episodes=[len(t["episodes"]) for t in truths],
                         n_spikes=[len(t["spikes"]) for t in truths])
    return files, table


@contextlib.contextmanager
def checkout(rev: str, where: Path):
    """The repository at commit `rev` in a git worktree at `where` (byte-compiled, as an installed copy; removed
    on exit): run its code with ``PYTHONPATH=<where>``, which comes before this editable install for commands
    started from `NEUTRAL_CWD` (checked with `imported_from`: RuntimeError when that is not the code run)."""
    subprocess.run(["git", "-C", str(REPO_ROOT), "worktree", "add", "--detach", "-f", str(where), rev],
                   check=True, capture_output=True)
    try:
        compileall.compile_dir(Path(where) / "drgephys", quiet=1)
        if imported_from(dict(os.environ, PYTHONPATH=str(where))) != Path(where) / "drgephys":
            raise RuntimeError(f"the checkout of {rev} at {where} is not what `python -c` imports")
        yield Path(where)
    finally:
        subprocess.run(["git", "-C", str(REPO_ROOT), "worktree", "remove", "--force", str(where)],
                       capture_output=True)


def imported_from(env: dict | None) -> Path:
    """The folder of the ``drgephys`` package a ``python -c`` command started with `env` imports, from the
    neutral directory `alternate_runs` uses (from the repository root, ``-c`` would put the working tree
    first on ``sys.path``, before ``PYTHONPATH``: a checkout of an earlier commit would silently run this
    one)."""
    out = subprocess.run([sys.executable, "-c", "import drgephys; print(drgephys.__file__)"], capture_output=True,
                         text=True, env=env, cwd=NEUTRAL_CWD, check=True)
    return Path(out.stdout.strip()).parent


#: Working directory of every compared command: no drgephys package in it.
NEUTRAL_CWD = tempfile.gettempdir()


def alternate(commands: dict, rounds: int, *, printed: bool = False) -> dict:
    """Median time (s) of each ``name: (argv, env)`` command, run in turn `rounds` times (`alternate_runs`)."""
    return {name: statistics.median(w) for name, w in alternate_runs(commands, rounds, printed=printed).items()}


def alternate_runs(commands: dict, rounds: int, *, printed: bool = False) -> dict:
    """Every time (s) of each ``name: (argv, env)`` command, run in turn `rounds` times from `NEUTRAL_CWD`: a
    machine's speed drifts over minutes, and alternating gives every command the same drift (compare them
    round by round). The time is the process's wall time, or with `printed` the number it prints last on
    stdout (a time it measured itself)."""
    import time

    walls = {name: [] for name in commands}
    for _ in range(rounds):
        for name, (argv, env) in commands.items():
            t = time.perf_counter()
            proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=NEUTRAL_CWD)
            wall = time.perf_counter() - t
            if proc.returncode not in (0, 1):
                raise RuntimeError(f"{name} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
            walls[name].append(float(proc.stdout.split()[-1]) if printed else wall)
    return walls
