"""`Working`: the working-rate trace an SSO episode is measured on (the output of the detector's steps 1-5)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tfr import Levels

__all__ = ["Working"]


@dataclass(frozen=True)
class Working:
    """The working-rate arrays an episode is measured on (what step 6 of the detector reads).

    Attributes
    ----------
    r : ndarray, shape (m,)
        Drift- and hum-free trace, mV.
    y : ndarray, shape (m,)
        Decimated trace before drift removal (spikes bridged), mV, for ``mean_vm_mv``.
    valid : ndarray of bool, shape (m,)
        False on blanked samples (spikes, artifacts).
    fs : float
        Working rate, Hz.
    levels : Levels
        Wavelet frequencies, background power and BOSC threshold.
    """

    r: np.ndarray
    y: np.ndarray
    valid: np.ndarray
    fs: float
    levels: Levels

    def bg_at(self, f: float) -> float:
        """Background mean wavelet power (mV^2) at ``f`` Hz."""
        return self.levels.background_at(f)

#: Relative margin of the amplitude bounds in `screen_episode` (the cycle means and the percentile's
#: interpolation round within a few ulps of the envelope's range; anything closer is measured in full).
BOUND_RTOL = 1e-6
