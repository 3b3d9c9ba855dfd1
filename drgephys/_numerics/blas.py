"""One BLAS thread for small products (`one_blas_thread`).

numpy's BLAS (OpenBLAS here) starts a thread per core for a matrix product. The products drgephys makes
(the decimation's polyphase products, the AHP fits' projections) are small or memory-bound: a second
thread gains little on an idle machine, and when the cores are busy (another worker of the same batch, or
another user's job) its spin-waiting doubled the process time and made wall times erratic (0.9-2.4 s for the
benchmark cohort). The limit is set on the controllers threadpoolctl finds once per process and restored on
exit.
"""

from __future__ import annotations

import contextlib

__all__ = ["one_blas_thread"]

_BLAS: list = []


def _blas_libraries() -> list:
    """threadpoolctl's controllers of the BLAS libraries loaded in the process (looked up once: a fresh
    ``ThreadpoolController().limit(...)`` inspects every loaded library, ~10-20 µs a call)."""
    if not _BLAS:
        try:
            from threadpoolctl import ThreadpoolController
            _BLAS.append(list(ThreadpoolController().select(user_api="blas").lib_controllers))
        except ImportError:   # pragma: no cover - scikit-learn, a core dependency, requires threadpoolctl
            _BLAS.append([])
    return _BLAS[0]


@contextlib.contextmanager
def one_blas_thread():
    """Context limiting BLAS to one thread (as threadpoolctl's ``limit(limits=1, user_api="blas")``, on the
    controllers found once)."""
    libs = _blas_libraries()
    old = [lib.get_num_threads() for lib in libs]
    try:
        for lib, n in zip(libs, old):
            if n != 1:
                lib.set_num_threads(1)
        yield
    finally:
        for lib, n in zip(libs, old):
            if n != 1:
                lib.set_num_threads(n)
