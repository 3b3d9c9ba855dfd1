"""Where a batch's files are analysed: in this process, in a pool of forked worker processes, or on a Dask
cluster (`run`). The work of one file is a module-level function of the batch (`drgephys.batch._run_one`),
passed in, so the back-ends know nothing of what is computed; the order of the outputs is the order of the
jobs whichever back-end ran them, so the tables never depend on it.

What each back-end does for speed, measured on the 2-core benchmark machine (`benchmarks/cli_speed.py`):

* **Process pool** (``n_jobs > 1``): forked workers inherit the parent's imports and the shipped model
  (`preload`), end with the batch (`_die_with_parent`) and keep their arrays' memory (`malloc_for_arrays`).
  The parent's objects are frozen out of the cyclic garbage collector while the workers are forked
  (`frozen_heap`, as Python's `gc` documentation advises before a fork): a worker's collections then never
  write to the pages it shares with the parent, and its copy-on-write page faults halve (24 cohort files in a
  forked worker: 0.81 → 0.74 s, 18 k → 12 k minor faults). The workers are forked with BLAS limited to one
  thread (`one_blas_thread` around the pool): OpenBLAS's fork handler stops its threads, and a worker that
  then changed the limit itself (as the analysis does) started them again, two spin-waiting threads that took
  ~0.1 s of CPU from the other worker at every worker's start. The largest files are sent first
  (`largest_first`), so no long file starts last while the other worker idles.
* **Dask** (``scheduler``): files are sent in tasks of a few (`task_chunks`: up to `TASK_FILES` files or
  `TASK_BYTES` of recordings each) — one task per 35-ms file left the two workers' compute 15-20 % slower
  than the pool's, from the scheduler's and nannies' traffic on the same cores; and each worker replaces
  the allocator setting its nanny makes (`malloc_for_arrays`).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import signal
from concurrent.futures import ProcessPoolExecutor, as_completed

from ._numerics.blas import one_blas_thread

__all__ = ["run", "task_chunks", "largest_first", "frozen_heap", "TASK_FILES", "TASK_BYTES"]

#: Most files in one Dask task, and most bytes of recordings (a larger file is a task of its own): a few
#: tasks per worker for a cohort of short recordings, one per file for long ones.
TASK_FILES = 8
TASK_BYTES = 16 << 20

#: glibc `mallopt` parameters (malloc.h): M_TRIM_THRESHOLD, M_MMAP_THRESHOLD.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MALLOC_TUNED: list = []
#: Linux `prctl` option: the signal a process gets when its parent dies (linux/prctl.h).
_PR_SET_PDEATHSIG = 1


def run(fn, jobs: list, args: tuple, execution, *, on_done=None, preload=None, meanwhile=None) -> list:
    """``[fn(job, *args) for job in jobs]``, run as `execution` says.

    Parameters
    ----------
    fn : callable
        A module-level function (pickled by reference for workers).
    jobs : list
        One item per file; each has a ``path`` (for `task_chunks`).
    args : tuple
        The other arguments of every call.
    execution : drgephys.params.Execution
        ``scheduler`` (a Dask scheduler address or cluster: Dask), else ``n_jobs`` worker processes (1: here).
    on_done : callable, optional
        ``on_done(n)`` after every `n` files finished (a progress bar's ``update``).
    preload : callable, optional
        Called in this process before a pool forks (the workers inherit what it loads).
    meanwhile : callable, optional
        Called in this process once the files are sent to a pool or a cluster, while they are analysed
        (work the caller needs afterwards: `drgephys.batch` loads pandas for the tables).

    Returns
    -------
    list
        The outputs, in the order of `jobs`.
    """
    on_done = on_done or (lambda n: None)
    outputs: list = [None] * len(jobs)
    if execution.scheduler is not None:
        from distributed import Client, as_completed as dask_completed   # optional extra: drgephys[dask]

        with Client(execution.scheduler) as client:
            futs = {client.submit(_run_chunk, fn, [jobs[i] for i in idx], args, pure=False): idx
                    for idx in task_chunks(jobs)}
            if meanwhile is not None:
                meanwhile()
            for fut in dask_completed(futs):
                for i, out in zip(futs[fut], fut.result()):
                    outputs[i] = out
                on_done(len(futs[fut]))
    elif execution.n_jobs == 1 or len(jobs) <= 1:
        with frozen_heap():
            for i, job in enumerate(jobs):
                outputs[i] = fn(job, *args)
                on_done(1)
    else:
        if preload is not None:
            preload()
        # (the workers are forked at the first submit)
        with frozen_heap(), one_blas_thread(), ProcessPoolExecutor(
                max_workers=execution.n_jobs, initializer=_init_worker, initargs=(os.getpid(),)) as ex:
            futs = {ex.submit(fn, jobs[i], *args): i for i in largest_first(jobs)}
            if meanwhile is not None:
                meanwhile()
            for fut in as_completed(futs):
                outputs[futs[fut]] = fut.result()
                on_done(1)
    return outputs


@contextlib.contextmanager
def frozen_heap():
    """The objects that exist now are left out of the cyclic garbage collector until the context ends
    (`gc.freeze`, then `gc.unfreeze`): collections during a batch skip the ~10⁵ objects of the imports (one
    full collection per cohort in this process: 28 → 5 ms), and forked workers never write to the pages
    they share with the parent. Nothing is done when objects are frozen already (the caller's freeze is
    kept)."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def largest_first(jobs: list) -> list:
    """Indices of `jobs` by decreasing file size (ties and unreadable files in their order): the order a
    pool is fed in, so the batch ends with short files on every worker (longest-processing-time-first
    scheduling)."""
    sizes = []
    for job in jobs:
        try:
            sizes.append(os.path.getsize(job.path))
        except (OSError, AttributeError):   # unreadable, or a job without a file
            sizes.append(0)
    return sorted(range(len(jobs)), key=lambda i: -sizes[i])


def task_chunks(jobs: list) -> list:
    """Consecutive groups of job indices for Dask tasks: a group closes at `TASK_FILES` files or once its
    files reach `TASK_BYTES` (sizes from the file system; an unreadable file counts 0 and is refused by its
    analysis)."""
    out, cur, size = [], [], 0
    for i, job in enumerate(jobs):
        try:
            size += os.path.getsize(job.path)
        except OSError:
            pass
        cur.append(i)
        if len(cur) >= TASK_FILES or size >= TASK_BYTES:
            out.append(cur)
            cur, size = [], 0
    if cur:
        out.append(cur)
    return out


def _run_chunk(fn, jobs: list, args: tuple) -> list:
    """One Dask task: `fn` over a few jobs, after `malloc_for_arrays`."""
    malloc_for_arrays()
    return [fn(job, *args) for job in jobs]


def malloc_for_arrays() -> None:
    """Set glibc's allocator, once per process, to keep the memory of large arrays for reuse: mmap threshold
    64 MiB, trim threshold 256 MiB (`mallopt`). For the processes a batch owns: its pool workers and Dask
    workers, and the ``drgephys`` command's own process (`drgephys.cli`), never a user's.

    By default glibc maps every array above a threshold that adapts only as arrays are freed, and hands the
    pages back: a fresh worker zero-fills its arrays' pages again and again (a forked worker analysing 24
    cohort files: 13-18 k minor page faults and 0.06 s of system time, 8 k and 0.03 s with the setting;
    0.78 -> 0.75 s). Under Dask it matters more: the nanny sets ``MALLOC_TRIM_THRESHOLD_=65536``, which
    also freezes the mmap threshold at 128 KiB, so every array of the analysis (MBs) is mapped and zero-filled
    afresh and the analysis ran 1.9x slower (24 cohort files 1.38 s vs 0.71 s). On other C libraries
    nothing is done."""
    if _MALLOC_TUNED:
        return
    _MALLOC_TUNED.append(True)
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 64 << 20)
        libc.mallopt(_M_TRIM_THRESHOLD, 256 << 20)
    except (OSError, AttributeError):   # not glibc
        pass


def _init_worker(parent_pid: int) -> None:
    """Pool initializer: `_die_with_parent`, `malloc_for_arrays`."""
    _die_with_parent(parent_pid)
    malloc_for_arrays()


def _die_with_parent(parent_pid: int) -> None:
    """End this pool worker when the batch process dies, however it dies.

    Forked pool workers inherit both ends of the pool's pipes, so a batch killed with SIGKILL (or by the
    out-of-memory killer) left them waiting on their queue forever, idle, ~100 MB each. On Linux the kernel
    sends them SIGKILL when their parent ends (`prctl(PR_SET_PDEATHSIG)`); they hold no output (every output is
    written atomically by the parent). Elsewhere nothing changes."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):   # not Linux/glibc
        return
    if os.getppid() != parent_pid:      # the parent died before the call above
        os._exit(1)
