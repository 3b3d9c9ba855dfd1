"""The hard cohort's own tables for ``benchmarks/accuracy.py``.

Recall of SSO episodes by in-episode firing rate (< 5, 5–10, 10–20, ≥ 20 Hz), by the SSO cell's discharge
pattern and by SSO amplitude; false episodes in cells without SSO (firing, noise-only, hum-only, broad-AP,
dying, offset); frequency errors inside firing episodes; SSO-trigger balanced accuracy; spike F1 by case.
Every number comes from `drgephys.sim.score` (:func:`episode_outcomes`, :func:`false_episodes`,
:func:`score`) against the truth written beside each file.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

import _common as C
from drgephys.sim import episode_outcomes, false_episodes, score
from drgephys.sim.score import RATE_BIN_LABELS

#: Column labels of the tools.
C_LABELS = {"drgephys": "drgephys", "bycycle": "bycycle", "neurodsp": "NeuroDSP", "efel": "eFEL"}

#: SSO amplitude bins (truth peak-to-peak, mV) for the recall table.
AMPLITUDE_BINS_MV = ((0.0, 1.0, "< 1 mV"), (1.0, 2.0, "1–2 mV"), (2.0, np.inf, "≥ 2 mV"))
#: Rows of the false-episode table: label and the cases pooled in it.
FALSE_ROWS = (
    ("firing cells without SSO (tonic 5–30 Hz + bursting)", ("tonic_no_sso", "bursting_no_sso")),
    ("— tonic 5–30 Hz", ("tonic_no_sso",)),
    ("— bursting", ("bursting_no_sso",)),
    ("broad humped APs (no SSO)", ("broad_ap",)),
    ("noise-only (pink + white)", ("noise_only",)),
    ("hum-only", ("hum_only",)),
    ("dying (depolarised above −20 mV)", ("dying",)),
    ("offset (baseline near 0 mV)", ("offset",)),
)
PATTERN_ORDER = ("silent", "irregular", "tonic", "bursting")
#: Notes printed under the hard cohort's section.
NOTES = [
    "Hard cohort: episodes are binned by their true in-episode firing rate (truth `firing_rate_hz`: spikes whose "
    "threshold lies inside the episode / its duration). SSO cells fire only inside episodes, every spike launched "
    "from an SSO cycle peak with whole cycles between spikes (`TraceSpec.cycles_per_spike` (1, 4); bursting: "
    "spikes of a burst on consecutive peaks, 20 % of them at a random phase with trigger 'other'). Tonic SSO cells "
    "aim at 5-30 Hz; where the 25 Hz floor of the SSO band would need more than 4 cycles per spike the rate "
    "obtained is lower, and the truth counts what was obtained.",
    "Cells without SSO (firing, broad-AP, noise-only, hum-only, dying, offset) can only produce false episodes; "
    "dying cells depolarise to -15..0 mV and stay there, offset cells sit near 0 mV (SCIENCE.md: flag such "
    "sweeps, never report SSOs from them). The QC row counts cells with a refused sweep or a blocking "
    "qc_flag (baseline_implausible, depolarized).",
    "AHPs are 3-15 mV deep with 10-80 ms recovery, τ (then depth) lowered so that depth x τ x rate <= 10 mV: in "
    "a cell firing at 10-30 Hz little AHP-free trace is left between spikes.",
]


def outcomes(cohort_dir: Path, table: pd.DataFrame, per_file: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per true episode and per cell outcomes of one tool.

    Parameters
    ----------
    per_file : dict
        ``{file path or name: result}`` of the tool.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        Episodes (columns of `drgephys.sim.episode_outcomes` plus ``file`` and ``case``) and cells (``file``,
        ``case``, ``n_detected``, ``n_false``, ``duration_min``).
    """
    by_name = {Path(k).name: v for k, v in per_file.items()}
    eps, cells = [], []
    for f, case in zip(table["file"], table["case"]):
        truth = json.loads((cohort_dir / (f + ".truth.json")).read_text())
        eps.append(episode_outcomes(truth, by_name[f]).assign(file=f, case=case))
        cells.append(dict(false_episodes(truth, by_name[f]), file=f, case=case))
    return pd.concat(eps, ignore_index=True), pd.DataFrame(cells)


def _recall(df: pd.DataFrame) -> str:
    n = len(df)
    return "—" if n == 0 else f"{df['found'].mean():.2f} ({int(df['found'].sum())}/{n})"


def _false(cells: pd.DataFrame) -> str:
    if len(cells) == 0:
        return "—"
    n = int(cells["n_false"].sum())
    per_min = n / cells["duration_min"].sum()
    return f"{n}; {per_min:.2f}/min; {int((cells['n_false'] > 0).sum())}/{len(cells)} cells"


def _flagged(per_name: dict, files) -> str:
    """Files among `files` with a sweep refused (status not ``"ok"``) or carrying a blocking QC flag
    (`drgephys.qc`: ``baseline_implausible``, ``depolarized``), as "k / n" ("—" without a status)."""
    from drgephys.qc import blocked_rows

    status = [per_name[f].get("recordings") for f in files]
    if not files or any(r is None or "status" not in r for r in status):
        return "—"
    return f"{sum(bool((r['status'] != 'ok').any() or blocked_rows(r).any()) for r in status)} / {len(files)}"


def _err(x: pd.Series, q: float) -> float:
    x = np.abs(x.dropna().to_numpy(float))
    return float(np.percentile(x, q)) if x.size else float("nan")


def hard_section(cohort_dir: Path, table: pd.DataFrame, results: dict, tools, sso_tools, spike_tools) -> tuple[str, dict]:
    """Markdown tables of the hard cohort (one column per tool) and the numbers behind them.

    Parameters
    ----------
    results : dict
        ``{tool: {file path: result}}``.
    tools, sso_tools, spike_tools : sequence of str
        Tools run, and those that report SSO episodes / spikes.

    Returns
    -------
    (str, dict)
        The Markdown and ``{tool: {"episodes": [...], "cells": [...]}}`` records.
    """
    sso = [t for t in tools if t in sso_tools]
    out = {t: outcomes(cohort_dir, table, results[t]) for t in sso}
    label = {t: C_LABELS.get(t, t) for t in tools}
    ep0 = out[sso[0]][0] if sso else pd.DataFrame()
    lines = []

    def table_md(title, header, rows):
        lines.extend([f"**{title}**", "", C.markdown_table(header, rows), ""])

    rows = [[b, int((ep0["rate_bin"] == b).sum())] + [_recall(out[t][0][out[t][0]["rate_bin"] == b]) for t in sso]
            for b in RATE_BIN_LABELS]
    rows.append(["all", len(ep0)] + [_recall(out[t][0]) for t in sso])
    table_md("SSO episode recall by in-episode firing rate (spikes inside / episode duration)",
             ["in-episode firing rate", "true episodes"] + [label[t] for t in sso], rows)
    rows = [[p, int((ep0["pattern"] == p).sum())] + [_recall(out[t][0][out[t][0]["pattern"] == p]) for t in sso]
            for p in PATTERN_ORDER]
    table_md("SSO episode recall by the SSO cell's discharge pattern", ["pattern", "true episodes"] +
             [label[t] for t in sso], rows)
    rows = []
    for lo, hi, name in AMPLITUDE_BINS_MV:
        sel = lambda d: d[(d["amplitude_mv"] >= lo) & (d["amplitude_mv"] < hi)]  # noqa: E731
        rows.append([name, len(sel(ep0))] + [_recall(sel(out[t][0])) for t in sso])
    table_md("SSO episode recall by SSO amplitude (true peak-to-peak)", ["amplitude", "true episodes"] +
             [label[t] for t in sso], rows)
    rows = [[name, int(table["case"].isin(cases).sum())] + [_false(out[t][1][out[t][1]["case"].isin(cases)])
                                                            for t in sso] for name, cases in FALSE_ROWS]
    table_md("False SSO episodes in cells without SSO (episodes; per minute of recording; cells with any)",
             ["cells", "n cells"] + [label[t] for t in sso], rows)

    truths = {f: json.loads((cohort_dir / (f + ".truth.json")).read_text()) for f in table["file"]}
    by_name = {t: {Path(k).name: v for k, v in results[t].items()} for t in tools}

    def pooled(tool, files, key):
        return float(score([truths[f] for f in files], [by_name[tool][f] for f in files])[key]) if files else float("nan")

    def spike_f1(tool, files):
        if not files:
            return "—"
        s = score([truths[f] for f in files], [by_name[tool][f] for f in files])
        f1 = "—" if s["spike_f1"] != s["spike_f1"] else f"{s['spike_f1']:.3g}"
        return f"{f1} ({s['n_detected_spikes']} / {s['n_true_spikes']})"

    firing = lambda d: d[d["firing_rate_hz"] > 0]  # noqa: E731
    silent = lambda d: d[d["firing_rate_hz"] == 0]  # noqa: E731
    metric_rows = [
        ("frequency error inside firing episodes, median (Hz)", sso, lambda t: _err(firing(out[t][0])["frequency_error_hz"], 50)),
        ("frequency error inside firing episodes, 90th percentile (Hz)", sso,
         lambda t: _err(firing(out[t][0])["frequency_error_hz"], 90)),
        ("frequency error in episodes without spikes, median (Hz)", sso,
         lambda t: _err(silent(out[t][0])["frequency_error_hz"], 50)),
        ("frequency error in episodes without spikes, 90th percentile (Hz)", sso,
         lambda t: _err(silent(out[t][0])["frequency_error_hz"], 90)),
        ("SSO-trigger balanced accuracy, all cells", ("drgephys",),
         lambda t: pooled(t, list(table["file"]), "trigger_balanced_accuracy")),
        ("SSO-trigger balanced accuracy, SSO cells", ("drgephys",),
         lambda t: pooled(t, list(table.loc[table["sso_cell"], "file"]), "trigger_balanced_accuracy")),
    ]
    for case in ("broad_ap", "sso_tonic", "sso_bursting", "tonic_no_sso", "dying", "offset"):
        files = list(table.loc[table["case"] == case, "file"])
        metric_rows.append((f"spike F1 (±1 ms; detected / true), {case} cells ({len(files)})", spike_tools,
                            lambda t, files=files: spike_f1(t, files)))
    qc_files = list(table.loc[table["case"].isin(["dying", "offset"]), "file"])
    metric_rows.append(("dying / offset cells flagged by QC (refused, or a blocking qc_flag) / cells", ("drgephys",),
                        lambda t: _flagged(by_name[t], qc_files)))
    rows = [[name] + [fn(t) if t in applies else "n/a" for t in tools] for name, applies, fn in metric_rows]
    table_md("Other hard-case metrics", ["metric"] + [label[t] for t in tools], rows)
    records = {t: {"episodes": out[t][0].to_dict(orient="records"), "cells": out[t][1].to_dict(orient="records")}
               for t in sso}
    return "\n".join(lines), records



def describe(table: pd.DataFrame, fmt: str = "abf") -> str:
    """One-line description of the hard cohort."""
    fs = ", ".join(f"{x / 1000:g} kHz: {n}" for x, n in table["fs_hz"].value_counts().sort_index().items())
    cases = ", ".join(f"{c} {n}" for c, n in table["case"].value_counts(sort=False).items())
    return (f"{len(table)} cells ({cases}), {table['duration_s'].iloc[0]:g} s each "
            f"({table['duration_s'].sum() / 60:.1f} min), sampling {fs}; hum on {int(table['hum_hz'].notna().sum())} "
            f"cells; {int(table['sso_cell'].sum())} SSO cells with {int(table['n_episodes'].sum())} episodes; "
            f"{int(table['n_spikes'].sum())} spikes; {fmt.upper()} files")
