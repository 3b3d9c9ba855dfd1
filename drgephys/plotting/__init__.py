"""Figures: quality control (:mod:`drgephys.plotting.qc`), group comparison
(:mod:`drgephys.plotting.comparison`) and the interactive sweep viewer (:func:`browse`, needs
``pip install "drgephys[viewer]"``). matplotlib and plotly are imported only when used."""

from __future__ import annotations

_LAZY = {"plot_frequency_vs_vm": "comparison", "plot_prevalence": "comparison", "browse": "viewer",
         "qc_figure": "qc", "plot_trace": "qc", "plot_spectrogram": "qc", "plot_isi_histogram": "qc"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_LAZY)
