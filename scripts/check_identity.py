"""Prove a change leaves the analysis tables unchanged: save them once, compare them after.

The three tables of `drgephys.batch.analyze_paths` are computed on ``sample_data/``, the benchmark cohort
(`benchmarks/_common.make_cohort`, seed 2024: 48 cells, 10/20/50 kHz) and every file of
``../shared/real_data`` (skipped with a note when absent), and either saved (``save``) or compared with
the saved copy (``compare``) under ``pandas.testing.assert_frame_equal(check_exact=True)``.

Usage::

    python scripts/check_identity.py save    [--ref DIR]   # before the change
    python scripts/check_identity.py compare [--ref DIR]   # after it: exit 1 on any difference

A comparison may list columns that another issue adds or changes on purpose (``--allow-new-columns``
ignores columns the reference does not have; every difference is printed, never hidden).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from drgephys.batch import analyze_paths  # noqa: E402

DEFAULT_REF = REPO / "benchmarks" / "_work" / "identity"
TABLES = ("recordings", "oscillations", "spikes")


def corpora() -> dict[str, list[Path]]:
    """Name -> list of files or folders analysed."""
    import _common as C  # benchmarks/_common.py

    out = {"sample_data": [REPO / "sample_data"]}
    files, _ = C.make_cohort(C.work_dir(C.DEFAULT_SEED, False) / "cohort", C.DEFAULT_SEED, log=lambda *a: None)
    out["cohort"] = [Path(f) for f in files]
    real = (REPO / ".." / "shared" / "real_data").resolve()
    if real.is_dir():
        out["real_data"] = [real]
    else:
        print(f"note: {real} is absent: real recordings not compared")
    return out


def run(paths) -> dict[str, pd.DataFrame]:
    res = analyze_paths(paths)
    return {t: getattr(res, t) for t in TABLES}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("action", choices=("save", "compare"))
    ap.add_argument("--ref", type=Path, default=DEFAULT_REF, help=f"reference folder (default {DEFAULT_REF})")
    ap.add_argument("--allow-new-columns", action="store_true",
                    help="ignore columns absent from the reference (listed, not compared)")
    ap.add_argument("--only", nargs="*", help="corpora to run (default all)")
    args = ap.parse_args(argv)
    failed = 0
    for name, paths in corpora().items():
        if args.only and name not in args.only:
            continue
        t = time.perf_counter()
        tables = run(paths)
        took = time.perf_counter() - t
        for tname, df in tables.items():
            ref = args.ref / f"{name}.{tname}.parquet"
            if args.action == "save":
                ref.parent.mkdir(parents=True, exist_ok=True)
                df.to_parquet(ref, index=False)
                continue
            want = pd.read_parquet(ref)
            got = pd.read_parquet(_roundtrip(df, args.ref / ".tmp.parquet"))
            extra = [c for c in got.columns if c not in want.columns]
            if extra:
                print(f"{name}.{tname}: new columns {extra}" + ("" if args.allow_new_columns else " (not allowed)"))
                if args.allow_new_columns:
                    got = got.drop(columns=extra)
            try:
                pd.testing.assert_frame_equal(got, want, check_exact=True)
            except AssertionError as err:
                failed += 1
                print(f"DIFFERENT {name}.{tname}: {str(err).strip()[:2000]}")
        print(f"{name}: {args.action}d ({took:.1f} s; {', '.join(f'{k} {len(v)}' for k, v in tables.items())} rows)")
    if args.action == "compare":
        print("identical" if not failed else f"{failed} table(s) differ")
    return 1 if failed else 0


def _roundtrip(df: pd.DataFrame, path: Path) -> Path:
    """The table written and read back as Parquet (the reference went through the same round trip)."""
    df.to_parquet(path, index=False)
    return path


if __name__ == "__main__":
    raise SystemExit(main())
