"""`drgephys._csv` and `tables.Parts.to_csv`: the bytes pandas' ``to_csv(index=False)`` writes for the same
table, without pandas."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from drgephys import tables
from drgephys._csv import Unformattable, format_column

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"

#: Text cells that exercise the CSV dialect: delimiter, quote, line breaks, spaces, non-ASCII, empty.
TEXT = st.one_of(st.none(), st.sampled_from(["", "a,b", 'say "hi"', "two\nlines", "cr\rhere", " pad ", "µV ±",
                                              "sso;hum", "#"]), st.text(max_size=8))
FLOATS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -0.0, 1e-300, 1e16, 0.1 + 0.2]))


def _both(parts: tables.Parts, tmp_path) -> tuple[bytes, bytes]:
    ours, theirs = tmp_path / "ours.csv", tmp_path / "pandas.csv"
    parts.to_csv(ours)
    parts.frame().to_csv(theirs, index=False)
    return ours.read_bytes(), theirs.read_bytes()


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.fixed_dictionaries({
    "file": TEXT, "sweep": st.one_of(st.none(), st.integers(-2**40, 2**40)), "channel": TEXT,
    "start_s": FLOATS, "p_value": st.one_of(st.none(), FLOATS)}), max_size=6))
def test_rows_of_every_contract_dtype_are_written_as_pandas_writes_them(rows, tmp_path_factory):
    parts = tables.Parts.from_rows(rows, tables.OSCILLATIONS_COLUMNS)
    ours, theirs = _both(parts, tmp_path_factory.mktemp("csv"))
    assert ours == theirs


@settings(max_examples=40, deadline=None)
@given(peak=st.lists(FLOATS, min_size=1, max_size=5), evoked=st.lists(st.booleans(), min_size=5, max_size=5),
       index=st.lists(st.integers(0, 10**9), min_size=5, max_size=5), trigger=st.lists(TEXT, min_size=5, max_size=5))
def test_array_blocks_scalars_and_extra_columns_are_written_as_pandas_writes_them(peak, evoked, index, trigger,
                                                                                tmp_path_factory):
    n = len(peak)
    block = {"file": "f.abf", "sweep": 3, "channel": "IN0", "peak_s": np.asarray(peak),
             "evoked": np.asarray(evoked[:n]), "trigger": np.asarray(trigger[:n], dtype=object),
             "threshold_index": np.asarray(index[:n], np.int64)}
    second = {"file": "g,h.abf", "sweep": None, "channel": None, "peak_s": np.asarray(peak[::-1]),
              "evoked": np.asarray(evoked[:n]), "trigger": None, "threshold_index": np.asarray(index[:n], np.int64)}
    for blocks in ([(block, n)], [(block, n), (second, n)]):
        ours, theirs = _both(tables.Parts(tables.SPIKES_COLUMNS, blocks), tmp_path_factory.mktemp("csv"))
        assert ours == theirs


def test_a_table_written_in_many_chunks_is_the_same_file(tmp_path, monkeypatch):
    """Rows are formatted `CHUNK_CELLS` cells at a time; chunk edges leave no trace in the file."""
    from drgephys import _csv

    rng = np.random.default_rng(3)
    n = 101
    block = {"file": "f.abf", "sweep": np.arange(n), "channel": np.where(rng.random(n) < 0.5, "IN 0", None),
             "time_s": rng.normal(size=n), "peak_mv": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
             "reason_code": np.asarray(["a,b", 'q"', None] * 33 + ["x", "y"], dtype=object)}
    parts = tables.Parts(tables.REJECTED_COLUMNS, [(block, n)])
    whole, _ = _both(parts, tmp_path)
    monkeypatch.setattr(_csv, "CHUNK_CELLS", 7 * len(parts.names()) + 3)     # 7 rows a chunk, 15 chunks
    chunked, theirs = _both(parts, tmp_path)
    assert chunked == whole == theirs


def test_an_empty_table_is_its_header(tmp_path):
    ours, theirs = _both(tables.Parts(tables.RECORDINGS_COLUMNS, []), tmp_path)
    assert ours == theirs == (",".join(tables.RECORDINGS_COLUMNS) + "\n").encode()


def test_a_value_without_a_rule_is_left_to_pandas(tmp_path):
    """A string column holding a number: `_csv` does not guess pandas' text; the table is written by pandas."""
    with pytest.raises(Unformattable, match="a string column holds 7"):
        format_column(np.asarray(["a", 7], dtype=object), "string")
    parts = tables.Parts(tables.REJECTED_COLUMNS, [({"file": ["a", 7], "time_s": [0.5, 1.0]}, 2)])
    ours, theirs = _both(parts, tmp_path)
    assert ours == theirs


def test_the_tables_of_the_sample_recordings_are_written_as_pandas_writes_them(tmp_path):
    from drgephys.batch import analyze_paths

    res = analyze_paths([SAMPLE / "injured_sso_bursting.abf", SAMPLE / "control_silent_hum50.abf"])
    for name in tables.TABLES:
        held = res.unbuilt()[name]
        assert isinstance(held, tables.Parts)         # a batch's tables stay column arrays until read
        ours, theirs = _both(held, tmp_path)
        assert ours == theirs, name


def test_the_command_line_writes_its_tables_without_loading_pandas(tmp_path):
    """`drgephys analyze` on ABF files (NWB files load pandas through pynwb), in a fresh interpreter."""
    code = ("import sys\nfrom drgephys import _lazy, cli\n"
            f"rc = cli.main(['analyze', {str(SAMPLE / 'injured_sso_bursting.abf')!r}, "
            f"{str(SAMPLE / 'control_silent_hum50.abf')!r}, '--out', {str(tmp_path / 'out')!r}, '--quiet'])\n"
            "print(rc, _lazy.is_loaded('pandas'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0", "False"]
    assert sorted(p.name for p in (tmp_path / "out").glob("*.csv")) == [
        "oscillations.csv", "recordings.csv", "rejected.csv", "spikes.csv"]
