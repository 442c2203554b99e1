"""Issue 12, defect 2: Strava writes TCX and GPX files with spaces before ``<?xml``; a BOM may come first too.
Such files must read exactly like the clean original."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gutstride.ingest.activities.dispatch import decode_activity
from gutstride.services.athletes import workspace_athlete
from gutstride.services.importing import import_files
from gutstride.store.workspace import Workspace

ACT = Path(__file__).parents[1] / "data" / "activities"
FILES = [ACT / "sweatpy" / "4078723797_strava.gpx", ACT / "sweatpy" / "activity_4801048867.tcx"]
SMALL_TCX = ACT / "tcx-python-tcxparser" / "test.tcx"
BOM = b"\xef\xbb\xbf"


def same(a: Path | bytes, name: str, prefix: bytes) -> None:
    data = a.read_bytes() if isinstance(a, Path) else a
    assert data.lstrip().startswith(b"<?xml")
    clean, shifted = decode_activity(data, name), decode_activity(prefix + data, name)
    assert clean.status == "ok", clean.message
    assert (shifted.status, shifted.message, shifted.format) == (clean.status, clean.message, clean.format)
    assert len(shifted.activities) == len(clean.activities)
    for x, y in zip(clean.activities, shifted.activities, strict=True):
        assert x.summary == y.summary
        for column in x.stream:
            np.testing.assert_array_equal(x.stream[column], y.stream[column])


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.suffix)
@pytest.mark.parametrize("prefix", [b"          ", b"\r\n  \t", BOM, BOM + b"   ", b"  " + BOM])
def test_leading_whitespace_and_bom_before_the_declaration(path: Path, prefix: bytes) -> None:
    same(path, path.name, prefix)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from([b" ", b"\t", b"\r", b"\n"]), min_size=1, max_size=40).map(b"".join))
def test_any_leading_whitespace(prefix: bytes) -> None:
    same(SMALL_TCX, SMALL_TCX.name, prefix)


def test_strava_tcx_with_spaces_imports(tmp_path: Path) -> None:
    target = tmp_path / "1234.tcx"
    target.write_bytes(b"          " + FILES[1].read_bytes())
    ws = Workspace(tmp_path / "ws", create=True)
    (record,) = import_files(ws, workspace_athlete(ws), [target], workers=1)
    assert record.status == "ok", record.message


def test_sniffing_sees_past_spaces_and_bom_without_a_name() -> None:
    from gutstride.ingest.activities.dispatch import sniff_activity_format

    assert sniff_activity_format(b"  " + BOM + FILES[0].read_bytes()[:4096], "") == "gpx"
    assert sniff_activity_format(b"\n\n" + FILES[1].read_bytes()[:4096], "") == "tcx"
