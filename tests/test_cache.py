"""`drgephys._cache.file_digest`: the SHA-256 of the whole content, whatever its size, read-only."""

from __future__ import annotations

import hashlib
import os

import pytest

from drgephys import _cache


@pytest.mark.parametrize("size", [0, 1, (1 << 20) + 7, 3 << 20])
def test_file_digest_is_the_sha256_of_the_content(tmp_path, size):
    data = os.urandom(size)
    p = tmp_path / "rec.abf"
    p.write_bytes(data)
    p.chmod(0o444)
    assert _cache.file_digest(p) == hashlib.sha256(data).hexdigest()
    assert _cache.file_digest(p, chunk=4096) == hashlib.sha256(data).hexdigest()
