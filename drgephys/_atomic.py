"""Atomic file writing, the one implementation every output of drgephys goes through.

A file is written under a temporary name in its destination folder and moved into place with
``os.replace`` (atomic on POSIX and Windows), so a reader never sees half a file and an interrupted run
leaves the previous version intact. ``tempfile.mkstemp`` creates files readable by their owner alone
(mode 0600, whatever the umask); `publish` gives the file the mode any other program would
(``0666 & ~umask``, e.g. rw-r--r--) before it appears, so colleagues on a shared drive can read results.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

__all__ = ["atomic_write", "atomic_text", "atomic_bytes", "publish"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def publish(tmp, path) -> None:
    """Give the temporary file ``tmp`` ordinary permissions (``0666 & ~umask``) and move it to ``path``."""
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, path)


def atomic_write(path, write: Callable[[str], object], *, suffix: str = ".tmp") -> Path:
    """Write ``path`` atomically: ``write(tmp_path)`` fills a temporary file beside it, which then replaces
    ``path``. The folder is created when missing; on any error the temporary file is removed and ``path``
    is left as it was.

    Parameters
    ----------
    path : str or Path
        Destination.
    write : callable
        ``write(tmp)`` writes the content to the path ``tmp`` (a str), e.g. ``df.to_csv``.
    suffix : str
        Suffix of the temporary name (writers that infer the format from it need the right one).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        publish(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_text(path, text: str) -> Path:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically."""
    def write(tmp):
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    return atomic_write(path, write)


def atomic_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))
