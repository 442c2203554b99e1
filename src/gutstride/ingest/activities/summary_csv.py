"""CSV activity summaries: one :class:`Activity` per row, summary only (the stream is empty).

Columns are recognised by name, ignoring case, spaces, underscores and a unit in parentheses:

==============  ==========================================================================================
field           header spellings
==============  ==========================================================================================
start_time      date, start time, start date, activity date, start, start_date_local, begin
sport           type, sport, activity type
duration_s      duration, elapsed time, total time, time
moving_time_s   moving time
distance_m      distance (km / m / mi from the header: "Distance (km)", "distance_m", "distance_mi")
avg_hr          average heart rate, avg hr, average heartrate, avg heart rate, mean hr
max_hr          max heart rate, max hr, maximum heart rate, max heartrate
ascent_m        elevation gain, total ascent, ascent, total elevation gain, climb
name            name, title, activity name
==============  ==========================================================================================

When a spelling appears twice (Strava's activities.csv has two "Distance" columns), the first is used.
Durations are ``h:mm:ss``, ``mm:ss`` or seconds (minutes or hours when the header says "(min)" or "(h)").
A distance without a unit is taken as kilometres when the column's median is below 300, else metres, and a
warning says so. Start times are ISO 8601 or Strava's "Apr 18, 2020, 11:10:44 AM"; times without a zone are
taken as UTC, with a warning. Rows that cannot be read are listed with their line number (the header is line 1)
in the warnings, and the status is then "partial".
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from datetime import UTC, datetime

from gutstride.ingest.activities.streams import normalise_sport, stream_from_columns
from gutstride.model.activity import Activity, ActivitySummary, DecodedFile

_ALIASES: dict[str, tuple[str, ...]] = {
    "start_time": ("date", "start time", "start date", "activity date", "start", "start date local",
                   "begin", "starttime", "date time", "datetime"),
    "sport": ("type", "sport", "activity type"),
    "duration_s": ("duration", "elapsed time", "total time", "time"),
    "moving_time_s": ("moving time",),
    "distance_m": ("distance",),
    "avg_hr": ("average heart rate", "avg hr", "average heartrate", "avg heart rate", "mean hr", "average hr",
               "avg heartrate"),
    "max_hr": ("max heart rate", "max hr", "maximum heart rate", "max heartrate", "maximum hr"),
    "ascent_m": ("elevation gain", "total ascent", "ascent", "total elevation gain", "climb", "elev gain"),
    "name": ("name", "title", "activity name"),
}
_BY_KEY = {alias: field for field, aliases in _ALIASES.items() for alias in aliases}
_UNIT_SUFFIX = re.compile(r"[ _](km|m|mi|s|sec|min|h|bpm)$")
_STRAVA_DATE = "%b %d, %Y, %I:%M:%S %p"
_DIST_UNITS = {"km": 1000.0, "m": 1.0, "mi": 1609.344}
_TIME_UNITS = {"s": 1.0, "sec": 1.0, "min": 60.0, "h": 3600.0}


def _header_key(header: str) -> tuple[str, str | None]:
    """``"Distance (km)"`` -> ``("distance", "km")``; ``"distance_m"`` -> ``("distance", "m")``."""
    text = header.strip().lower()
    unit = None
    match = re.search(r"\(([^)]*)\)", text)
    if match:
        unit = match.group(1).strip()
        text = text[: match.start()] + text[match.end():]
    key = re.sub(r"[^a-z0-9]+", " ", text).strip()
    if key not in _BY_KEY:
        suffix = _UNIT_SUFFIX.search(key)
        if suffix and key[: suffix.start()] in _BY_KEY:
            unit, key = suffix.group(1), key[: suffix.start()]
    return key, unit


def map_columns(headers: list[str]) -> dict[str, tuple[int, str | None]]:
    """Field name -> (column index, unit) for the recognised headers; the first spelling found wins."""
    found: dict[str, tuple[int, str | None]] = {}
    for i, header in enumerate(headers):
        key, unit = _header_key(header)
        field = _BY_KEY.get(key)
        if field is not None and field not in found:
            found[field] = (i, unit)
    return found


def looks_like_summary_header(line: str) -> bool:
    """True when a CSV header line has a start-time column and a sport or duration column.

    Distance alone is not enough: per-record dumps (timestamp, heart_rate, distance, ...) are not summaries.
    """
    try:
        headers = next(csv.reader([line], _sniff_dialect(line)))
    except (csv.Error, StopIteration):
        return False
    found = map_columns(headers)
    return "start_time" in found and bool({"sport", "duration_s", "moving_time_s"} & set(found))


def _sniff_dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(sample.splitlines()[0] if sample else sample, delimiters=",;\t")
    except csv.Error:
        return csv.excel


def _parse_time(text: str) -> tuple[datetime, bool]:
    """Start time -> (aware UTC datetime, was_naive); ValueError when unreadable."""
    text = text.strip()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = datetime.strptime(text, _STRAVA_DATE)
    naive = value.tzinfo is None
    return (value.replace(tzinfo=UTC) if naive else value.astimezone(UTC)), naive


def _parse_duration(text: str, unit: str | None) -> float:
    text = text.strip()
    if ":" in text:
        parts = [float(p) for p in text.split(":")]
        if len(parts) > 3:
            raise ValueError(text)
        seconds = 0.0
        for part in parts:
            seconds = seconds * 60 + part
        return seconds
    return float(text) * _TIME_UNITS.get(unit or "s", 1.0)


def _number(text: str) -> float:
    return float(text.strip().replace(",", "")) if "," in text and "." in text else float(text.strip())


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_summary_csv(data: bytes, name: str = "") -> DecodedFile:
    """Read a CSV of activity summaries (one activity per row; see the module docstring for the columns)."""
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), _sniff_dialect(text[:4096]))
    try:
        headers = next(reader)
    except (StopIteration, csv.Error):
        return DecodedFile(format="csv", status="error", message="empty CSV file")
    cols = map_columns(headers)
    if "start_time" not in cols:
        return DecodedFile(format="csv", status="error",
                           message="not a CSV activity summary (no date or start time column)")
    warnings: list[str] = []
    rows: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((reader.line_num, row))
    except csv.Error as exc:
        warnings.append(f"line {reader.line_num}: CSV broken ({exc}); rows after it not read")
    distance_scale = _distance_scale(cols, rows, warnings)
    activities: list[Activity] = []
    n_naive = 0
    for line, row in rows:
        summary, problems, naive = _read_row(row, cols, distance_scale)
        n_naive += naive
        if problems:
            warnings.append(f"line {line}: " + "; ".join(problems))
        if summary is not None:
            activities.append(Activity(summary=summary, stream=stream_from_columns({}, 0)))
    if n_naive:
        warnings.append(f"{n_naive} start times without a time zone, taken as UTC")
    bad = any(w.startswith("line ") for w in warnings)
    if not activities:
        return DecodedFile(format="csv", status="error", message="no readable activity row", warnings=warnings)
    if bad:
        return DecodedFile(format="csv", status="partial", message="some rows or values could not be read",
                           activities=activities, warnings=warnings)
    return DecodedFile(format="csv", status="ok", activities=activities, warnings=warnings)


def _cell(row: list[str], cols: dict[str, tuple[int, str | None]], field: str) -> str | None:
    spec = cols.get(field)
    if spec is None or spec[0] >= len(row):
        return None
    value = row[spec[0]].strip()
    return value or None


def _distance_scale(cols: dict[str, tuple[int, str | None]], rows: list[tuple[int, list[str]]],
                    warnings: list[str]) -> float:
    spec = cols.get("distance_m")
    if spec is None:
        return 1.0
    if spec[1] in _DIST_UNITS:
        return _DIST_UNITS[spec[1]]
    values = []
    for _, row in rows:
        cell = _cell(row, cols, "distance_m")
        if cell is None:
            continue
        try:
            values.append(_number(cell))
        except ValueError:
            continue
    if not values:
        return 1000.0
    scale = 1000.0 if statistics.median(values) < 300 else 1.0
    warnings.append(f"distance unit not given; taken as {'km' if scale == 1000.0 else 'm'} from the values")
    return scale


def _read_row(row: list[str], cols: dict[str, tuple[int, str | None]],
              distance_scale: float) -> tuple[ActivitySummary | None, list[str], bool]:
    problems: list[str] = []
    start_text = _cell(row, cols, "start_time")
    if start_text is None:
        return None, ["no start time: row skipped"], False
    try:
        start, naive = _parse_time(start_text)
    except ValueError:
        return None, [f"cannot read start time {start_text!r}: row skipped"], False
    sport_text = _cell(row, cols, "sport")
    summary = ActivitySummary(sport=normalise_sport(sport_text), start_time=start, name=_cell(row, cols, "name"))
    if sport_text and summary.sport == "other" and sport_text.lower() != "other":
        summary.sub_sport = sport_text
    for field in ("duration_s", "moving_time_s"):
        cell = _cell(row, cols, field)
        if cell is not None:
            try:
                setattr(summary, field, _parse_duration(cell, cols[field][1]))
            except ValueError:
                problems.append(f"cannot read {field} {cell!r}")
    for field, scale in (("distance_m", distance_scale), ("avg_hr", 1.0), ("max_hr", 1.0), ("ascent_m", 1.0)):
        cell = _cell(row, cols, field)
        if cell is not None:
            try:
                setattr(summary, field, _number(cell) * scale)
            except ValueError:
                problems.append(f"cannot read {field} {cell!r}")
    return summary, problems, naive
