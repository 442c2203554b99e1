"""TCX reader: status of every real file, hand-checked values, extensions, several activities, faults."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from gutstride.ingest.activities.tcx import read_tcx
from gutstride.ingest.activities.xmlstream import UNSAFE_XML_MESSAGE
from gutstride.model.activity import STREAM_COLUMNS

ACTIVITIES = Path(__file__).parents[1] / "data" / "activities"
TCX_FILES = sorted(ACTIVITIES.rglob("*.tcx"))
TCXPARSER = ACTIVITIES / "tcx-python-tcxparser"

#: file name -> (status, activities, sport, laps, trackpoints); laps and trackpoints counted with grep
#: ("<Lap ", "<Trackpoint>"), sport from Activity@Sport.
EXPECTED = {
    "3173437224.tcx": ("ok", 1, "running", 2, 3507),
    "activity_4801048867.tcx": ("ok", 1, "cycling", 8, 5166),
    "activity_5039744860.tcx": ("ok", 1, "cycling", 5, 100),
    "no_hr.tcx": ("ok", 1, "running", 3, 384),
    "test.tcx": ("ok", 1, "running", 3, 384),
    "cross-country-skiing_activity_1.tcx": ("ok", 1, "other", 2, 486),
    "mapmyride_biking.tcx": ("ok", 1, "cycling", 1, 3112),
    "sup_activity_1.tcx": ("ok", 1, "other", 2, 111),
}


def test_expected_table_covers_every_tcx_file() -> None:
    assert sorted(p.name for p in TCX_FILES) == sorted(EXPECTED)


@pytest.mark.parametrize("path", TCX_FILES, ids=lambda p: p.name)
def test_every_real_file(path: Path) -> None:
    data = path.read_bytes()
    status, n, sport, laps, points = EXPECTED[path.name]
    decoded = read_tcx(data, path.name)
    assert (decoded.status, len(decoded.activities)) == (status, n), decoded.message
    activity = decoded.activities[0]
    assert (activity.summary.sport, len(activity.laps), activity.summary.n_records) == (sport, laps, points)
    assert data.count(b"<Lap ") == laps and data.count(b"<Trackpoint>") == points
    assert set(activity.stream) == set(STREAM_COLUMNS)
    assert np.all(np.diff(activity.stream["time"]) >= 0)


def test_tcxparser_test_file_hand_checked() -> None:
    """Values read off test.tcx by eye (first and last trackpoints, laps, creator)."""
    decoded = read_tcx((TCXPARSER / "test.tcx").read_bytes())
    activity = decoded.activities[0]
    stream, summary = activity.stream, activity.summary
    assert stream["hr"][0] == 62
    assert (stream["lat"][0], stream["lon"][0]) == (35.951880198, -79.0931872185)
    assert stream["altitude"][0] == 178.942626953
    assert stream["distance"][0] == 0.0
    # the last trackpoint (22:03:05) holds only a time; the one before it HR 180 and 4686.31103516 m
    assert np.isnan(stream["hr"][-1]) and stream["hr"][-2] == 180
    assert stream["distance"][-2] == 4686.31103516
    assert summary.start_time == datetime(2012, 12, 26, 21, 29, 53, tzinfo=UTC)
    assert summary.duration_s == (datetime(2012, 12, 26, 22, 3, 5) - datetime(2012, 12, 26, 21, 29, 53)).seconds
    assert summary.n_hr == 383  # 384 trackpoints, 383 HeartRateBpm elements
    assert summary.max_hr == 189
    assert summary.device == "Forerunner 410 Software Version 2.20"
    laps = activity.laps
    assert [lap["total_time_s"] for lap in laps] == [608.47, 714.80, 669.51]
    assert [lap["avg_hr"] for lap in laps] == [139, 172, 167]
    assert [lap["max_hr"] for lap in laps] == [189, 188, 180]
    assert laps[0]["distance_m"] == 1609.34399414
    assert laps[1]["start_time"] == datetime(2012, 12, 26, 21, 40, 2, tzinfo=UTC)


def test_tcxparser_no_hr_file_has_gaps_not_zeros() -> None:
    activity = read_tcx((TCXPARSER / "no_hr.tcx").read_bytes()).activities[0]
    assert np.isnan(activity.stream["hr"]).all()
    assert (activity.summary.n_hr, activity.summary.avg_hr, activity.summary.max_hr) == (0, None, None)


def _tcx(activities: str) -> bytes:
    return (
        '<?xml version="1.0"?><TrainingCenterDatabase '
        'xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2" '
        'xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2">'
        f"<Activities>{activities}</Activities></TrainingCenterDatabase>"
    ).encode()


def _tp(second: int, hr: int | None = None, ext: str = "", cadence: str = "") -> str:
    hr_xml = f"<HeartRateBpm><Value>{hr}</Value></HeartRateBpm>" if hr is not None else ""
    return (f"<Trackpoint><Time>2021-03-01T08:00:{second:02d}Z</Time><DistanceMeters>{second * 3.0}"
            f"</DistanceMeters>{hr_xml}{cadence}<Extensions>{ext}</Extensions></Trackpoint>")


def _activity(sport: str, points: str, lap_extra: str = "") -> str:
    return (f'<Activity Sport="{sport}"><Id>2021-03-01T08:00:00Z</Id><Lap StartTime="2021-03-01T08:00:00Z">'
            f"<TotalTimeSeconds>10</TotalTimeSeconds>{lap_extra}<Track>{points}</Track></Lap></Activity>")


def test_extensions_speed_watts_and_run_cadence() -> None:
    ext = "<ns3:TPX><ns3:Speed>3.5</ns3:Speed><ns3:Watts>240</ns3:Watts><ns3:RunCadence>88</ns3:RunCadence></ns3:TPX>"
    data = _tcx(_activity("Running", _tp(0, 150, ext) + _tp(1, 151, ext, "<Cadence>90</Cadence>")))
    stream = read_tcx(data).activities[0].stream
    np.testing.assert_array_equal(stream["speed"], [3.5, 3.5])
    np.testing.assert_array_equal(stream["power"], [240, 240])
    np.testing.assert_array_equal(stream["cadence"], [88, 90])  # RunCadence only where Cadence is absent
    np.testing.assert_array_equal(stream["hr"], [150, 151])


def test_several_activities_in_one_file() -> None:
    data = _tcx(_activity("Running", _tp(0, 140) + _tp(2, None) + _tp(4, 150)) + _activity("Biking", _tp(9, 120)))
    decoded = read_tcx(data)
    assert decoded.status == "ok"
    assert [a.summary.sport for a in decoded.activities] == ["running", "cycling"]
    run = decoded.activities[0]
    np.testing.assert_array_equal(run.stream["hr"], [140, np.nan, 150])
    assert (run.summary.avg_hr, run.summary.n_hr, run.summary.distance_m) == (145.0, 2, 12.0)


def test_lap_only_activity_is_summarised_from_laps() -> None:
    lap = ("<DistanceMeters>2000</DistanceMeters><AverageHeartRateBpm><Value>140</Value></AverageHeartRateBpm>"
           "<MaximumHeartRateBpm><Value>170</Value></MaximumHeartRateBpm>")
    data = _tcx(_activity("Running", "", lap))
    summary = read_tcx(data).activities[0].summary
    assert (summary.duration_s, summary.distance_m, summary.avg_hr, summary.max_hr) == (10.0, 2000.0, 140.0, 170.0)
    assert summary.start_time == datetime(2021, 3, 1, 8, tzinfo=UTC)


def test_truncated_file_is_partial_with_points_before_fault() -> None:
    data = (ACTIVITIES / "sweatpy" / "activity_5039744860.tcx").read_bytes()
    cut = data[: data.index(b"<Trackpoint>", len(data) // 2) + 30]
    decoded = read_tcx(cut)
    assert decoded.status == "partial"
    activity = decoded.activities[0]
    assert activity.summary.sport == "cycling"
    assert activity.stream["time"].size == cut.count(b"</Trackpoint>")
    full = read_tcx(data).activities[0].stream
    n = activity.stream["time"].size
    np.testing.assert_array_equal(activity.stream["hr"], full["hr"][:n])


def test_unsafe_and_foreign_xml() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE T [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
            b"<TrainingCenterDatabase>&b;</TrainingCenterDatabase>")
    assert (read_tcx(bomb).status, read_tcx(bomb).message) == ("error", UNSAFE_XML_MESSAGE)
    assert read_tcx(b"<gpx/>").status == "error"
    assert read_tcx(_tcx("")).message == "no activity in the TCX file"
