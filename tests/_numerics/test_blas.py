"""`one_blas_thread` limits BLAS to one thread inside and restores the previous counts on exit, also when
the body raises, and nests."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_info

from drgephys._numerics.blas import one_blas_thread


def _blas_threads():
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_one_thread_inside_and_restored_after():
    before = _blas_threads()
    if not before:
        pytest.skip("no BLAS library found by threadpoolctl in this process")
    with one_blas_thread():
        assert _blas_threads() == [1] * len(before)
        with one_blas_thread():
            assert _blas_threads() == [1] * len(before)
        assert _blas_threads() == [1] * len(before)
    assert _blas_threads() == before


def test_restored_when_the_body_raises():
    before = _blas_threads()
    with pytest.raises(RuntimeError, match="boom"):
        with one_blas_thread():
            raise RuntimeError("boom")
    assert _blas_threads() == before
