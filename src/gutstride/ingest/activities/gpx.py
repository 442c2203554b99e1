"""GPX 1.0 and 1.1 reader: one :class:`Activity` per ``<trk>``, all its segments joined.

Per track point: ``lat``/``lon`` attributes, ``<ele>``, ``<time>``, GPX 1.0 ``<speed>``, and from any extension,
whatever its namespace or prefix (matched by local name, case-insensitive):

* heart rate: ``hr`` (Garmin TrackPointExtension v1/v2), ``heartrate``, ``heart_rate``, ``HeartRate``,
  ``gpxdata:hr``, ``ns3:hr`` ...;
* cadence: ``cad``, ``cadence``; temperature: ``atemp``, ``temp``, ``temperature``;
  power: ``power``, ``watts``; speed: ``speed`` (TrackPointExtension v2).

Sport comes from the track's ``<type>`` (Garmin Connect writes "cycling", Strava a numeric code). When the file
has no distance, the stream's distance is the cumulative great-circle distance between positions
(:func:`streams.path_distance`). Points without a time cannot be placed in a stream: they are dropped with a
warning, and a track with no timed point at all (a route, a planned track) is not an activity. When the creator
is an Apple device or app, HR written only on change is carried forward over at most 5 s
(:func:`streams.carry_forward_hr`); otherwise HR gaps stay NaN.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

import numpy as np

from gutstride.ingest.activities.streams import (
    carry_forward_hr,
    iso_times_to_epoch,
    normalise_sport,
    path_distance,
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
)
from gutstride.model.activity import Activity, ActivitySummary, DecodedFile

#: Column order of the per-point value rows.
_COLS = ("lat", "lon", "altitude", "hr", "cadence", "temperature", "power", "speed")
_LAT, _LON, _ALT, _HR, _CAD, _TEMP, _POWER, _SPEED = range(len(_COLS))
#: Child element local names (lower case) -> column index.
_FIELDS = {
    "ele": _ALT,
    "hr": _HR, "heartrate": _HR, "heart_rate": _HR, "heartratebpm": _HR,
    "cad": _CAD, "cadence": _CAD,
    "atemp": _TEMP, "temp": _TEMP, "temperature": _TEMP,
    "power": _POWER, "watts": _POWER,
    "speed": _SPEED,
}


#: Codes of element local names: >= 0 a value column (``_FIELDS``), else one of these.
_TIME, _CONTAINER, _OTHER, _POINT, _SEGMENT, _TRACK, _ROOT = range(-1, -8, -1)
_CODES = {**_FIELDS, "time": _TIME, "extensions": _CONTAINER, "trackpointextension": _CONTAINER,
          "trkpt": _POINT, "trkseg": _SEGMENT, "trk": _TRACK, "gpx": _ROOT}


class _Track:
    """Points of one <trk> as they are read."""

    def __init__(self) -> None:
        self.rows: list[list[float]] = []
        self.times: list[str | None] = []
        self.sport: str | None = None
        self.name: str | None = None
        self.bad_values = 0


class _TagCache(dict[str, int]):
    """Full tag (with namespace) -> code, computed once per distinct tag by ``__missing__``."""

    def __missing__(self, tag: str) -> int:
        code = _CODES.get(local_name(tag), _OTHER) if isinstance(tag, str) else _OTHER
        self[tag] = code
        return code


def _read_point(elem: Element, track: _Track, columns: _TagCache) -> None:
    """Read one trkpt from its subtree (the exact path, for points with children other than known values)."""
    nan = float("nan")
    row = [nan] * len(_COLS)
    time_text = None
    lat, lon = elem.get("lat"), elem.get("lon")
    try:
        if lat is not None:
            row[_LAT] = float(lat)
        if lon is not None:
            row[_LON] = float(lon)
    except ValueError:
        track.bad_values += 1
    for child in elem.iter():
        col = columns[child.tag]
        if col >= 0:
            text = child.text
            if text is not None:
                try:
                    row[col] = float(text)
                except ValueError:
                    track.bad_values += 1
        elif col == _TIME:
            time_text = child.text
    track.rows.append(row)
    track.times.append(time_text.strip() if time_text else None)


def _point_from_row(elem: Element, row: list[float], time_text: str | None, bad: int, track: _Track) -> None:
    """Append a point whose child values were gathered from the event stream."""
    try:
        lat, lon = elem.get("lat"), elem.get("lon")
        if lat is not None:
            row[_LAT] = float(lat)
        if lon is not None:
            row[_LON] = float(lon)
    except ValueError:
        bad += 1
    track.bad_values += bad
    track.rows.append(row)
    track.times.append(time_text.strip() if time_text else None)


def _finish_track(track: _Track, creator: str, warnings: list[str]) -> Activity | None:
    label = f"track {track.name!r}" if track.name else "track"
    n_points = len(track.rows)
    if n_points == 0:
        return None
    times, n_naive, n_bad = iso_times_to_epoch(track.times)
    if n_naive:
        warnings.append(f"{label}: {n_naive} times without a time zone, taken as UTC")
    values = np.array(track.rows, dtype=np.float64).reshape(n_points, len(_COLS))
    keep = np.isfinite(times)
    if not keep.any():
        warnings.append(f"{label}: {n_points} points, none with a time (a route or planned track): skipped")
        return None
    if n_bad:
        warnings.append(f"{label}: {n_bad} of {n_points} points without a valid time dropped")
        values, times = values[keep], times[keep]
    if track.bad_values:
        warnings.append(f"{label}: {track.bad_values} values that are not numbers ignored")
    n = times.size
    columns = {col: values[:, i] for i, col in enumerate(_COLS)}
    columns["time"] = times
    stream = stream_from_columns(columns, n)
    if "apple" in creator.lower():
        stream["hr"] = carry_forward_hr(stream["time"], stream["hr"])
    if np.isfinite(stream["lat"]).any():
        stream["distance"] = path_distance(stream["lat"], stream["lon"])
    summary = ActivitySummary(sport=normalise_sport(track.sport), name=track.name,
                              device=creator or None, n_records=n_points)
    summarise_stream(stream, summary)
    return Activity(summary=summary, stream=stream)


_CREATOR = re.compile(rb"<(?:\w+:)?gpx\b[^>]*?\bcreator\s*=\s*[\"']([^\"']*)[\"']", re.DOTALL)


def _creator(data: bytes) -> str:
    """The root's creator attribute, read from the head of the file (the root element ends last)."""
    match = _CREATOR.search(data[:8192])
    return match.group(1).decode("utf-8", "replace") if match else ""


def read_gpx(data: bytes, name: str = "") -> DecodedFile:
    """Read a GPX 1.0/1.1 file into one activity per track.

    Status is "ok"; "partial" when the XML breaks after some points (those points are kept, the reason is in
    ``message``); "error" for unsafe XML (entity declarations), a file that is not GPX, or one without any timed
    track point.
    """
    warnings: list[str] = []
    activities: list[Activity] = []
    track: _Track | None = None
    creator = _creator(data)
    root_seen = False
    fault = ""
    codes = _TagCache()
    nan = float("nan")
    width = len(_COLS)
    # Fast path: the values of a trkpt arrive as end events of its children just before the trkpt's own end, and
    # are gathered into ``row`` as they come. A point is taken from ``row`` only when every element ended since
    # the previous point was a known value, time or extension container (``clean``); otherwise (first point of a
    # segment, points with <name>, <sat>, unknown extensions ...) it is read from its own subtree.
    row = [nan] * width
    time_text: str | None = None
    clean = False
    bad = 0
    try:
        for _event, elem in end_events(data):
            code = codes[elem.tag]
            if code >= 0:
                text = elem.text
                if text is not None:
                    try:
                        row[code] = float(text)
                    except ValueError:
                        bad += 1
            elif code == _TIME:
                time_text = elem.text
            elif code == _CONTAINER:
                continue
            elif code == _OTHER:
                clean = False
            elif code == _POINT:
                if track is None:
                    track = _Track()
                if clean:
                    _point_from_row(elem, row, time_text, bad, track)
                else:
                    _read_point(elem, track, codes)
                elem.clear()
                row = [nan] * width
                time_text = None
                clean = True
                bad = 0
            elif code == _SEGMENT:
                elem.clear()
                clean = False
            elif code == _TRACK:
                if track is None:
                    track = _Track()
                track.name = child_text(elem, "name")
                track.sport = child_text(elem, "type")
                activity = _finish_track(track, creator, warnings)
                if activity is not None:
                    activities.append(activity)
                track = None
                elem.clear()
                clean = False
            elif code == _ROOT:
                root_seen = True
    except UnsafeXml as exc:
        return DecodedFile(format="gpx", status="error", message=str(exc))
    except XML_FAULTS as exc:
        fault = fault_message(exc)
    if fault and track is not None:
        activity = _finish_track(track, creator, warnings)
        if activity is not None:
            activities.append(activity)
    return _result(activities, warnings, fault, root_seen)


def _result(activities: list[Activity], warnings: list[str], fault: str, root_seen: bool) -> DecodedFile:
    if fault and not activities:
        return DecodedFile(format="gpx", status="error", message=fault, warnings=warnings)
    if fault:
        return DecodedFile(format="gpx", status="partial", message=f"{fault}; points before it kept",
                           activities=activities, warnings=warnings)
    if not root_seen:
        return DecodedFile(format="gpx", status="error", message="not a GPX file (no <gpx> root element)",
                           warnings=warnings)
    if not activities:
        return DecodedFile(format="gpx", status="error",
                           message="no recorded track: the GPX has no track point with a time", warnings=warnings)
    return DecodedFile(format="gpx", status="ok", activities=activities, warnings=warnings)
