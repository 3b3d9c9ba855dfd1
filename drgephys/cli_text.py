"""The words of the ``drgephys`` command line: its description, exit codes and the examples epilog of
every subcommand (`drgephys.cli` builds the parser around them)."""

from __future__ import annotations

__all__ = ["DESCRIPTION", "EXIT_CODES", "EPILOGS"]

DESCRIPTION = ("Find subthreshold membrane-potential oscillations (SSOs) and spontaneous spikes in\n"
               "current-clamp recordings of dorsal root ganglion (DRG) neurons, and compare groups of cells.")
EXIT_CODES = ("exit status: 0 every recording analysed, 1 some refused or failed (or no recordings found), "
              "2 usage error")
EPILOGS = {
    None: """a session:
  drgephys analyze DATA_DIR --out results --groups DATA_DIR/groups.csv
  drgephys compare results            # results/comparison.csv
  drgephys report results             # results/report.html

`drgephys COMMAND --help` describes a command's options.""",
    "analyze": """examples:
  drgephys analyze sample_data --out results
  drgephys analyze data --out results --groups data/groups.csv --jobs 4
  drgephys analyze cell.abf --out results --channel 1 --units mV
  drgephys analyze opto.abf --out results --stimulus 5:10     # light on 5-10 s into every sweep

Folders are searched recursively; files that are not recordings (notes, tables, ground truth) are skipped
and listed in the summary and analysis.log. An interrupted run resumes where it stopped. Every sweep row
has qc_flags (codes of drgephys.qc.QC_FLAGS); spikes inside stimulus windows (the file's command, or
--stimulus) are evoked and left out of the spontaneous pattern and rate.""",
    "compare": """examples:
  drgephys compare results
  drgephys compare results --by genotype --reference wt
  drgephys compare results --matched-vm -50 --seed 1 --out results/cmp.csv
  drgephys compare results --include-flagged      # keep depolarized / implausible-baseline sweeps""",
    "report": """examples:
  drgephys report results
  drgephys report results --max-recordings 40 --out cells.html""",
    "simulate": """examples:
  drgephys simulate --out cohort
  drgephys simulate --out cohort --animals 4 --cells 5 --duration 60 --format nwb
  drgephys simulate --out cohort && drgephys analyze cohort --out results --groups cohort/groups.csv""",
}
#: Library parameter names a subcommand passes on, and the flag that sets each: errors name the flag.
