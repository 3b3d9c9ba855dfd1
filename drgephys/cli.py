"""The ``drgephys`` command line: ``analyze``, ``compare``, ``report``, ``simulate``.

Each subcommand imports its module when it runs, so ``drgephys --help`` starts at once. Errors are one line
naming the flag (``drgephys: error: --reference must be one of ...``), warnings one line each through
`logging` (``drgephys: warning: ...``). Exit codes: 0 every recording analysed, 1 some refused or failed or
none found, 2 usage errors.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import re
import sys
import warnings
from pathlib import Path

from .cli_text import DESCRIPTION, EPILOGS, EXIT_CODES
from .cli_values import (MAX_DEFAULT_JOBS, channel_value, check_out_file, check_out_folder, default_jobs,
                         stimulus_window)

FLAGS = {
    "analyze": {"units": "--units", "channel": "--channel", "chunk_s": "--chunk-s", "n_jobs": "--jobs",
                "format": "--format"},
    "compare": {"by": "--by", "reference": "--reference", "cluster": "--cluster", "matched_vm_mv": "--matched-vm",
                "seed": "--seed", "results_dir": "RESULTS_DIR", "recordings": "recordings.csv",
                "oscillations": "oscillations.csv"},
    "report": {"by": "--by", "max_figures": "--max-recordings", "max_recordings": "--max-recordings",
               "results_dir": "RESULTS_DIR", "recordings": "recordings.csv"},
    "simulate": {"animals_per_group": "--animals", "cells_per_animal": "--cells", "duration_s": "--duration",
                 "format": "--format", "seed": "--seed"},
}
LOG = logging.getLogger("drgephys")
#: Most refused files and skipped names listed in the summary (analysis.log lists them all).
MAX_LISTED = 20
MAX_SKIPPED_NAMES = 5


def with_flags(text: str, command: str | None) -> str:
    """``text`` on one line with the library's parameter names (```reference```) replaced by the flags
    that set them (``--reference``)."""
    names = FLAGS.get(command, {})
    text = " ".join(str(text).split())
    return re.sub(r"`([A-Za-z_]+)`", lambda m: names.get(m.group(1), m.group(0)), text)


def _usage_error(msg: str) -> int:
    print(f"drgephys: error: {msg}", file=sys.stderr)
    return 2


class _Console(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"drgephys: {record.levelname.lower()}: {record.getMessage()}"


@contextlib.contextmanager
def _console(command: str | None):
    """Log records of the ``drgephys`` logger, and Python warnings, as one ``drgephys: warning: ...`` line
    each on stderr (no source path), for the duration of a command."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Console())
    LOG.addHandler(handler)
    propagate, LOG.propagate = LOG.propagate, False
    with warnings.catch_warnings():
        warnings.showwarning = lambda message, *_a, **_k: LOG.warning(with_flags(str(message), command))
        try:
            yield
        finally:
            LOG.removeHandler(handler)
            LOG.propagate = propagate


def _load_config(path) -> dict:
    if path is None:
        return {}
    p = Path(path)
    if not p.is_file():
        raise SystemExit(_usage_error(f"--config `{p}` does not exist; pass a TOML file"))
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    with open(p, "rb") as fh:
        try:
            return tomllib.load(fh)
        except tomllib.TOMLDecodeError as err:
            raise SystemExit(_usage_error(f"--config `{p}` is not valid TOML: {err}"))


def cmd_analyze(args) -> int:
    import dataclasses

    from .batch import analyze_paths, write_tables
    from .params import AnalysisParams, Execution
    from .runners import malloc_for_arrays

    try:
        params = AnalysisParams.from_dict(_load_config(args.config))
    except ValueError as err:
        return _usage_error(f"--config: {err}")
    if args.channel is not None:
        params = dataclasses.replace(params, channel=channel_value(args.channel))
    if args.units is not None:
        try:
            params = dataclasses.replace(params, units=args.units)
        except ValueError as err:
            return _usage_error(with_flags(err, "analyze"))
    if args.stimulus:
        try:
            params = dataclasses.replace(params, stimulus_windows_s=tuple(stimulus_window(w) for w in args.stimulus))
        except ValueError as err:
            return _usage_error(str(err))
    if args.chunk_s is not None and not args.chunk_s > 0:
        return _usage_error(f"--chunk-s must be a positive number of seconds; got {args.chunk_s:g}")
    for p in args.paths:
        if not Path(p).exists():
            return _usage_error(f"`{p}` does not exist; pass recording files or folders")
    if (msg := check_out_folder(args.out)) is not None:
        return _usage_error(msg)
    groups = None
    if args.groups is not None:
        import pandas as pd

        if not Path(args.groups).is_file():
            return _usage_error(f"--groups `{args.groups}` does not exist; pass a CSV with a `file` column")
        groups = pd.read_csv(args.groups)
        if "file" not in groups.columns:
            return _usage_error(f"--groups `{args.groups}` needs a `file` column; got {list(groups.columns)}")
    if args.jobs is None:
        args.jobs = default_jobs()
    if args.jobs < 1:
        return _usage_error(f"--jobs must be a positive number of processes; got {args.jobs}")
    execution = Execution(n_jobs=args.jobs, chunk_s=args.chunk_s, progress=(not args.quiet) and sys.stderr.isatty(),
                          scheduler=args.scheduler, resume=not args.no_resume)
    malloc_for_arrays()     # this process is the command's own (--jobs 1 analyses here: 12 files 0.37 -> 0.34 s)
    try:
        result = analyze_paths(args.paths, params=params, execution=execution, groups=groups, out_dir=args.out)
        if result.n_rows("recordings") == 0:
            return _nothing_found(args, result.skipped)
        write_tables(result, args.out, format=args.format,
                     extra_params={"command": " ".join(sys.argv),
                                   "inputs": [str(Path(p).resolve()) for p in args.paths]})
    except ImportError as err:
        return _usage_error(str(err))
    except OSError as err:
        return _usage_error(f"cannot write to --out `{args.out}`: {err.strerror or err}")
    ok = result.column("recordings", "status") == "ok"      # (column arrays: the tables are never DataFrames here)
    if not args.quiet:
        _summary(args, result)
    return 0 if ok.all() and ok.any() else 1


def _nothing_found(args, skipped) -> int:
    print(f"drgephys: no recordings found in {', '.join(map(str, args.paths))}", file=sys.stderr)
    for s in skipped[:MAX_LISTED]:
        print(f"  {s.log()}", file=sys.stderr)
    if len(skipped) > MAX_LISTED:
        print(f"  ... and {len(skipped) - MAX_LISTED} more files skipped", file=sys.stderr)
    return 1


def _summary(args, result) -> None:
    """What the run did, on stdout, and each refused or failed file (its first such sweep) on stderr."""
    files, status, message = (result.column("recordings", c) for c in ("file", "status", "message"))
    n_ok = int((status == "ok").sum())
    print(f"drgephys: {len(set(files.tolist()))} files, {n_ok} sweeps analysed, {status.size - n_ok} refused/failed; "
          f"{result.n_rows('oscillations')} SSO episodes, {result.n_rows('spikes')} spikes → {args.out}")
    if (n_cached := sum(result.cached)):
        print(f"  resumed: {n_cached} files read from the cache of an earlier run (--no-resume recomputes them)",
              file=sys.stderr)
    first_bad: dict = {}                 # file -> its first sweep that is not ok
    for i in (status != "ok").nonzero()[0].tolist():
        first_bad.setdefault(files[i], i)
    for i in list(first_bad.values())[:MAX_LISTED]:
        print(f"  {status[i]}: {files[i]}: {message[i]}", file=sys.stderr)
    if len(first_bad) > MAX_LISTED:
        print(f"  ... and {len(first_bad) - MAX_LISTED} more files refused or failed", file=sys.stderr)
    if result.skipped:
        names = [s.label for s in result.skipped]
        shown = ", ".join(names[:MAX_SKIPPED_NAMES]) + (", ..." if len(names) > MAX_SKIPPED_NAMES else "")
        print(f"  skipped: {len(names)} files that are not recordings: {shown} "
              f"(reasons in {Path(args.out) / 'analysis.log'})", file=sys.stderr)
    for entry in result.log:
        head, *lines = entry.split("\n")
        label = head.split(": ", 2)[1] if head.count(": ") >= 1 else head
        for line in lines:
            if line.startswith("  warning: "):
                LOG.warning(f"{label}: {line[len('  warning: '):]}")


def cmd_simulate(args) -> int:
    from .sim import CohortSpec, simulate_cohort

    if (msg := check_out_folder(args.out)) is not None:
        return _usage_error(msg)
    try:
        spec = CohortSpec(animals_per_group=args.animals, cells_per_animal=args.cells, duration_s=args.duration)
        table = simulate_cohort(spec, seed=args.seed, out_dir=args.out, format=args.format)
    except (ValueError, TypeError) as err:
        return _usage_error(with_flags(err, "simulate"))
    except ImportError as err:
        return _usage_error(f"{err} (the ABF writer needs pyabf: pip install pyabf; NWB needs pynwb)")
    except OSError as err:
        return _usage_error(f"cannot write to --out `{args.out}`: {err.strerror or err}")
    print(f"drgephys: simulated {len(table)} cells ({table['group'].value_counts().to_dict()}) → {args.out}")
    return 0


def cmd_compare(args) -> int:
    from .stats import compare_results_dir

    if (msg := check_out_file(args.out)) is not None:
        return _usage_error(msg)
    try:
        table = compare_results_dir(args.results_dir, by=args.by, reference=args.reference,
                                    cluster=None if args.no_cluster else args.cluster, out=args.out,
                                    matched_vm_mv=args.matched_vm, seed=args.seed,
                                    include_flagged=args.include_flagged)
    except (ValueError, FileNotFoundError) as err:  # RecordingError is a ValueError
        return _usage_error(with_flags(err, "compare"))
    except OSError as err:
        return _usage_error(f"cannot write --out `{args.out}`: {err.strerror or err}")
    if not args.quiet:
        import pandas as pd

        with pd.option_context("display.width", 160, "display.max_columns", 12):
            print(table[["metric", "group", "reference", "estimate", "ci_low", "ci_high", "p_value"]]
                  .to_string(index=False))
    return 0


def cmd_report(args) -> int:
    from .report import build_report

    if (msg := check_out_file(args.out)) is not None:
        return _usage_error(msg)
    try:
        path = build_report(args.results_dir, args.out, max_recordings=args.max_recordings, by=args.by,
                            include_flagged=args.include_flagged)
    except (FileNotFoundError, ValueError) as err:
        return _usage_error(with_flags(err, "report"))
    except OSError as err:
        return _usage_error(f"cannot write --out `{args.out}`: {err.strerror or err}")
    print(f"drgephys: report → {path}")
    return 0


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Epilogs kept as written (examples); ``(default: ...)`` added to every option whose help does not
    already say what happens by default (flags and options without a value default explain it in words)."""

    def _get_help_string(self, action):
        text = action.help or ""
        if ("(default" in text or not action.option_strings or action.required or action.default is None
                or action.default is False or action.default == argparse.SUPPRESS):
            return text
        return text + " (default: %(default)s)"


def _sub(sub, name: str, help: str):
    return sub.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".", epilog=EPILOGS[name],
                          formatter_class=HelpFormatter)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    ap = argparse.ArgumentParser(prog="drgephys", description=DESCRIPTION,
                                 epilog=EPILOGS[None] + "\n\n" + EXIT_CODES, formatter_class=HelpFormatter)
    ap.add_argument("--version", action="version", version=f"drgephys {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    a = _sub(sub, "analyze", "analyse recordings (files or folders) into tables")
    a.epilog += "\n\n" + EXIT_CODES
    a.add_argument("paths", nargs="+", metavar="PATH",
                   help="recording files or folders (searched recursively); a file named here is always attempted")
    a.add_argument("--out", required=True, metavar="DIR",
                   help="output folder (created when missing): recordings.csv, oscillations.csv, spikes.csv, "
                        "params.json, analysis.log")
    a.add_argument("--groups", metavar="CSV",
                   help="table with a `file` column plus e.g. `group`, `animal`, merged into recordings.csv "
                        "(default: no group columns)")
    a.add_argument("--jobs", type=int, default=None, metavar="N",
                   help=f"worker processes (default: one per available core, at most {MAX_DEFAULT_JOBS})")
    a.add_argument("--config", metavar="TOML",
                   help="[spikes], [oscillations], [trigger], [windows] parameters (default: the built-in ones; "
                        "every value used is written to params.json)")
    a.add_argument("--channel", metavar="N|NAME",
                   help="membrane-potential channel, by position or name (default: chosen per file by units and "
                        "plausibility)")
    a.add_argument("--units", metavar="UNITS",
                   help="units of that channel, e.g. mV, when the file's label is wrong (default: as the file says)")
    a.add_argument("--stimulus", action="append", metavar="START:END",
                   help="a stimulus window in s from each sweep's start (repeat for several): spikes inside are "
                        "evoked and left out of the spontaneous pattern and rate (default: the file's own "
                        "command channel, when it has one)")
    a.add_argument("--chunk-s", type=float, default=None, metavar="S",
                   help="read every recording window by window, this many seconds per file access (default: only "
                        "sweeps over the 1 GB memory budget); the tables are the same")
    a.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask distributed scheduler to run the files on, e.g. tcp://host:8786 (default: local "
                        "processes, see --jobs)")
    a.add_argument("--format", choices=["csv", "parquet"], default="csv", help="table format (parquet needs pyarrow)")
    a.add_argument("--no-resume", action="store_true",
                   help="recompute every file instead of reusing the results cached in --out by an earlier run")
    a.add_argument("--quiet", action="store_true",
                   help="no progress bar, summary or warnings (analysis.log has them all)")
    a.set_defaults(func=cmd_analyze)

    c = _sub(sub, "compare", "compare groups in the tables of `drgephys analyze`")
    c.add_argument("results_dir", metavar="RESULTS_DIR",
                   help="the --out folder of `drgephys analyze` (recordings.csv, oscillations.csv)")
    c.add_argument("--by", default="group", metavar="COLUMN",
                   help="recordings.csv column naming each cell's group (added by analyze --groups)")
    c.add_argument("--reference", default=None, metavar="GROUP",
                   help="group the others are compared with (default: 'control' when present, else the first "
                        "group in sorted order)")
    c.add_argument("--cluster", default="animal", metavar="COLUMN",
                   help="column of the unit resampled first in the hierarchical bootstrap")
    c.add_argument("--no-cluster", action="store_true", help="treat cells as independent (no animal column)")
    c.add_argument("--matched-vm", type=float, default=None, metavar="MV",
                   help="membrane potential (mV) of the matched SSO frequency (default: the middle of the "
                        "potentials where both groups have SSO episodes)")
    c.add_argument("--seed", type=int, default=0, help="seed of the bootstrap and the permutations")
    c.add_argument("--out", default=None, metavar="CSV", help="table to write (default: RESULTS_DIR/comparison.csv)")
    c.add_argument("--include-flagged", action="store_true",
                   help="keep sweeps whose qc_flags block comparisons (baseline_implausible, depolarized); by "
                        "default they are left out and the count is logged")
    c.add_argument("--quiet", action="store_true", help="write the table without printing it")
    c.set_defaults(func=cmd_compare)

    r = _sub(sub, "report", "write a self-contained HTML report of an analysis folder")
    r.add_argument("results_dir", metavar="RESULTS_DIR", help="the --out folder of `drgephys analyze`")
    r.add_argument("--out", default=None, metavar="HTML", help="page to write (default: RESULTS_DIR/report.html)")
    r.add_argument("--by", default="group", metavar="COLUMN",
                   help="group column of the comparison section (the section says so when it is absent)")
    r.add_argument("--max-recordings", type=int, default=12, metavar="N",
                   help="QC figures for at most N sweeps: SSO sweeps first, then sweeps with QC flags, then a "
                        "random sample of the others")
    r.add_argument("--include-flagged", action="store_true",
                   help="keep sweeps whose qc_flags block comparisons in the comparison section; by default "
                        "they are left out and the page says how many")
    r.set_defaults(func=cmd_report)

    s = _sub(sub, "simulate", "simulate a ground-truth cohort of DRG recordings")
    s.add_argument("--out", required=True, metavar="DIR",
                   help="output folder: one recording per cell with its <file>.truth.json, groups.csv, cohort.json")
    s.add_argument("--animals", type=int, default=3, metavar="N", help="animals per group (control, injured)")
    s.add_argument("--cells", type=int, default=4, metavar="N", help="cells per animal")
    s.add_argument("--duration", type=float, default=30.0, metavar="S", help="recording duration in seconds")
    s.add_argument("--format", choices=["abf", "nwb"], default="abf",
                   help="file format (abf needs pyabf, nwb needs pynwb)")
    s.add_argument("--seed", type=int, default=0, help="random seed (the same seed gives the same cohort)")
    s.set_defaults(func=cmd_simulate)
    return ap


def main(argv=None) -> int:
    """Entry point of the ``drgephys`` console script."""
    args = build_parser().parse_args(argv)
    with _console(args.command):
        try:
            return int(args.func(args))
        except KeyboardInterrupt:
            resume = " (run the same command again to resume)" if args.command == "analyze" else ""
            print(f"drgephys: interrupted{resume}", file=sys.stderr)
            return 130


def console() -> None:
    """The ``drgephys`` console script: `main`, then exit with its code.

    Before exiting, the objects of the finished command are frozen out of the cyclic garbage collector
    (`gc.freeze`): the interpreter's shutdown then skips its last collection over the hundreds of thousands
    of objects numpy, SciPy, pandas and neo create at import, 0.11 of the 0.14 s an ``analyze`` process took
    to exit (measured on the benchmark machine). Every output is written and closed by then."""
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    console()
