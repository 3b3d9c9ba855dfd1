"""Reading recordings (through neo) into plain arrays: `load`, `open_recording`, `Trace`, `Sweep`,
`Recording`, `from_neo`."""

from .build import from_neo
from .load import load, open_recording, recording_extensions
from .sweep import Sweep
from .trace import Recording, Trace

__all__ = ["load", "open_recording", "recording_extensions", "Recording", "Trace", "Sweep", "from_neo"]
