"""The shipped discharge-pattern model as plain data: the JSON file and the arrays the pipeline evaluates.

`DischargePatternClassifier` (scikit-learn) reads and writes this format; the pipeline evaluates the shipped
model from these arrays directly, so analysing a recording never imports scikit-learn (~1 s of start-up).
"""

from __future__ import annotations

import json
from importlib import resources

import numpy as np

__all__ = ["FORMAT", "VERSION", "DEFAULT_MODEL", "default_model_dict", "default_arrays"]

FORMAT = "drgephys.DischargePatternClassifier"
VERSION = 1
DEFAULT_MODEL = "data/discharge_model.json"

_DICT: dict | None = None
_ARRAYS: dict | None = None


def default_model_dict() -> dict:
    """The parsed JSON of the shipped model (read once per process; do not modify)."""
    global _DICT
    if _DICT is None:
        _DICT = json.loads(resources.files("drgephys").joinpath(DEFAULT_MODEL).read_text(encoding="utf-8"))
    return _DICT


def default_arrays() -> dict:
    """Read-only float64 arrays of the shipped model: ``mean``, ``scale``, ``coef_t`` (coef.T), ``intercept``,
    ``fill`` (training medians), and ``classes`` (list of str). Built as `DischargePatternClassifier.from_dict`
    builds its attributes, so the logits ``((x - mean) / scale) @ coef_t + intercept`` are those of its
    ``predict``."""
    global _ARRAYS
    if _ARRAYS is None:
        d = default_model_dict()
        classes = np.asarray(d["classes"])
        coef = np.asarray(d["coef"], dtype=float).reshape(classes.size if classes.size > 1 else 1, -1)
        arrs = {"mean": np.asarray(d["mean"], dtype=float), "scale": np.asarray(d["scale"], dtype=float),
                "coef_t": coef.T, "intercept": np.asarray(d["intercept"], dtype=float),
                "fill": np.asarray(d["fill_values"], dtype=float)}
        for a in arrs.values():
            a.flags.writeable = False
        arrs["classes"] = [str(c) for c in classes]
        _ARRAYS = arrs
    return _ARRAYS
