"""Spontaneous ectopic spikes: detection and AP features (`detect_spikes`), SSO trigger
(`classify_triggers`), discharge pattern (`discharge_features`, `classify_discharge`,
`DischargePatternClassifier`)."""

from .classifier import DischargePatternClassifier, load_default_model
from .detect import detect_spikes, find_spikes
from .table import COLUMNS, SpikeTable, empty_spikes
from .discharge import MODEL_FEATURES, classify_discharge, discharge_features
from .params import SpikeParams, TriggerParams
from .trigger import TriggerLabels, classify_triggers, label_triggers

__all__ = ["SpikeParams", "TriggerParams", "SpikeTable", "TriggerLabels", "detect_spikes", "find_spikes",
           "label_triggers", "empty_spikes", "COLUMNS", "classify_triggers",
           "discharge_features", "classify_discharge", "DischargePatternClassifier", "load_default_model",
           "MODEL_FEATURES"]
