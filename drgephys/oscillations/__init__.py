"""Subthreshold membrane-potential oscillations (SSOs): detection and per-sweep summary.

Public API
----------
OscillationParams
    Frozen dataclass of detector settings (literature-backed defaults).
detect_oscillations(v, fs, *, spikes=None, params=OscillationParams()) -> DataFrame
    One row per SSO episode.
explain_oscillations(v, fs, ...) -> dict
    The same run with every intermediate step kept (for teaching and QC).
summarize_oscillations(episodes, duration_s) -> dict
    ``sso_detected``, ``sso_frequency_hz``, ``sso_amplitude_mv``, ``sso_time_fraction``.
find_episodes(v, fs, threshold_index, end_index, params) -> EpisodeTable
    The oscillation stage of the pipeline (validated arrays in, named result out).
METHODS
    The registered detection methods (`OscillationParams.method` picks one; see `.methods`).
"""

from .episodes import EpisodeTable
from .params import OscillationParams

__all__ = ["OscillationParams", "EpisodeTable", "METHODS", "detect_oscillations", "explain_oscillations",
           "find_episodes", "summarize_oscillations", "effective_band"]

#: Names resolved on first use (PEP 562): the detector imports SciPy, which the parameters (and a Dask client
#: process that only submits files) never need.
_LAZY = {"detect_oscillations", "effective_band", "explain_oscillations", "find_episodes", "summarize_oscillations",
         "METHODS"}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'drgephys.oscillations' has no attribute {name!r}")
    if name == "METHODS":
        from . import methods as module
    else:
        from . import detect as module
    return getattr(module, name)


def __dir__():
    return sorted(set(globals()) | _LAZY)
