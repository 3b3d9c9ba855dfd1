"""Ground-truth simulator of DRG current-clamp recordings (the test bed of every accuracy claim).

Public API: :func:`spike_train` (discharge patterns).
"""

from drgephys.sim.spiketrain import PATTERNS, spike_train

__all__ = ["PATTERNS", "spike_train"]
