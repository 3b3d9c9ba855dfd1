"""Comparison figures (Agg backend): what is drawn matches the statistics."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from drgephys.plotting import plot_frequency_vs_vm, plot_prevalence  # noqa: E402
from drgephys.stats import CompareParams, compare_groups  # noqa: E402

from .tables import line_cohort, make_tables  # noqa: E402

FAST = CompareParams(n_boot=300, n_perm=300)


@pytest.fixture()
def tables():
    cells = line_cohort()
    cells[1] = dict(cells[1], sso=False)
    return make_tables(cells, vm_spread_mv=0.5)


def test_frequency_vs_vm_marks_the_matched_potential(tables):
    recs, osc = tables
    cmp = compare_groups(recs, osc, params=FAST)
    vm = cmp.loc[cmp.metric == "sso_frequency_hz_at_matched_vm", "vm_mv"].iloc[0]
    fig, ax = plt.subplots()
    out = plot_frequency_vs_vm(osc, recs, by="group", ax=ax)
    assert out is ax
    assert len(ax.collections) >= 2  # one scatter per group
    fitted = [ln for ln in ax.lines if ln.get_linestyle() == "-"]
    assert len(fitted) == 2
    vlines = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert vlines and vlines[0].get_xdata()[0] == pytest.approx(vm)
    # the control line passes through its true line (60 Hz at −57 mV, 3 Hz/mV)
    x, y = fitted[0].get_xdata(), fitted[0].get_ydata()
    np.testing.assert_allclose(y, 60 + 3 * (np.asarray(x) + 57), atol=1e-6)
    plt.close(fig)


def test_prevalence_from_comparison_and_from_tables(tables):
    recs, osc = tables
    cmp = compare_groups(recs, osc, params=FAST)
    ax = plot_prevalence(cmp)
    heights = [p.get_height() for p in ax.patches]
    r = cmp[cmp.metric == "sso_prevalence"].iloc[0]
    assert heights == pytest.approx([r.value_reference, r.value_group])
    ax2 = plot_prevalence(recs)
    assert [p.get_height() for p in ax2.patches] == pytest.approx([8 / 9, 1.0])
    assert [t.get_text() for t in ax2.get_xticklabels()] == ["control", "injured"]
    plt.close("all")


def test_prevalence_rejects_other_input(tables):
    with pytest.raises(TypeError, match="`data` must be a comparison table or the recordings table"):
        plot_prevalence([1, 2, 3])
    recs, osc = tables
    cmp = compare_groups(recs, osc, params=FAST)
    with pytest.raises(ValueError, match="must have a row for metric 'nope'"):
        plot_prevalence(cmp, metric="nope")
    plt.close("all")


def test_frequency_vs_vm_without_episodes_draws_no_lines():
    recs, osc = make_tables([dict(c, sso=False) for c in line_cohort()])
    ax = plot_frequency_vs_vm(osc, recs)
    assert not ax.lines and ax.get_xlabel() == "episode mean potential (mV)"
    ax = plot_frequency_vs_vm(None, recs)
    assert not ax.lines
    plt.close("all")
