"""Hand-made analyze-like tables for known-answer tests of drgephys.stats."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_tables(cells, *, episodes_per_cell: int = 3, vm_spread_mv: float = 0.0):
    """``(recordings, oscillations)`` from a list of dicts, one per cell.

    Each dict: ``group``, ``animal``, optional ``sso`` (bool, default False), ``freq`` (Hz), ``vm`` (episode
    potential, mV), ``rest`` (mV, default −60), ``rate`` (Hz, default 0), ``pattern`` (default silent),
    ``tf`` (SSO time fraction, default 0.2), ``amp`` (mV, default 1), ``slope`` (Hz/mV along which the
    episodes of the cell spread, default 0). One 10-s ok sweep per cell; SSO cells get
    ``episodes_per_cell`` episodes at potentials ``vm + linspace(-vm_spread_mv, vm_spread_mv)`` and
    frequencies ``freq + slope·(v − vm)``.
    """
    recs, eps = [], []
    for i, c in enumerate(cells):
        f = c.get("file", f"{c['group']}_{c['animal']}_c{i:02d}.abf")
        sso = bool(c.get("sso", False))
        tf = c.get("tf", 0.2) if sso else 0.0
        recs.append(dict(file=f, sweep=0, channel="0", status=c.get("status", "ok"), message="", duration_s=10.0,
                         fs_hz=20000.0, resting_vm_mv=c.get("rest", -60.0), sso_detected=sso,
                         sso_frequency_hz=c.get("freq", np.nan) if sso else np.nan,
                         sso_amplitude_mv=c.get("amp", 1.0) if sso else np.nan, sso_time_fraction=tf,
                         spike_count=int(round(c.get("rate", 0.0) * 10)), spike_rate_hz=c.get("rate", 0.0),
                         firing_pattern=c.get("pattern", "silent"), group=c["group"], animal=c["animal"]))
        if sso:
            n = c.get("n_episodes", episodes_per_cell)
            v = c["vm"] + np.linspace(-vm_spread_mv, vm_spread_mv, n) if n > 1 else np.array([c["vm"]])
            for k, vk in enumerate(v):
                eps.append(dict(file=f, sweep=0, channel="0", start_s=k * 1.0, end_s=k * 1.0 + 0.5,
                                frequency_hz=c["freq"] + c.get("slope", 0.0) * (vk - c["vm"]),
                                amplitude_mv=c.get("amp", 1.0), n_cycles=10.0, mean_vm_mv=vk))
    osc = pd.DataFrame(eps, columns=["file", "sweep", "channel", "start_s", "end_s", "frequency_hz",
                                     "amplitude_mv", "n_cycles", "mean_vm_mv"])
    return pd.DataFrame(recs), osc


def line_cohort(*, n_animals: int = 3, cells_per_animal: int = 3, control_vm=(-65.0, -55.0),
                injured_vm=(-58.0, -48.0), f_control_at_ref: float = 60.0, f_injured_at_ref: float = 45.0,
                slope: float = 3.0, ref_vm: float = -57.0):
    """Noise-free cohort: every SSO cell sits exactly on its group's line ``f = f_ref + slope·(vm − ref_vm)``,
    potentials evenly spread over each group's range (injured depolarized)."""
    cells = []
    for g, (lo, hi), f0 in (("control", control_vm, f_control_at_ref), ("injured", injured_vm, f_injured_at_ref)):
        vms = np.linspace(lo, hi, n_animals * cells_per_animal)
        for j, vm in enumerate(vms):
            cells.append(dict(group=g, animal=f"{g[0]}{j // cells_per_animal}", sso=True, vm=float(vm),
                              freq=f0 + slope * (vm - ref_vm), rest=float(vm) - 2, slope=slope))
    return cells
