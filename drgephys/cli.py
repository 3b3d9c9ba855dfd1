"""The ``drgephys`` command line.

``drgephys analyze PATH... --out DIR`` analyses recordings into tables; ``drgephys simulate`` makes a
ground-truth cohort; ``drgephys compare`` compares groups. Exit codes: 0 all files analysed, 1 some refused
or failed, 2 usage errors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


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


def _usage_error(msg: str) -> int:
    print(f"drgephys: error: {msg}", file=sys.stderr)
    return 2


def _channel(value: str):
    return int(value) if value.lstrip("-").isdigit() else value


def cmd_analyze(args) -> int:
    from .batch import analyze_paths, write_tables
    from .params import AnalysisParams, Execution

    cfg = _load_config(args.config)
    try:
        params = AnalysisParams.from_dict(cfg)
    except ValueError as err:
        return _usage_error(f"--config: {err}")
    import dataclasses

    if args.channel is not None:
        params = dataclasses.replace(params, channel=_channel(args.channel))
    if args.units is not None:
        try:
            params = dataclasses.replace(params, units=args.units)
        except ValueError as err:
            return _usage_error(f"--units: {err}")
    if args.chunk_s is not None and not args.chunk_s > 0:
        return _usage_error(f"--chunk-s must be a positive number of seconds; got {args.chunk_s:g}")
    for p in args.paths:
        if not Path(p).exists():
            return _usage_error(f"`{p}` does not exist; pass recording files or folders")
    groups = None
    if args.groups is not None:
        import pandas as pd

        if not Path(args.groups).is_file():
            return _usage_error(f"--groups `{args.groups}` does not exist; pass a CSV with a `file` column")
        groups = pd.read_csv(args.groups)
        if "file" not in groups.columns:
            return _usage_error(f"--groups `{args.groups}` needs a `file` column; got {list(groups.columns)}")
    if args.jobs < 1:
        return _usage_error(f"--jobs must be a positive number of processes; got {args.jobs}")
    execution = Execution(n_jobs=args.jobs, chunk_s=args.chunk_s, progress=(not args.quiet) and sys.stderr.isatty(),
                          scheduler=args.scheduler, resume=not args.no_resume)
    try:
        result = analyze_paths(args.paths, params=params, execution=execution, groups=groups, out_dir=args.out)
        write_tables(result, args.out, format=args.format,
                     extra_params={"command": " ".join(sys.argv),
                                   "inputs": [str(Path(p).resolve()) for p in args.paths]})
    except ImportError as err:
        return _usage_error(str(err))
    rec = result.recordings
    n_ok = int((rec["status"] == "ok").sum())
    bad = rec[rec["status"] != "ok"]
    if not args.quiet:
        print(f"drgephys: {rec['file'].nunique()} files, {n_ok} sweeps analysed, {len(bad)} refused/failed; "
              f"{len(result.oscillations)} SSO episodes, {len(result.spikes)} spikes → {args.out}")
        for _, r in bad.drop_duplicates("file").head(20).iterrows():
            print(f"  {r['status']}: {r['file']}: {r['message']}", file=sys.stderr)
    return 0 if len(bad) == 0 and n_ok > 0 else 1


def cmd_simulate(args) -> int:
    from .sim import CohortSpec, simulate_cohort

    try:
        spec = CohortSpec(animals_per_group=args.animals, cells_per_animal=args.cells, duration_s=args.duration)
        table = simulate_cohort(spec, seed=args.seed, out_dir=args.out, format=args.format)
    except (ValueError, TypeError) as err:
        return _usage_error(str(err))
    except ImportError as err:
        return _usage_error(f"{err} (the ABF writer needs pyabf: pip install pyabf; NWB needs pynwb)")
    print(f"drgephys: simulated {len(table)} cells ({table['group'].value_counts().to_dict()}) → {args.out}")
    return 0


def cmd_compare(args) -> int:
    from .stats import compare_results_dir

    try:
        table = compare_results_dir(args.results_dir, by=args.by, reference=args.reference,
                                    cluster=None if args.no_cluster else args.cluster, out=args.out,
                                    matched_vm_mv=args.matched_vm, seed=args.seed)
    except (ValueError, FileNotFoundError) as err:  # RecordingError is a ValueError
        return _usage_error(str(err))
    if not args.quiet:
        import pandas as pd

        with pd.option_context("display.width", 160, "display.max_columns", 12):
            print(table[["metric", "group", "reference", "estimate", "ci_low", "ci_high", "p_value"]]
                  .to_string(index=False))
    return 0


def cmd_report(args) -> int:
    from .report import build_report

    try:
        path = build_report(args.results_dir, args.out, max_recordings=args.max_recordings, by=args.by)
    except (FileNotFoundError, ValueError) as err:
        return _usage_error(str(err))
    print(f"drgephys: report → {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    ap = argparse.ArgumentParser(prog="drgephys", description=__doc__.splitlines()[0])
    ap.add_argument("--version", action="version", version=f"drgephys {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)

    a = sub.add_parser("analyze", help="analyse recordings (files or folders) into tables")
    a.add_argument("paths", nargs="+", metavar="PATH", help="recording files or folders (recursive)")
    a.add_argument("--out", required=True, help="output folder for recordings/oscillations/spikes.csv")
    a.add_argument("--groups", help="CSV with a `file` column plus e.g. `group`, `animal`")
    a.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    a.add_argument("--config", help="TOML file with [spikes], [oscillations], [trigger] parameters")
    a.add_argument("--channel", help="force the membrane-potential channel (index or name)")
    a.add_argument("--units", help="override the channel's declared units (e.g. mV)")
    a.add_argument("--chunk-s", type=float, default=None,
                   help="read every recording window by window via neo lazy loading, this many seconds per "
                        "file access (default: only sweeps over the 1 GB memory budget); the tables are the same")
    a.add_argument("--scheduler", help="address of a Dask distributed scheduler to run the files on")
    a.add_argument("--format", choices=["csv", "parquet"], default="csv", help="table format")
    a.add_argument("--no-resume", action="store_true", help="ignore per-file results cached in --out")
    a.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    a.set_defaults(func=cmd_analyze)

    s = sub.add_parser("simulate", help="simulate a ground-truth cohort of DRG recordings")
    s.add_argument("--out", required=True, help="output folder")
    s.add_argument("--animals", type=int, default=3, help="animals per group")
    s.add_argument("--cells", type=int, default=4, help="cells per animal")
    s.add_argument("--duration", type=float, default=30.0, help="recording duration in s")
    s.add_argument("--format", choices=["abf", "nwb"], default="abf")
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(func=cmd_simulate)

    c = sub.add_parser("compare", help="compare groups in the tables of `drgephys analyze`")
    c.add_argument("results_dir", metavar="RESULTS_DIR")
    c.add_argument("--by", default="group")
    c.add_argument("--reference", default=None)
    c.add_argument("--cluster", default="animal", help="column of the unit resampled first (default animal)")
    c.add_argument("--no-cluster", action="store_true", help="treat cells as independent (no animal column)")
    c.add_argument("--matched-vm", type=float, default=None,
                   help="membrane potential (mV) for the matched frequency (default: middle of the overlap)")
    c.add_argument("--seed", type=int, default=None, help="bootstrap/permutation seed")
    c.add_argument("--out", default=None, help="default RESULTS_DIR/comparison.csv")
    c.add_argument("--quiet", action="store_true")
    c.set_defaults(func=cmd_compare)

    r = sub.add_parser("report", help="self-contained HTML report of an analysis folder")
    r.add_argument("results_dir", metavar="RESULTS_DIR")
    r.add_argument("--out", default=None, help="default RESULTS_DIR/report.html")
    r.add_argument("--by", default="group")
    r.add_argument("--max-recordings", type=int, default=12,
                   help="QC figures for at most N sweeps: SSO sweeps first, then sweeps with QC flags, then a "
                        "random sample of the others (default 12)")
    r.set_defaults(func=cmd_report)
    return ap


def main(argv=None) -> int:
    """Entry point of the ``drgephys`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
