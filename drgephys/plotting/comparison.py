"""Group-comparison figures: frequency against membrane potential, and SSO prevalence per group.

Every function takes ``ax=None`` (a new figure is made) and returns the matplotlib Axes; nothing is shown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..stats.cells import ok_sweeps
from ..stats.summary import frequency_vm_fits, summarize_groups

#: Colours cycled over groups (reference first).
GROUP_COLORS = ("#264653", "#e76f51", "#2a9d8f", "#e9c46a", "#8d5a97", "#6c757d")


def _ax(ax, size=(5.0, 3.6)):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=size)
    return ax


def _order(groups, reference=None):
    groups = sorted(str(g) for g in groups)
    ref = str(reference) if reference is not None else ("control" if "control" in groups else groups[0])
    return [ref] + [g for g in groups if g != ref] if ref in groups else groups


def plot_frequency_vs_vm(oscillations: pd.DataFrame, recordings: pd.DataFrame, *, by: str = "group",
                         reference=None, matched_vm_mv: float | None = None, ax=None):
    """SSO episodes (frequency vs mean potential) by group, per-group fitted lines, matched potential.

    Parameters
    ----------
    oscillations, recordings : DataFrame
        Tables of ``drgephys analyze`` (episodes are joined to groups on ``file``; ok sweeps only).
    by : str
        Group column of ``recordings``.
    reference : optional
        Group drawn first (default ``"control"`` if present).
    matched_vm_mv : float, optional
        Potential (mV) to mark; default the middle of the overlap of the groups' episode potentials.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """

    ax = _ax(ax)
    fits = frequency_vm_fits(recordings, oscillations, by=by)
    ok = ok_sweeps(recordings)
    grp = ok.drop_duplicates("file").set_index(ok.drop_duplicates("file")["file"].astype(str))[by]
    osc = oscillations if oscillations is not None else pd.DataFrame(columns=["file", "mean_vm_mv",
                                                                              "frequency_hz"])
    epi_group = osc["file"].astype(str).map(grp).astype("string")
    order = _order(fits["group"], reference)
    for i, g in enumerate(order):
        color = GROUP_COLORS[i % len(GROUP_COLORS)]
        e = osc[(epi_group == g).fillna(False).to_numpy()]
        ax.scatter(e["mean_vm_mv"], e["frequency_hz"], s=12, alpha=0.5, color=color,
                   label=f"{g} ({int(fits.set_index('group').loc[g, 'n_cells'])} cells)")
        f = fits.set_index("group").loc[g]
        if np.isfinite(f["slope_hz_per_mv"]):
            x = np.array([f["vm_min_mv"], f["vm_max_mv"]])
            ax.plot(x, f["frequency_at_mean_hz"] + f["slope_hz_per_mv"] * (x - f["vm_mean_mv"]), color=color,
                    lw=2)
    valid = fits.dropna(subset=["vm_min_mv"])
    lo, hi = valid["vm_min_mv"].max(), valid["vm_max_mv"].min()
    if len(valid) >= 2 and lo <= hi:
        vm = matched_vm_mv if matched_vm_mv is not None else 0.5 * (lo + hi)
        ax.axvspan(lo, hi, color="0.9", zorder=0, label="overlap of potentials")
        ax.axvline(vm, color="0.3", ls="--", lw=1, label=f"matched {vm:.1f} mV")
    ax.set_xlabel("episode mean potential (mV)")
    ax.set_ylabel("SSO frequency (Hz)")
    ax.set_title("SSO frequency vs membrane potential")
    ax.legend(fontsize=7, frameon=False)
    return ax


def plot_prevalence(data, ax=None, *, by: str = "group", cluster: str | None = "animal",
                    metric: str = "sso_prevalence"):
    """Share of cells with SSOs per group with intervals.

    Parameters
    ----------
    data : DataFrame or (recordings, oscillations)
        Either the comparison table of :func:`drgephys.stats.compare_groups` (bars are the groups' values;
        error bars on non-reference groups are the reference value plus the CI of the difference, with the
        permutation p-value) or the ``recordings`` table (alone or in a tuple), whose per-group values get
        their own hierarchical-bootstrap CIs (:func:`drgephys.stats.summarize_groups`).
    ax : matplotlib Axes, optional
    by, cluster : str
        Group and animal columns when ``data`` are tables.
    metric : str
        Metric to draw (default ``"sso_prevalence"``).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _ax(ax, (4.0, 3.6))
    if isinstance(data, tuple):
        data = data[0]
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"`data` must be a comparison table or the recordings table; got {type(data).__name__}")
    if {"metric", "value_group", "value_reference"} <= set(data.columns):
        d = data[data["metric"] == metric]
        if d.empty:
            raise ValueError(f"`data` (a comparison table) must have a row for metric {metric!r}; got metrics "
                             f"{sorted(data['metric'].unique())}")
        ref = str(d["reference"].iloc[0])
        names = [ref] + [str(g) for g in d["group"]]
        values = [float(d["value_reference"].iloc[0])] + list(d["value_group"].astype(float))
        lo = [np.nan] + list(d["value_reference"].astype(float) + d["ci_low"].astype(float))
        hi = [np.nan] + list(d["value_reference"].astype(float) + d["ci_high"].astype(float))
        notes = [""] + [f"p = {pv:.3g}" if np.isfinite(pv) else "" for pv in d["p_value"].astype(float)]
        cap = "error bars: reference + CI of the difference"
    else:

        s = summarize_groups(data, by=by, cluster=cluster, metrics=(metric,))
        s = s.set_index("group").loc[_order(s["group"])].reset_index()
        names, values = list(s["group"]), list(s["value"])
        lo, hi, notes = list(s["ci_low"]), list(s["ci_high"]), [f"n={n}" for n in s["n_cells"]]
        cap = "error bars: hierarchical bootstrap CI"
    x = np.arange(len(names))
    ax.bar(x, values, color=[GROUP_COLORS[i % len(GROUP_COLORS)] for i in range(len(names))], alpha=0.8)
    for i in range(len(names)):
        if np.isfinite(lo[i]) and np.isfinite(hi[i]):
            ax.errorbar(x[i], values[i], yerr=[[max(values[i] - lo[i], 0)], [max(hi[i] - values[i], 0)]],
                        color="k", capsize=4)
        if notes[i]:
            ax.annotate(notes[i], (x[i], 0), xytext=(0, 3), textcoords="offset points", ha="center", fontsize=7,
                        color="w")
    ax.set_xticks(x, names)
    ax.set_ylabel("share of cells with SSOs" if metric == "sso_prevalence" else metric)
    if metric.startswith(("sso_prevalence", "pattern_share")):
        ax.set_ylim(0, 1)
    ax.set_title(cap, fontsize=8)
    return ax
