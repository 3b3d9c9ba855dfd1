"""Spontaneous ectopic spikes: detection and AP features (`detect_spikes`), SSO trigger
(`classify_triggers`), discharge pattern (`discharge_features`, `classify_discharge`,
`DischargePatternClassifier`)."""

from .classifier import DischargePatternClassifier, load_default_model
from .detect import COLUMNS, detect_spikes, empty_spikes
from .discharge import MODEL_FEATURES, classify_discharge, discharge_features
from .params import SpikeParams, TriggerParams
from .trigger import classify_triggers

__all__ = ["SpikeParams", "TriggerParams", "detect_spikes", "empty_spikes", "COLUMNS", "classify_triggers",
           "discharge_features", "classify_discharge", "DischargePatternClassifier", "load_default_model",
           "MODEL_FEATURES"]
