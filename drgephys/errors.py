"""Exceptions raised by drgephys.

Every message says what was expected, what was got and how to fix it, e.g.
"`fs` must be a positive number in Hz; got -1".
"""

from __future__ import annotations

from .reasons import REFUSALS


class RecordingError(ValueError):
    """A file or signal is not a usable current-clamp membrane-potential recording.

    Parameters
    ----------
    message : str
        Human-readable reason, naming the file, channel and units where known.
    code : str
        Refusal code from `drgephys.reasons.REFUSALS` (e.g. ``"voltage_clamp"``).
    file, channel, units : optional
        Structured copies of the facts in the message, for batch status tables. A message about a file
        starts with ``"<file>: "`` and names the file nowhere else.
    channel_reasons : sequence of str, optional
        One line per channel of the file with its units and why it was not taken (the message summarises
        them; batch logs write them in full).

    Attributes
    ----------
    code : str
        The refusal code.
    reason : str
        The code's short label (e.g. ``"voltage clamp"``).
    detail : str
        The message without its leading ``"<file>: "`` (for tables and logs that name the file beside it).
    """

    def __init__(self, message: str, *, code: str, file: str | None = None, channel: object = None,
                 units: str | None = None, channel_reasons=()):
        super().__init__(message)
        self.code = code
        self.reason = REFUSALS[code].label
        self.file = file
        self.channel = channel
        self.units = units
        self.channel_reasons = tuple(channel_reasons)

    @property
    def detail(self) -> str:
        msg = str(self)
        prefix = f"{self.file}: " if self.file else None
        return msg[len(prefix):] if prefix and msg.startswith(prefix) else msg


class UnitWarning(UserWarning):
    """An array passed as a membrane potential in mV looks like another unit (volts, pA, µV): the analysis
    runs, but its numbers are likely meaningless (e.g. no spike reaches 10 mV/ms in volts)."""
