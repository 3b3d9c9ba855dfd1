"""Why a file or sweep was refused, as data: one registry of refusal codes.

Every `drgephys.errors.RecordingError` carries a ``code`` from `REFUSALS`; batch tables write it in the
``reason_code`` column beside the human message, so a lab filters refusals by code, never by searching
message text. Adding a refusal kind is one `Reason` entry here plus the check that raises it.

Examples
--------
>>> from drgephys.reasons import REFUSALS
>>> REFUSALS["voltage_clamp"].label
'voltage clamp'
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Reason", "Registry", "REFUSALS", "SKIPS"]


@dataclass(frozen=True)
class Reason:
    """One kind of refusal.

    Attributes
    ----------
    code : str
        Machine-readable code (snake_case), e.g. ``"voltage_clamp"``.
    label : str
        Short human label, e.g. ``"voltage clamp"`` (`RecordingError.reason`).
    description : str
        What the code means and what the user can do.
    """

    code: str
    label: str
    description: str


class Registry:
    """An ordered set of `Reason` entries addressed by code.

    Raises
    ------
    KeyError
        On an unknown code (the message lists the known ones).
    ValueError
        When a code is registered twice.
    """

    def __init__(self, entries=()):
        self._entries: dict[str, Reason] = {}
        for e in entries:
            self.register(e)

    def register(self, entry: Reason) -> Reason:
        if not isinstance(entry, Reason):
            raise TypeError(f"`entry` must be a drgephys.reasons.Reason; got {type(entry).__name__}")
        if entry.code in self._entries:
            raise ValueError(f"reason code {entry.code!r} is already registered; pick another code")
        self._entries[entry.code] = entry
        return entry

    def __getitem__(self, code: str) -> Reason:
        try:
            return self._entries[code]
        except KeyError:
            raise KeyError(f"unknown reason code {code!r}; known: {sorted(self._entries)}") from None

    def __contains__(self, code) -> bool:
        return code in self._entries

    def __iter__(self):
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def codes(self) -> list[str]:
        return list(self._entries)


REFUSALS = Registry([
    # the file itself
    Reason("missing_file", "missing file", "The path does not exist; check it."),
    Reason("folder", "folder", "A folder was given where a file was expected; `drgephys analyze` scans folders."),
    Reason("unreadable", "unreadable", "The file cannot be opened for reading (permissions)."),
    Reason("empty", "empty", "The file has 0 bytes, or holds no analog signals."),
    Reason("unsafe_format", "unsafe format",
           "Pickle-based formats are never opened (unpickling runs arbitrary code); export to NWB, NIX or ABF."),
    Reason("unreadable_format", "unreadable format", "neo could not read the file: corrupt or not a recording."),
    Reason("missing_reader", "missing reader", "Reading this format needs an optional package (named in the message)."),
    Reason("no_sampling_rate", "no sampling rate", "A text trace without a time column needs `sampling_rate_hz`."),
    # the channel choice
    Reason("voltage_clamp", "voltage clamp", "Only currents were recorded: a voltage-clamp recording."),
    Reason("command_only", "command only", "Only command/stimulus outputs, no recorded membrane potential."),
    Reason("mislabelled_units", "mislabelled units",
           "A channel labelled as a current looks like a membrane potential: pass `units='mV'` and `channel=`."),
    Reason("unknown_units", "unknown units", "No channel is in voltage units."),
    Reason("not_a_membrane_potential", "not a membrane potential",
           "Voltage channels exist but none is a plausible membrane potential (constant, saturated, flat near "
           "0 mV, a stepped command or an implausible level)."),
    Reason("no_such_channel", "no such channel", "The requested `channel` is not in the file."),
    # one sweep
    Reason("implausible_sweep", "implausible sweep",
           "The sweep is not a plausible membrane potential (constant, saturated, stepped or out of range)."),
    Reason("no_channel_in_sweep", "no channel in sweep", "This sweep lacks the channel chosen on the first sweep."),
    Reason("not_a_voltage", "not a voltage", "The chosen channel is not in voltage units in this sweep."),
    Reason("non_finite", "non-finite samples", "The sweep holds NaN or infinite samples; drgephys does not guess them."),
    Reason("short_read", "short read", "The reader returned fewer samples than the file declares."),
    Reason("bad_time_base", "bad time base", "Sample times do not increase."),
    Reason("too_short", "too short", "Too few samples to analyse."),
    Reason("no_usable_sweep", "no usable sweep", "Every sweep of the file was refused (reasons in the message)."),
    # results folders (drgephys compare / report)
    Reason("missing_table", "missing table", "A results folder lacks a table; run `drgephys analyze` first."),
    Reason("missing_folder", "missing folder", "The results folder does not exist."),
])

#: Why a file found in a folder scan was skipped (not attempted): it is not a recording. Skips never change
#: `drgephys analyze`'s exit code; they are listed in ``analysis.log`` and the summary, not in the tables.
SKIPS = Registry([
    Reason("not_a_recording_format", "not a recording format",
           "The extension is not one neo reads (notes, figures, JSON ground truth, ...)."),
    Reason("not_a_trace", "not a trace",
           "A text file (.csv/.txt/...) whose first lines are not a trace: no rows of numbers, too few rows, or "
           "a header of names over a first column that is not a time base (a table of values). Name the file "
           "explicitly to analyse it anyway."),
])

#: Why a spike candidate (a rise of the detection dV/dt through its cutoff, after merging) was not counted as a
#: spike: the first `drgephys.spikes.SpikeParams` shape rule it failed, checked in this order. Every rejected
#: candidate of `drgephys.spikes.find_spikes` carries one of these codes (``SpikeTable.rejected``).
SPIKE_REJECTIONS = Registry([
    Reason("peak_below_min", "peak below minimum",
           "The candidate's peak is below `SpikeParams.min_peak_mv` (a subthreshold event, SSO or noise swing)."),
    Reason("amplitude_below_min", "amplitude below minimum",
           "Peak − threshold is below `SpikeParams.min_amplitude_mv` (a spikelet, an artefact, or noise riding on "
           "a depolarisation)."),
    Reason("threshold_after_peak", "threshold after peak",
           "The threshold (`SpikeParams.threshold_method`) is not before the peak: no upstroke between them."),
    Reason("rise_too_slow", "rise too slow",
           "Threshold to peak takes longer than `SpikeParams.max_rise_ms` (scaled with the cell's own AP width "
           "when `SpikeParams.adapt_to_width` is on)."),
    Reason("no_repolarization", "no repolarisation",
           "The potential does not fall back below half amplitude within `SpikeParams.max_repolarization_ms` "
           "after the peak (scaled with the cell's own AP width when `SpikeParams.adapt_to_width` is on): a step "
           "or plateau, not an AP."),
])
__all__.append("SPIKE_REJECTIONS")
