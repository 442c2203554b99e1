"""Apple Health import in bounded memory: a generated ~2 GB ``export.xml`` imported into a fresh workspace.

Data: the structure of a real export (Apple's DTD head, ``Me``, then per day: heart-rate records with their motion
context metadata, step-count and active-energy records, resting HR, sleep stages, a GI symptom every tenth day, and
one 30-minute run with ``WorkoutStatistics``; the records are written grouped by type, then the workouts, as the
Health app does), repeated day after day until the file reaches the size asked for. The file is written to a
temporary folder and deleted afterwards (``--keep`` keeps it).

Timed: ``import_files`` (hashing, streaming parse, HR windows, storing every workout with its stream, log entries)
in a child process, whose peak resident set size (``ru_maxrss`` of the child) is the figure checked against the
500 MB goal.

Run: ``.venv/bin/python bench/bench_apple_health.py [--gb 2.0] [--zip]``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import date, timedelta
from pathlib import Path

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 14 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord)*)>
<!ATTLIST HealthData locale CDATA #REQUIRED>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record type CDATA #REQUIRED unit CDATA #IMPLIED value CDATA #IMPLIED sourceName CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED device CDATA #IMPLIED creationDate CDATA #IMPLIED startDate CDATA #REQUIRED
  endDate CDATA #REQUIRED>
]>
<HealthData locale="en_GB">
 <ExportDate value="2026-01-01 09:00:00 +0100"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="1985-04-02" HKCharacteristicTypeIdentifierBiologicalSexFemale=""/>
"""
DEVICE = ("&lt;&lt;HKDevice: 0x28342d8b0&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, "
          "hardware:Watch6,1, software:10.1&gt;")
START = date(2019, 1, 1)


def _hms(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def day_records(day: date) -> str:
    """One day of records (heart rate, steps, energy, resting HR, sleep, sometimes a symptom)."""
    d = day.isoformat()
    out = []
    hr_at = [s for s in range(0, 86400, 300)] + list(range(7 * 3600, 7 * 3600 + 1800, 5))
    for i, s in enumerate(sorted(hr_at)):
        stamp = f"{d} {_hms(s)} +0100"
        out.append(
            f' <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Watch" sourceVersion="10.1" '
            f'device="{DEVICE}" unit="count/min" creationDate="{stamp}" startDate="{stamp}" endDate="{stamp}" '
            f'value="{60 + (i * 7) % 90}">\n'
            '  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="0"/>\n </Record>\n'
        )
    for s in range(6 * 3600, 22 * 3600, 120):
        a, b = f"{d} {_hms(s)} +0100", f"{d} {_hms(s + 60)} +0100"
        out.append(
            f' <Record type="HKQuantityTypeIdentifierStepCount" sourceName="iPhone" sourceVersion="17.1" '
            f'unit="count" creationDate="{b}" startDate="{a}" endDate="{b}" value="{(s // 120) % 113}"/>\n'
            f' <Record type="HKQuantityTypeIdentifierActiveEnergyBurned" sourceName="Watch" sourceVersion="10.1" '
            f'device="{DEVICE}" unit="kcal" creationDate="{b}" startDate="{a}" endDate="{b}" value="0.731"/>\n'
        )
    out.append(f' <Record type="HKQuantityTypeIdentifierRestingHeartRate" sourceName="Watch" unit="count/min" '
               f'startDate="{d} 07:00:00 +0100" endDate="{d} 07:00:00 +0100" value="{50 + day.day % 7}"/>\n')
    out.append(f' <Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="Watch" '
               f'startDate="{d} 00:10:00 +0100" endDate="{d} 06:40:00 +0100" '
               'value="HKCategoryValueSleepAnalysisAsleepCore"/>\n')
    if day.day % 10 == 0:
        out.append(f' <Record type="HKCategoryTypeIdentifierBloating" sourceName="iPhone" '
                   f'startDate="{d} 10:00:00 +0100" endDate="{d} 10:00:00 +0100" '
                   'value="HKCategoryValueSeverityModerate"/>\n')
    return "".join(out)


def workout(day: date) -> str:
    d = day.isoformat()
    return (
        ' <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="30" durationUnit="min" '
        f'sourceName="Watch" device="{DEVICE}" startDate="{d} 07:00:00 +0100" endDate="{d} 07:30:00 +0100">\n'
        '  <MetadataEntry key="HKIndoorWorkout" value="0"/>\n'
        f'  <WorkoutStatistics type="HKQuantityTypeIdentifierHeartRate" startDate="{d} 07:00:00 +0100" '
        f'endDate="{d} 07:30:00 +0100" average="104" minimum="60" maximum="149" unit="count/min"/>\n'
        '  <WorkoutStatistics type="HKQuantityTypeIdentifierDistanceWalkingRunning" sum="5.2" unit="km"/>\n'
        '  <WorkoutStatistics type="HKQuantityTypeIdentifierActiveEnergyBurned" sum="310" unit="kcal"/>\n'
        ' </Workout>\n'
    )


def generate(path: Path, target_bytes: int) -> int:
    """Write an export of about ``target_bytes``; return the number of days."""
    block = len(day_records(START).encode()) + len(workout(START).encode())
    days = max(1, target_bytes // block)
    with open(path, "w", encoding="utf-8") as out:
        out.write(HEAD)
        for i in range(days):
            out.write(day_records(START + timedelta(days=i)))
        for i in range(days):
            out.write(workout(START + timedelta(days=i)))
        out.write("</HealthData>\n")
    return int(days)


def import_only(path: Path, workspace: Path) -> None:
    """Child process: import ``path`` and print the record, the time and the peak RSS as JSON."""
    from gutstride.services.athletes import workspace_athlete
    from gutstride.services.importing import import_files
    from gutstride.store.workspace import Workspace

    ws = Workspace(workspace, create=True)
    started = time.perf_counter()
    cpu = time.process_time()
    records = import_files(ws, workspace_athlete(ws), [path], workers=1)
    print(json.dumps({
        "wall_s": time.perf_counter() - started, "cpu_s": time.process_time() - cpu,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "records": [(r.status, r.n_items, r.message[:300]) for r in records],
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gb", type=float, default=2.0, help="size of the generated export.xml in GB (1e9 bytes)")
    parser.add_argument("--zip", action="store_true", help="import it as export.zip (deflated) instead")
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    parser.add_argument("--import-only", nargs=2, metavar=("EXPORT", "WORKSPACE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.import_only:
        import_only(Path(args.import_only[0]), Path(args.import_only[1]))
        return
    tmp = Path(tempfile.mkdtemp(prefix="gutstride-bench-apple-"))
    xml = tmp / "apple_health_export" / "export.xml"
    xml.parent.mkdir()
    started = time.perf_counter()
    days = generate(xml, int(args.gb * 1e9))
    size = xml.stat().st_size
    print(f"generated {size / 1e9:.2f} GB, {days} days, in {time.perf_counter() - started:.0f} s: {xml}")
    target = xml
    if args.zip:
        target = tmp / "export.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            archive.write(xml, "apple_health_export/export.xml")
        xml.unlink()
        print(f"zipped to {target.stat().st_size / 1e9:.2f} GB")
    out = subprocess.run(
        [sys.executable, __file__, "--import-only", str(target), str(tmp / "ws")],
        capture_output=True, text=True, check=False,
    )
    if out.returncode != 0:
        print(out.stderr[-3000:])
        raise SystemExit(out.returncode)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"import: wall {result['wall_s']:.1f} s, cpu {result['cpu_s']:.1f} s, "
          f"peak RSS {result['max_rss_mb']:.0f} MB (goal < 500 MB); {size / 1e6 / result['wall_s']:.0f} MB/s")
    for status, n, message in result["records"]:
        print(f"  {status} ({n} activities): {message}")
    if result["max_rss_mb"] >= 500:
        print("GOAL MISSED: peak RSS above 500 MB")
    if not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
