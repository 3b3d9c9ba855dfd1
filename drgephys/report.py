"""One self-contained HTML page from an `analyze` output folder: summary, a sortable table of the sweeps
linking to their QC figures, the group comparison, and QC figures for the sweeps that matter first (SSO
sweeps, then sweeps with QC flags, then a random sample of the others).

Figures are embedded as base64 PNG and the table's sort script is inline, so the page can be mailed or
archived alone and opens without network.
"""

from __future__ import annotations

import html
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from . import _html
from ._atomic import atomic_text
from .analysis import AnalysisResult
from .errors import RecordingError
from .io import load
from .plotting.comparison import plot_frequency_vs_vm, plot_prevalence
from .plotting.qc import qc_figure
from .qc import blocked_rows, blocked_summary
from .stats import compare_groups
from .tables import locate, read_table


def _is_true(col: pd.Series) -> np.ndarray:
    """Booleans of a column read back from CSV (True/False/"True"/1/NaN; NaN is False)."""
    return col.map(lambda x: x is True or (isinstance(x, (bool, np.bool_)) and bool(x))
                   or str(x).strip().lower() in ("true", "1", "1.0", "yes")).to_numpy(bool)


def _has_flags(col: pd.Series) -> np.ndarray:
    return col.map(lambda x: x is not None and x is not pd.NA and not (isinstance(x, float) and np.isnan(x))
                   and str(x).strip() not in ("", "[]", "nan", "None")).to_numpy(bool)


def select_qc_sweeps(recordings: pd.DataFrame, max_figures: int = 12, *, seed: int = 0) -> pd.DataFrame:
    """Which analysed sweeps get a QC figure, in the order they are shown.

    SSO sweeps first (`sso_detected`, largest `sso_time_fraction` first), then sweeps with QC flags (a
    non-empty `qc_flags` column, when the table has one), then a random sample of the other ok sweeps
    (reproducible with `seed`), at most `max_figures` in all.

    Parameters
    ----------
    recordings : DataFrame
        The recordings table (``file``, ``sweep``, ``status``; ``sso_detected``, ``sso_time_fraction`` and
        ``qc_flags`` used when present).
    max_figures : int
        Most sweeps returned (≥ 0).
    seed : int
        Seed of the random sample.

    Returns
    -------
    DataFrame
        Rows of `recordings` (its index kept) with a ``reason`` column: ``"SSO"``, ``"QC flags"`` or
        ``"sample"``.
    """
    if isinstance(max_figures, bool) or not isinstance(max_figures, (int, np.integer)) or max_figures < 0:
        raise ValueError(f"`max_figures` must be a non-negative int; got {max_figures!r}")
    ok = recordings[recordings["status"].astype(str) == "ok"] if "status" in recordings else recordings
    sso = _is_true(ok["sso_detected"]) if "sso_detected" in ok else np.zeros(len(ok), bool)
    flagged = _has_flags(ok["qc_flags"]) if "qc_flags" in ok else np.zeros(len(ok), bool)
    frac = ok["sso_time_fraction"].astype(float).fillna(0).to_numpy() if "sso_time_fraction" in ok \
        else np.zeros(len(ok))
    first = ok[sso].assign(_f=frac[sso]).sort_values(["_f", "file", "sweep"], ascending=[False, True, True],
                                                     kind="stable").drop(columns="_f").assign(reason="SSO")
    second = ok[flagged & ~sso].assign(reason="QC flags")
    rest = ok[~flagged & ~sso]
    n_left = max(max_figures - len(first) - len(second), 0)
    if len(rest) > n_left:
        pick = np.sort(np.random.default_rng(seed).choice(len(rest), size=n_left, replace=False))
        rest = rest.iloc[pick]
    chosen = pd.concat([first, second, rest.assign(reason="sample")])
    return chosen.iloc[:max_figures]


def _title(label: str, sweep) -> str:
    return f"{Path(str(label)).name} — sweep {sweep}"


def _qc_section(chosen: pd.DataFrame, recs, osc, spk, meta: dict, inputs: list) -> tuple[list, dict]:
    """QC figures of the chosen sweeps (each file loaded once) and the anchors linking table rows to them."""
    from matplotlib.figure import Figure

    params = meta.get("params", {})
    loaded: dict = {}
    parts, anchors = [], {}
    for k, (idx, row) in enumerate(chosen.iterrows()):
        label, sweep = str(row["file"]), row["sweep"]
        title = _title(label, sweep)
        if label not in loaded:
            path = locate(label, inputs)
            try:
                loaded[label] = None if path is None else load(path, channel=params.get("channel"),
                                                              units=params.get("units"))
            except (RecordingError, OSError) as err:
                loaded[label] = err
        rec = loaded[label]
        anchor = f"qc-{k}"
        why = {"SSO": "SSO detected", "QC flags": "QC flags", "sample": "random sample of the other sweeps"}
        head = (f'<div class="qc" id="{anchor}"><h3 title="{html.escape(label)}">{html.escape(title)}</h3>'
                f'<div class="why">{why[row["reason"]]}'
                + (f' — <span class="flag">{html.escape(str(row["qc_flags"]))}</span>' if row["reason"] ==
                   "QC flags" else "") + "</div>")
        if rec is None or isinstance(rec, Exception):
            reason = "recording file not found" if rec is None else str(rec)
            parts.append(head + f"<p>no figure: {html.escape(reason)}</p></div>")
            continue
        trace = next((t for t in rec if t.sweep == int(sweep)), None)
        if trace is None:
            parts.append(head + f"<p>no figure: sweep {sweep} not in the file</p></div>")
            continue
        sel = lambda df: df[(df["file"].astype(str) == label) & (df["sweep"] == sweep)]  # noqa: E731
        res = AnalysisResult(sel(recs), sel(osc), sel(spk), params=None)  # tables only
        fig = qc_figure(trace, res, figure=Figure(figsize=(10, 5.2)), title=title)
        parts.append(head + _html.png_img(fig, f"QC {title}") + "</div>")
        anchors[idx] = anchor
    return parts, anchors


def build_report(results_dir, out=None, *, max_recordings: int = 12, by: str = "group", seed: int = 0,
                 include_flagged: bool = False) -> Path:
    """Write ``report.html`` for an analysis folder.

    Parameters
    ----------
    results_dir : path
        Output folder of ``drgephys analyze`` (recordings/oscillations/spikes tables, params.json).
    out : path, optional
        HTML file to write (default ``results_dir/report.html``), atomically.
    max_recordings : int
        Most sweeps given a QC figure: SSO sweeps first, then flagged sweeps, then a random sample of the
        others (`select_qc_sweeps`).
    by : str
        Group column for the comparison section (skipped when absent).
    seed : int
        Seed of the random sample of sweeps without SSO or flags.
    include_flagged : bool
        Keep sweeps with blocking QC flags (`drgephys.qc`) in the comparison (default: left out, and the
        page says how many).

    Returns
    -------
    Path
        The HTML file written.
    """
    d = Path(results_dir)
    if not d.is_dir():
        raise FileNotFoundError(f"`results_dir` must be an existing folder written by drgephys analyze; "
                                f"got {str(d)!r}")
    recs, osc, spk = (read_table(d, n) for n in ("recordings", "oscillations", "spikes"))
    meta = json.loads((d / "params.json").read_text()) if (d / "params.json").is_file() else {}
    inputs = meta.get("inputs", [])
    chosen = select_qc_sweeps(recs, max_recordings, seed=seed)
    parts = [f"<h1>drgephys report</h1><p class='path'>{html.escape(str(d.resolve()))}</p>"]
    ok = recs[recs["status"] == "ok"]
    n_sso = int(_is_true(ok["sso_detected"]).sum()) if "sso_detected" in ok else 0
    n_flag = int(_has_flags(ok["qc_flags"]).sum()) if "qc_flags" in ok else None
    parts.append(f"<h2>Summary</h2><p>{recs['file'].nunique()} files, {len(ok)} sweeps analysed, "
                 f"{int((recs['status'] != 'ok').sum())} refused or failed; {n_sso} sweeps with SSOs, "
                 f"{len(osc)} SSO episodes; {len(spk)} spikes"
                 + (f"; {n_flag} with QC flags" if n_flag is not None else "") + ".</p>")
    blocked = blocked_rows(ok)
    if blocked.any():
        parts.append(f"<p>{html.escape(blocked_summary(ok, blocked))} of group comparisons"
                     + (" — kept, as asked (include_flagged)" if include_flagged else "") + ".</p>")
    qc_parts, anchors = _qc_section(chosen, recs, osc, spk, meta, inputs)
    counts = chosen["reason"].value_counts()
    cols = [c for c in ["file", "sweep", "status", "qc_flags", "resting_vm_mv", "sso_detected", "sso_frequency_hz",
                        "sso_amplitude_mv", "sso_time_fraction", "spike_count", "spike_rate_hz",
                        "firing_pattern", by, "animal"] if c in recs.columns]
    links = {pos: (anchors[idx], "figure") for pos, idx in enumerate(recs.index) if idx in anchors}
    shown, under = _short_labels(recs[cols])
    parts.append("<h2>Recordings</h2><p>Click a column header to sort; <i>figure</i> jumps to the sweep's QC "
                 "figure." + (f" Files under <code>{html.escape(under)}</code>." if under else "")
                 + '</p><div class="table">' + _html.sortable_table(shown, links=links) + "</div>")
    bad = recs[recs["status"] != "ok"]
    if len(bad):
        parts.append("<h2>Refused or failed</h2>" + bad[["file", "status", "message"]].to_html(
            index=False, border=0, classes="refused"))
    parts.append(_comparison_section(d, recs, osc, by, include_flagged))
    note = (f"<p>{len(chosen)} of {len(ok)} analysed sweeps: {counts.get('SSO', 0)} with SSOs"
            + (f" (of {n_sso})" if counts.get("SSO", 0) < n_sso else "")
            + (f", {counts.get('QC flags', 0)} with QC flags" if n_flag is not None else "")
            + f", {counts.get('sample', 0)} drawn at random from the others (seed {seed}). "
            "Raise <code>--max-recordings</code> for more.</p>")
    parts.append("<h2>Quality control</h2>" + note)
    parts.extend(qc_parts)
    page = _html.page("drgephys report", parts)
    target = Path(out) if out is not None else d / "report.html"
    return atomic_text(target, page)


def _short_labels(table: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The table with absolute `file` labels shown relative to their common folder, and that folder ("" when
    the labels are already relative)."""
    labels = table["file"].astype(str)
    if not len(labels) or not all(os.path.isabs(x) for x in labels):
        return table, ""
    root = os.path.commonpath([os.path.dirname(x) for x in labels])
    return table.assign(file=[os.path.relpath(x, root) for x in labels]), root


def _comparison_section(d: Path, recs, osc, by: str, include_flagged: bool = False) -> str:
    cmp_path = d / "comparison.csv"
    table = None
    if cmp_path.is_file():
        table = pd.read_csv(cmp_path)
    elif by in recs.columns and recs[by].nunique() >= 2:
        try:
            with warnings.catch_warnings():     # the left-out sweeps are said in the summary
                warnings.simplefilter("ignore", UserWarning)
                table = compare_groups(recs, osc, by=by, include_flagged=include_flagged)
        except Exception as err:  # the report still renders without the comparison
            return f"<h2>Comparison</h2><p>not computed: {html.escape(str(err))}</p>"
    if table is None:
        return f"<h2>Comparison</h2><p>No `{html.escape(by)}` column: analyse with --groups to compare.</p>"
    out = ["<h2>Comparison</h2>", '<div class="table">' + _html.sortable_table(table, cls="comparison") + "</div>"]
    try:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(10, 3.5), layout="constrained")
        axes = fig.subplots(1, 2)
        plot_frequency_vs_vm(osc, recs, by=by, ax=axes[0])
        plot_prevalence(table, ax=axes[1])
        out.append(_html.png_img(fig, "comparison figures"))
    except Exception as err:
        out.append(f"<p>comparison figures unavailable: {html.escape(str(err))}</p>")
    return "\n".join(out)


__all__ = ["build_report", "locate", "select_qc_sweeps"]
