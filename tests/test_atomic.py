"""`drgephys._atomic`: outputs appear whole, with the permissions any program gives under the umask."""

import os
import stat

import pytest

from drgephys._atomic import atomic_bytes, atomic_text, atomic_write


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_files_get_the_umask_mode(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        p = atomic_text(tmp_path / "out" / "table.csv", "a,b\n1,2\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == mode
    assert p.read_text() == "a,b\n1,2\n"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    p = atomic_bytes(tmp_path / "results.json", b"old")

    def broken(tmp):
        with open(tmp, "w") as fh:
            fh.write("half a fi")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(p, broken)
    assert p.read_bytes() == b"old"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["results.json"]
