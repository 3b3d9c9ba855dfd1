"""drgephys: subthreshold oscillations and ectopic spikes in current-clamp recordings of DRG neurons."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as _version

from .errors import RecordingError
from .io import Recording, Trace, from_neo, load

try:
    __version__ = _version("drgephys")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"


def analyze(path_or_trace, **params):
    """Analyse a recording (path, `Trace`, `Recording` or neo object); see `drgephys.analysis.analyze`."""
    from .analysis import analyze as _analyze

    return _analyze(path_or_trace, **params)


__all__ = ["RecordingError", "Recording", "Trace", "analyze", "from_neo", "load", "__version__"]
