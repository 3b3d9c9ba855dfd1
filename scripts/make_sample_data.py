"""Generate the sample recordings in ``sample_data/`` with fixed seeds (drgephys.sim ground truth).

Run from the repository root::

    python scripts/make_sample_data.py            # writes sample_data/
    python scripts/make_sample_data.py OUT_DIR    # writes elsewhere

Every recording gets ``<file>.truth.json`` beside it; ``groups.csv`` (file, group, animal) and ``README.md``
describe the set. The same drgephys version and seeds reproduce the files exactly.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from drgephys.sim import TraceSpec, simulate_trace, write_abf, write_nwb
from drgephys._atomic import atomic_text

SEED = 20260101

#: (file, group, animal, description, TraceSpec)
RECORDINGS = [
    ("control_silent_hum50.abf", "control", "rat01",
     "control cell at -62 mV, no SSO, silent, with 50 Hz mains hum (0.3 mV)",
     TraceSpec(duration_s=30, fs_hz=20_000, resting_vm_mv=-62, hum_hz=50, hum_amplitude_mv=0.3)),
    ("injured_sso_bursting.abf", "injured", "rat02",
     "injured cell at -56 mV with SSO episodes (~45 Hz at -57 mV, 3 Hz/mV) and SSO-driven bursting "
     "(spikes launched from SSO peaks inside episodes)",
     TraceSpec(duration_s=30, fs_hz=20_000, resting_vm_mv=-56, sso=True, sso_time_fraction=0.4,
               episode_duration_s=(0.8, 3.0), pattern="bursting", rate_hz=1.5, spike_location="episodes")),
    ("injured_tonic.abf", "injured", "rat02",
     "injured cell at -52 mV firing tonically at ~5 Hz, no SSO",
     TraceSpec(duration_s=20, fs_hz=10_000, resting_vm_mv=-52, pattern="tonic", rate_hz=5.0,
               spike_half_width_ms=1.5, ahp_mv=6.0, ahp_tau_ms=60.0)),
    ("injured_irregular_hum60.nwb", "injured", "rat03",
     "injured cell at -55 mV firing irregularly (Poisson-like, ~3 Hz) with brief SSO episodes and 60 Hz hum "
     "(NWB CurrentClampSeries)",
     TraceSpec(duration_s=20, fs_hz=10_000, resting_vm_mv=-55, pattern="irregular", rate_hz=3.0, sso=True,
               sso_time_fraction=0.15, hum_hz=60, hum_amplitude_mv=0.2)),
]


def main(out_dir: str | Path = "sample_data") -> pd.DataFrame:
    """Write the sample recordings, their truth JSON, ``groups.csv`` and ``README.md``; return the groups table."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for k, (name, group, animal, desc, spec) in enumerate(RECORDINGS):
        tr = simulate_trace(spec, seed=SEED + k)
        truth = dict(tr.truth, file=name, group=group, animal=animal, description=desc, seed=SEED + k)
        (write_nwb if name.endswith(".nwb") else write_abf)(out / name, tr.v, tr.fs, truth=truth)
        rows.append({"file": name, "group": group, "animal": animal, "description": desc, "seed": SEED + k,
                     "n_episodes": len(tr.truth["episodes"]), "n_spikes": len(tr.truth["spikes"]),
                     "fs_hz": tr.fs, "duration_s": tr.truth["duration_s"]})
    table = pd.DataFrame(rows)
    atomic_text(out / "groups.csv", table[["file", "group", "animal"]].to_csv(index=False))
    atomic_text(out / "README.md", _readme(table))
    return table


def _readme(table: pd.DataFrame) -> str:
    lines = [
        "# Sample recordings (simulated, with exact ground truth)",
        "",
        "Made by `python scripts/make_sample_data.py` (fixed seeds; `drgephys.sim.simulate_trace`). Each file",
        "has `<file>.truth.json` beside it: episodes (`start_s`, `end_s` at the envelope's half maximum,",
        "`frequency_hz`, `amplitude_mv` = 90th percentile of cycle peak-to-peak, `mean_vm_mv`), spikes",
        "(`peak_s`, `threshold_s`, `trigger`), discharge `pattern`, `hum_hz` and the generating `spec`.",
        "`groups.csv` maps files to groups and animals for `drgephys` group comparisons.",
        "Score an analysis against the truth with `drgephys.sim.score_cohort(\"sample_data\", drgephys.analyze)`.",
        "",
        "| file | group | animal | fs (Hz) | duration (s) | SSO episodes | spikes | what it is |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        lines.append(f"| `{r.file}` | {r.group} | {r.animal} | {r.fs_hz:g} | {r.duration_s:g} | {r.n_episodes} | "
                     f"{r.n_spikes} | {r.description} |")
    lines += ["", "ABF files are ABF1 (int16, scale fitted to the data: < 0.005 mV per step); the NWB file stores",
              "float32 in a CurrentClampSeries. Re-running the script reproduces the ABF and JSON files byte for",
              "byte; the NWB file's data are identical but pynwb stamps it with its own creation date.",
              "These are simulations, not recordings of real neurons.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "sample_data").to_string(index=False))
