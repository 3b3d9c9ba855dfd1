"""Spike counts per sweep on the real recordings of ../shared/real_data: drgephys against eFEL (run in the same
benchmark, in the peer environment) and against the peers' own expected values where they ship them.

For every ABF/NWB file drgephys analyses (status ``ok``), each sweep's count is compared with eFEL 5's
``peak_time`` count (defaults: −20 mV threshold, 10 mV/ms derivative; whole sweep as its stimulus window).
Where the two differ, the sweep is listed with the spikes drgephys counted and the candidates it rejected and
the rule that rejected each (``rejected`` table, `drgephys.reasons.SPIKE_REJECTIONS`), so every difference
can be read off. Writes ``benchmarks/results/spike_counts_real.md``.

Usage: ``DRGEPHYS_PEERS_PYTHON=benchmarks/.venv-peers/bin/python python benchmarks/spike_counts_real.py``
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (REPO_ROOT, command_line, ensure_peers_python, git_commit, machine_info,  # noqa: E402
                     markdown_table, run_peers)

RESULTS = REPO_ROOT / "benchmarks" / "results" / "spike_counts_real.md"
REAL = (REPO_ROOT / ".." / "shared" / "real_data").resolve()


def _efel_expected() -> list[list]:
    """Rows (trace, stimulus window ms, eFEL's expected count, drgephys's count in that window) for eFEL's
    own test traces (eFEL counts APs inside the stimulus window only)."""
    import drgephys

    exp = json.loads((REAL / "EXPECTED" / "efel_peer_expected.json").read_text())
    rows = []
    for rel, entry in exp.items():
        if rel.startswith("_") or not isinstance(entry, dict):
            continue
        want = entry.get("expected", {})
        n = want.get("spike_count", want.get("len(AP_begin_indices)"))
        n = n[0] if isinstance(n, list) else n
        path = next(REAL.glob(f"*/{rel}"), None)
        if n is None or path is None:
            continue
        a, b = float(entry["stim_start_ms"]) / 1e3, float(entry["stim_end_ms"]) / 1e3
        spk = drgephys.analyze(path).spikes
        inside = int(((spk["peak_s"] >= a) & (spk["peak_s"] <= b)).sum())
        rows.append([rel.rsplit("/", 1)[-1], f"{a * 1e3:g}–{b * 1e3:g}", int(n), inside])
    return rows


def main(argv=None) -> int:
    import pandas as pd

    from drgephys.batch import analyze_paths

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    if not REAL.is_dir():
        print(f"{REAL} is absent: nothing to compare", file=sys.stderr)
        return 1
    files = sorted(p for p in REAL.rglob("*") if p.suffix.lower() in (".abf", ".nwb"))
    logging.disable(logging.WARNING)
    res = analyze_paths(files)
    logging.disable(logging.NOTSET)
    recs = res.recordings[res.recordings["status"] == "ok"]
    ok_files = sorted(set(recs["file"].astype(str)))
    peers = run_peers([Path(f) for f in ok_files], ensure_peers_python(), peers=("efel",))
    efel = {}
    for entry in peers["files"]:
        for sw in entry["sweeps"]:
            e = sw.get("efel", {})
            efel[(entry["path"], sw["sweep"])] = len(e["spikes_s"]) if "spikes_s" in e else None
    rej = res.rejected
    summary, detail = [], []
    for f in ok_files:
        r = recs[recs["file"].astype(str) == f]
        name = Path(f).name
        n_diff, tot_d, tot_e = 0, 0, 0
        for _, row in r.iterrows():
            d, e = int(row["spike_count"]), efel.get((f, int(row["sweep"])))
            tot_d += d
            tot_e += e if e is not None else 0
            if e is None or d == e:
                continue
            n_diff += 1
            rr = rej[(rej["file"].astype(str) == f) & (rej["sweep"] == row["sweep"])]
            codes = rr["reason_code"].value_counts().to_dict()
            detail.append([name, int(row["sweep"]), d, e, int(row["evoked_spike_count"]),
                           ", ".join(f"{c}: {k}" for c, k in codes.items()) or "none",
                           row["qc_flags"] or ""])
        summary.append([name, len(r), tot_d, tot_e, n_diff])
    fixtures = _efel_expected()
    lines = [
        "# Spike counts on real recordings: drgephys vs eFEL", "",
        f"Commit {git_commit()}; {machine_info()}; eFEL {peers['versions'].get('efel')}.", "",
        f"Command: `{command_line()}`", "",
        "Per file: sweeps analysed (`ok`), spikes counted by drgephys and by eFEL (`peak_time`, defaults), and "
        "sweeps whose counts differ.", "",
        markdown_table(["file", "sweeps", "drgephys", "eFEL", "sweeps differing"], summary), "",
        "Every differing sweep, with what drgephys rejected and why (codes of "
        "`drgephys.reasons.SPIKE_REJECTIONS`; `drgephys analyze` writes each candidate in `rejected.csv`):", "",
        markdown_table(["file", "sweep", "drgephys", "eFEL", "evoked", "rejected candidates", "qc_flags"], detail)
        if detail else "(none)", "",
        "eFEL's own test traces, against eFEL's expected counts:", "",
        markdown_table(["trace", "stimulus (ms)", "eFEL expected", "drgephys in the window"], fixtures) if fixtures else "(none found)", "",
    ]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
