"""Spontaneous ectopic spikes: detection and AP features (`detect_spikes`), SSO trigger
(`classify_triggers`), discharge pattern (`discharge_features`, `classify_discharge`,
`DischargePatternClassifier`)."""

from .detect import detect_spikes, find_spikes
from .table import COLUMNS, SpikeTable, empty_spikes
from .discharge import MODEL_FEATURES, classify_discharge, discharge_features
from .params import SpikeParams, TriggerParams
from .trigger import TriggerLabels, classify_triggers, label_triggers

__all__ = ["SpikeParams", "TriggerParams", "SpikeTable", "TriggerLabels", "detect_spikes", "find_spikes",
           "label_triggers", "empty_spikes", "COLUMNS", "classify_triggers",
           "discharge_features", "classify_discharge", "DischargePatternClassifier", "load_default_model",
           "MODEL_FEATURES"]

#: Names resolved on first use (PEP 562): the classifier module imports scikit-learn (~1 s), which analysing
#: a recording never needs (the shipped model is evaluated from its arrays, `model_file.default_arrays`).
_LAZY = {"DischargePatternClassifier", "load_default_model"}


def __getattr__(name):
    if name in _LAZY:
        from . import classifier

        return getattr(classifier, name)
    raise AttributeError(f"module 'drgephys.spikes' has no attribute {name!r}")
