"""`drgephys.runners`: Dask tasks group files by count and size, outputs keep the order of the jobs whatever
runs them, and progress counts every file once."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from drgephys import runners
from drgephys.params import Execution


@dataclass(frozen=True)
class _Job:
    path: str


def _files(tmp_path, sizes):
    jobs = []
    for i, n in enumerate(sizes):
        p = tmp_path / f"f{i}.bin"
        p.write_bytes(b"\0" * n)
        jobs.append(_Job(str(p)))
    return jobs


def test_task_chunks_close_at_the_file_count(tmp_path):
    jobs = _files(tmp_path, [10] * (2 * runners.TASK_FILES + 3))
    chunks = runners.task_chunks(jobs)
    assert [len(c) for c in chunks] == [runners.TASK_FILES, runners.TASK_FILES, 3]
    assert [i for c in chunks for i in c] == list(range(len(jobs)))


def test_a_large_file_closes_its_task(tmp_path):
    big = runners.TASK_BYTES
    jobs = _files(tmp_path, [10, big, 10, 10]) + [_Job(str(tmp_path / "missing.abf"))]
    assert runners.task_chunks(jobs) == [[0, 1], [2, 3, 4]]     # a missing file counts 0 bytes


def _square(job, offset):
    return job * job + offset


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_outputs_in_job_order_and_progress_per_file(n_jobs):
    done = []
    out = runners.run(_square, list(range(7)), (1,), Execution(n_jobs=n_jobs), on_done=done.append)
    assert out == [j * j + 1 for j in range(7)]
    assert sum(done) == 7


def test_largest_files_are_sent_first(tmp_path):
    jobs = _files(tmp_path, [10, 30, 20]) + [_Job(str(tmp_path / "missing.abf"))] + _files(tmp_path / "..", [30])
    assert runners.largest_first(jobs) == [1, 4, 2, 0, 3]     # ties and missing files keep their order
    assert runners.largest_first([3, 1]) == [0, 1]             # jobs without a file: their order


def _worker_state(job):
    import gc
    import threading

    import numpy as np
    from threadpoolctl import threadpool_info

    from drgephys._numerics.blas import one_blas_thread

    with one_blas_thread():                    # what the analysis does in every sweep
        a = np.ones((300, 300))
        a @ a
    blas = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    return blas, gc.get_freeze_count(), threading.active_count(), _os_threads()


def _os_threads():
    import os
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:   # not Linux
        return None


def test_pool_workers_are_forked_with_one_blas_thread_and_a_frozen_heap():
    """No worker starts BLAS threads of its own (OpenBLAS's spin-waiting threads took CPU from the other
    worker), and the parent's objects are out of the workers' collections (fewer copy-on-write faults)."""
    import gc

    out = runners.run(_worker_state, [0, 1, 2, 3], (), Execution(n_jobs=2))
    for blas, frozen, py_threads, os_threads in out:
        assert all(n == 1 for n in blas)
        assert frozen > 0
        if os_threads is not None:
            assert os_threads == py_threads          # no thread Python did not start (BLAS's)
    assert gc.get_freeze_count() == 0                # the parent's heap is unfrozen after the pool


def test_frozen_heap_keeps_a_callers_freeze():
    import gc

    assert gc.get_freeze_count() == 0
    with runners.frozen_heap():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        n = gc.get_freeze_count()
        with runners.frozen_heap():
            pass
        assert gc.get_freeze_count() == n           # the caller's freeze stands
    finally:
        gc.unfreeze()
