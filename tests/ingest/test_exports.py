"""Walking Garmin and Strava exports, and refusing unsafe zips."""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gutstride.errors import BadInputError
from gutstride.ingest.exports import ZipLimits, iter_export, read_strava_csv, unsafe_member_reason

from .conftest import FIT_A, FIT_B, FIT_C, STRAVA_CSV, make_zip


def test_garmin_nested_zips_yield_every_fit_with_its_bytes(garmin_export: Path) -> None:
    path = garmin_export
    members = list(iter_export(path))
    by_name = {m.label.rsplit("/", 1)[-1]: m for m in members}
    assert set(by_name) == {"summarizedActivities.json", FIT_A.name, FIT_B.name, FIT_C.name}
    for fit in (FIT_A, FIT_B, FIT_C):
        assert by_name[fit.name].data == fit.read_bytes()
        assert not by_name[fit.name].skip_reason
    deep = by_name[FIT_C.name].label
    assert deep == (
        f"{path}!/DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip!/more.zip!/deep/{FIT_C.name}"
    )


def test_nesting_deeper_than_the_limit_is_skipped(tmp_path: Path) -> None:
    data = make_zip({"a.fit": FIT_C.read_bytes()})
    for level in range(5):
        data = make_zip({f"level{level}.zip": data})
    members = list(iter_export(data, "x.zip", ZipLimits(max_depth=4)))
    assert len(members) == 1
    assert members[0].data is None
    assert "nested deeper than 4" in members[0].skip_reason


def test_strava_csv_metadata_joins_to_files(strava_export: Path) -> None:
    members = {m.label.split("!/", 1)[1]: m for m in iter_export(strava_export)}
    fit = members["activities/4801048867.fit.gz"]
    assert gzip.decompress(fit.data or b"") == FIT_A.read_bytes()
    assert fit.meta["name"] == "Morning Run"
    assert fit.meta["sport"] == "running"
    assert fit.meta["perceived_exertion"] == 6.0
    assert fit.meta["relative_effort"] == 42.0
    assert fit.meta["gear"] == "Pegasus 37"
    assert fit.meta["strava_id"] == "4801048867"
    gpx = members["activities/4078723797.gpx.gz"]
    assert gpx.meta["name"] == "Ride, with a comma"
    assert gpx.meta["sport"] == "cycling"
    assert gpx.meta["perceived_exertion"] is None
    assert members["activities/activity_4801048867.tcx"].meta["sport"] == "walking"
    assert members["activities.csv"].meta == {}
    assert members["profile.csv"].meta == {}


def test_strava_csv_ignores_rows_without_a_file() -> None:
    rows = read_strava_csv(STRAVA_CSV)
    assert set(rows) == {
        "activities/4801048867.fit.gz", "activities/4078723797.gpx.gz", "activities/activity_4801048867.tcx"
    }
    assert read_strava_csv("Activity ID,Activity Name\n1,x\n") == {}
    assert read_strava_csv("") == {}


@pytest.mark.parametrize(
    "name", ["../evil.fit", "a/../../evil.fit", "/etc/passwd", "C:\\Windows\\evil.fit", "..\\evil.fit"]
)
def test_unsafe_names_are_recognised(name: str) -> None:
    assert unsafe_member_reason(name) is not None


@pytest.mark.parametrize("name", ["activities/1.fit", "a..b.fit", "DI_CONNECT/x/..hidden.fit"])
def test_safe_names_pass(name: str) -> None:
    assert unsafe_member_reason(name) is None


def test_traversal_members_are_skipped_and_nothing_is_written(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    data = make_zip({"../evil.fit": FIT_C.read_bytes(), "/abs.fit": b"x", "ok.fit": FIT_C.read_bytes()})
    members = list(iter_export(data, "bad.zip"))
    skipped = {m.label: m.skip_reason for m in members if m.data is None}
    assert set(skipped) == {"bad.zip!/../evil.fit", "bad.zip!//abs.fit"}
    assert all("unsafe member name" in reason for reason in skipped.values())
    assert [m.label for m in members if m.data is not None] == ["bad.zip!/ok.fit"]
    assert not (tmp_path / "evil.fit").exists() and list(work.iterdir()) == []


def test_high_ratio_member_is_skipped_while_reading() -> None:
    bomb = b"\0" * (8 << 20)  # 8 MiB of zeros deflate about 1000:1
    data = make_zip({"bomb.fit": bomb, "ok.fit": FIT_C.read_bytes()})
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("bomb.fit")
    assert info.file_size / info.compress_size > 200
    members = {m.label: m for m in iter_export(data, "z.zip", ZipLimits(max_ratio=200))}
    assert members["z.zip!/bomb.fit"].data is None
    assert "compression ratio above 200:1" in members["z.zip!/bomb.fit"].skip_reason
    assert members["z.zip!/ok.fit"].data == FIT_C.read_bytes()


def test_lying_header_size_cannot_smuggle_more_bytes() -> None:
    payload = b"A" * 200_000
    data = bytearray(make_zip({"x.fit": payload}))
    # Claim 100 bytes in both the local header (offset 22) and the central directory (offset 24 of the entry).
    data[22:26] = (100).to_bytes(4, "little")
    central = data.rfind(b"PK\x01\x02")
    data[central + 24: central + 28] = (100).to_bytes(4, "little")
    (member,) = list(iter_export(bytes(data), "lie.zip"))
    assert member.data is None or len(member.data) <= 100
    if member.data is None:
        assert "unreadable zip member" in member.skip_reason


def test_too_many_members_stops_the_walk() -> None:
    data = make_zip({f"f{i}.gpx": b"<gpx/>" for i in range(12)})
    members = list(iter_export(data, "many.zip", ZipLimits(max_members=10)))
    assert len(members) == 1
    assert members[0].data is None and "too many members" in members[0].skip_reason


def test_member_count_is_shared_across_nested_zips() -> None:
    inner = make_zip({f"f{i}.gpx": b"<gpx/>" for i in range(6)})
    data = make_zip({"a.zip": inner, "b.zip": inner})
    members = list(iter_export(data, "n.zip", ZipLimits(max_members=10)))
    assert [m.data is not None for m in members].count(True) == 6
    assert "too many members" in members[-1].skip_reason


def test_total_uncompressed_size_limit() -> None:
    data = make_zip({f"f{i}.bin": bytes(range(256)) * 400 for i in range(5)})  # 100 kB each
    members = list(iter_export(data, "t.zip", ZipLimits(max_total_bytes=250_000)))
    assert [m.data is not None for m in members] == [True, True, False]
    assert "exceeds" in members[-1].skip_reason


def test_not_a_zip_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="not a readable zip"):
        list(iter_export(b"PK\x03\x04 but then garbage", "g.zip"))


def test_macos_metadata_members_are_skipped() -> None:
    data = make_zip({"__MACOSX/activities/._1.fit": b"\0\5\26\7", "activities/._2.fit": b"x", "a.fit": b"y"})
    members = {m.label: m for m in iter_export(data, "m.zip")}
    assert members["m.zip!/a.fit"].data == b"y"
    for label in ("m.zip!/__MACOSX/activities/._1.fit", "m.zip!/activities/._2.fit"):
        assert members[label].data is None and "macOS metadata" in members[label].skip_reason


@settings(max_examples=60, deadline=None)
@given(flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8),
       cut=st.integers(0, 10**6))
def test_damaged_zips_only_raise_our_error(flips: list[tuple[int, int]], cut: int) -> None:
    inner = make_zip({"a.fit": FIT_C.read_bytes()[:2000], "b.gpx": b"<gpx/>" * 50})
    data = bytearray(make_zip({"x/inner.zip": inner, "activities.csv": STRAVA_CSV.encode()}))
    for offset, value in flips:
        data[offset % len(data)] = value
    damaged = bytes(data[: max(4, cut % (len(data) + 1))])
    try:
        members = list(iter_export(damaged, "d.zip", ZipLimits(max_total_bytes=1 << 20)))
    except BadInputError:
        return
    for member in members:
        assert (member.data is None) == bool(member.skip_reason)


def test_large_nested_zips_are_spilled_and_walked_the_same(garmin_export: Path) -> None:
    in_memory = [(m.label, m.data) for m in iter_export(garmin_export)]
    spilled = [(m.label, m.data) for m in iter_export(garmin_export, limits=ZipLimits(spill_bytes=1000))]
    assert spilled == in_memory


def test_member_size_limit() -> None:
    data = make_zip({"big.fit": bytes(range(256)) * 40, "small.fit": b"abc"})
    members = {m.label: m for m in iter_export(data, "s.zip", ZipLimits(max_member_bytes=5000))}
    assert members["s.zip!/big.fit"].data is None and "larger than" in members["s.zip!/big.fit"].skip_reason
    assert members["s.zip!/small.fit"].data == b"abc"


def test_member_named_zip_that_is_not_a_zip() -> None:
    (member,) = list(iter_export(make_zip({"fake.zip": b"hello"}), "f.zip"))
    assert member.data is None and "not a zip" in member.skip_reason
