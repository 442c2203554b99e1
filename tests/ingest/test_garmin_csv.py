"""Garmin Connect's Activities.csv: pool swims in metres, ``--`` nulls, local times, Danish and German headers;
a mood diary is not an activity file; local times use the workspace time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gutstride.errors import BadInputError
from gutstride.ingest.activities.dispatch import NOT_ACTIVITY, decode_activity, sniff_activity_format
from gutstride.ingest.activities.summary_csv import read_summary_csv
from gutstride.services.athletes import workspace_athlete
from gutstride.services.importing import import_files
from gutstride.settings import load_settings, local_zone
from gutstride.store.activities import load_activities
from gutstride.store.workspace import Workspace

CPH = ZoneInfo("Europe/Copenhagen")

# The English header row Garmin Connect writes (column names as in its export), with a pool swim listed in metres,
# thousands grouped by commas, "--" for values it does not have, and local start times.
ENGLISH = (
    '"Activity Type","Date","Favorite","Title","Distance","Calories","Time","Avg HR","Max HR","Aerobic TE",'
    '"Avg Run Cadence","Total Ascent","Moving Time","Elapsed Time"\n'
    '"Running","2024-07-01 07:15:00","false","Morning Run","10.02","702","00:52:10","151","172","3.4","168",'
    '"85","00:51:40","00:53:02"\n'
    '"Pool Swim","2024-07-02 18:00:00","false","Pool Swim","843","250","00:25:14","--","--","--","--","--",'
    '"00:22:10","00:25:14"\n'
    '"Lap Swimming","2024-01-03 12:00:00","false","Lunch swim","1,500","395","00:35:00","128","150","2.1","--",'
    '"--","00:34:00","00:35:00"\n'
    '"Strength Training","2024-07-04 19:00:00","false","Gym","--","2,992","1:05:30","112","158","--","--","--",'
    '"--","1:05:30"\n'
)


def test_english_activities_csv_numbers() -> None:
    decoded = read_summary_csv(ENGLISH.encode(), "Activities.csv", CPH)
    assert decoded.status == "ok", decoded.warnings
    run, swim, winter_swim, gym = (a.summary for a in decoded.activities)
    assert run.distance_m == pytest.approx(10_020.0)
    assert swim.sport == "swimming" and swim.distance_m == pytest.approx(843.0)  # metres, not 843 km
    assert winter_swim.distance_m == pytest.approx(1500.0)  # "1,500" is grouped thousands
    assert gym.distance_m is None and gym.duration_s == 3930.0
    assert swim.avg_hr is None and swim.ascent_m is None  # "--" is missing, not an error
    assert not any(w.startswith("line ") for w in decoded.warnings)
    # Local times in the workspace zone: CEST (+2 h) in July, CET (+1 h) in January.
    assert run.start_time == datetime(2024, 7, 1, 5, 15, tzinfo=UTC) and run.local_offset_s == 7200
    assert winter_swim.start_time == datetime(2024, 1, 3, 11, 0, tzinfo=UTC) and winter_swim.local_offset_s == 3600
    assert "local time in Europe/Copenhagen" in decoded.message


DANISH = (
    '"Aktivitetstype","Dato","Favorit","Titel","Distance","Kalorier","Tid","Gns. puls","Maks. puls",'
    '"Samlet stigning"\n'
    '"Løb","2024-05-10 06:30:00","false","Morgenløb","12,35","850","1:01:05","149","176","1.120"\n'
    '"Svømning i pool","2024-05-11 17:00:00","false","Svømning","1.250","300","00:30:00","--","--","--"\n'
)
GERMAN = (
    '"Aktivitätstyp","Datum","Favorit","Titel","Distanz","Kalorien","Zeit","Ø Herzfrequenz",'
    '"Maximale Herzfrequenz","Anstieg gesamt"\n'
    '"Laufen","2024-05-10 06:30:00","false","Lauf","12,35","850","1:01:05","149","176","--"\n'
    '"Schwimmbadschwimmen","2024-05-11 17:00:00","false","Schwimmen","1.250","300","00:30:00","--","--","--"\n'
)


@pytest.mark.parametrize("text", [DANISH, GERMAN], ids=["danish", "german"])
def test_danish_and_german_headers_and_decimal_commas(text: str) -> None:
    head = text.encode()
    assert sniff_activity_format(head, "Activities.csv") == "csv"
    decoded = read_summary_csv(head, "Activities.csv", CPH)
    assert decoded.status == "ok", decoded.warnings
    run, swim = (a.summary for a in decoded.activities)
    assert (run.sport, run.distance_m, run.duration_s, run.avg_hr, run.max_hr) == (
        "running", pytest.approx(12_350.0), 3665.0, 149.0, 176.0
    )
    assert run.start_time == datetime(2024, 5, 10, 4, 30, tzinfo=UTC)
    assert (swim.sport, swim.distance_m) == ("swimming", pytest.approx(1250.0))


DAYLIO = (
    "full_date,date,weekday,time,mood,activities,note_title,note\n"
    '2024-05-10,May 10,Friday,21:13,good,"running | friends",,\n'
    "2024-05-09,May 9,Thursday,20:01,meh,work,,\n"
)


def test_mood_diary_is_not_an_activity_file() -> None:
    head = DAYLIO.encode()
    assert sniff_activity_format(head, "daylio_export.csv") is None
    decoded = decode_activity(head, "daylio_export.csv")
    assert decoded.status == "error"
    assert decoded.message.startswith(NOT_ACTIVITY) and "Daylio mood diary" in decoded.message


def test_time_zone_setting(tmp_path: Path) -> None:
    ws_path = tmp_path / "ws"
    ws_path.mkdir()
    (ws_path / "config.toml").write_text('time_zone = "Mars/Olympus"\n')
    with pytest.raises(BadInputError, match="not an IANA time zone"):
        load_settings(ws_path)
    (ws_path / "config.toml").write_text('time_zone = "America/New_York"\n')
    assert load_settings(ws_path)["time_zone"] == "America/New_York"
    assert local_zone("America/New_York") == ZoneInfo("America/New_York")
    ws = Workspace(ws_path, create=True)
    source = tmp_path / "Activities.csv"
    source.write_text(ENGLISH)
    records = import_files(ws, workspace_athlete(ws), [source], workers=1)
    assert [r.status for r in records] == ["ok"]
    assert "local time in America/New_York" in records[0].message
    frame = load_activities(ws, workspace_athlete(ws))
    first = frame.sort_values("start_time").iloc[0]
    # 2024-01-03 12:00 in New York (EST, -5 h) is 17:00 UTC.
    assert first["start_time"].replace(tzinfo=UTC) == datetime(2024, 1, 3, 17, 0, tzinfo=UTC)
