"""Google Fit Takeout, Runkeeper and Fitbit exports: sessions and hours right, rows joined to their GPX, local times
in the workspace time zone (Fitbit's are UTC), HR samples in each exercise window.

Fixtures are written from the documented layouts of these exports (Takeout's ``Fit/All Sessions`` JSON and
``Fit/Activities`` TCX; Runkeeper's ``cardioActivities.csv`` with its ``GPX File`` column; Fitbit's
``exercise-N.json`` and ``heart_rate-YYYY-MM-DD.json``, and heart-rate CSVs): no licensed real sample was found
(see tests/data/README.md).
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from gutstride.ingest.activities.tcx import read_tcx
from gutstride.ingest.container import FolderContainer
from gutstride.ingest.fitbit import read_fitbit
from gutstride.ingest.google_fit import is_google_fit, read_google_fit
from gutstride.ingest.health_exports import folder_exports
from gutstride.ingest.runkeeper import read_runkeeper
from gutstride.services.athletes import workspace_athlete
from gutstride.services.importing import import_files
from gutstride.store.activities import load_activities
from gutstride.store.workspace import Workspace

CPH = ZoneInfo("Europe/Copenhagen")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def trackpoints(start: datetime, n: int, step_s: int, hr0: int) -> str:
    return "".join(
        f"<Trackpoint><Time>{iso(start + timedelta(seconds=step_s * i))}</Time>"
        f"<Position><LatitudeDegrees>{55.6 + i * 1e-4:.5f}</LatitudeDegrees>"
        f"<LongitudeDegrees>{12.5 + i * 1e-4:.5f}</LongitudeDegrees></Position>"
        f"<DistanceMeters>{i * 10.0}</DistanceMeters><HeartRateBpm><Value>{hr0 + i % 20}</Value></HeartRateBpm>"
        "</Trackpoint>"
        for i in range(n)
    )


def segment(sport: str, start: datetime, points: str) -> str:
    return (f'<Activity Sport="{sport}"><Id>{iso(start)}</Id><Lap StartTime="{iso(start)}">'
            f"<TotalTimeSeconds>0</TotalTimeSeconds><Track>{points}</Track></Lap></Activity>")


def google_tcx(segments: list[str]) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?><TrainingCenterDatabase '
            'xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"><Activities>'
            + "".join(segments) + "</Activities><Author><Name>Google Fit</Name></Author></TrainingCenterDatabase>")


# (start, duration s, Google's fitnessActivity, distance m)
SESSIONS = [
    (datetime(2021, 3, 1, 6, 30, tzinfo=UTC), 1800.0, "running", 5012.5),
    (datetime(2021, 3, 3, 17, 0, tzinfo=UTC), 3600.0, "biking", 20110.0),
    (datetime(2021, 3, 6, 8, 0, tzinfo=UTC), 2700.0, "walking", 3900.0),
]
LONE_START = datetime(2021, 3, 9, 7, 0, tzinfo=UTC)


def takeout_members() -> dict[str, str]:
    members = {}
    for start, duration, activity, distance in SESSIONS:
        stem = start.strftime("%Y-%m-%dT%H_%M_%S+00_00") + f"_{activity.upper()}"
        members[f"Takeout/Fit/All Sessions/{stem}.json"] = json.dumps({
            "fitnessActivity": activity, "startTime": iso(start), "endTime": iso(start + timedelta(seconds=duration)),
            "duration": f"{duration:.3f}s",
            "segment": [{"fitnessActivity": activity, "startTime": iso(start),
                         "endTime": iso(start + timedelta(seconds=duration))}],
            "aggregate": [{"metricName": "com.google.distance.delta", "floatValue": distance},
                          {"metricName": "com.google.calories.expended", "floatValue": 321.5},
                          {"metricName": "com.google.step_count.delta", "intValue": 5000}],
        })
        half = int(duration // 2)
        sport = "Biking" if activity == "biking" else "Running" if activity == "running" else "Other"
        members[f"Takeout/Fit/Activities/{stem}.tcx"] = google_tcx([
            segment(sport, start - timedelta(hours=2), trackpoints(start - timedelta(hours=2), 1, 1, 70)),  # stale
            segment(sport, start, trackpoints(start, half // 10, 10, 120)),
            segment(sport, start + timedelta(seconds=half), trackpoints(start + timedelta(seconds=half),
                                                                       half // 10, 10, 130)),
        ])
    members["Takeout/Fit/Activities/2021-03-09T07_00_00+00_00_RUNNING.tcx"] = google_tcx([
        segment("Running", LONE_START - timedelta(hours=2), trackpoints(LONE_START - timedelta(hours=2), 1, 1, 70)),
        segment("Running", LONE_START, trackpoints(LONE_START, 121, 10, 140)),
    ])
    members["Takeout/Fit/Daily activity metrics/Daily activity metrics.csv"] = "Date,Move Minutes count\n"
    return members


class Members:
    """An export container over in-memory files (what ``ZipContainer`` and ``FolderContainer`` offer)."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.label = "<in memory>"

    def names(self) -> list[str]:
        return sorted(self.files)

    def read(self, name: str) -> bytes:
        return self.files[name]


def write_folder(root: Path, members: dict[str, str]) -> Path:
    for name, text in members.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return root


def write_zip(path: Path, members: dict[str, str]) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    path.write_bytes(buffer.getvalue())
    return path


def test_google_fit_sessions_and_hours(tmp_path: Path) -> None:
    members = takeout_members()
    # What one-activity-per-segment gave: every <Activity> an activity, stale points included.
    per_segment = [a for n, t in members.items() if n.endswith(".tcx") for a in read_tcx(t.encode()).activities]
    assert len(per_segment) == 11
    bundle = read_google_fit(FolderContainer(write_folder(tmp_path / "t", members) / "Takeout"))
    assert bundle.counts["sessions"] == 3 and len(bundle.activities) == 4
    lone_seconds = 120 * 10  # the TCX without a session: its stale point dropped
    hours = sum(a.summary.duration_s or 0 for a in bundle.activities) / 3600
    assert hours == pytest.approx((sum(s[1] for s in SESSIONS) + lone_seconds) / 3600)
    run, ride, walk, lone = (a.summary for a in bundle.activities)
    assert (run.sport, ride.sport, walk.sport) == ("running", "cycling", "walking")
    assert run.start_time == SESSIONS[0][0] and run.duration_s == 1800.0 and run.distance_m == 5012.5
    assert lone.start_time == LONE_START and lone.duration_s == lone_seconds
    run_stream = bundle.activities[0].stream
    assert run_stream["time"].min() >= SESSIONS[0][0].timestamp()  # the stale point 2 h early is dropped
    assert run.n_hr == 2 * 90 and run.avg_hr == pytest.approx(np.mean(run_stream["hr"]))
    assert bundle.extras[0]["energy_kcal"] == 321.5
    assert "3 sessions" in bundle.headline and f"{hours:.1f} h" in bundle.headline


def test_google_fit_sleep_sessions_and_lower_case_folder(tmp_path: Path) -> None:
    """Real Takeouts also spell the folder ``Fit/All sessions`` and file sleep there as sessions
    (``"fitnessActivity": "sleep"``, a night of ~8 h, ``..._SLEEP.json``): not training, never an activity."""
    members = {n.replace("All Sessions", "All sessions"): t for n, t in takeout_members().items()}
    night = datetime(2021, 3, 1, 22, 0, tzinfo=UTC)
    members["Takeout/Fit/All sessions/2021-03-01T22_00_00+00_00_SLEEP.json"] = json.dumps({
        "fitnessActivity": "sleep", "startTime": iso(night), "endTime": iso(night + timedelta(hours=8)),
        "duration": "28800s", "segment": [{"fitnessActivity": "sleep.awake", "startTime": iso(night),
                                           "endTime": iso(night + timedelta(minutes=5))}],
    })
    bundle = read_google_fit(FolderContainer(write_folder(tmp_path / "t", members) / "Takeout"))
    assert bundle.counts["sessions"] == 3 and bundle.counts["sleep_sessions"] == 1
    assert [a.summary.sport for a in bundle.activities][:3] == ["running", "cycling", "walking"]
    hours = sum(a.summary.duration_s or 0 for a in bundle.activities) / 3600
    assert hours == pytest.approx((sum(s[1] for s in SESSIONS) + 120 * 10) / 3600)


def test_google_fit_localised_folders(tmp_path: Path) -> None:
    """A Takeout in another language translates the folder names (a Korean one has ``모든 세션`` for All Sessions)
    and the activity in the TCX names (a French one: ``2018-10-28T14_30_31.734+01_00_PT22M11.176S_Marche_.tcx``);
    the session files keep their timestamped names. Read all the same, by those names under ``Fit``."""
    renamed = {}
    for name, text in takeout_members().items():
        name = name.replace("All Sessions", "모든 세션").replace("/Activities/", "/Activités/")
        renamed[name.replace("_RUNNING.tcx", "_PT30M0S_Course à pied_.tcx")] = text
    bundle = read_google_fit(FolderContainer(write_folder(tmp_path / "t", renamed) / "Takeout"))
    assert bundle.counts["sessions"] == 3 and bundle.counts["tcx"] == 4 and len(bundle.activities) == 4
    assert is_google_fit(list(renamed))
    assert folder_exports([tmp_path / "t" / n for n in renamed]) == {tmp_path / "t" / "Takeout" / "Fit": "google-fit"}


def test_google_fit_takeout_zip_imports_as_one(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", create=True)
    archive = write_zip(tmp_path / "takeout-20210401T000000Z-001.zip", takeout_members())
    records = import_files(ws, workspace_athlete(ws), [archive], workers=1)
    assert [(r.status, r.format, r.n_items) for r in records] == [("ok", "google-fit", 4)]
    assert len(load_activities(ws, workspace_athlete(ws))) == 4


RUNKEEPER_CSV = (
    "Activity Id,Date,Type,Route Name,Distance (km),Duration,Average Pace,Average Speed (km/h),Calories Burned,"
    "Climb (m),Average Heart Rate (bpm),Friend's Tagged,Notes,GPX File\n"
    "a1,2019-06-01 07:30:00,Running,,10.02,52:10,5:12,11.52,702,85,151,,,2019-06-01-073000.gpx\n"
    "a2,2019-06-03 18:05:00,Cycling,,25.4,1:02:03,2:27,24.56,650,210,,,,2019-06-03-180500.gpx\n"
    "a3,2019-06-05 12:00:00,Running,,5.0,25:00,5:00,12.0,350,,,,Treadmill,\n"
)


def runkeeper_gpx(start_utc: datetime, n: int) -> str:
    points = "".join(
        f'<trkpt lat="{55.6 + i * 1e-4:.5f}" lon="{12.5 + i * 1e-4:.5f}"><ele>10</ele>'
        f"<time>{(start_utc + timedelta(seconds=10 * i)).strftime('%Y-%m-%dT%H:%M:%SZ')}</time></trkpt>"
        for i in range(n)
    )
    return ('<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="Runkeeper - http://www.runkeeper.com" '
            f'xmlns="http://www.topografix.com/GPX/1/1"><trk><name>Running</name><trkseg>{points}</trkseg></trk></gpx>')


def runkeeper_members() -> dict[str, str]:
    # CSV times are local (Copenhagen, +2 h in summer); the GPX times are UTC.
    return {
        "cardioActivities.csv": RUNKEEPER_CSV,
        "2019-06-01-073000.gpx": runkeeper_gpx(datetime(2019, 6, 1, 5, 30, 2, tzinfo=UTC), 300),
        "2019-06-03-180500.gpx": runkeeper_gpx(datetime(2019, 6, 3, 16, 5, 1, tzinfo=UTC), 360),
        "measurements.csv": "Date,Weight\n",
    }


def test_runkeeper_rows_join_their_gpx(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "runkeeper-data-export-1", runkeeper_members())
    bundle = read_runkeeper(FolderContainer(root), CPH)
    assert len(bundle.activities) == 3 and bundle.counts["gpx_joined"] == 2 and bundle.counts["start_off"] == 0
    run, ride, treadmill = (a.summary for a in bundle.activities)
    assert run.start_time == datetime(2019, 6, 1, 5, 30, tzinfo=UTC) and run.local_offset_s == 7200
    assert run.distance_m == pytest.approx(10_020.0) and run.duration_s == 3130.0 and run.avg_hr == 151.0
    assert np.isfinite(bundle.activities[0].stream["lat"]).sum() == 300
    assert treadmill.start_time == datetime(2019, 6, 5, 10, 0, tzinfo=UTC)
    # Read in the wrong zone, the GPX starts two hours away from its row: said.
    wrong = read_runkeeper(FolderContainer(root), ZoneInfo("UTC"))
    assert wrong.counts["start_off"] == 2 and any("time_zone" in w for w in wrong.warnings)


# The header of an older real export (2017: no "Activity Id" nor "Friend's Tagged" column; GPX files named
# YYYY-MM-DD-HHMM.gpx), from mrsbighead/running-data @ f683a4a6, cardioActivities.csv (no licence: header only).
RUNKEEPER_2017_CSV = (
    "Date,Type,Route Name,Distance (km),Duration,Average Pace,Average Speed (km/h),Calories Burned,Climb (m),"
    "Average Heart Rate (bpm),Notes,GPX File\n"
    "2017-06-05 19:25:27,Running,,8.57,1:00:44,7:05,8.47,468.0,95,147,,2017-06-05-1925.gpx\n"
    "2017-01-30 15:39:20,Strength Training,,0.00,30:00,,,125.0,0,,,\n"
)


def test_runkeeper_2017_layout(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "runkeeper", {
        "cardioActivities.csv": RUNKEEPER_2017_CSV,
        "2017-06-05-1925.gpx": runkeeper_gpx(datetime(2017, 6, 5, 17, 25, 28, tzinfo=UTC), 300),
    })
    bundle = read_runkeeper(FolderContainer(root), CPH)
    assert bundle.counts == {"rows": 2, "gpx_joined": 1, "gpx_alone": 0, "start_off": 0}
    run, gym = (a.summary for a in bundle.activities)
    assert run.start_time == datetime(2017, 6, 5, 17, 25, 27, tzinfo=UTC)  # 19:25:27 in Copenhagen (CEST)
    assert (run.distance_m, run.ascent_m) == (pytest.approx(8570.0), 95.0)
    assert (gym.sport, gym.duration_s, gym.distance_m) == ("strength", 1800.0, 0.0)


# The header of a US account's export, in miles and feet, as public readers of real exports quote it (with an
# example row in a README: "abababab-...,2020-05-02 15:16:17,Walking,,0.70,12:31,17:17,3.36,62.0,3,,"","",
# 2020-05-02-151617.gpx").
RUNKEEPER_US_CSV = (
    "Activity Id,Date,Type,Route Name,Distance (mi),Duration,Average Pace,Average Speed (mph),Calories Burned,"
    "Climb (ft),Average Heart Rate (bpm),Friend's Tagged,Notes,GPX File\n"
    'ab12,2020-05-02 15:16:17,Walking,,0.70,12:31,17:17,3.36,62.0,30,,"","",\n'
)


def test_runkeeper_miles_and_feet(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "runkeeper", {"cardioActivities.csv": RUNKEEPER_US_CSV})
    (walk,) = (a.summary for a in read_runkeeper(FolderContainer(root), CPH).activities)
    assert walk.distance_m == pytest.approx(0.70 * 1609.344) and walk.ascent_m == pytest.approx(30 * 0.3048)
    assert walk.duration_s == 12 * 60 + 31


@pytest.mark.parametrize("as_zip", [True, False], ids=["zip", "folder"])
def test_runkeeper_import_stores_each_run_once(tmp_path: Path, as_zip: bool) -> None:
    ws_path = tmp_path / "ws"
    ws_path.mkdir()
    (ws_path / "config.toml").write_text('time_zone = "Europe/Copenhagen"\n')
    ws = Workspace(ws_path, create=True)
    members = runkeeper_members()
    source = (write_zip(tmp_path / "runkeeper-data-export.zip", members) if as_zip
              else write_folder(tmp_path / "runkeeper", members))
    records = import_files(ws, workspace_athlete(ws), [source], workers=1)
    export = [r for r in records if r.format == "runkeeper"]
    assert len(export) == 1 and export[0].status == "ok" and export[0].n_items == 3
    assert all(r.status == "skipped" for r in records if r is not export[0])  # the folder's files: read with it
    assert len(load_activities(ws, workspace_athlete(ws))) == 3


RUN_UTC = datetime(2019, 5, 1, 4, 30)
WALK_UTC = datetime(2019, 5, 1, 16, 0)


def _fitbit_bpm(t: datetime) -> int:
    """150 bpm during the run, 100 during the walk, 70 at rest: a wrong clock finds the resting rate."""
    if RUN_UTC <= t <= RUN_UTC + timedelta(minutes=30):
        return 150
    return 100 if WALK_UTC <= t <= WALK_UTC + timedelta(minutes=20) else 70


def fitbit_members(csv_layout: bool, exercises_local: bool = False) -> dict[str, str]:
    """A Fitbit export in the layouts seen in real ones (facts only; the files carry no licence): exercises in
    ``exercise-N.json`` with ``startTime`` as month/day/year without an offset (UTC in the export analysed in
    saubury/duckdb-fitbit; ``exercises_local`` writes them in Copenhagen time instead); heart rate in the classic
    ``Physical Activity/heart_rate-YYYY-MM-DD.json`` (``dateTime`` in UTC, saubury/duckdb-fitbit) or the Google-era
    ``Physical Activity_GoogleData/heart_rate_YYYY-MM-DD.csv`` (``timestamp,beats per minute``, ISO times ending in
    ``Z``, kev-m/FitOut), beside a heart-rate-variability file of the same prefix that is not heart rate."""
    shift = timedelta(hours=2) if exercises_local else timedelta(0)  # CEST
    exercises = [
        {"logId": 1, "activityName": "Run", "startTime": (RUN_UTC + shift).strftime("%m/%d/%y %H:%M:%S"),
         "duration": 1_800_000, "activeDuration": 1_790_000, "distance": 5.01, "distanceUnit": "Kilometer",
         "averageHeartRate": 150, "calories": 400, "logType": "auto_detected"},
        {"logId": 2, "activityName": "Walk", "startTime": (WALK_UTC + shift).strftime("%m/%d/%y %H:%M:%S"),
         "duration": 1_200_000, "distance": 1.2, "distanceUnit": "Mile", "averageHeartRate": 100, "calories": 120},
    ]
    start = datetime(2019, 5, 1, 4, 0)
    samples = [(t, _fitbit_bpm(t)) for t in (start + timedelta(seconds=15 * i) for i in range(4 * 60 * 14))]
    if csv_layout:
        rows = "".join(f"{t.isoformat()}Z,{bpm:.1f}\n" for t, bpm in samples)
        folder = "Takeout/Fitbit/Physical Activity_GoogleData/"
        return {"Takeout/Fitbit/Global Export Data/exercise-0.json": json.dumps(exercises),
                folder + "heart_rate_2019-05-01.csv": "timestamp,beats per minute\n" + rows,
                folder + "heart_rate_variability_2019-05-01.csv": "timestamp,rmssd\n2019-05-01T03:00:00Z,41.5\n"}
    return {
        "MyFitbitData/Ann/Physical Activity/exercise-0.json": json.dumps(exercises),
        "MyFitbitData/Ann/Physical Activity/heart_rate-2019-05-01.json": json.dumps(
            [{"dateTime": t.strftime("%m/%d/%y %H:%M:%S"), "value": {"bpm": bpm, "confidence": 2}}
             for t, bpm in samples]),
    }


@pytest.mark.parametrize("exercises_local", [False, True], ids=["exercises-utc", "exercises-local"])
@pytest.mark.parametrize("csv_layout", [False, True], ids=["classic", "google-era-csv"])
def test_fitbit_exercises_with_heart_rate(tmp_path: Path, csv_layout: bool, exercises_local: bool) -> None:
    """Heart rate is UTC; the exercises' clock (UTC in the one real export analysed, local in some accounts?) is
    the one under which their heart-rate samples agree with Fitbit's own averageHeartRate."""
    root = write_folder(tmp_path / "fitbit", fitbit_members(csv_layout, exercises_local))
    bundle = read_fitbit(FolderContainer(root), CPH)
    run, walk = (a.summary for a in bundle.activities)
    assert run.start_time == RUN_UTC.replace(tzinfo=UTC) and walk.start_time == WALK_UTC.replace(tzinfo=UTC)
    assert run.local_offset_s == 7200  # the workspace zone (CEST) gives the local day
    assert (run.sport, walk.sport) == ("running", "walking")
    assert run.duration_s == 1800.0 and run.distance_m == pytest.approx(5010.0)
    assert walk.distance_m == pytest.approx(1.2 * 1609.344)
    assert run.n_hr == 30 * 4 + 1 and run.avg_hr == 150.0 and walk.avg_hr == 100.0
    assert bundle.counts["hr_mismatch"] == 0 and bundle.extras[0]["energy_kcal"] == 400.0
    assert not any("variability" in w for w in bundle.warnings)  # not a heart-rate file: not read, not warned of
    assert bundle.counts["hr_samples"] == 4 * 60 * 14
    clock = "local time in Europe/Copenhagen" if exercises_local else "UTC"
    assert f"exercise times read as {clock}" in bundle.headline


def test_fitbit_google_era_export_with_both_heart_rate_formats(tmp_path: Path) -> None:
    """A Google-era export holds most streams twice: the classic JSON in ``Global Export Data`` and the CSV in
    ``Physical Activity_GoogleData`` (as described from a real July 2026 export in public code): the same
    heart-rate sample in both counts once."""
    members = fitbit_members(True)
    classic = fitbit_members(False)["MyFitbitData/Ann/Physical Activity/heart_rate-2019-05-01.json"]
    members["Takeout/Google Health/Global Export Data/heart_rate-2019-05-01.json"] = classic
    members = {n.replace("Takeout/Fitbit/", "Takeout/Google Health/"): t for n, t in members.items()}
    bundle = read_fitbit(FolderContainer(write_folder(tmp_path / "fitbit", members)), CPH)
    assert bundle.counts["hr_samples"] == 4 * 60 * 14 and bundle.counts["hr_duplicates"] == 4 * 60 * 14
    run = bundle.activities[0].summary
    assert run.n_hr == 30 * 4 + 1 and run.avg_hr == 150.0
    assert any("counted once" in w for w in bundle.warnings)


def test_a_google_fit_tcx_alone_is_one_activity() -> None:
    from gutstride.ingest.activities.dispatch import decode_activity

    name, text = next((n, t) for n, t in takeout_members().items() if n.endswith("RUNNING.tcx") and "03-01" in n)
    decoded = decode_activity(text.encode(), name.rsplit("/", 1)[-1])
    assert decoded.status == "ok" and len(decoded.activities) == 1
    summary = decoded.activities[0].summary
    assert summary.start_time == SESSIONS[0][0]  # the stale point 2 h early is dropped
    assert "3 <Activity> segments merged" in decoded.message and "1 stale points dropped" in decoded.message
