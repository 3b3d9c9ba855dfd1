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
