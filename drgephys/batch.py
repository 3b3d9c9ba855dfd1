"""Analyse many files and folders into one set of tables, never dying on one bad file.

Outputs (always written, atomically — temp file + rename — even when some files fail):
``recordings.csv``, ``oscillations.csv``, ``spikes.csv``, ``params.json``. Inputs are opened read-only.
"""

from __future__ import annotations

import json
import os
import tempfile
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import tables
from .analysis import AnalysisParams, AnalysisResult, _assemble, analyze_recording, json_safe, status_row
from .errors import RecordingError
from .io import load, recording_extensions


@dataclass(frozen=True)
class Job:
    """One file to analyse: its path and the label written in the ``file`` column."""

    path: str
    label: str


def find_files(paths) -> list[Job]:
    """Expand files and folders (recursively) into jobs, labelled relative to the folder given.

    Folders contribute every file whose extension is a recording format neo reads (see
    `drgephys.io.recording_extensions`); ground-truth and table files (``*.json``, ``*.md``, ``groups.csv``)
    are skipped. A file named explicitly is always attempted.

    Raises
    ------
    FileNotFoundError
        When a given path does not exist.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    exts = recording_extensions()
    jobs: list[Job] = []
    for p in map(Path, paths):
        if not p.exists():
            raise FileNotFoundError(f"`{p}` does not exist; pass recording files or folders")
        if p.is_dir():
            for f in sorted(x for x in p.rglob("*") if x.is_file()):
                if f.suffix.lower() in exts and not _is_side_file(f):
                    jobs.append(Job(str(f), f.relative_to(p).as_posix()))
        else:
            jobs.append(Job(str(p), str(p)))
    return jobs


def _is_side_file(f: Path) -> bool:
    name = f.name.lower()
    return (name.endswith((".truth.json", ".md")) or name in {"groups.csv", "recordings.csv",
            "oscillations.csv", "spikes.csv", "comparison.csv"} or name.startswith("."))


def analyze_job(job: Job, params: AnalysisParams) -> AnalysisResult:
    """Analyse one file; any failure becomes a status row (``refused`` or ``error``), never an exception."""
    try:
        rec = load(job.path, channel=params.channel, units=params.units)
        return analyze_recording(rec, params, file_label=job.label)
    except RecordingError as err:
        rows = [status_row(job.label, channel=err.channel, status="refused", message=str(err))]
    except Exception as err:  # a bug or a corrupt file: keep going, keep the traceback in the message
        tb = traceback.format_exception_only(type(err), err)[-1].strip()
        rows = [status_row(job.label, status="error", message=f"{tb}")]
    return _assemble(rows, [], [], params)


def merge_groups(recordings: pd.DataFrame, groups: pd.DataFrame | None) -> pd.DataFrame:
    """Add the columns of a groups table (``file`` + e.g. ``group``, ``animal``) to `recordings`.

    Rows match on the relative path, else on the base name.

    Raises
    ------
    ValueError
        When `groups` has no ``file`` column.
    """
    if groups is None:
        return recordings
    if "file" not in groups.columns:
        raise ValueError(f"the groups table must have a `file` column; got columns {list(groups.columns)}")
    g = groups.copy()
    g["file"] = g["file"].astype(str).str.replace("\\", "/", regex=False)
    extra = [c for c in g.columns if c != "file" and c not in recordings.columns]
    out = recordings.copy()
    by_path = g.drop_duplicates("file").set_index("file")
    g["_base"] = g["file"].map(lambda s: s.rsplit("/", 1)[-1])
    by_base = g.drop_duplicates("_base").set_index("_base")
    files = out["file"].astype(str).str.replace("\\", "/", regex=False)
    base = files.map(lambda s: s.rsplit("/", 1)[-1])
    for c in extra:
        vals = files.map(by_path[c]) if len(by_path) else pd.Series(pd.NA, index=out.index)
        out[c] = vals.where(vals.notna(), base.map(by_base[c]))
    return out


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_tables(result: AnalysisResult, out_dir, *, extra_params: dict | None = None) -> dict:
    """Write the three tables and ``params.json`` atomically into `out_dir`; return their paths."""
    out = Path(out_dir)
    paths = {}
    for name in ("recordings", "oscillations", "spikes"):
        p = out / f"{name}.csv"
        df = getattr(result, name)
        _atomic_write(p, lambda tmp, df=df: df.to_csv(tmp, index=False))
        paths[name] = p
    p = out / "params.json"
    payload = {"params": result.params.to_dict(), "versions": versions(), **(extra_params or {})}
    _atomic_write(p, lambda tmp: Path(tmp).write_text(json.dumps(json_safe(payload), indent=2)))
    paths["params"] = p
    return paths


def versions() -> dict:
    """Versions of drgephys and the libraries that shape its numbers."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("drgephys", "neo", "numpy", "scipy", "pandas", "scikit-learn", "elephant"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def _run_one(args):
    job, params = args
    return analyze_job(job, params)


def analyze_paths(paths, *, params: AnalysisParams | None = None, groups=None, jobs: int = 1,
                  progress: bool = False) -> AnalysisResult:
    """Analyse files and folders; return the combined tables (one status row per failed file).

    Parameters
    ----------
    paths : path or list of paths
        Recording files and/or folders (searched recursively).
    params : AnalysisParams, optional
    groups : DataFrame or path, optional
        A table with a ``file`` column plus e.g. ``group``, ``animal``; its columns are added to
        ``recordings``.
    jobs : int
        Worker processes (1 = in this process).
    progress : bool
        Show a tqdm progress bar.
    """
    params = params or AnalysisParams()
    if isinstance(groups, (str, os.PathLike)):
        groups = pd.read_csv(groups)
    if int(jobs) < 1:
        raise ValueError(f"`jobs` must be a positive number of processes; got {jobs}")
    todo = find_files(paths)
    from tqdm.auto import tqdm

    bar = tqdm(total=len(todo), unit="file", disable=not progress)
    results = []
    if int(jobs) == 1 or len(todo) <= 1:
        for job in todo:
            results.append(analyze_job(job, params))
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=int(jobs)) as ex:
            for res in ex.map(_run_one, [(j, params) for j in todo]):
                results.append(res)
                bar.update()
    bar.close()
    recs = [r.recordings for r in results if len(r.recordings)]
    osc = [r.oscillations for r in results if len(r.oscillations)]
    spk = [r.spikes for r in results if len(r.spikes)]
    rec_df = pd.concat(recs, ignore_index=True) if recs else tables.empty(tables.RECORDINGS_COLUMNS)
    combined = AnalysisResult(
        merge_groups(tables.conform(rec_df, tables.RECORDINGS_COLUMNS), groups),
        tables.conform(pd.concat(osc, ignore_index=True) if osc else None, tables.OSCILLATIONS_COLUMNS),
        tables.conform(pd.concat(spk, ignore_index=True) if spk else None, tables.SPIKES_COLUMNS),
        params)
    return combined
