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


# Header rows as Garmin Connect writes them in Danish and German, copied from real public exports (the column names
# are facts; the files carry no licence, so the rows below are written here, in the exports' number formats):
#   Danish 2025: github.com/Bjarke848/AI_TrainingPlanner @ 84a5fe31, Activities.csv
#   Danish 2020: github.com/HLasse/GarminRunStats @ 3cc462e8, Activities.csv
#   German 2022: github.com/PhilippPro/Running-App @ 1de66213, data/Activities.csv
# What the real files show: numbers are written with a decimal POINT and comma-grouped thousands in every language
# ("6.29" km, "4,509" kcal), pool swims and track runs are in metres ("1,500", "2,810"), "--" is a missing value,
# the Danish "Distance" header is spelled as in English, and the 2025 Danish "Tid" is hours:minutes ("1:02" for a
# run whose "Tidsforbrug" is 01:01:18).
DANISH_2025 = (
    "Aktivitetstype,Dato,Favorit,Titel,Distance,Kalorier,Tid,Gennemsnitlig puls,Maks. puls,Aerob TE,"
    "Gennemsnitlig svømmekadence,Maksimum svømmekadence,Gennemsnitstempo,Bedste tempo,Samlet stigning,"
    "Samlet nedstigning,Gennemsnitlig skridtlængde,Gennemsnitligt vertikalt forhold,Gennemsnitligt vertikalt udsving,"
    "Gennemsnitlig kontakt med jorden,Gennemsnitlig GCT-balance,Gennemsnitlig NJT,Normalized Power® (NP®),"
    "Training Stress Score®,Gennemsnitlig effekt,Maksimal effekt,Samlet antal svømmetag,Gennemsnitlig swolf,"
    "Gennemsnitlig hastighed for tag,Skridt,Samlet antal sæt,Afladning af Body Battery,Minimum temperatur,"
    "Dekompression,Tid for bedste omgang,Antal omgange,Maksimum temperatur,Gns. antal åndedrag,Min. antal åndedrag,"
    "Maks. antal åndedrag,Tid i bevægelse,Tidsforbrug,Minimum højde,Maksimal højde\n"
    'Løb,2025-06-02 07:10:00,false,"Aarhus Løb","12.34","950","1:05","155","178","3.5","165","185","5:20","4:10",'
    '"88","87","1.10","10.0","11.3","266","51.5% V / 48.5% H","5:18","407","0.0","400","622","--","--","--",'
    '"11,004","--","-15","--","Nej","00:06:08.5","3","--","36","18","51","01:04:40","01:05:20","35","80"\n'
    'Svøm i pool,2025-06-03 18:00:00,false,"Svøm i pool","1,250","420","0:41","130","160","2.2","--","--","2:40",'
    '"0:50","--","--","--","--","--","--","--","--","--","0.0","--","--","900","58","27","--","--","--","--",'
    '"Nej","00:00:18.3","15","--","--","--","--","00:36:00","00:41:30","--","--"\n'
    'Løb terræn,2025-01-04 10:00:00,false,"Syddjurs Løb terræn","3.58","699","0:47","169","196","3.6","102",'
    '"255","12:58","4:56","223","223","0.84","11.9","9.1","383","50.1% V / 49.9% H","12:01","329","0.0","199",'
    '"1,230","--","--","--","4,224","--","-12","--","Nej","00:08:08.6","4","--","38","24","44","00:33:53",'
    '"00:46:27","-7","52"\n'
)
DANISH_2020 = (
    "Aktivitetstype,Dato,Favorit,Titel,Distance,Kalorier,Tid,Gennemsnitlig puls,Maks. puls,Gennemsnit kadence løb,"
    "Maksimum kadence løb,Gennemsnitstempo,Bedste tempo,Højdeforøgelse,Højdereduktion,Gennemsnitlig skridtlængde,"
    "Gennemsnitligt vertikalt forhold,Gennemsnitligt vertikalt udsving,Training Stress Score®,Hårdhed,Flow,Bundtid,"
    "Minimum temperatur,Overfladeinterval,Dekompression,Tid for bedste omgang,Antal løb,Maksimum temperatur\n"
    'Løb,2020-03-02 15:05:08,false,"5k, og hjem","6.29","469","00:36:26","150","167","171","201","5:47","4:15",'
    '"69","68","1.01","0.0","0.0","0.0","0.0","0.0","0:00","0.0","0:00","Nej","01:46.70","7","0.0"\n'
)
GERMAN_2022 = (
    "Aktivitätstyp,Datum,Favorit,Titel,Distanz,Kalorien,Zeit,Ø Herzfrequenz,Maximale Herzfrequenz,"
    "Ø Schrittfrequenz (Laufen),Max. Schrittfrequenz (Laufen),Ø Pace,Beste Pace,Anstieg gesamt,Abstieg gesamt,"
    "Ø Schrittlänge,Durchschnittliches vertikales Verhältnis,Ø vertikale Bewegung,Ø Bodenkontaktzeit,"
    "Ø Schrittfrequenz (Laufen),Max. Schrittfrequenz (Laufen),Training Stress Score®,Ø Leistung,Max. Leistung,Grit,"
    "Flow,Ø Swolf,Ø Schlagrate,Wiederholungen insgesamt,Tauchzeit,Minimale Temperatur,Oberflächenpause,"
    "Dekompression,Beste Rundenzeit,Anzahl der Runden,Maximale Temperatur,Zeit in Bewegung,Verstrichene Zeit,"
    "Minimale Höhe,Maximale Höhe\n"
    'Laufen,2022-08-19 07:22:51,false,"Murnau Laufen","3.09","208","00:18:19","142","170","165","170","5:55",'
    '"5:01","74","65","1.02","0.0","0.0","0","0","0","0.0","0","0","0.0","0.0","0","0","0","0:00","0.0","0:00",'
    '"Nein","00:28.93","4","0.0","00:18:19","00:18:19","652","734"\n'
    'Laufen auf der Bahn,2022-04-29 07:08:31,false,"Bahn","2,810","162","00:12:06","166","187","168","203","4:18",'
    '"3:01","29","21","1.38","0.0","0.0","0","0","0","0.0","0","0","0.0","0.0","0","0","0","0:00","0.0","0:00",'
    '"Nein","04:35.86","2","0.0","00:11:52","00:12:49","445","457"\n'
    'Laufbandtraining,2022-08-12 18:11:14,false,"Laufbandtraining","2.01","122","00:11:33","134","148","165","170",'
    '"5:45","4:55","--","--","1.05","0.0","0.0","0","0","0","0.0","0","0","0.0","0.0","0","0","0","0:00","0.0",'
    '"0:00","Nein","00:02.07.2","3","0.0","00:11:29","00:11:33","--","--"\n'
)


def _read(text: str) -> list:
    head = text.encode()
    assert sniff_activity_format(head, "Activities.csv") == "csv"
    decoded = read_summary_csv(head, "Activities.csv", CPH)
    assert decoded.status == "ok", decoded.warnings
    return [a.summary for a in decoded.activities]


def test_danish_2025_export_layout() -> None:
    run, swim, trail = _read(DANISH_2025)
    # "12.34" is 12.34 km (a decimal point, as in every real export), not 1234 km nor 1.234 km.
    assert (run.sport, run.distance_m, run.avg_hr, run.max_hr, run.ascent_m) == (
        "running", pytest.approx(12_340.0), 155.0, 178.0, 88.0)
    # "Tid" 1:05 is hours:minutes here; the exact figures are in "Tid i bevægelse" and "Tidsforbrug".
    assert run.duration_s == 3900.0 and run.moving_time_s == 3880.0
    assert run.start_time == datetime(2025, 6, 2, 5, 10, tzinfo=UTC)
    assert (swim.sport, swim.distance_m, swim.duration_s) == ("swimming", pytest.approx(1250.0), 41 * 60.0)
    assert (trail.sport, trail.distance_m, trail.duration_s) == ("trail_running", pytest.approx(3580.0), 47 * 60.0)


def test_danish_2020_export_layout() -> None:
    (run,) = _read(DANISH_2020)
    assert (run.sport, run.distance_m, run.duration_s, run.avg_hr, run.max_hr, run.ascent_m) == (
        "running", pytest.approx(6290.0), 36 * 60 + 26.0, 150.0, 167.0, 69.0)


def test_german_2022_export_layout() -> None:
    run, track, treadmill = _read(GERMAN_2022)
    assert (run.sport, run.distance_m, run.duration_s, run.moving_time_s, run.avg_hr, run.max_hr, run.ascent_m) == (
        "running", pytest.approx(3090.0), 18 * 60 + 19.0, 18 * 60 + 19.0, 142.0, 170.0, 74.0)
    assert (track.sport, track.distance_m) == ("running", pytest.approx(2810.0))  # a track run is in metres
    assert (treadmill.sport, treadmill.distance_m, treadmill.ascent_m) == (
        "treadmill_running", pytest.approx(2010.0), None)


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


REAL_DECIMAL_COMMA = Path(__file__).parents[1] / "data" / "activities" / "garmin-connect-grunt" / "Activities.csv"


def _comma_number(cell: str) -> float | None:
    """A cell of the decimal-comma export as written ("3,40", "6.176"), read by hand: the test's reference."""
    return None if cell == "--" else float(cell.replace(".", "").replace(",", "."))


def test_real_export_with_decimal_commas() -> None:
    """A real export (rows copied from Romain-Thomas-Shef/grunt, MIT) with English headers but the account's
    decimal commas: 3,40 km, 6.176 kcal, 00:01:39,6 laps. Numbers follow the account's number format, not its
    language: a decimal comma must be recognised from the cells themselves."""
    import csv

    rows = list(csv.DictReader(REAL_DECIMAL_COMMA.open(encoding="utf-8", newline="")))
    decoded = read_summary_csv(REAL_DECIMAL_COMMA.read_bytes(), "Activities.csv", CPH)
    assert decoded.status == "ok", decoded.warnings
    assert len(decoded.activities) == len(rows) == 13
    for row, activity in zip(rows, decoded.activities, strict=True):
        summary = activity.summary
        hours, minutes, seconds = (float(p) for p in row["Time"].split(":"))
        assert summary.distance_m == pytest.approx(_comma_number(row["Distance"]) * 1000)
        assert summary.duration_s == hours * 3600 + minutes * 60 + seconds
        assert summary.avg_hr == _comma_number(row["Avg HR"]) and summary.max_hr == _comma_number(row["Max HR"])
        assert summary.ascent_m == _comma_number(row["Total Ascent"])
        local = datetime.fromisoformat(row["Date"]).replace(tzinfo=CPH)
        assert summary.start_time == local.astimezone(UTC)
    first, ultra = decoded.activities[0].summary, decoded.activities[-3].summary
    assert (first.sport, first.distance_m, first.duration_s) == ("treadmill_running", pytest.approx(3400.0), 1021.0)
    assert ultra.sport == "running"  # Garmin's "Ultra Running"
    assert ultra.distance_m == pytest.approx(79_130.0)  # "79,13": not 7913 km


# Garmin writes no unit: a US account's export lists miles (the real English 2017 export of kennethajensen/Running:
# "PNC Bears 5k" is 3.11, a 5.05 run takes 41:06 at cadence 167 and stride 1.19 m, i.e. 8.1 km = 5.05 mi), a
# metric account's lists km (keanegleeson/kdf-marathon-2026: 6.71 at cadence 157, stride 1.12 m over 38:03 = 6.7 km).
# Only their headers are copied; the rows are written here with numbers of the same kind.
MILES_2017 = (
    "Activity Type,Date,Favorite,Title,Distance,Calories,Time,Avg HR,Max HR,Aerobic TE,Avg Cadence,Max Cadence,"
    "Avg Pace,Best Pace,Elev Gain,Elev Loss,Avg Stride Length\n"
    'running,2017-07-11 07:06:21,false,"Morning Running","5.05","521","41:06","--","--","0.0","167","228","8:09",'
    '"4:44","52","55","1.19"\n'
    'running,2017-07-09 09:47:33,false,"Long Running","10.01","1,067","1:23:03","--","--","0.0","166","175","8:18",'
    '"4:47","65","65","1.17"\n'
    'street_running,2017-06-24 08:00:47,false,"5k race","3.11","327","21:05","--","--","0.0","179","190","6:47",'
    '"5:27","36","38","1.32"\n'
)
METRIC_2026 = (
    "Activity Type,Date,Favorite,Title,Distance,Calories,Time,Avg HR,Max HR,Aerobic TE,Avg Run Cadence,"
    "Max Run Cadence,Avg Pace,Best Pace,Total Ascent,Total Descent,Avg Stride Length,Training Stress Score®,Steps,"
    "Decompression,Best Lap Time,Number of Laps,Moving Time,Elapsed Time,Min Elevation,Max Elevation\n"
    'Running,2026-04-23 08:04:14,false,"Easy","6.71","513","00:38:13","150","173","2.6","157","210","5:42","3:08",'
    '"2","3","1.12","0.0","6,060","No","00:00:14.7","14","00:38:03","00:39:20","139","144"\n'
    'Running,2026-04-22 12:02:37,false,"Steady","9.46","681","00:45:04","160","185","3.3","166","188","4:46","3:35",'
    '"22","23","1.26","0.0","7,472","No","00:00:30.2","11","00:44:59","00:47:40","140","150"\n'
    'Running,2026-04-21 11:56:34,false,"Easy","7.68","563","00:40:14","149","168","2.8","164","186","5:15","3:44",'
    '"15","15","1.16","0.0","6,600","No","00:03:34.3","8","00:40:10","00:41:52","136","150"\n'
)


@pytest.mark.parametrize(("text", "metres"), [(MILES_2017, 1609.344), (METRIC_2026, 1000.0)], ids=["miles", "km"])
def test_distance_unit_from_strides(text: str, metres: float) -> None:
    import csv

    decoded = read_summary_csv(text.encode(), "Activities.csv", CPH)
    assert decoded.status == "ok", decoded.warnings
    rows = list(csv.DictReader(text.splitlines()))
    assert [a.summary.distance_m for a in decoded.activities] == [
        pytest.approx(float(r["Distance"]) * metres) for r in rows]
    unit = "miles" if metres > 1000 else "km"
    assert any(f"taken as {unit} from the runs' steps and stride length" in w for w in decoded.warnings)
    ascent = "Elev Gain" if "Elev Gain" in rows[0] else "Total Ascent"
    feet = 0.3048 if unit == "miles" else 1.0  # statute units list elevation in feet
    assert [a.summary.ascent_m for a in decoded.activities] == [pytest.approx(float(r[ascent]) * feet) for r in rows]
    assert any("taken as feet" in w for w in decoded.warnings) == (unit == "miles")


# The header of a real swimmer's export that holds nothing but pool swims (23Flo/swimanalyser @ d5b8f9f3,
# Activities.csv; no licence: the header only, rows written here): every distance in metres ("1,200", "850").
POOL_ONLY = (
    "Activity Type,Date,Favorite,Title,Distance,Calories,Time,Avg HR,Max HR,Aerobic TE,Avg Pace,Best Pace,"
    "Training Stress Score®,Total Strokes,Avg. Swolf,Avg Stroke Rate,Decompression,Best Lap Time,Number of Laps,"
    "Moving Time,Elapsed Time\n"
    'Pool Swim,2026-04-17 15:24:47,false,"Pool Swim","1,250","450","00:43:20","151","180","3.2","2:03","1:11","0.0",'
    '"567","43","23","No","00:00:02.4","30","00:24:41","00:47:20"\n'
    'Pool Swim,2026-04-13 19:51:30,false,"Pool Swim","850","299","00:30:37","141","163","2.6","1:57","1:17","0.0",'
    '"352","40","21","No","00:00:14.8","28","00:16:34","00:31:38"\n'
)


def test_an_export_of_pool_swims_only() -> None:
    decoded = read_summary_csv(POOL_ONLY.encode(), "Activities.csv", CPH)
    assert decoded.status == "ok", decoded.warnings
    first, second = (a.summary for a in decoded.activities)
    assert (first.sport, first.distance_m, first.duration_s, first.moving_time_s) == (
        "swimming", 1250.0, 43 * 60 + 20.0, 24 * 60 + 41.0)
    assert second.distance_m == 850.0
