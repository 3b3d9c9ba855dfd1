"""`AnalysisResult`: the tables of an analysis and the parameters that produced them.

Inside, a file's tables stay column arrays (`drgephys.tables.Parts`) until read: an `AnalysisResult` builds a
DataFrame on first access, and a batch combines every file's parts into one frame per table.
"""

from __future__ import annotations

import numpy as np

from . import tables
from ._lazy import pd

__all__ = ["AnalysisResult", "status_row", "assemble"]


class AnalysisResult:
    """The tables of an analysis plus the parameters that produced them.

    Attributes
    ----------
    recordings : DataFrame
        One row per sweep (columns in `drgephys.tables.RECORDINGS_COLUMNS`).
    oscillations : DataFrame
        One row per SSO episode.
    spikes : DataFrame
        One row per action potential.
    rejected : DataFrame
        One row per spike candidate rejected by a shape rule (``reason_code``: the rule).
    params : AnalysisParams
    """

    def __init__(self, recordings, oscillations, spikes, params, rejected=None):
        # each table is a DataFrame, or `tables.Parts` built into one on first access (a batch combines
        # the parts of all its files into one frame per table instead)
        self._raw = {"recordings": recordings, "oscillations": oscillations, "spikes": spikes,
                     "rejected": rejected if rejected is not None else tables.Parts(tables.REJECTED_COLUMNS, [])}
        self.params = params

    def _table(self, name: str) -> pd.DataFrame:
        t = self._raw[name]
        if isinstance(t, tables.Parts):
            t = self._raw[name] = t.frame()
        return t

    def unbuilt(self) -> dict:
        """Every table as it is held: `drgephys.tables.Parts` when not built yet (no DataFrame is built), else
        the DataFrame; keyed by table name."""
        return dict(self._raw)

    def n_rows(self, name: str) -> int:
        """Rows of the table `name` (``"recordings"``, ``"oscillations"`` or ``"spikes"``) without building
        it."""
        return len(self._raw[name])

    def column(self, name: str, column: str) -> np.ndarray:
        """The values of one column of the table `name`, without building the table when it is not built
        yet."""
        t = self._raw[name]
        return t.values(column) if isinstance(t, tables.Parts) else t[column].to_numpy()

    @classmethod
    def concat(cls, results: list, params) -> "AnalysisResult":
        """One result holding the rows of `results` in order: each table one `drgephys.tables.Parts` of every
        result's parts (built into a DataFrame once, on first access: a batch pays pandas' constructor three
        times, not three times per file, and never when its tables are only written as CSV), or one frame
        when some result holds a frame."""
        built = {name: tables.combine([r._raw[name] for r in results], columns, build=False)
                 for name, columns in tables.TABLES.items()}
        return cls(built["recordings"], built["oscillations"], built["spikes"], params, built["rejected"])

    recordings = property(lambda self: self._table("recordings"),
                          lambda self, df: self._raw.__setitem__("recordings", df))
    oscillations = property(lambda self: self._table("oscillations"),
                            lambda self, df: self._raw.__setitem__("oscillations", df))
    spikes = property(lambda self: self._table("spikes"),
                      lambda self, df: self._raw.__setitem__("spikes", df))
    rejected = property(lambda self: self._table("rejected"),
                        lambda self, df: self._raw.__setitem__("rejected", df))

    def __repr__(self) -> str:
        n_ok = int((self.recordings["status"] == "ok").sum()) if len(self.recordings) else 0
        return (f"AnalysisResult({len(self.recordings)} sweeps ({n_ok} ok), {len(self.oscillations)} SSO "
                f"episodes, {len(self.spikes)} spikes)")

    def _repr_html_(self) -> str:
        head = f"<p><b>drgephys</b> — {self!r}</p>"
        cols = ["file", "sweep", "status", "resting_vm_mv", "sso_detected", "sso_frequency_hz",
                "sso_amplitude_mv", "spike_count", "firing_pattern"]
        return head + self.recordings[[c for c in cols if c in self.recordings]].head(20).to_html(index=False)


def status_row(file_label: str, *, sweep=None, channel=None, status: str, message: str,
               code: str | None = None) -> dict:
    """A recordings row for a sweep or file that was not analysed (``code``: its refusal code,
    `drgephys.reasons.REFUSALS`, written in ``reason_code``)."""
    return {"file": file_label, "sweep": sweep, "channel": None if channel is None else str(channel),
            "status": status, "message": message, "reason_code": code}


def assemble(rows, epis, spks, params, rejs=()) -> AnalysisResult:
    """The result of one file from its recordings rows (sorted by file, then sweep; rows without a sweep
    first) and its sweeps' episode, spike and rejected-candidate tables (`tables.Parts` or DataFrames)."""
    order = sorted(range(len(rows)), key=lambda i: (str(rows[i].get("file")), rows[i].get("sweep") is not None,
                                                    rows[i].get("sweep") or 0))
    recs = tables.Parts.from_rows([rows[i] for i in order], tables.RECORDINGS_COLUMNS)
    return AnalysisResult(recs, tables.combine(epis, tables.OSCILLATIONS_COLUMNS, build=False),
                          tables.combine(spks, tables.SPIKES_COLUMNS, build=False), params,
                          tables.combine(list(rejs), tables.REJECTED_COLUMNS, build=False))
