"""Exceptions raised by drgephys.

Every message says what was expected, what was got and how to fix it, e.g.
"`fs` must be a positive number in Hz; got -1".
"""

from __future__ import annotations


class RecordingError(ValueError):
    """A file or signal is not a usable current-clamp membrane-potential recording.

    Parameters
    ----------
    message : str
        Human-readable reason, naming the file, channel and units where known.
    file, channel, units, reason : str, optional
        Structured copies of the same facts, for batch status tables.
    """

    def __init__(self, message: str, *, file: str | None = None, channel: object = None,
                 units: str | None = None, reason: str | None = None):
        super().__init__(message)
        self.file = file
        self.channel = channel
        self.units = units
        self.reason = reason
