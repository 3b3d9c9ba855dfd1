"""Named :class:`~drgephys.sim.TraceSpec` presets for the cases real labs meet (and detectors get wrong).

>>> from drgephys.sim import preset, simulate_trace
>>> tr = simulate_trace(preset("sso_tonic", rate_hz=25), seed=1)  # doctest: +SKIP

Each preset is a small dict of :class:`TraceSpec` fields (``PRESETS``); anything can be overridden.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

from drgephys.sim.spec import TraceSpec

_SSO = dict(sso=True, sso_ref_vm_mv=None, sso_frequency_hz=45.0, sso_time_fraction=0.5, episode_duration_s=(1.0, 3.0),
            spike_location="episodes", cycles_per_spike=(1, 4))

#: Presets, name → TraceSpec fields. SSO presets: 45 Hz at each episode's own potential (Kovalsky et al. 2009),
#: half the trace in 1–3 s episodes.
PRESETS = MappingProxyType({
    # SSO-driven tonic firing at 20 Hz: a spike every 2-3 cycles of a 45 Hz SSO (Amir et al. 1999)
    "sso_tonic": MappingProxyType(dict(_SSO, pattern="tonic", rate_hz=20.0, ahp_mv=8.0, ahp_tau_ms=20.0)),
    # SSO-driven bursting: bursts of 2-5 spikes on consecutive cycle peaks, ~10 Hz within episodes
    "sso_bursting": MappingProxyType(dict(_SSO, pattern="bursting", rate_hz=10.0, burst_size=(2, 5), ahp_mv=8.0,
                                          ahp_tau_ms=20.0)),
    # negatives: regular firing without SSO (AHP remnants put spectral lines at multiples of the rate)
    "tonic_no_sso": MappingProxyType(dict(pattern="tonic", rate_hz=20.0, ahp_mv=8.0, ahp_tau_ms=20.0)),
    "bursting_no_sso": MappingProxyType(dict(pattern="bursting", rate_hz=4.0, burst_size=(2, 5),
                                             intra_burst_isi_ms=15.0, ahp_mv=8.0, ahp_tau_ms=30.0)),
    # filtered noise makes spectral peaks (Dodson et al. 2011): pink + white noise, nothing else
    "noise_only": MappingProxyType(dict(pink_noise_mv=0.5, white_noise_mv=0.2)),
    "hum_only": MappingProxyType(dict(hum_hz=50, hum_amplitude_mv=0.5)),
    # C-type nociceptor: broad humped AP, half-width 8 ms, shoulder 70 % of the way from threshold to peak
    "broad_ap": MappingProxyType(dict(pattern="irregular", rate_hz=2.0, resting_vm_mv=-55.0, spike_threshold_mv=-30.0,
                                      spike_peak_mv=45.0, spike_half_width_ms=8.0, spike_shoulder_fraction=0.7,
                                      ahp_mv=8.0, ahp_tau_ms=60.0)),
    # a dying cell: fires, then depolarises to -10 mV from 2 s on and stays there (depolarization block)
    "dying": MappingProxyType(dict(pattern="irregular", rate_hz=3.0, dying_vm_mv=-10.0, dying_onset_s=2.0,
                                   dying_tau_s=1.5)),
    # an offset recording: a -60 mV cell recorded with +60 mV offset (baseline near 0 mV, peaks near +100 mV)
    "offset": MappingProxyType(dict(pattern="irregular", rate_hz=2.0, offset_mv=60.0, spike_peak_mv=40.0)),
})


def preset(name: str, base: TraceSpec | None = None, **overrides) -> TraceSpec:
    """The :class:`TraceSpec` of preset ``name`` (``PRESETS``), on ``base`` (default ``TraceSpec()``).

    Parameters
    ----------
    name : str
        One of ``PRESETS``: ``sso_tonic``, ``sso_bursting``, ``tonic_no_sso``, ``bursting_no_sso``,
        ``noise_only``, ``hum_only``, ``broad_ap``, ``dying``, ``offset``.
    base : TraceSpec, optional
        Spec whose other fields are kept (e.g. duration and sampling rate).
    **overrides
        TraceSpec fields applied after the preset's.

    Returns
    -------
    TraceSpec
    """
    if name not in PRESETS:
        raise ValueError(f"`name` must be one of {', '.join(PRESETS)}; got {name!r}")
    base = TraceSpec() if base is None else base
    if not isinstance(base, TraceSpec):
        raise TypeError(f"`base` must be a drgephys.sim.TraceSpec; got {type(base).__name__}")
    return dataclasses.replace(base, **{**PRESETS[name], **overrides})
