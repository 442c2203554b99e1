"""TCX (Garmin Training Center Database v2) reader: one :class:`Activity` per ``<Activity>`` element.

Per ``<Trackpoint>``: ``Time``, ``Position/LatitudeDegrees``, ``Position/LongitudeDegrees``, ``AltitudeMeters``,
``DistanceMeters``, ``HeartRateBpm/Value``, ``Cadence``, and from ``Extensions/TPX`` (ActivityExtension v2)
``Speed``, ``Watts`` and ``RunCadence`` (used when ``Cadence`` is absent). Names are matched by local name, so
any namespace prefix works. Per ``<Lap>``: ``StartTime``, ``TotalTimeSeconds``, ``DistanceMeters``,
``MaximumSpeed``, ``Calories``, ``AverageHeartRateBpm/Value``, ``MaximumHeartRateBpm/Value``, kept in
``Activity.laps``. Sport from ``Activity@Sport`` ("Running", "Biking", "Other"); device from ``Creator/Name``.

An activity without any trackpoint (a manual or lap-only entry) is summarised from its laps: start of the first
lap, sums of lap time and distance, the time-weighted mean of lap average HR and the largest lap maximum HR.
Trackpoints without a time are dropped with a warning. HR gaps stay NaN.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element

import numpy as np

from gutstride.ingest.activities.streams import (
    iso_times_to_epoch,
    normalise_sport,
    stream_from_columns,
    summarise_stream,
)
from gutstride.ingest.activities.xmlstream import (
    XML_FAULTS,
    UnsafeXml,
    child_text,
    end_events,
    fault_message,
    local_name,
    to_float,
)
from gutstride.model.activity import Activity, ActivitySummary, DecodedFile

_COLS = ("lat", "lon", "altitude", "distance", "hr", "cadence", "speed", "power")
_RUN_CADENCE = len(_COLS)
_TIME = -1
#: Trackpoint descendant local names -> column. The only <Value> inside a Trackpoint is HeartRateBpm/Value.
_FIELDS = {
    "latitudedegrees": 0, "longitudedegrees": 1, "altitudemeters": 2, "distancemeters": 3, "value": 4,
    "cadence": 5, "speed": 6, "watts": 7, "runcadence": _RUN_CADENCE, "time": _TIME,
}


class _ActivityBuffer:
    def __init__(self) -> None:
        self.rows: list[list[float]] = []
        self.times: list[str | None] = []
        self.laps: list[dict[str, Any]] = []
        self.bad_values = 0


def _read_trackpoint(elem: Element, buf: _ActivityBuffer, columns: dict[str, int]) -> None:
    nan = float("nan")
    row = [nan] * (len(_COLS) + 1)
    time_text = None
    for child in elem.iter():
        tag = child.tag
        col = columns.get(tag)
        if col is None:
            col = columns[tag] = _FIELDS.get(local_name(tag), -2) if isinstance(tag, str) else -2
        if col >= 0:
            text = child.text
            if text is not None and text.strip():
                try:
                    row[col] = float(text)
                except ValueError:
                    buf.bad_values += 1
        elif col == _TIME:
            time_text = child.text
    buf.rows.append(row)
    buf.times.append(time_text.strip() if time_text else None)


def _nested_value(elem: Element, name: str) -> float | None:
    for child in elem:
        if isinstance(child.tag, str) and local_name(child.tag) == name:
            return to_float(child_text(child, "value"))
    return None


def _read_lap(elem: Element) -> dict[str, Any]:
    start, _, _ = iso_times_to_epoch([elem.get("StartTime")])
    return {
        "start_time": datetime.fromtimestamp(float(start[0]), tz=UTC) if np.isfinite(start[0]) else None,
        "total_time_s": to_float(child_text(elem, "totaltimeseconds")),
        "distance_m": to_float(child_text(elem, "distancemeters")),
        "max_speed_ms": to_float(child_text(elem, "maximumspeed")),
        "calories": to_float(child_text(elem, "calories")),
        "avg_hr": _nested_value(elem, "averageheartratebpm"),
        "max_hr": _nested_value(elem, "maximumheartratebpm"),
    }


def _summary_from_laps(laps: list[dict[str, Any]], summary: ActivitySummary) -> None:
    starts = [lap["start_time"] for lap in laps if lap["start_time"] is not None]
    times = [lap["total_time_s"] for lap in laps if lap["total_time_s"] is not None]
    dists = [lap["distance_m"] for lap in laps if lap["distance_m"] is not None]
    summary.start_time = min(starts) if starts else None
    summary.duration_s = sum(times) if times else None
    summary.distance_m = sum(dists) if dists else None
    weighted = [(lap["avg_hr"], lap["total_time_s"]) for lap in laps if lap["avg_hr"] and lap["total_time_s"]]
    if weighted:
        summary.avg_hr = sum(h * t for h, t in weighted) / sum(t for _, t in weighted)
    maxima = [lap["max_hr"] for lap in laps if lap["max_hr"]]
    summary.max_hr = max(maxima) if maxima else None


def _finish_activity(buf: _ActivityBuffer, sport: str | None, device: str | None, index: int,
                     warnings: list[str]) -> Activity | None:
    label = f"activity {index + 1}"
    n_points = len(buf.rows)
    summary = ActivitySummary(sport=normalise_sport(sport), device=device, n_records=n_points)
    if sport and summary.sport == "other" and sport.lower() != "other":
        summary.sub_sport = sport
    if n_points == 0:
        if not buf.laps:
            warnings.append(f"{label}: no trackpoints and no laps: skipped")
            return None
        _summary_from_laps(buf.laps, summary)
        return Activity(summary=summary, stream=stream_from_columns({}, 0), laps=buf.laps)
    times, n_naive, n_bad = iso_times_to_epoch(buf.times)
    if n_naive:
        warnings.append(f"{label}: {n_naive} times without a time zone, taken as UTC")
    values = np.array(buf.rows, dtype=np.float64).reshape(n_points, len(_COLS) + 1)
    keep = np.isfinite(times)
    if n_bad:
        warnings.append(f"{label}: {n_bad} of {n_points} trackpoints without a valid time dropped")
        values, times = values[keep], times[keep]
    if buf.bad_values:
        warnings.append(f"{label}: {buf.bad_values} values that are not numbers ignored")
    cadence = values[:, 5]
    run_cadence = values[:, _RUN_CADENCE]
    values[:, 5] = np.where(np.isfinite(cadence), cadence, run_cadence)
    columns: dict[str, Any] = {col: values[:, i] for i, col in enumerate(_COLS)}
    columns["time"] = times
    stream = stream_from_columns(columns, times.size)
    if times.size == 0:
        _summary_from_laps(buf.laps, summary)
    summarise_stream(stream, summary)
    return Activity(summary=summary, stream=stream, laps=buf.laps)


def read_tcx(data: bytes, name: str = "") -> DecodedFile:
    """Read a TCX file into one activity per ``<Activity>``.

    Status is "ok"; "partial" when the XML breaks after some trackpoints (those are kept, with the reason in
    ``message``); "error" for unsafe XML (entity declarations), a file that is not TCX, or one with no activity.
    """
    warnings: list[str] = []
    activities: list[Activity] = []
    buf: _ActivityBuffer | None = None
    root_seen = False
    sport: str | None = None
    fault = ""
    columns: dict[str, int] = {}
    kinds: dict[str, str] = {}
    try:
        for event, elem in end_events(data, ("start", "end")):
            tag = elem.tag
            kind = kinds.get(tag)
            if kind is None:
                kind = kinds[tag] = local_name(tag) if isinstance(tag, str) else ""
            if event == "start":
                if kind == "activity":
                    buf = _ActivityBuffer()
                    sport = elem.get("Sport")
                elif kind == "trainingcenterdatabase":
                    root_seen = True
                continue
            if kind == "trackpoint":
                if buf is None:
                    buf = _ActivityBuffer()
                _read_trackpoint(elem, buf, columns)
                elem.clear()
            elif kind == "track":
                elem.clear()
            elif kind == "lap":
                if buf is None:
                    buf = _ActivityBuffer()
                buf.laps.append(_read_lap(elem))
                elem.clear()
            elif kind == "activity":
                device = None
                for child in elem:
                    if isinstance(child.tag, str) and local_name(child.tag) == "creator":
                        device = child_text(child, "name")
                activity = _finish_activity(buf or _ActivityBuffer(), sport, device, len(activities), warnings)
                if activity is not None:
                    activities.append(activity)
                buf = None
                elem.clear()
    except UnsafeXml as exc:
        return DecodedFile(format="tcx", status="error", message=str(exc))
    except XML_FAULTS as exc:
        fault = fault_message(exc)
    if fault and buf is not None:
        activity = _finish_activity(buf, sport, None, len(activities), warnings)
        if activity is not None:
            activities.append(activity)
    if fault and not activities:
        return DecodedFile(format="tcx", status="error", message=fault, warnings=warnings)
    if fault:
        return DecodedFile(format="tcx", status="partial", message=f"{fault}; trackpoints before it kept",
                           activities=activities, warnings=warnings)
    if not root_seen:
        return DecodedFile(format="tcx", status="error",
                           message="not a TCX file (no <TrainingCenterDatabase> root element)", warnings=warnings)
    if not activities:
        return DecodedFile(format="tcx", status="error", message="no activity in the TCX file", warnings=warnings)
    return DecodedFile(format="tcx", status="ok", activities=activities, warnings=warnings)
