"""Apple Health export: workouts with sport, duration, distance, energy and heart rate; routes joined, never a
second activity; GI symptoms with severity; sleep; resting HR; the import summary; zip and bare export.xml.

The fixture is written from the documented layout of ``export.xml`` (Apple's DTD head, ``Record``,
``Correlation``, ``Workout`` with ``WorkoutStatistics`` and ``WorkoutRoute/FileReference``; route GPX as the
Health app writes them): no licensed real export was found (see tests/data/README.md).
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from gutstride.errors import BadInputError
from gutstride.ingest.apple_health import apple_epoch, export_member, read_apple_health, route_files, route_members
from gutstride.services.athletes import workspace_athlete
from gutstride.services.importing import import_files
from gutstride.store.activities import load_activities, load_stream
from gutstride.store.logs import load_entries
from gutstride.store.profile import load_profile
from gutstride.store.workspace import Workspace

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 14 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord)*)>
<!ATTLIST HealthData locale CDATA #REQUIRED>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record type CDATA #REQUIRED unit CDATA #IMPLIED value CDATA #IMPLIED sourceName CDATA #REQUIRED
  startDate CDATA #REQUIRED endDate CDATA #REQUIRED>
]>
<HealthData locale="en_GB">
 <ExportDate value="2024-02-01 09:00:00 +0100"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="1985-04-02" HKCharacteristicTypeIdentifierBiologicalSexFemale=""/>
"""
RUN_START = datetime(2024, 1, 15, 7, 0, tzinfo=UTC)  # 08:00 in Copenhagen (+0100)
RUN_HR = [120, 135, 142, 150, 155, 158, 160, 161, 157, 149]  # one every 3 minutes
RIDE_START = datetime(2024, 1, 20, 14, 0, tzinfo=UTC)
RIDE_HR = [110, 118, 125, 131, 138, 140]
OUTSIDE_HR = [(datetime(2024, 1, 15, 6, 50, tzinfo=UTC), 70), (datetime(2024, 1, 15, 8, 0, tzinfo=UTC), 90)]


def apple_date(moment: datetime, offset_h: int = 1) -> str:
    local = moment + timedelta(hours=offset_h)
    return local.strftime("%Y-%m-%d %H:%M:%S") + f" {'+' if offset_h >= 0 else '-'}{abs(offset_h):02d}00"


def hr_record(moment: datetime, value: float) -> str:
    stamp = apple_date(moment)
    return (f' <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Watch" unit="count/min" '
            f'creationDate="{stamp}" startDate="{stamp}" endDate="{stamp}" value="{value}">\n'
            '  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="2"/>\n </Record>\n')


def category(kind: str, start: datetime, end: datetime, value: str) -> str:
    return (f' <Record type="HKCategoryTypeIdentifier{kind}" sourceName="iPhone" startDate="{apple_date(start)}" '
            f'endDate="{apple_date(end)}" value="{value}"/>\n')


def export_xml() -> str:
    parts = [HEAD]
    for moment, value in OUTSIDE_HR:
        parts.append(hr_record(moment, value))
    parts += [hr_record(RUN_START + timedelta(minutes=3 * i + 1), v) for i, v in enumerate(RUN_HR)]
    parts += [hr_record(RIDE_START + timedelta(minutes=5 * i + 2), v) for i, v in enumerate(RIDE_HR)]
    for day, value in ((date(2024, 1, d), 50 + d % 5) for d in range(1, 31)):
        stamp = f"{day} 07:00:00 +0100"
        parts.append(f' <Record type="HKQuantityTypeIdentifierRestingHeartRate" sourceName="Watch" '
                     f'unit="count/min" startDate="{stamp}" endDate="{stamp}" value="{value}"/>\n')
    after_run = RUN_START + timedelta(hours=2)
    parts += [
        category("Bloating", after_run, after_run + timedelta(hours=1), "HKCategoryValueSeverityMild"),
        category("Bloating", after_run + timedelta(hours=3), after_run + timedelta(hours=4),
                 "HKCategoryValueSeverityModerate"),
        category("Diarrhea", after_run, after_run, "HKCategoryValueSeveritySevere"),
        category("Constipation", RIDE_START, RIDE_START, "HKCategoryValueSeverityMild"),
        category("Nausea", RIDE_START, RIDE_START, "HKCategoryValueSeverityUnspecified"),
        category("Heartburn", RIDE_START, RIDE_START, "HKCategoryValueSeverityNotPresent"),
    ]
    night = datetime(2024, 1, 14, 22, 0, tzinfo=UTC)  # 23:00 local, waking on the 15th
    parts += [
        category("SleepAnalysis", night - timedelta(minutes=30), night + timedelta(hours=8),
                 "HKCategoryValueSleepAnalysisInBed"),
        category("SleepAnalysis", night, night + timedelta(hours=3), "HKCategoryValueSleepAnalysisAsleepCore"),
        category("SleepAnalysis", night + timedelta(hours=3), night + timedelta(hours=3, minutes=20),
                 "HKCategoryValueSleepAnalysisAwake"),
        category("SleepAnalysis", night + timedelta(hours=3, minutes=20), night + timedelta(hours=7),
                 "HKCategoryValueSleepAnalysisAsleepDeep"),
        # The phone's overlapping record of the same sleep: counted once.
        category("SleepAnalysis", night + timedelta(hours=1), night + timedelta(hours=2),
                 "HKCategoryValueSleepAnalysisAsleepUnspecified"),
    ]
    parts.append(
        ' <Correlation type="HKCorrelationTypeIdentifierBloodPressure" sourceName="Cuff" '
        f'startDate="{apple_date(RUN_START)}" endDate="{apple_date(RUN_START)}">\n'
        '  <Record type="HKQuantityTypeIdentifierBloodPressureSystolic" sourceName="Cuff" unit="mmHg" '
        f'startDate="{apple_date(RUN_START)}" endDate="{apple_date(RUN_START)}" value="120"/>\n'
        ' </Correlation>\n'
    )
    run_end = RUN_START + timedelta(minutes=30, seconds=30)
    parts.append(
        ' <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="30.5" durationUnit="min" '
        f'sourceName="Watch" startDate="{apple_date(RUN_START)}" endDate="{apple_date(run_end)}">\n'
        '  <MetadataEntry key="HKIndoorWorkout" value="0"/>\n'
        '  <WorkoutEvent type="HKWorkoutEventTypeSegment" date="x" duration="10" durationUnit="min"/>\n'
        f'  <WorkoutStatistics type="HKQuantityTypeIdentifierHeartRate" startDate="{apple_date(RUN_START)}" '
        f'endDate="{apple_date(run_end)}" average="{np.mean(RUN_HR):.4f}" minimum="120" maximum="161" '
        'unit="count/min"/>\n'
        '  <WorkoutStatistics type="HKQuantityTypeIdentifierDistanceWalkingRunning" sum="5.12" unit="km"/>\n'
        '  <WorkoutStatistics type="HKQuantityTypeIdentifierActiveEnergyBurned" sum="1400" unit="kJ"/>\n'
        '  <WorkoutRoute sourceName="Watch">\n'
        '   <FileReference path="/workout-routes/route_2024-01-15_8.00am.gpx"/>\n'
        '  </WorkoutRoute>\n'
        ' </Workout>\n'
    )
    ride_end = RIDE_START + timedelta(minutes=30)
    parts.append(
        ' <Workout workoutActivityType="HKWorkoutActivityTypeCycling" duration="30" durationUnit="min" '
        'totalDistance="12.5" totalDistanceUnit="mi" totalEnergyBurned="300" totalEnergyBurnedUnit="kcal" '
        f'sourceName="Watch" startDate="{apple_date(RIDE_START)}" endDate="{apple_date(ride_end)}">\n'
        '  <MetadataEntry key="HKIndoorWorkout" value="1"/>\n'
        f'  <WorkoutStatistics type="HKQuantityTypeIdentifierHeartRate" average="150" maximum="170" '
        'unit="count/min"/>\n'
        ' </Workout>\n'
    )
    parts.append(' <ActivitySummary dateComponents="2024-01-15" activeEnergyBurned="500"/>\n</HealthData>\n')
    return "".join(parts)


def route_gpx(start: datetime, n: int) -> str:
    points = "".join(
        f'<trkpt lon="{12.55 + i * 0.0005:.6f}" lat="{55.67 + i * 0.0004:.6f}"><ele>{10 + i % 3}</ele>'
        f"<time>{(start + timedelta(seconds=20 * i)).strftime('%Y-%m-%dT%H:%M:%SZ')}</time>"
        "<extensions><speed>2.9</speed><course>45</course><hAcc>3.2</hAcc><vAcc>2.1</vAcc></extensions></trkpt>\n"
        for i in range(n)
    )
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="Apple Health Export" '
            'xmlns="http://www.topografix.com/GPX/1/1">\n<metadata><time>2024-01-15T07:00:00Z</time></metadata>\n'
            f"<trk><name>Route 2024-01-15 8:00am</name><trkseg>\n{points}</trkseg></trk>\n</gpx>\n")


ROUTE_POINTS = 60
LONE_ROUTE_START = datetime(2024, 1, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def export_zip(tmp_path: Path) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("apple_health_export/export.xml", export_xml())
        archive.writestr("apple_health_export/export_cda.xml", "<ClinicalDocument/>")
        archive.writestr("apple_health_export/workout-routes/route_2024-01-15_8.00am.gpx",
                         route_gpx(RUN_START + timedelta(seconds=10), ROUTE_POINTS))
        archive.writestr("apple_health_export/workout-routes/route_2024-01-25_10.00am.gpx",
                         route_gpx(LONE_ROUTE_START, 10))
    path = tmp_path / "export.zip"
    path.write_bytes(buffer.getvalue())
    return path


def test_apple_dates() -> None:
    assert apple_epoch("2024-01-15 08:00:00 +0100") == (RUN_START.timestamp(), 3600)
    assert apple_epoch("2024-07-01 03:30:00 -0530") == (datetime(2024, 7, 1, 9, 0, tzinfo=UTC).timestamp(), -19800)
    with pytest.raises(ValueError):
        apple_epoch("2024-01-15T08:00:00Z")


def test_read_export(export_zip: Path) -> None:
    with zipfile.ZipFile(export_zip) as archive, archive.open("apple_health_export/export.xml") as raw:
        routes = {info.filename: (lambda info=info: archive.read(info)) for info in archive.infolist()
                  if "workout-routes" in info.filename}
        bundle = read_apple_health(raw, routes)
    run, ride, lone = (a.summary for a in bundle.activities)
    assert (run.sport, ride.sport) == ("running", "indoor_cycling")
    assert run.start_time == RUN_START and run.local_offset_s == 3600
    assert (run.duration_s, ride.duration_s) == (1830.0, 1800.0)
    assert run.distance_m == pytest.approx(5120.0) and ride.distance_m == pytest.approx(12.5 * 1609.344)
    assert bundle.extras[0]["energy_kcal"] == pytest.approx(1400 / 4.184, abs=0.05)
    assert bundle.extras[1]["energy_kcal"] == 300
    # Heart rate: exactly the records inside each window (not the 70 and 90 bpm before and after the run).
    assert run.avg_hr == pytest.approx(np.mean(RUN_HR)) and run.max_hr == max(RUN_HR) and run.n_hr == len(RUN_HR)
    assert ride.avg_hr == pytest.approx(np.mean(RIDE_HR))
    # Apple's own average of the ride (150) is not the mean of its records (131.3): reported.
    assert bundle.counts["hr_mismatch"] == 1 and any("Apple's average 150" in w for w in bundle.warnings)
    # The route is joined to the run (positions and HR on one time axis), not a second activity.
    stream = bundle.activities[0].stream
    assert np.isfinite(stream["lat"]).sum() == ROUTE_POINTS and np.isfinite(stream["hr"]).sum() == len(RUN_HR)
    assert bool(np.all(np.diff(stream["time"]) >= 0))
    assert bundle.counts["routes_joined"] == 1
    # A route no workout names nor covers is kept as its own activity, and counted.
    assert bundle.counts["routes_alone"] == 1 and lone.start_time == LONE_ROUTE_START and lone.sport == "other"
    entries = {e.day: e for e in bundle.entries}
    run_day = entries[date(2024, 1, 15)]
    assert (run_day.bloating, run_day.urge_diarrhoea) == (6, 9)  # the most severe of the day
    ride_day = entries[date(2024, 1, 20)]
    assert ride_day.reflux == 0 and ride_day.nausea is None
    assert "constipation (mild)" in ride_day.notes and "nausea (severity not given)" in ride_day.notes
    assert run_day.sleep_hours == pytest.approx(6 + 40 / 60, abs=0.01)  # asleep 3 h + 3 h 40, overlap once
    assert bundle.resting_hr_recent() == pytest.approx(float(np.median([50 + d % 5 for d in range(2, 31)])))
    assert bundle.counts["symptom_records"] == 6 and bundle.counts["sleep_nights"] == 1
    assert "2 workouts (2 with heart rate from 16 of 18 HR records, 1 routes joined)" in bundle.headline


def test_import_zip_and_reimport(export_zip: Path, tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", create=True)
    records = import_files(ws, workspace_athlete(ws), [export_zip], workers=1)
    assert [(r.status, r.format, r.n_items) for r in records] == [("ok", "apple-health", 3)]
    assert "Apple Health export: 2 workouts" in records[0].message
    assert "profile resting HR set to" in records[0].message
    frame = load_activities(ws, workspace_athlete(ws)).sort_values("start_time")
    assert list(frame["sport"]) == ["running", "indoor_cycling", "other"]
    assert frame.iloc[0]["avg_hr"] == pytest.approx(np.mean(RUN_HR))
    stream = load_stream(ws, workspace_athlete(ws), int(frame.iloc[0]["id"]))
    assert np.isfinite(stream["lat"]).sum() == ROUTE_POINTS
    entries = {e.day: e for e in load_entries(ws, workspace_athlete(ws))}
    assert entries[date(2024, 1, 15)].bloating == 6
    expected_rest = float(np.median([50 + d % 5 for d in range(2, 31)]))
    assert load_profile(ws, workspace_athlete(ws)).resting_hr == pytest.approx(expected_rest)
    again = import_files(ws, workspace_athlete(ws), [export_zip], workers=1)
    assert [r.status for r in again] == ["duplicate"]
    assert len(load_activities(ws, workspace_athlete(ws))) == 3


def test_unzipped_folder_joins_routes_and_keeps_hand_logged_values(export_zip: Path, tmp_path: Path) -> None:
    folder = tmp_path / "apple_health_export"
    with zipfile.ZipFile(export_zip) as archive:
        archive.extractall(tmp_path)
    ws = Workspace(tmp_path / "ws", create=True)
    from gutstride.ingest.logs import entry_from_data
    from gutstride.store.logs import save_entries

    me = workspace_athlete(ws)
    with ws.session() as session:  # logged by hand before the import: it wins
        save_entries(ws, session, ws.athlete(session, me), [entry_from_data(date(2024, 1, 15), "", {"bloating": 2})],
                     "cli")
    assert set(route_files(folder / "export.xml")) == {str(p) for p in (folder / "workout-routes").glob("*.gpx")}
    records = import_files(ws, workspace_athlete(ws), [folder], workers=1)
    status = {Path(r.path).name: r.status for r in records}
    assert status["export.xml"] == "ok"
    assert status["route_2024-01-15_8.00am.gpx"] == "skipped"  # joined, never a second activity
    assert status["export_cda.xml"] == "skipped"
    assert len(load_activities(ws, workspace_athlete(ws))) == 3
    day = {e.day: e for e in load_entries(ws, workspace_athlete(ws))}[date(2024, 1, 15)]
    assert day.bloating == 2 and day.urge_diarrhoea == 9 and day.sleep_hours is not None


def test_broken_and_foreign_xml(tmp_path: Path) -> None:
    text = export_xml()
    with pytest.raises(BadInputError, match="broken XML"):
        read_apple_health(io.BytesIO(text[: len(text) // 2].encode()))
    with pytest.raises(BadInputError, match="not an Apple Health export"):
        read_apple_health(io.BytesIO(b"<gpx><trk/></gpx>"))
    bomb = ('<?xml version="1.0"?><!DOCTYPE HealthData [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
            '<HealthData><Record type="HKQuantityTypeIdentifierHeartRate" startDate="&b;" value="1"/></HealthData>')
    bundle = read_apple_health(io.BytesIO(bomb.encode()))  # entities are not expanded
    assert bundle.counts["hr_records"] == 0


def test_inspect_names_an_apple_export(tmp_path: Path) -> None:
    from gutstride.ingest.activities.dispatch import decode_activity

    decoded = decode_activity(export_xml().encode(), "export.xml")
    assert decoded.status == "error" and "an Apple Health export (read it with gutstride import)" in decoded.message


REAL = Path(__file__).parents[1] / "data" / "activities" / "apple-health-parser"


def _reference_sleep_hours(xml: Path) -> dict[date, float]:
    """Asleep seconds per wake-up day, read with ElementTree (a reference independent of the reader)."""
    import xml.etree.ElementTree as ET

    asleep = {"HKCategoryValueSleepAnalysisAsleep", "HKCategoryValueSleepAnalysisAsleepUnspecified",
              "HKCategoryValueSleepAnalysisAsleepCore", "HKCategoryValueSleepAnalysisAsleepDeep",
              "HKCategoryValueSleepAnalysisAsleepREM"}
    out: dict[date, float] = {}
    for record in ET.parse(xml).getroot().iter("Record"):
        if record.get("type") == "HKCategoryTypeIdentifierSleepAnalysis" and record.get("value") in asleep:
            start = datetime.strptime(record.get("startDate", ""), "%Y-%m-%d %H:%M:%S %z")
            end = datetime.strptime(record.get("endDate", ""), "%Y-%m-%d %H:%M:%S %z")
            out[end.date()] = out.get(end.date(), 0.0) + (end - start).total_seconds() / 3600
    return out


def test_real_export_excerpt() -> None:
    """A cut of a real export (apple-health-parser's test data, MIT): Apple Watch HR records with metadata
    entries, an in-bed and a core-sleep record, no workout."""
    import xml.etree.ElementTree as ET

    xml = REAL / "export.xml"
    bundle = read_apple_health(io.BytesIO(xml.read_bytes()))
    n_hr = sum(r.get("type") == "HKQuantityTypeIdentifierHeartRate" for r in ET.parse(xml).getroot().iter("Record"))
    assert bundle.counts["workouts"] == 0 and bundle.counts["hr_records"] == n_hr == 2
    expected = _reference_sleep_hours(xml)
    assert {e.day: e.sleep_hours for e in bundle.entries} == {d: round(h, 2) for d, h in expected.items()}
    assert expected == {date(2024, 1, 1): pytest.approx(750 / 3600)}  # 03:27:53 to 03:40:23; in bed not counted
    assert bundle.warnings == []


def test_real_export_zip_made_on_a_mac(tmp_path: Path) -> None:
    """The same export as a zip made by macOS (``apple_health_export/`` with ``__MACOSX/._*`` AppleDouble members):
    the AppleDouble files are neither the export nor routes."""
    source = REAL / "export.zip"
    with zipfile.ZipFile(source) as archive:
        assert any(n.startswith("__MACOSX/") for n in archive.namelist())
    bigger = tmp_path / "export.zip"
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(bigger, "w") as out:
        for info in archive.infolist():
            out.writestr(info, archive.read(info))
        out.writestr("__MACOSX/apple_health_export/workout-routes/._route_2024-01-01_1.01am.gpx", b"\x00\x05\x16\x07")
    with zipfile.ZipFile(bigger) as archive:
        assert route_members(archive) == {}
        info = export_member(archive)
        assert info is not None and info.filename == "apple_health_export/export.xml"
    ws = Workspace(tmp_path / "ws", create=True)
    records = import_files(ws, workspace_athlete(ws), [bigger], workers=1)
    assert [(r.status, r.format) for r in records] == [("ok", "apple-health")], records[0].message
    expected = _reference_sleep_hours(REAL / "export.xml")
    assert {e.day: e.sleep_hours for e in load_entries(ws, workspace_athlete(ws))} == {
        d: round(h, 2) for d, h in expected.items()}


def test_workout_elevation_from_metadata() -> None:
    """Newer exports give a workout's ascent only as metadata (``HKElevationAscended``, e.g. ``6900 cm``, as public
    parsers of real exports quote it) and its distance and energy only as WorkoutStatistics (no ``totalDistance``)."""
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_US">\n'
        ' <ExportDate value="2026-08-20 15:00:00 +0300"/>\n'
        ' <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="50.5" durationUnit="min"'
        ' sourceName="Apple Watch" startDate="2026-08-20 13:30:59 +0300" endDate="2026-08-20 14:21:28 +0300">\n'
        '  <MetadataEntry key="HKIndoorWorkout" value="0"/>\n'
        '  <MetadataEntry key="HKElevationAscended" value="6900 cm"/>\n'
        '  <WorkoutStatistics type="HKQuantityTypeIdentifierDistanceWalkingRunning"'
        ' startDate="2026-08-20 13:30:59 +0300" endDate="2026-08-20 14:21:28 +0300" sum="9.12" unit="km"/>\n'
        '  <WorkoutStatistics type="HKQuantityTypeIdentifierActiveEnergyBurned" startDate="2026-08-20 13:30:59 +0300"'
        ' endDate="2026-08-20 14:21:28 +0300" sum="612.5" unit="kcal"/>\n'
        ' </Workout>\n</HealthData>\n'
    )
    bundle = read_apple_health(io.BytesIO(xml.encode()))
    (run,) = (a.summary for a in bundle.activities)
    assert (run.sport, run.ascent_m, run.distance_m, run.duration_s) == ("running", 69.0, 9120.0, 50.5 * 60)
    assert bundle.extras[0]["energy_kcal"] == 612.5
