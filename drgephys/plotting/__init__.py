"""Figures: quality control (:mod:`drgephys.plotting.qc`) and group comparison
(:mod:`drgephys.plotting.comparison`). matplotlib is imported only when a figure is drawn."""

from __future__ import annotations

_LAZY = {"plot_frequency_vs_vm": "comparison", "plot_prevalence": "comparison"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["plot_frequency_vs_vm", "plot_prevalence"]
