"""Reading recordings (through neo) into plain arrays: `load`, `Trace`, `Recording`, `from_neo`."""

from .load import load, recording_extensions
from .trace import Recording, Trace, from_neo

__all__ = ["load", "recording_extensions", "Recording", "Trace", "from_neo"]
