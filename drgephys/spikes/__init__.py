"""Spontaneous ectopic spikes: detection and AP features, SSO trigger, discharge pattern."""

from .detect import COLUMNS, detect_spikes, empty_spikes
from .params import SpikeParams, TriggerParams

__all__ = ["SpikeParams", "TriggerParams", "detect_spikes", "empty_spikes", "COLUMNS"]
