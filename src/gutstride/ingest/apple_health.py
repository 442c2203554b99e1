"""Apple Health export (``export.zip`` from the Health app, or its ``export.xml``): workouts with their heart
rate and routes, GI symptoms, sleep and resting heart rate.

Real exports are 1-5 GB of XML, so ``export.xml`` is streamed with :func:`lxml.etree.iterparse`, and every
top-level element is cleared (and dropped from the root) once read: memory stays bounded whatever the file's size.
What is kept while reading is small: the workouts, the symptom, sleep and resting-HR records, and the heart-rate
records as two compact arrays (12 bytes per record: a float64 time and a float32 value; 10 million records take
120 MB).

What is read
------------
* ``<Workout>`` -> one :class:`~gutstride.model.activity.Activity`. ``workoutActivityType`` is mapped onto the
  sport vocabulary (:data:`SPORTS`; ``HKIndoorWorkout = 1`` makes a run a treadmill run and a ride an indoor
  ride); duration from ``duration``/``durationUnit`` (else end minus start); distance from ``totalDistance`` or
  the ``WorkoutStatistics`` of a distance type; energy (kcal) from ``totalEnergyBurned`` or the active-energy
  statistics (newer exports have no ``totalDistance`` nor ``totalEnergyBurned``: statistics only); ascent from the
  ``HKElevationAscended`` metadata (``6900 cm``).
* Heart rate: the ``HKQuantityTypeIdentifierHeartRate`` records whose time lies in a workout's
  ``[startDate, endDate]`` become its HR stream. Their mean is checked against the workout's
  ``WorkoutStatistics`` average heart rate: a difference above :data:`HR_CHECK_BPM` is reported. A workout with
  statistics but no records keeps Apple's average and maximum (and says so).
* Routes: the GPX named by a workout's ``<WorkoutRoute><FileReference path=...>`` is read and joined to it (its
  positions and the HR records are merged on one time axis); a route no workout names is joined to the workout
  whose window holds its first point. A route is never a second activity; one that matches no workout is imported
  as its own activity and counted as such.
* GI symptoms (category records, severity ``HKCategoryValueSeverity*``) become day log entries: bloating,
  abdominal cramps (``cramps``), diarrhoea (``urge_diarrhoea``), nausea, heartburn (``reflux``) on the log's
  0-10 scale by :data:`SEVERITY_SCORE` (not present 0, mild 3, moderate 6, severe 9; "unspecified" is present
  without a score). Constipation and vomiting have no log field: they are written in the day's notes with their
  severity, as are unspecified severities. Several records of one symptom on one day keep the most severe.
* Sleep analysis: the asleep stages (``Asleep``, ``AsleepUnspecified``, ``AsleepCore``, ``AsleepDeep``,
  ``AsleepREM``; not ``InBed`` nor ``Awake``) are merged into one union of intervals per wake-up day (the local
  date of their end; overlapping watch and phone records count once), giving ``sleep_hours``.
* Resting heart rate (``HKQuantityTypeIdentifierRestingHeartRate``): the daily values, for the profile (the
  median of the last 30 days with a value).

Days are the local dates written in the export (Apple writes each time with the device's offset, e.g.
``2024-01-15 07:00:00 +0100``). Workout start times are stored in UTC with that offset.
"""

from __future__ import annotations

import re
import zipfile
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

import numpy as np

from gutstride.errors import BadInputError
from gutstride.ingest.activities.gpx import read_gpx
from gutstride.ingest.activities.streams import stream_from_columns, summarise_stream
from gutstride.ingest.bundle import ExportBundle
from gutstride.model.activity import STREAM_COLUMNS, Activity, ActivitySummary
from gutstride.model.log_entry import LogEntry

FORMAT = "apple-health"
HR_TYPE = "HKQuantityTypeIdentifierHeartRate"
RESTING_TYPE = "HKQuantityTypeIdentifierRestingHeartRate"
SLEEP_TYPE = "HKCategoryTypeIdentifierSleepAnalysis"
#: Largest difference between the mean of a workout's HR records and Apple's own average before it is reported.
HR_CHECK_BPM = 3.0
#: Apple's severity values on the log's 0-10 symptom scale (None: present, severity not given).
SEVERITY_SCORE: dict[str, int | None] = {
    "HKCategoryValueSeverityNotPresent": 0, "HKCategoryValueSeverityMild": 3,
    "HKCategoryValueSeverityModerate": 6, "HKCategoryValueSeveritySevere": 9,
    "HKCategoryValueSeverityUnspecified": None, "HKCategoryValuePresencePresent": None,
}
_SEVERITY_WORD = {0: "not present", 3: "mild", 6: "moderate", 9: "severe", None: "severity not given"}
#: Apple's symptom types -> (log field or None when the log has none, the symptom's name in notes).
SYMPTOMS: dict[str, tuple[str | None, str]] = {
    "HKCategoryTypeIdentifierBloating": ("bloating", "bloating"),
    "HKCategoryTypeIdentifierAbdominalCramps": ("cramps", "abdominal cramps"),
    "HKCategoryTypeIdentifierDiarrhea": ("urge_diarrhoea", "diarrhoea"),
    "HKCategoryTypeIdentifierNausea": ("nausea", "nausea"),
    "HKCategoryTypeIdentifierHeartburn": ("reflux", "heartburn"),
    "HKCategoryTypeIdentifierConstipation": (None, "constipation"),
    "HKCategoryTypeIdentifierVomiting": (None, "vomiting"),
}
_ASLEEP = frozenset({
    "HKCategoryValueSleepAnalysisAsleep", "HKCategoryValueSleepAnalysisAsleepUnspecified",
    "HKCategoryValueSleepAnalysisAsleepCore", "HKCategoryValueSleepAnalysisAsleepDeep",
    "HKCategoryValueSleepAnalysisAsleepREM",
})
#: ``HKWorkoutActivityType...`` (without the prefix) -> sport.
SPORTS: dict[str, str] = {
    "Running": "running", "Walking": "walking", "Hiking": "hiking", "Cycling": "cycling",
    "HandCycling": "cycling", "Swimming": "swimming", "Rowing": "rowing", "PaddleSports": "rowing",
    "TraditionalStrengthTraining": "strength", "FunctionalStrengthTraining": "strength", "CoreTraining": "strength",
    "Yoga": "yoga", "Pilates": "mobility", "Flexibility": "mobility", "MindAndBody": "mobility",
    "Cooldown": "mobility", "CrossTraining": "cross_training", "HighIntensityIntervalTraining": "cross_training",
    "MixedCardio": "cross_training", "Elliptical": "cross_training", "StairClimbing": "cross_training",
    "Stairs": "cross_training", "JumpRope": "cross_training", "DownhillSkiing": "skiing",
    "CrossCountrySkiing": "skiing", "Snowboarding": "skiing", "Other": "other",
}
_INDOOR = {"running": "treadmill_running", "cycling": "indoor_cycling"}
_DISTANCE_UNITS = {"km": 1000.0, "m": 1.0, "mi": 1609.344, "yd": 0.9144, "ft": 0.3048, "cm": 0.01}
_DURATION_UNITS = {"min": 60.0, "s": 1.0, "sec": 1.0, "hr": 3600.0, "h": 3600.0}
_ENERGY_UNITS = {"kcal": 1.0, "Cal": 1.0, "cal": 0.001, "kJ": 1 / 4.184, "J": 1 / 4184.0}
_DATE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\Z")
_EPOCH_DAY = date(1970, 1, 1)


class Readable(Protocol):
    """A binary stream lxml can parse (a file, a zip member, a bounded reader)."""

    def read(self, size: int = -1, /) -> bytes: ...


def sniff_apple_health(head: bytes) -> bool:
    """True when the first bytes of an XML file are those of Apple Health's ``export.xml``."""
    return b"<!DOCTYPE HealthData" in head or b"<HealthData" in head


def headline(counts: dict[str, int]) -> str:
    """One line for the import record: how many of each were taken."""
    c = counts
    parts = [
        f"{c.get('workouts', 0)} workouts ({c.get('with_hr', 0)} with heart rate from "
        f"{c.get('hr_records_used', 0)} of {c.get('hr_records', 0)} HR records, "
        f"{c.get('routes_joined', 0)} routes joined)",
        f"{c.get('symptom_records', 0)} GI symptom records on {c.get('symptom_days', 0)} days",
        f"sleep on {c.get('sleep_nights', 0)} nights",
        f"resting HR on {c.get('resting_hr_days', 0)} days",
    ]
    if c.get("routes_alone"):
        parts.append(f"{c['routes_alone']} routes matching no workout, imported as their own activities")
    if c.get("hr_mismatch"):
        parts.append(f"{c['hr_mismatch']} workouts whose HR records differ from Apple's average")
    return "Apple Health export: " + "; ".join(parts)


def apple_epoch(text: str) -> tuple[float, int]:
    """``"2024-01-15 10:00:00 +0100"`` -> (seconds since the epoch, UTC; offset in seconds). ValueError if not.

    The date and offset part is cached (an export repeats each day thousands of times).
    """
    match = _DATE.match(text)
    if match is None:
        raise ValueError(f"not an Apple Health date: {text!r}")
    base, offset = _day_base(text[:10], text[20:])
    h, mi, s = int(text[11:13]), int(text[14:16]), int(text[17:19])
    if h > 23 or mi > 59 or s > 60:
        raise ValueError(f"not an Apple Health date: {text!r}")
    return base + h * 3600 + mi * 60 + s, offset


@lru_cache(maxsize=4096)
def _day_base(day: str, zone: str) -> tuple[float, int]:
    """Epoch seconds of local midnight of ``day`` in UTC terms, and the offset (``"+0100"`` -> 3600)."""
    offset = (1 if zone[0] == "+" else -1) * (int(zone[1:3]) * 3600 + int(zone[3:5]) * 60)
    if abs(offset) > 18 * 3600:
        raise ValueError(f"offset {zone} out of range")
    return (date.fromisoformat(day) - _EPOCH_DAY).days * 86400.0 - offset, offset


@dataclass
class _Workout:
    sport: str
    sub_sport: str | None
    start: float
    end: float
    offset: int
    duration_s: float | None
    distance_m: float | None
    energy_kcal: float | None
    stats_avg_hr: float | None
    stats_max_hr: float | None
    device: str | None
    routes: list[str]
    ascent_m: float | None = None


class _Reader:
    """State of one pass over ``export.xml``."""

    def __init__(self) -> None:
        self.hr_t = array("d")
        self.hr_v = array("f")
        self.workouts: list[_Workout] = []
        self.symptoms: dict[date, dict[str, int | None]] = {}
        self.symptom_records = 0
        self.asleep: dict[date, list[tuple[float, float]]] = {}
        self.resting: dict[date, float] = {}
        self.bad = 0

    def record(self, elem: Any) -> None:
        kind = elem.get("type")
        if kind == HR_TYPE:
            try:
                t, _ = apple_epoch(elem.get("startDate", ""))
                value = float(elem.get("value", ""))
            except ValueError:
                self.bad += 1
                return
            self.hr_t.append(t)
            self.hr_v.append(value)
        elif kind in SYMPTOMS:
            start = elem.get("startDate", "")
            score = SEVERITY_SCORE.get(elem.get("value", ""))
            try:
                day = date.fromisoformat(start[:10])
            except ValueError:
                self.bad += 1
                return
            self.symptom_records += 1
            day_symptoms = self.symptoms.setdefault(day, {})
            previous = day_symptoms.get(kind, -1)
            if kind not in day_symptoms or (score is not None and (previous is None or score > previous)):
                day_symptoms[kind] = score
        elif kind == SLEEP_TYPE:
            if elem.get("value") not in _ASLEEP:
                return
            try:
                start, _ = apple_epoch(elem.get("startDate", ""))
                end, _ = apple_epoch(elem.get("endDate", ""))
                day = date.fromisoformat(elem.get("endDate", "")[:10])
            except ValueError:
                self.bad += 1
                return
            if end > start:
                self.asleep.setdefault(day, []).append((start, end))
        elif kind == RESTING_TYPE:
            try:
                self.resting[date.fromisoformat(elem.get("startDate", "")[:10])] = float(elem.get("value", ""))
            except ValueError:
                self.bad += 1

    def workout(self, elem: Any) -> None:
        try:
            start, offset = apple_epoch(elem.get("startDate", ""))
            end, _ = apple_epoch(elem.get("endDate", ""))
        except ValueError:
            self.bad += 1
            return
        kind = (elem.get("workoutActivityType") or "").removeprefix("HKWorkoutActivityType")
        sport = SPORTS.get(kind, "other")
        indoor = False
        ascent = None
        stats: dict[str, dict[str, str]] = {}
        routes: list[str] = []
        for child in elem:
            tag = child.tag
            if tag == "MetadataEntry" and child.get("key") == "HKIndoorWorkout":
                indoor = child.get("value") == "1"
            elif tag == "MetadataEntry" and child.get("key") == "HKElevationAscended":
                number, _, unit = (child.get("value") or "").partition(" ")
                ascent = _scaled(number, unit.strip() or "m", _DISTANCE_UNITS)
            elif tag == "WorkoutStatistics":
                stats[child.get("type", "")] = dict(child.attrib)
            elif tag == "WorkoutRoute":
                routes += [ref.get("path", "") for ref in child if ref.tag == "FileReference" and ref.get("path")]
        if indoor:
            sport = _INDOOR.get(sport, sport)
        duration = _scaled(elem.get("duration"), elem.get("durationUnit") or "min", _DURATION_UNITS)
        distance = _scaled(elem.get("totalDistance"), elem.get("totalDistanceUnit") or "km", _DISTANCE_UNITS)
        energy = _scaled(elem.get("totalEnergyBurned"), elem.get("totalEnergyBurnedUnit") or "kcal", _ENERGY_UNITS)
        for name, attrs in stats.items():
            if distance is None and name.startswith("HKQuantityTypeIdentifierDistance"):
                distance = _scaled(attrs.get("sum"), attrs.get("unit") or "km", _DISTANCE_UNITS)
            if energy is None and name == "HKQuantityTypeIdentifierActiveEnergyBurned":
                energy = _scaled(attrs.get("sum"), attrs.get("unit") or "kcal", _ENERGY_UNITS)
        hr_stats = stats.get(HR_TYPE, {})
        self.workouts.append(_Workout(
            sport=sport, sub_sport=None if kind in SPORTS else kind or None, start=start, end=end, offset=offset,
            duration_s=duration if duration is not None else end - start, distance_m=distance, energy_kcal=energy,
            stats_avg_hr=_float(hr_stats.get("average")), stats_max_hr=_float(hr_stats.get("maximum")),
            device=elem.get("sourceName"), routes=routes, ascent_m=ascent,
        ))


def _float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def _scaled(text: str | None, unit: str, units: dict[str, float]) -> float | None:
    value = _float(text)
    if value is None or unit not in units:
        return None
    return value * units[unit]


def parse_export_xml(stream: Readable) -> _Reader:
    """One streaming pass over ``export.xml``; every top-level element is cleared once read.

    Raises :class:`BadInputError` when the XML is broken before its end (with the line).
    """
    from lxml import etree

    reader = _Reader()
    # Only the elements read are reported; clearing a top-level one also deletes every earlier sibling, so
    # elements of other kinds (ActivitySummary, ClinicalRecord...) go with the next Record or Workout.
    context = etree.iterparse(
        stream, events=("end",), tag=("Record", "Workout", "Correlation", "HealthData"), resolve_entities=False,
        load_dtd=False, no_network=True, huge_tree=True, remove_comments=True, remove_pis=True,
    )
    root_tag = None
    try:
        for _, elem in context:
            tag = elem.tag
            if tag == "Record":
                reader.record(elem)
            elif tag == "Workout":
                reader.workout(elem)
            parent = elem.getparent()
            if parent is not None and parent.getparent() is None:
                elem.clear()
                while elem.getprevious() is not None:
                    del parent[0]
            elif parent is None:
                root_tag = tag
    except etree.XMLSyntaxError as exc:
        reason = " ".join(str(exc.msg).split()).split(", line")[0]
        raise BadInputError(f"export.xml: broken XML ({reason}, line {exc.lineno})") from None
    if root_tag != "HealthData":
        raise BadInputError(f"export.xml: root element {root_tag!r}, not an Apple Health export (HealthData)")
    return reader


def read_apple_health(
    stream: Readable, routes: dict[str, Callable[[], bytes]] | None = None
) -> ExportBundle:
    """Read an Apple Health ``export.xml`` stream, joining the route GPX files in ``routes``.

    ``routes`` maps a route's path as ``FileReference`` writes it (``/workout-routes/route_...gpx``) to a function
    returning its bytes. See the module docstring for what is read and how.
    """
    reader = parse_export_xml(stream)
    out = ExportBundle(FORMAT)
    hr_t = np.frombuffer(reader.hr_t, dtype=np.float64)
    hr_v = np.frombuffer(reader.hr_v, dtype=np.float32).astype(np.float64)
    order = np.argsort(hr_t, kind="stable")
    hr_t, hr_v = hr_t[order], hr_v[order]
    workouts = sorted(reader.workouts, key=lambda w: w.start)
    route_streams = _route_streams(workouts, routes or {}, out)
    counts = {"workouts": len(workouts), "hr_records": int(hr_t.size), "with_hr": 0, "hr_records_used": 0,
              "hr_mismatch": 0, "routes_joined": 0}
    for index, workout in enumerate(workouts):
        lo = int(np.searchsorted(hr_t, workout.start, side="left"))
        hi = int(np.searchsorted(hr_t, workout.end, side="right"))
        columns: dict[str, np.ndarray] = {"time": hr_t[lo:hi], "hr": hr_v[lo:hi]}
        counts["hr_records_used"] += hi - lo
        route = route_streams.get(index)
        if route is not None:
            counts["routes_joined"] += 1
            columns = {name: np.concatenate([columns.get(name, np.full(hi - lo, np.nan)),
                                             route.get(name, np.full(route["time"].size, np.nan))])
                       for name in STREAM_COLUMNS if name in columns or name in route}
        n = int(columns["time"].size)
        samples = stream_from_columns(columns, n)
        summary = ActivitySummary(
            sport=workout.sport, sub_sport=workout.sub_sport,
            start_time=datetime.fromtimestamp(workout.start, tz=UTC), local_offset_s=workout.offset,
            duration_s=workout.duration_s, distance_m=workout.distance_m, device=workout.device,
            ascent_m=workout.ascent_m,
        )
        summarise_stream(samples, summary)
        extra: dict[str, Any] = {}
        if workout.energy_kcal is not None:
            extra["energy_kcal"] = round(workout.energy_kcal, 1)
        if workout.stats_avg_hr is not None:
            extra["apple_avg_hr"] = workout.stats_avg_hr
        if summary.n_hr:
            counts["with_hr"] += 1
            if workout.stats_avg_hr is not None and summary.avg_hr is not None and (
                abs(summary.avg_hr - workout.stats_avg_hr) > HR_CHECK_BPM
            ):
                counts["hr_mismatch"] += 1
                out.warnings.append(
                    f"workout of {_local(workout)}: mean of its {summary.n_hr} HR records {summary.avg_hr:.0f} bpm, "
                    f"Apple's average {workout.stats_avg_hr:.0f} bpm"
                )
        elif workout.stats_avg_hr is not None:
            summary.avg_hr, summary.max_hr = workout.stats_avg_hr, workout.stats_max_hr
            extra["hr_from"] = "Apple's workout statistics (no HR records in the workout's window)"
        out.activities.append(Activity(summary=summary, stream=samples))
        out.extras.append(extra)
    counts["routes_alone"] = _lone_routes(route_streams, out)
    out.entries = _log_entries(reader, counts)
    out.resting_hr = sorted(reader.resting.items())
    counts["resting_hr_days"] = len(out.resting_hr)
    counts["symptom_records"] = reader.symptom_records
    if reader.bad:
        out.warnings.append(f"{reader.bad} records with an unreadable date or value were left out")
    out.counts = counts
    out.headline = headline(counts)
    return out


def _local(workout: _Workout) -> str:
    return datetime.fromtimestamp(workout.start + workout.offset, tz=UTC).strftime("%Y-%m-%d %H:%M")


def _route_streams(
    workouts: list[_Workout], routes: dict[str, Callable[[], bytes]], out: ExportBundle
) -> dict[int, dict[str, np.ndarray]]:
    """Route streams by workout index (named routes first, then by time); lone routes under negative keys."""
    by_key = {_route_key(path): path for path in routes}
    joined: dict[int, dict[str, np.ndarray]] = {}
    used: set[str] = set()
    for index, workout in enumerate(workouts):
        for ref in workout.routes:
            path = by_key.get(_route_key(ref))
            if path is None:
                out.warnings.append(f"route {ref} of the workout of {_local(workout)} is not in the export")
                continue
            stream = _read_route(path, routes[path], out)
            used.add(path)
            if stream is not None and index not in joined:
                joined[index] = stream
    starts = np.array([w.start for w in workouts])
    lone = -1
    for path in sorted(set(routes) - used):
        stream = _read_route(path, routes[path], out)
        if stream is None:
            continue
        first = float(np.nanmin(stream["time"])) if stream["time"].size else np.nan
        pos = int(np.searchsorted(starts, first + 60.0, side="right")) - 1 if starts.size else -1
        if pos >= 0 and pos not in joined and first <= workouts[pos].end + 60.0:
            joined[pos] = stream
        else:
            joined[lone] = stream
            lone -= 1
    return joined


def _route_key(path: str) -> str:
    return PurePosixPath(path.replace("\\", "/")).name.lower()


def _read_route(path: str, read: Callable[[], bytes], out: ExportBundle) -> dict[str, np.ndarray] | None:
    try:
        decoded = read_gpx(read(), PurePosixPath(path).name)
    except (OSError, BadInputError) as exc:
        out.warnings.append(f"route {path}: not read ({exc})")
        return None
    if not decoded.activities:
        out.warnings.append(f"route {path}: {decoded.message or 'no timed point'}")
        return None
    stream = decoded.activities[0].stream
    return {name: stream[name] for name in ("time", "lat", "lon", "altitude", "speed", "distance")}


def _lone_routes(route_streams: dict[int, dict[str, np.ndarray]], out: ExportBundle) -> int:
    """Routes that match no workout become activities of their own (sport unknown); returns how many."""
    n = 0
    for key in sorted(k for k in route_streams if k < 0):
        stream = stream_from_columns(route_streams[key], int(route_streams[key]["time"].size))
        out.activities.append(Activity(summary=summarise_stream(stream, ActivitySummary()), stream=stream))
        out.extras.append({"note": "Apple Health route that matches no workout"})
        n += 1
    return n


def _union_seconds(intervals: list[tuple[float, float]]) -> float:
    total, current_end = 0.0, -np.inf
    for start, end in sorted(intervals):
        if end <= current_end:
            continue
        total += end - max(start, current_end)
        current_end = end
    return total


def _log_entries(reader: _Reader, counts: dict[str, int]) -> list[LogEntry]:
    entries: dict[date, LogEntry] = {}
    for day, found in reader.symptoms.items():
        entry = entries.setdefault(day, LogEntry(day=day))
        notes = []
        for kind, score in found.items():
            name, word = SYMPTOMS[kind]
            if name is not None and score is not None:
                setattr(entry, name, score)
            if name is None or score is None:
                notes.append(f"{word} ({_SEVERITY_WORD[score]})")
        if notes:
            entry.notes = "Apple Health: " + ", ".join(sorted(notes))
    for day, intervals in reader.asleep.items():
        hours = _union_seconds(intervals) / 3600.0
        if 0 < hours <= 24:
            entries.setdefault(day, LogEntry(day=day)).sleep_hours = round(hours, 2)
    counts["symptom_days"] = len(reader.symptoms)
    counts["sleep_nights"] = sum(1 for e in entries.values() if e.sleep_hours is not None)
    return [entries[day] for day in sorted(entries)]


# -- where the export lives -----------------------------------------------------------------------------------


def export_member(archive: zipfile.ZipFile) -> zipfile.ZipInfo | None:
    """The ``export.xml`` member of an Apple Health ``export.zip`` (``apple_health_export/export.xml``), or None."""
    for info in archive.infolist():
        name = info.filename.replace("\\", "/")
        if PurePosixPath(name).name == "export.xml" and not name.startswith("__MACOSX/"):
            with archive.open(info) as handle:
                if sniff_apple_health(handle.read(4096)):
                    return info
    return None


def route_members(archive: zipfile.ZipFile) -> dict[str, Callable[[], bytes]]:
    """The route GPX members of an export zip (under ``workout-routes/``), by member name, read lazily.

    A zip made on a Mac also holds an AppleDouble file (``__MACOSX/.../._route_....gpx``, Finder metadata) for each
    file: those are not routes.
    """
    out: dict[str, Callable[[], bytes]] = {}
    for info in archive.infolist():
        parts = PurePosixPath(info.filename.replace("\\", "/")).parts
        if (parts and parts[0] == "__MACOSX") or (parts and parts[-1].startswith("._")):
            continue
        if "workout-routes" in parts and info.filename.lower().endswith(".gpx"):
            out[info.filename] = _member_reader(archive, info)
    return out


def _member_reader(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], bytes]:
    def read() -> bytes:
        if info.file_size > 256 << 20:
            raise BadInputError("route larger than 256 MiB")
        return archive.read(info)

    return read


def route_files(export_xml: Path) -> dict[str, Callable[[], bytes]]:
    """The route GPX files beside an unzipped ``export.xml`` (in its ``workout-routes/`` folder)."""
    folder = export_xml.parent / "workout-routes"
    if not folder.is_dir():
        return {}
    return {str(path): path.read_bytes for path in sorted(folder.glob("*.gpx"))}


def is_route_of(path: Path, exports: Iterable[Path]) -> bool:
    """True when ``path`` is a route GPX of one of the unzipped ``exports`` (joined to its workout, not read alone)."""
    return path.suffix.lower() == ".gpx" and any(
        path.parent == export.parent / "workout-routes" for export in exports
    )
