"""Injury comparison statistics: do injured DRG neurons oscillate more often, and at what frequency?

Cells (files) are aggregated from the sweep table, groups are compared metric by metric (prevalence,
time fraction, raw and potential-matched SSO frequency, amplitude, spike rate, resting potential, discharge
pattern shares) with hierarchical-bootstrap intervals (animals, then cells) and animal-level permutation
p-values, because cells from one animal are not independent.
"""

from .cells import CELL_METRICS, cell_table
from .compare import COMPARISON_COLUMNS, METRICS, compare_groups, compare_results_dir
from .params import CompareParams
from .summary import SUMMARY_COLUMNS, frequency_vm_fits, summarize_groups

__all__ = ["CELL_METRICS", "COMPARISON_COLUMNS", "METRICS", "CompareParams", "cell_table", "compare_groups",
           "compare_results_dir", "SUMMARY_COLUMNS", "frequency_vm_fits",
           "summarize_groups"]
