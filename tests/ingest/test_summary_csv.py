"""CSV activity summaries: column spellings, units, durations, dates, and bad rows reported by line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gutstride.ingest.activities.summary_csv import looks_like_summary_header, read_summary_csv

STRAVA = (
    "Activity ID,Activity Date,Activity Name,Activity Type,Activity Description,Elapsed Time,Distance,"
    "Max Heart Rate,Relative Effort,Commute,Elapsed Time,Moving Time,Distance,Max Speed,Average Heart Rate,"
    "Elevation Gain\n"
    '4801048867,"Apr 18, 2020, 11:10:44 AM",Rondje achterhoek,Ride,,5159,36.32,160.0,80,false,5159.0,4930.0,'
    "36322.85,12.4,130.0,79.0\n"
    '1,"Jan 2, 2021, 6:05:00 PM",Evening Run,Run,,1800,5.10,171.0,30,false,1800.0,1750.0,5100.0,4.1,150.5,12.0\n'
)


def test_strava_activities_csv() -> None:
    decoded = read_summary_csv(STRAVA.encode(), "activities.csv")
    assert decoded.status == "ok", decoded.warnings
    ride, run = (a.summary for a in decoded.activities)
    assert ride.start_time == datetime(2020, 4, 18, 11, 10, 44, tzinfo=UTC)
    assert (ride.sport, ride.name, ride.duration_s, ride.moving_time_s) == ("cycling", "Rondje achterhoek", 5159, 4930)
    assert ride.distance_m == pytest.approx(36320.0)  # first "Distance" column, km by its values
    assert (ride.max_hr, ride.avg_hr, ride.ascent_m) == (160.0, 130.0, 79.0)
    assert run.start_time == datetime(2021, 1, 2, 18, 5, tzinfo=UTC)
    assert run.sport == "running"
    assert any("taken as km" in w for w in decoded.warnings)
    assert any("without a time zone" in w for w in decoded.warnings)
    assert all(a.stream["time"].size == 0 for a in decoded.activities)


def test_garmin_style_with_units_and_hms_durations() -> None:
    data = (
        b"Activity Type;Date;Title;Distance (mi);Time;Avg HR;Max HR;Total Ascent\n"
        b"Trail Running;2023-06-01 06:30:00+02:00;Hills;6.2;1:02:03;148;175;420\n"
        b"Cycling;2023-06-02T18:00:00Z;Commute;10;45:30;;;\n"
    )
    decoded = read_summary_csv(data)
    assert decoded.status == "ok", decoded.warnings
    hills, commute = (a.summary for a in decoded.activities)
    assert hills.start_time == datetime(2023, 6, 1, 4, 30, tzinfo=UTC)
    assert (hills.sport, hills.duration_s, hills.avg_hr, hills.ascent_m) == ("trail_running", 3723.0, 148.0, 420.0)
    assert hills.distance_m == pytest.approx(6.2 * 1609.344)
    assert (commute.duration_s, commute.avg_hr, commute.max_hr) == (2730.0, None, None)


def test_bad_rows_are_reported_with_line_numbers() -> None:
    data = (
        b"start_time,sport,duration_min,distance_m,avg_hr\n"
        b"2024-01-01T10:00:00Z,run,30,5000,140\n"
        b"yesterday,run,30,5000,140\n"
        b"2024-01-03T10:00:00Z,run,thirty,5000,abc\n"
        b"\n"
        b",walk,10,800,90\n"
    )
    decoded = read_summary_csv(data)
    assert decoded.status == "partial"
    assert len(decoded.activities) == 2
    assert decoded.activities[0].summary.duration_s == 1800.0
    assert decoded.activities[1].summary.duration_s is None and decoded.activities[1].summary.avg_hr is None
    joined = "\n".join(decoded.warnings)
    assert "line 3: cannot read start time 'yesterday'" in joined
    assert "line 4: cannot read duration_s 'thirty'; cannot read avg_hr 'abc'" in joined
    assert "line 6: no start time" in joined


def test_not_a_summary() -> None:
    assert read_summary_csv(b"a,b,c\n1,2,3\n").status == "error"
    assert read_summary_csv(b"").status == "error"
    assert read_summary_csv(b"date,type\nnot a date,run\n").status == "error"
    assert not looks_like_summary_header("timestamp,heart_rate,distance")
    assert looks_like_summary_header("Date,Sport,Moving Time")
