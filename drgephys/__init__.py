"""drgephys: subthreshold oscillations and ectopic spikes in current-clamp recordings of DRG neurons."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as _version

from .errors import RecordingError

try:
    __version__ = _version("drgephys")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["RecordingError", "__version__"]
