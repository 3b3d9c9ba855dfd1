"""Analyse many files and folders into one set of tables, never dying on one bad file.

Outputs (always written, atomically — temp file + rename — even when some files fail):
``recordings.csv``, ``oscillations.csv``, ``spikes.csv``, ``params.json``. Inputs are opened read-only.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from importlib.metadata import PackageNotFoundError, version
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__, _cache, runners, tables
from ._atomic import atomic_text, atomic_write
from .errors import RecordingError
from .io.scan import skip_reason
from .params import AnalysisParams, Execution, json_safe
from .results import AnalysisResult, assemble, status_row
from .spikes.model_file import default_arrays
from ._lazy import lazy, pd

progress = lazy("tqdm.auto")   # loaded when a progress bar is shown (it imports asyncio: 0.02 s)


@dataclass(frozen=True)
class Job:
    """One file to analyse: its path and the label written in the ``file`` column."""

    path: str
    label: str


@dataclass(frozen=True)
class Skip:
    """A file of a folder scan that is not a recording: its label, a code of `drgephys.reasons.SKIPS` and
    the reason."""

    label: str
    code: str
    reason: str

    def log(self) -> str:
        return f"skipped: {self.label}: {self.reason}"


def scan(paths) -> tuple[list[Job], list[Skip]]:
    """Expand files and folders (recursively) into jobs, labelled relative to the folder given, and the files
    of the folders that are not recordings.

    A folder contributes every file `drgephys.io.scan.skip_reason` lets through: an extension neo reads
    and, for text files, a start that may be a trace. Other files are skipped (listed, with the reason);
    hidden files and folders (names starting with ".") are ignored. A file named explicitly is always
    attempted.

    Raises
    ------
    FileNotFoundError
        When a given path does not exist.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    jobs: list[Job] = []
    skipped: list[Skip] = []
    for p in map(Path, paths):
        if not p.exists():
            raise FileNotFoundError(f"`{p}` does not exist; pass recording files or folders")
        if not p.is_dir():
            jobs.append(Job(str(p), str(p)))
            continue
        for f in sorted(x for x in p.rglob("*") if x.is_file()):
            rel = f.relative_to(p)
            if any(part.startswith(".") for part in rel.parts):
                continue
            try:
                code, reason = skip_reason(f)
            except OSError:
                code = ""           # unreadable: attempted, and refused with the reason
            if code:
                skipped.append(Skip(rel.as_posix(), code, reason))
            else:
                jobs.append(Job(str(f), rel.as_posix()))
    return jobs, skipped


def find_files(paths) -> list[Job]:
    """The jobs of `scan` (the recordings to attempt)."""
    return scan(paths)[0]


def analyze_job(job: Job, params: AnalysisParams, execution: Execution | None = None
                ) -> tuple[AnalysisResult, str]:
    """Analyse one file; any failure becomes a status row (``refused`` or ``error``), never an exception.

    Returns the result and a log entry: ``ok|refused|error: <label>: <what>`` with, on indented lines below,
    the refused sweeps of an analysed file, every channel's reason for a file refused on its (several) channels, the
    traceback of an error, and the user warnings (``UserWarning``) raised while analysing it, one line each
    (they are recorded, not shown; other warning categories go on to the usual machinery).
    """
    _analysis()                 # (imported before warnings are recorded: its import warnings are no file's)
    with warnings.catch_warnings(record=True) as caught:
        res, log = _attempt(job, params, execution or Execution())
    notes = []
    for w in caught:
        if not issubclass(w.category, UserWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        elif (text := " ".join(str(w.message).split())) not in notes:
            notes.append(text)
    return res, log + "".join(f"\n  warning: {n}" for n in notes)


def _attempt(job: Job, params: AnalysisParams, execution: Execution) -> tuple[AnalysisResult, str]:
    try:
        res = _analysis().analyze_file(job.path, params, execution, file_label=job.label)
        status = res.column("recordings", "status")
        n_ok = int(np.count_nonzero(status == "ok"))
        refused = [f"\n  refused: {m}" for st, m in zip(status, res.column("recordings", "message")) if st != "ok"]
        return res, (f"ok: {job.label}: {n_ok} sweeps, {res.n_rows('oscillations')} episodes, "
                     f"{res.n_rows('spikes')} spikes" + "".join(refused))
    except RecordingError as err:
        rows = [status_row(job.label, channel=err.channel, status="refused", message=err.detail, code=err.code)]
        reasons = err.channel_reasons if len(err.channel_reasons) > 1 else ()   # one is in the message
        log = f"refused: {job.label}: {err.detail}" + "".join(f"\n  {r}" for r in reasons)
    except Exception as err:  # a bug or a corrupt file: keep going, keep the traceback in the log
        tb = traceback.format_exception_only(type(err), err)[-1].strip()
        rows = [status_row(job.label, status="error", message=tb)]
        log = f"error: {job.label}: {tb}\n" + "".join(traceback.format_exception(err)).rstrip("\n")
    return assemble(rows, [], [], params), log


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
    # a groups row naming only a base name is the one meant for base-name matches
    g["_nested"] = g["file"].str.contains("/", regex=False)
    by_base = g.sort_values("_nested", kind="stable").drop_duplicates("_base").set_index("_base")
    files = out["file"].astype(str).str.replace("\\", "/", regex=False)
    base = files.map(lambda s: s.rsplit("/", 1)[-1])
    for c in extra:
        vals = files.map(by_path[c]) if len(by_path) else pd.Series(pd.NA, index=out.index)
        out[c] = vals.where(vals.notna(), base.map(by_base[c]))
    return out


def write_tables(result: AnalysisResult, out_dir, *, extra_params: dict | None = None,
                 format: str = "csv") -> dict:
    """Write the three tables, ``params.json`` and ``analysis.log`` atomically into `out_dir`.

    Parameters
    ----------
    format : {"csv", "parquet"}
        Table format; parquet needs pyarrow.

    Returns
    -------
    dict
        Paths written, by table name.
    """
    if format not in ("csv", "parquet"):
        raise ValueError(f"`format` must be 'csv' or 'parquet'; got {format!r}")
    if format == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ImportError("`--format parquet` needs pyarrow: pip install pyarrow") from None
    out = Path(out_dir)
    paths = {}
    held = result.unbuilt()
    for name in tables.TABLES:
        p = out / f"{name}.{format}"
        if format == "csv" and isinstance(held[name], tables.Parts):   # the same bytes, without pandas
            atomic_write(p, held[name].to_csv)
        elif format == "csv":
            atomic_write(p, lambda tmp, df=getattr(result, name): df.to_csv(tmp, index=False))
        else:
            atomic_write(p, lambda tmp, df=getattr(result, name): df.to_parquet(tmp, index=False))
        paths[name] = p
    log = getattr(result, "log", None)
    if log:
        atomic_text(out / "analysis.log", "\n".join(log) + "\n")
        paths["log"] = out / "analysis.log"
    p = out / "params.json"
    payload = {"params": result.params.to_dict(), "versions": versions(), **(extra_params or {})}
    execution = getattr(result, "execution", None)
    if execution is not None:   # how it ran (never changes the tables), for the record
        payload["execution"] = json_safe(dataclasses.asdict(execution))
    atomic_text(p, json.dumps(json_safe(payload), indent=2))
    paths["params"] = p
    return paths


def versions() -> dict:
    """Versions of drgephys and the libraries that shape its numbers (read once per process from the
    installed packages' metadata, ~2 ms each)."""
    return dict(_installed_versions())


@functools.cache
def _installed_versions() -> dict:
    out = {}
    for pkg in ("drgephys", "neo", "numpy", "scipy", "pandas", "scikit-learn", "elephant"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def _run_one(job: Job, params: AnalysisParams, execution: Execution, out_dir, params_json: str
             ) -> tuple[AnalysisResult, str, bool]:
    """Analyse one job, filling the cache when `out_dir` is given and reading it when resuming (the cache key
    hashes the file's content: computed here, in the worker, so the workers hash their files in parallel).

    Returns the result, its log entry (the entry of the run that analysed the file, also when read from the
    cache, so a resumed run writes the log of a fresh one) and whether it came from the cache."""
    key = _key(job, params_json) if out_dir is not None else None
    if execution.resume and key is not None:
        hit = _cache.load_entry(out_dir, key)
        if hit is not None:
            parts, log = hit
            return AnalysisResult(parts["recordings"], parts["oscillations"], parts["spikes"], params,
                                  parts["rejected"]), log, True
    res, log = analyze_job(job, params, execution)
    if key is not None:
        _cache.save_entry(out_dir, key, res.unbuilt(), log)
    return res, log, False


def _analysis():
    """`drgephys.analysis`, imported on first use: where the files are analysed (pool workers inherit it from
    `_preload`; Dask workers and this process import it with their first file). A Dask client process that
    only submits files and writes the tables never loads SciPy or neo (0.3-0.4 s before it could submit)."""
    from . import analysis

    return analysis


def _preload() -> None:
    """Import the analysis and read the shipped discharge model once in the parent before a process pool
    forks (the workers inherit both instead of each loading them)."""
    _analysis()
    default_arrays()


def _while_workers_run() -> None:
    """What the batch process needs afterwards, done while the workers analyse the files: read the library
    versions for ``params.json``. (pandas is not loaded here: the tables stay column arrays until a frame is
    asked for, and the command line writes its CSV files without it.)"""
    versions()


def _key(job: Job, params_json: str) -> str | None:
    try:
        return _cache.cache_key(job.path, job.label, params_json, __version__)
    except OSError:
        return None  # unreadable: analysed (and refused) without caching


def analyze_paths(paths, *, params: AnalysisParams | None = None, execution: Execution | None = None, groups=None,
                  out_dir=None, **settings) -> AnalysisResult:
    """Analyse files and folders; return the combined tables (one status row per failed file).

    Parameters
    ----------
    paths : path or list of paths
        Recording files and/or folders (searched recursively).
    params : AnalysisParams, optional
        What to compute (saved with the results; keys the resume cache).
    execution : Execution, optional
        How to run: worker processes (``n_jobs``), Dask ``scheduler``, ``progress`` bar, chunked reading
        (``chunk_s``, ``memory_budget_mb``), ``resume``. Never changes the tables.
    groups : DataFrame or path, optional
        A table with a ``file`` column plus e.g. ``group``, ``animal``; its columns are added to
        ``recordings``.
    out_dir : path, optional
        Where per-file results are cached (``.drgephys-cache/``) so an interrupted or repeated run resumes.
    **settings
        Single fields of `Execution` (``n_jobs=2``, ``progress=True``, ...); ``jobs`` is accepted for
        ``n_jobs``.

    Returns
    -------
    AnalysisResult
        Combined tables, in the order of the files found; ``.log`` holds one entry per file attempted (the
        same entry whether the file was analysed now or read from the cache of an earlier run) and then one
        ``skipped: <label>: <reason>`` entry per file of the folders that is not a recording (`scan`);
        ``.cached`` says which files were read from the cache, ``.skipped`` lists the `Skip` entries.
    """
    params = params or AnalysisParams()
    if "jobs" in settings:
        settings["n_jobs"] = settings.pop("jobs")
    unknown = set(settings) - {f.name for f in dataclasses.fields(Execution)}
    if unknown:
        raise TypeError(f"unknown execution setting(s) {sorted(unknown)}; valid: "
                        f"{sorted(f.name for f in dataclasses.fields(Execution))}")
    execution = dataclasses.replace(execution or Execution(), **settings)
    if isinstance(groups, (str, os.PathLike)):
        groups = pd.read_csv(groups)
    todo, skipped = scan(paths)
    params_json = json.dumps(params.to_dict(), sort_keys=True)
    bar = progress.tqdm(total=len(todo), unit="file") if execution.progress else None
    # in this process, a pool of worker processes or Dask; outputs in the order of `todo` (runners)
    outputs = runners.run(_run_one, todo, (params, execution, out_dir, params_json), execution,
                          on_done=bar.update if bar else None, preload=_preload, meanwhile=_while_workers_run)
    if bar:
        bar.close()
    results = [o[0] for o in outputs]
    # every file's tables (parts not yet built, or frames from the cache) become one frame per table
    combined = AnalysisResult.concat(results, params)
    if groups is not None:
        combined.recordings = merge_groups(combined.recordings, groups)
    combined.log = [o[1] for o in outputs] + [s.log() for s in skipped]
    combined.cached = [o[2] for o in outputs]
    combined.skipped = skipped
    combined.execution = execution
    return combined
