"""Dispatch: sniffing, gzip (bounded), routing, and one activity read from FIT, TCX and two GPX files."""

from __future__ import annotations

import gzip
from pathlib import Path

import fitdecode
import numpy as np
import pytest

from gutstride.ingest.activities.dispatch import (
    NOT_ACTIVITY,
    decode_activity,
    gunzip_bounded,
    sniff_activity_format,
)

ACTIVITIES = Path(__file__).parents[1] / "data" / "activities"
SWEATPY = ACTIVITIES / "sweatpy"
SAME_ACTIVITY = ["4801048867.fit", "activity_4801048867.tcx", "activity_4801048867.gpx", "4801048867_strava.gpx"]


def _fitdecode_hr(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(time, hr) of every record message, read with fitdecode (the reference decoder)."""
    times, hrs = [], []
    with fitdecode.FitReader(str(path)) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "record":
                times.append(frame.get_value("timestamp").timestamp())
                hr = frame.get_value("heart_rate", fallback=None)
                hrs.append(np.nan if hr is None else float(hr))
    return np.array(times), np.array(hrs)


def test_same_activity_in_four_files_gives_same_hr_series_and_start() -> None:
    ref_time, ref_hr = _fitdecode_hr(SWEATPY / "4801048867.fit")
    assert ref_time.size == 5159
    for name in SAME_ACTIVITY:
        decoded = decode_activity((SWEATPY / name).read_bytes(), name)
        assert decoded.status == "ok", (name, decoded.message)
        assert len(decoded.activities) == 1
        activity = decoded.activities[0]
        stream = activity.stream
        assert activity.summary.start_time is not None
        assert activity.summary.start_time.timestamp() == ref_time[0], name
        # TCX repeats the trackpoint at each of its 7 lap boundaries; every other file has one sample per record
        times, first = np.unique(stream["time"], return_index=True)
        np.testing.assert_array_equal(times, ref_time, err_msg=name)
        np.testing.assert_array_equal(stream["hr"][first], ref_hr, err_msg=name)
        assert activity.summary.n_hr == np.sum(stream["hr"] > 0)
        assert activity.summary.max_hr == np.nanmax(ref_hr)


@pytest.mark.parametrize("name", SAME_ACTIVITY[1:] + ["test.tcx"])
def test_gzipped_files_decode_like_plain_ones(name: str) -> None:
    path = next(ACTIVITIES.rglob(name))
    plain = decode_activity(path.read_bytes(), path.name)
    zipped = decode_activity(gzip.compress(path.read_bytes()), path.name + ".gz")
    assert (zipped.format, zipped.status) == (plain.format, plain.status)
    np.testing.assert_array_equal(zipped.activities[0].stream["hr"], plain.activities[0].stream["hr"])


def test_gzip_limit_refuses_large_output() -> None:
    bomb = gzip.compress(b"\0" * 100_000)
    with pytest.raises(ValueError, match="limit"):
        gunzip_bounded(bomb, limit=10_000)
    assert gunzip_bounded(bomb, limit=100_000) == b"\0" * 100_000
    two_members = gzip.compress(b"ab") + gzip.compress(b"cd")
    assert gunzip_bounded(two_members) == b"abcd"


def test_bad_gzip_is_an_error_not_a_crash() -> None:
    data = gzip.compress(b"<gpx></gpx>" * 100)
    truncated = decode_activity(data[: len(data) // 2], "x.gpx.gz")
    assert (truncated.status, truncated.message) == ("error", "truncated gzip data")
    corrupt = decode_activity(data[:10] + b"\xff" * 20, "x.gpx.gz")
    assert corrupt.status == "error" and "gzip" in corrupt.message


@pytest.mark.parametrize(("head", "name", "expected"), [
    (b"\x0e\x10\xd9\x07\x00\x00\x00\x00.FIT\x00\x00", "a.bin", "fit"),
    (b'<?xml version="1.0"?>\n<gpx version="1.1">', "a.xml", "gpx"),
    (b"\xef\xbb\xbf<?xml version='1.0'?><!-- c --><g:gpx xmlns:g='x'>", "", "gpx"),
    (b'<?xml version="1.0"?><TrainingCenterDatabase xmlns="x">', "a.txt", "tcx"),
    (b"Activity ID,Activity Date,Activity Name,Activity Type,Elapsed Time\n1,x", "activities.csv", "csv"),
    (b"timestamp,heart_rate,distance\n1,2,3", "records.csv", None),
    (b"hello world", "notes.txt", None),
    (b"<kml></kml>", "a.kml", None),
    (b"garbage", "broken.fit", "fit"),  # a .fit name is trusted so the FIT reader can say what is wrong
    (b"garbage", "broken.gpx.gz", "gpx"),
])
def test_sniff(head: bytes, name: str, expected: str | None) -> None:
    assert sniff_activity_format(head, name) == expected


def test_unknown_content() -> None:
    decoded = decode_activity(b"just some text", "notes.txt")
    assert (decoded.format, decoded.status, decoded.message) == ("unknown", "error", NOT_ACTIVITY)


def test_fit_is_routed_to_the_fit_reader() -> None:
    decoded = decode_activity((SWEATPY / "4801048867.fit").read_bytes(), "4801048867.fit")
    assert decoded.format == "fit"


def test_csv_summary_is_routed() -> None:
    data = b"Date,Type,Duration,Distance (km)\n2024-05-01T07:00:00Z,Run,00:30:00,5.0\n"
    decoded = decode_activity(data, "log.csv")
    assert decoded.format == "csv" and decoded.status == "ok"
    assert decoded.activities[0].summary.distance_m == 5000.0
