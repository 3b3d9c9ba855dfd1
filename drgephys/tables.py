"""The output contract: columns of the three analysis tables and their dtypes.

`recordings` — one row per analysed (or refused) sweep; `oscillations` — one row per SSO episode;
`spikes` — one row per action potential. Columns that cannot be filled are present and empty (NaN / <NA>),
never made up.
"""

from __future__ import annotations

import pandas as pd

KEY_COLUMNS = ["file", "sweep", "channel"]

RECORDINGS_COLUMNS = {
    "file": "string", "sweep": "Int64", "channel": "string", "status": "string", "message": "string",
    "duration_s": "float64", "fs_hz": "float64", "resting_vm_mv": "float64", "sso_detected": "boolean",
    "sso_frequency_hz": "float64", "sso_amplitude_mv": "float64", "sso_time_fraction": "float64",
    "spike_count": "Int64", "spike_rate_hz": "float64", "firing_pattern": "string",
}

OSCILLATIONS_COLUMNS = {
    "file": "string", "sweep": "Int64", "channel": "string", "start_s": "float64", "end_s": "float64",
    "frequency_hz": "float64", "amplitude_mv": "float64", "n_cycles": "float64", "mean_vm_mv": "float64",
}

SPIKES_COLUMNS = {
    "file": "string", "sweep": "Int64", "channel": "string", "peak_s": "float64", "threshold_s": "float64",
    "threshold_mv": "float64", "peak_mv": "float64", "amplitude_mv": "float64", "half_width_ms": "float64",
    "ahp_mv": "float64", "max_dvdt_mv_per_ms": "float64", "trigger": "string", "sso_phase_rad": "float64",
}

STATUS_VALUES = ("ok", "refused", "error")
PATTERN_VALUES = ("silent", "tonic", "bursting", "irregular")


def empty(columns: dict) -> pd.DataFrame:
    """An empty DataFrame with the given columns and dtypes."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})


def conform(df: pd.DataFrame | None, columns: dict) -> pd.DataFrame:
    """Return `df` with the contract columns first (added empty when missing), typed; extra columns kept
    after them (e.g. quality columns, user group columns)."""
    if df is None or len(df.columns) == 0:
        out = empty(columns)
        return out if df is None else pd.concat([out, df], axis=1)
    out = df.copy()
    for c, t in columns.items():
        if c not in out.columns:
            out[c] = pd.Series(None, index=out.index, dtype=t)
        elif str(out[c].dtype) != t:  # convert only what is not already of the contract type
            try:
                out[c] = out[c].astype(t)
            except (TypeError, ValueError):
                pass
    extra = [c for c in out.columns if c not in columns]
    return out[list(columns) + extra]
