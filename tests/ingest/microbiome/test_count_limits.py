"""Issue 12, defect 6: a count of 1e19 was accepted, then the report crashed and ``alpha`` said Shannon 0.0.
Counts must be finite, non-negative and fit the integer type the analyses use; the error names the sample and
feature (row and column)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import biom
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gutstride.errors import BadInputError
from gutstride.ingest.microbiome.layout import MAX_COUNT
from gutstride.ingest.microbiome.read import read_table


def write_tsv(path: Path, value: str) -> Path:
    path.write_text("#OTU ID\ts1\ts2\nOTU_1\t10\t5\nOTU_2\t" + value + "\t7\nOTU_3\t1\t0\n")
    return path


def test_max_count_fits_int64_and_float64_exactly() -> None:
    assert np.iinfo(np.int64).max >= MAX_COUNT
    assert float(MAX_COUNT) == MAX_COUNT and float(MAX_COUNT) + 1 != MAX_COUNT + 1  # 2**53: last exact integer


@pytest.mark.parametrize("value", ["1e19", "9223372036854775808", "1e300", "inf", "-3", "nan"])
def test_bad_counts_are_refused_with_sample_and_feature(tmp_path: Path, value: str) -> None:
    with pytest.raises(BadInputError, match=r"sample 's1', feature 'OTU_2'"):
        read_table(write_tsv(tmp_path / "t.tsv", value))


def test_sample_totals_must_fit_too(tmp_path: Path) -> None:
    half = str(MAX_COUNT // 2 + 1)
    path = tmp_path / "t.tsv"
    path.write_text(f"#OTU ID\ts1\ts2\nOTU_1\t{half}\t5\nOTU_2\t{half}\t7\n")
    with pytest.raises(BadInputError, match=r"sample 's1'.*total"):
        read_table(path)


def test_biom_with_a_huge_count_is_refused(tmp_path: Path) -> None:
    table = biom.Table(np.array([[1.0, 2.0], [1e19, 3.0]]), ["f1", "f2"], ["a", "b"])
    path = tmp_path / "t.biom"
    path.write_text(table.to_json("test"))
    with pytest.raises(BadInputError, match=r"sample 'a', feature 'f2'"):
        read_table(path)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=MAX_COUNT // 4))
def test_large_valid_counts_are_kept_exactly(count: int) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        table = read_table(write_tsv(Path(tmp) / "t.tsv", str(count)))
    assert table.value_kind == "counts"
    assert table.data.toarray()[0, 1] == count


def test_alpha_cli_says_what_is_wrong(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "gutstride", "alpha", str(write_tsv(tmp_path / "t.tsv", "1e19")),
                          "--json"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "OTU_2" in out.stderr and "RuntimeWarning" not in out.stderr and len(out.stderr.splitlines()) == 1
