"""Spontaneous ectopic spikes: detection and AP features (`detect_spikes`), SSO trigger
(`classify_triggers`), discharge pattern (`discharge_features`, `classify_discharge`,
`DischargePatternClassifier`)."""

from .params import RemovalSettings, SpikeParams, TriggerParams
from .table import COLUMNS, SpikeTable, empty_spikes

__all__ = ["SpikeParams", "TriggerParams", "RemovalSettings", "SpikeTable", "TriggerLabels", "detect_spikes",
           "find_spikes", "label_triggers", "empty_spikes", "COLUMNS", "classify_triggers",
           "discharge_features", "classify_discharge", "DischargePatternClassifier", "load_default_model",
           "MODEL_FEATURES"]

#: Names resolved on first use (PEP 562), by the module that defines them: the detectors import SciPy (0.3 s
#: with neo's share, which a Dask client process that only submits files never needs), and the classifier
#: imports scikit-learn (~1 s), which analysing a recording never needs (the shipped model is evaluated from
#: its arrays, `model_file.default_arrays`).
_LAZY = {"detect_spikes": "detect", "find_spikes": "detect", "MODEL_FEATURES": "discharge",
         "classify_discharge": "discharge", "discharge_features": "discharge", "TriggerLabels": "trigger",
         "classify_triggers": "trigger", "label_triggers": "trigger",
         "DischargePatternClassifier": "classifier", "load_default_model": "classifier"}


def __getattr__(name):
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'drgephys.spikes' has no attribute {name!r}")
    if where == "detect":
        from . import detect as module
    elif where == "discharge":
        from . import discharge as module
    elif where == "trigger":
        from . import trigger as module
    else:
        from . import classifier as module
    return getattr(module, name)


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
