"""Flag values of the ``drgephys`` command line turned into checked values (or a one-line reason):
channels, output paths, stimulus windows, the default number of worker processes."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["channel_value", "check_out_folder", "check_out_file", "stimulus_window", "default_jobs",
           "MAX_DEFAULT_JOBS"]


def channel_value(value: str):
    return int(value) if value.lstrip("-").isdigit() else value


def check_out_folder(out) -> str | None:
    p = Path(out)
    if p.exists() and not p.is_dir():
        return f"--out `{p}` is a file; pass a folder (it is created when missing)"
    return None


def check_out_file(out) -> str | None:
    if out is not None and Path(out).is_dir():
        return f"--out `{out}` is a folder; pass the path of the file to write"
    return None


#: Most worker processes `--jobs` starts by default (each may hold a sweep of up to the memory budget).
MAX_DEFAULT_JOBS = 8


def default_jobs() -> int:
    """One worker per core this process may run on (its CPU affinity), at most `MAX_DEFAULT_JOBS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:          # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_JOBS))


def stimulus_window(text: str) -> tuple:
    """``"0.5:1.5"`` → (0.5, 1.5)."""
    try:
        a, b = (float(x) for x in text.split(":"))
    except ValueError:
        raise ValueError(f"--stimulus must be START:END in s from the sweep's start, e.g. 0.5:1.5; got {text!r}"
                         ) from None
    if not b > a:
        raise ValueError(f"--stimulus must end after it starts (START:END in s); got {text!r}")
    return a, b
