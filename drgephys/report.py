"""One self-contained HTML page from an `analyze` output folder: summary, comparison and QC figures.

Figures are embedded as base64 PNG, so the page can be mailed or archived alone.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from .errors import RecordingError


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _img(fig, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{_png(fig)}"/>'


def _read_table(d: Path, name: str) -> pd.DataFrame:
    for ext, reader in (("csv", pd.read_csv), ("parquet", pd.read_parquet)):
        p = d / f"{name}.{ext}"
        if p.is_file():
            return reader(p)
    raise FileNotFoundError(f"`{d}` has no {name}.csv; run `drgephys analyze ... --out {d}` first")


def locate(label: str, inputs: list[str]) -> Path | None:
    """Find the recording a table's ``file`` label refers to, given the paths the analysis was run on."""
    p = Path(label)
    if p.is_file():
        return p
    for root in map(Path, inputs):
        if root.is_dir() and (root / label).is_file():
            return root / label
        if root.is_file() and (root.name == p.name or str(root) == label):
            return root
    return None


def build_report(results_dir, out=None, *, max_recordings: int = 12, by: str = "group") -> Path:
    """Write ``report.html`` for an analysis folder.

    Parameters
    ----------
    results_dir : path
        Output folder of ``drgephys analyze`` (recordings/oscillations/spikes tables, params.json).
    out : path, optional
        HTML file to write (default ``results_dir/report.html``), atomically.
    max_recordings : int
        QC figures are drawn for at most this many analysed recordings (first sweep of each).
    by : str
        Group column for the comparison section (skipped when absent).

    Returns
    -------
    Path
        The HTML file written.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from .analysis import AnalysisResult
    from .io import load
    from .plotting.qc import qc_figure

    d = Path(results_dir)
    if not d.is_dir():
        raise FileNotFoundError(f"`{d}` is not a folder; pass the --out folder of `drgephys analyze`")
    recs, osc, spk = (_read_table(d, n) for n in ("recordings", "oscillations", "spikes"))
    meta = json.loads((d / "params.json").read_text()) if (d / "params.json").is_file() else {}
    inputs = meta.get("inputs", [])
    parts = [f"<h1>drgephys report</h1><p>{html.escape(str(d.resolve()))}</p>"]
    ok = recs[recs["status"] == "ok"]
    parts.append(f"<h2>Summary</h2><p>{recs['file'].nunique()} files, {len(ok)} sweeps analysed, "
                 f"{int((recs['status'] != 'ok').sum())} refused or failed; {len(osc)} SSO episodes; "
                 f"{len(spk)} spikes.</p>")
    cols = [c for c in ["file", "sweep", "status", "resting_vm_mv", "sso_detected", "sso_frequency_hz",
                        "sso_amplitude_mv", "sso_time_fraction", "spike_count", "spike_rate_hz",
                        "firing_pattern", by, "animal"] if c in recs.columns]
    parts.append('<h2>Recordings</h2><div class="table">' +
                 recs[cols].to_html(index=False, float_format=lambda x: f"{x:.3g}", na_rep="", border=0,
                                    classes="recordings") + "</div>")
    bad = recs[recs["status"] != "ok"]
    if len(bad):
        parts.append("<h2>Refused or failed</h2>" + bad[["file", "status", "message"]].to_html(
            index=False, border=0, classes="refused"))
    parts.append(_comparison_section(d, recs, osc, by))
    parts.append("<h2>Quality control</h2>")
    shown = 0
    for label in ok["file"].drop_duplicates():
        if shown >= max_recordings:
            parts.append(f"<p>QC figures limited to {max_recordings} recordings.</p>")
            break
        path = locate(str(label), inputs)
        if path is None:
            parts.append(f"<p>{html.escape(str(label))}: file not found for QC figures.</p>")
            continue
        try:
            rec = load(path, channel=meta.get("params", {}).get("channel"),
                       units=meta.get("params", {}).get("units"))
        except (RecordingError, OSError) as err:
            parts.append(f"<p>{html.escape(str(label))}: {html.escape(str(err))}</p>")
            continue
        tr = rec[0]
        sel = lambda df: df[(df["file"] == label) & (df["sweep"] == tr.sweep)]  # noqa: E731
        res = AnalysisResult(sel(recs), sel(osc), sel(spk), params=None)  # tables only: the figure needs no params
        fig = qc_figure(tr, res)
        fig.suptitle(f"{label} — sweep {tr.sweep}", fontsize=9)
        parts.append(f'<div class="qc"><h3>{html.escape(str(label))}</h3>{_img(fig, f"QC {label}")}</div>')
        shown += 1
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>drgephys report</title><style>"
            "body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;"
            "font-size:12px}td,th{padding:2px 6px;border-bottom:1px solid #ddd}.table{overflow-x:auto}"
            "img{max-width:100%}</style></head><body>" + "\n".join(parts) + "</body></html>")
    target = Path(out) if out is not None else d / "report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(page)
    os.replace(tmp, target)
    return target


def _comparison_section(d: Path, recs, osc, by: str) -> str:
    cmp_path = d / "comparison.csv"
    table = None
    if cmp_path.is_file():
        table = pd.read_csv(cmp_path)
    elif by in recs.columns and recs[by].nunique() >= 2:
        try:
            from .stats import compare_groups

            table = compare_groups(recs, osc, by=by)
        except Exception as err:  # the report still renders without the comparison
            return f"<h2>Comparison</h2><p>not computed: {html.escape(str(err))}</p>"
    if table is None:
        return f"<h2>Comparison</h2><p>No `{html.escape(by)}` column: analyse with --groups to compare.</p>"
    out = ["<h2>Comparison</h2>", table.to_html(index=False, float_format=lambda x: f"{x:.3g}", na_rep="",
                                                 border=0, classes="comparison")]
    try:
        import matplotlib.pyplot as plt

        from .plotting.comparison import plot_frequency_vs_vm, plot_prevalence

        fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), constrained_layout=True)
        plot_frequency_vs_vm(osc, recs, by=by, ax=axes[0])
        plot_prevalence(table, ax=axes[1])
        out.append(_img(fig, "comparison figures"))
    except Exception as err:
        out.append(f"<p>comparison figures unavailable: {html.escape(str(err))}</p>")
    return "\n".join(out)


__all__ = ["build_report", "locate"]
