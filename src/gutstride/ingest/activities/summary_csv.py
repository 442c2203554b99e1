"""CSV activity summaries: one :class:`Activity` per row, summary only (the stream is empty).

Columns are recognised by name, ignoring case, spaces, underscores and a unit in parentheses:

==============  ==========================================================================================
field           header spellings
==============  ==========================================================================================
start_time      date, start time, start date, activity date, start, start_date_local, begin
sport           type, sport, activity type
duration_s      duration, total time, time (else the elapsed time)
moving_time_s   moving time
elapsed_s       elapsed time (the duration when there is no duration column)
distance_m      distance (km / m / mi from the header: "Distance (km)", "distance_m", "distance_mi")
avg_hr          average heart rate, avg hr, average heartrate, avg heart rate, mean hr
max_hr          max heart rate, max hr, maximum heart rate, max heartrate
ascent_m        elevation gain, total ascent, ascent, total elevation gain, climb (m; ft when the header says so)
name            name, title, activity name
==============  ==========================================================================================

When a spelling appears twice (Strava's activities.csv has two "Distance" columns), the first is used.
Garmin Connect's ``Activities.csv`` is read with its own rules (:mod:`.garmin_csv`): ``--`` cells are missing,
Danish and German headers are understood, commas group thousands, and pool swims and track runs are in metres.
Durations are ``h:mm:ss``, ``mm:ss`` or seconds (minutes or hours when the header says "(min)" or "(h)").
A distance without a unit is taken as kilometres when the column's median is below 300, else metres, and a
warning says so. Start times are ISO 8601 or Strava's "Apr 18, 2020, 11:10:44 AM". A time without an offset is
a local time: it is read in the workspace's time zone (``time_zone`` in ``config.toml``, by default the
machine's), and the file's message says so. Rows that cannot be read are listed with their line number (the
header is line 1) in the warnings, and the status is then "partial".

A header is taken for a summary only with a start-time column and either a sport column, or a duration next to
a distance, heart-rate or ascent column: "date" and "time" alone (a mood diary such as Daylio) are not enough.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from gutstride.ingest.activities import garmin_csv
from gutstride.ingest.activities.streams import normalise_sport, stream_from_columns
from gutstride.model.activity import Activity, ActivitySummary, DecodedFile
from gutstride.settings import local_zone, zone_label

_ALIASES: dict[str, tuple[str, ...]] = {
    "start_time": ("date", "start time", "start date", "activity date", "start", "start date local",
                   "begin", "starttime", "date time", "datetime"),
    "sport": ("type", "sport", "activity type"),
    "duration_s": ("duration", "total time", "time"),
    "moving_time_s": ("moving time",),
    "elapsed_s": ("elapsed time",),
    "distance_m": ("distance",),
    "avg_hr": ("average heart rate", "avg hr", "average heartrate", "avg heart rate", "mean hr", "average hr",
               "avg heartrate"),
    "max_hr": ("max heart rate", "max hr", "maximum heart rate", "max heartrate", "maximum hr"),
    "ascent_m": ("elevation gain", "total ascent", "ascent", "total elevation gain", "climb", "elev gain"),
    "name": ("name", "title", "activity name"),
}
_BY_KEY = {alias: field for field, aliases in _ALIASES.items() for alias in aliases}
_BY_KEY.update({alias: field for field, aliases in garmin_csv.HEADER_ALIASES.items() for alias in aliases})
#: Cells that mean "no value" (Garmin writes ``--``).
_NULLS = frozenset({"--", "-", "n/a", "na"})
_MEASURES = frozenset({"distance_m", "avg_hr", "max_hr", "ascent_m"})
_UNIT_SUFFIX = re.compile(r"[ _](km|m|mi|s|sec|min|h|bpm)$")
_STRAVA_DATE = "%b %d, %Y, %I:%M:%S %p"
_DIST_UNITS = {"km": 1000.0, "m": 1.0, "mi": 1609.344}
#: Metres per unit of an elevation column whose header names its unit ("Climb (ft)"); metres otherwise.
_ELEVATION_UNITS = {"m": 1.0, "ft": 0.3048}
_TIME_UNITS = {"s": 1.0, "sec": 1.0, "min": 60.0, "h": 3600.0}


def _header_key(header: str) -> tuple[str, str | None]:
    """``"Distance (km)"`` -> ``("distance", "km")``; ``"distance_m"`` -> ``("distance", "m")``."""
    text = header.strip().lower()
    unit = None
    match = re.search(r"\(([^)]*)\)", text)
    if match:
        unit = match.group(1).strip()
        text = text[: match.start()] + text[match.end():]
    key = re.sub(r"[\W_]+", " ", text).strip()
    if key not in _BY_KEY:
        suffix = _UNIT_SUFFIX.search(key)
        if suffix and key[: suffix.start()] in _BY_KEY:
            unit, key = suffix.group(1), key[: suffix.start()]
    return key, unit


def header_keys(headers: list[str]) -> list[str]:
    """The normalised keys of ``headers`` (lower case, punctuation folded to spaces, units dropped)."""
    return [_header_key(h)[0] for h in headers]


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
    """True when a CSV header line has a start-time column and either a sport column, or a duration column next
    to a distance, heart-rate or ascent column.

    Distance alone is not enough: per-record dumps (timestamp, heart_rate, distance, ...) are not summaries; nor
    are a date and a time alone (a mood diary: ``full_date,date,weekday,time,mood,...``).
    """
    try:
        headers = next(csv.reader([line], _sniff_dialect(line)))
    except (csv.Error, StopIteration):
        return False
    found = set(map_columns(headers))
    if "start_time" not in found:
        return False
    return "sport" in found or (bool({"duration_s", "moving_time_s", "elapsed_s"} & found) and bool(_MEASURES & found))


def _sniff_dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(sample.splitlines()[0] if sample else sample, delimiters=",;\t")
    except csv.Error:
        return csv.excel


def parse_local_time(text: str, zone: tzinfo) -> tuple[datetime, int | None, bool]:
    """Start time -> (aware UTC datetime, local offset in seconds, was_naive); ValueError when unreadable.

    A time without an offset is a wall-clock time in ``zone`` (its offset on that date, daylight saving
    included; an ambiguous hour at the autumn change takes the first, ``fold=0``).
    """
    text = text.strip()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = datetime.strptime(text, _STRAVA_DATE)
    naive = value.tzinfo is None
    if naive:
        value = value.replace(tzinfo=zone)
    offset = value.utcoffset()
    return value.astimezone(UTC), None if offset is None else int(offset.total_seconds()), naive


def _parse_duration(text: str, unit: str | None, mark: str = ".") -> float:
    text = text.strip()
    if mark == ",":
        text = text.replace(",", ".")
    if ":" in text:
        parts = [float(p) for p in text.split(":")]
        if len(parts) > 3:
            raise ValueError(text)
        seconds = 0.0
        for part in parts:
            seconds = seconds * 60 + part
        return seconds
    return float(text) * _TIME_UNITS.get(unit or "s", 1.0)


def _number(text: str, layout: _Layout) -> float:
    """A number as written: Garmin's by :func:`garmin_csv.read_number` with the file's decimal mark (``2,992``,
    ``6.29``, or ``3,40`` and ``6.176``); otherwise ``1,234.5`` is grouped and ``12,5`` an error."""
    if layout.garmin:
        return garmin_csv.read_number(text, layout.decimal)
    text = text.strip()
    if "," in text and "." in text:
        return float(text.replace(",", ""))
    return float(text)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


@dataclass
class _Layout:
    """How one file's cells are read: its columns, time zone, Garmin's rules or not (and its decimal mark), and
    distance unit."""

    cols: dict[str, tuple[int, str | None]]
    zone: tzinfo
    garmin: bool = False
    keys: list[str] = dataclasses.field(default_factory=list)
    decimal: str = "."
    distance_scale: float = 1.0
    ascent_scale: float = 1.0


def read_summary_csv(data: bytes, name: str = "", zone: tzinfo | None = None) -> DecodedFile:
    """Read a CSV of activity summaries (one activity per row; see the module docstring for the columns).

    ``zone`` is the time zone of start times written without an offset (default: the machine's, see
    :func:`gutstride.settings.local_zone`).
    """
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), _sniff_dialect(text[:4096]))
    try:
        headers = next(reader)
    except (StopIteration, csv.Error):
        return DecodedFile(format="csv", status="error", message="empty CSV file")
    keys = header_keys(headers)
    layout = _Layout(map_columns(headers), zone or local_zone(), garmin_csv.is_garmin_header(keys), keys)
    if "start_time" not in layout.cols:
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
    if layout.garmin:
        layout.decimal = garmin_csv.decimal_mark(cell for _, row in rows for cell in row)
    layout.distance_scale = _distance_scale(layout, rows, warnings)
    layout.ascent_scale = _ascent_scale(layout, warnings)
    activities: list[Activity] = []
    n_naive = 0
    for line, row in rows:
        summary, problems, naive = _read_row(row, layout)
        n_naive += naive
        if problems:
            warnings.append(f"line {line}: " + "; ".join(problems))
        if summary is not None:
            activities.append(Activity(summary=summary, stream=stream_from_columns({}, 0)))
    note = ""
    if n_naive:
        note = (f"{n_naive} start times without a time zone, read as local time in {zone_label(layout.zone)} "
                "(the workspace time zone: time_zone in config.toml)")
        warnings.append(note)
    bad = any(w.startswith("line ") for w in warnings)
    fmt = "csv"
    if not activities:
        return DecodedFile(format=fmt, status="error", message="no readable activity row", warnings=warnings)
    if bad:
        message = "; ".join(m for m in ("some rows or values could not be read", note) if m)
        return DecodedFile(format=fmt, status="partial", message=message, activities=activities, warnings=warnings)
    return DecodedFile(format=fmt, status="ok", message=note, activities=activities, warnings=warnings)


def _cell(row: list[str], cols: dict[str, tuple[int, str | None]], field: str) -> str | None:
    spec = cols.get(field)
    if spec is None or spec[0] >= len(row):
        return None
    value = row[spec[0]].strip()
    return None if not value or value.lower() in _NULLS else value


def _ascent_scale(layout: _Layout, warnings: list[str]) -> float:
    """Metres per unit of the ascent column: from the header's unit ("Climb (ft)"), else feet for a Garmin account
    whose distances are in miles (Garmin's "statute" unit setting lists elevation in feet with miles), else
    metres."""
    spec = layout.cols.get("ascent_m")
    if spec is None:
        return 1.0
    if spec[1] is not None:
        return _ELEVATION_UNITS.get(spec[1], 1.0)
    if layout.garmin and layout.distance_scale == garmin_csv.DISTANCE_UNITS["miles"]:
        warnings.append("ascent unit not given; taken as feet, as the distances are in miles (Garmin's statute units)")
        return _ELEVATION_UNITS["ft"]
    return 1.0


def _distance_scale(layout: _Layout, rows: list[tuple[int, list[str]]], warnings: list[str]) -> float:
    """Metres per unit of the distance column: from the header's unit, else from the median of the values
    (below 300: km), leaving out Garmin's pool swims and track runs, which are always in metres."""
    cols = layout.cols
    spec = cols.get("distance_m")
    if spec is None:
        return 1.0
    if spec[1] in _DIST_UNITS:
        return _DIST_UNITS[spec[1]]
    if layout.garmin:
        unit = garmin_csv.metres_per_unit(_garmin_runs(layout, rows))
        if unit is not None:
            warnings.append(f"distance unit not given; taken as {unit} from the runs' steps and stride length")
            return garmin_csv.DISTANCE_UNITS[unit]
    values = []
    for _, row in rows:
        cell = _cell(row, cols, "distance_m")
        if cell is None or (layout.garmin and garmin_csv.listed_in_metres(_cell(row, cols, "sport"))):
            continue
        try:
            values.append(_number(cell, layout))
        except ValueError:
            continue
    if not values:
        return 1000.0
    scale = 1000.0 if statistics.median(values) < 300 else 1.0
    warnings.append(f"distance unit not given; taken as {'km' if scale == 1000.0 else 'm'} from the values")
    return scale


def _garmin_runs(layout: _Layout, rows: list[tuple[int, list[str]]]) -> list[tuple[float, float, float, float]]:
    """``(distance, cadence, minutes, stride)`` of the Garmin rows that have all four (see
    :func:`garmin_csv.metres_per_unit`); minutes from the moving time, else the time."""
    stride = next((layout.keys.index(k) for k in garmin_csv.STRIDE_KEYS if k in layout.keys), None)
    cadence = next((layout.keys.index(k) for k in garmin_csv.CADENCE_KEYS if k in layout.keys), None)
    if stride is None or cadence is None:
        return []
    out = []
    for _, row in rows:
        time_field = "moving_time_s" if _cell(row, layout.cols, "moving_time_s") is not None else "duration_s"
        distance, time = _cell(row, layout.cols, "distance_m"), _cell(row, layout.cols, time_field)
        if distance is None or time is None or max(stride, cadence) >= len(row):
            continue
        try:
            out.append((_number(distance, layout), _number(row[cadence], layout),
                        _parse_duration(time, layout.cols[time_field][1], layout.decimal) / 60,
                        _number(row[stride], layout)))
        except ValueError:
            continue
    return out


def _read_row(row: list[str], layout: _Layout) -> tuple[ActivitySummary | None, list[str], bool]:
    cols = layout.cols
    problems: list[str] = []
    start_text = _cell(row, cols, "start_time")
    if start_text is None:
        return None, ["no start time: row skipped"], False
    try:
        start, offset, naive = parse_local_time(start_text, layout.zone)
    except ValueError:
        return None, [f"cannot read start time {start_text!r}: row skipped"], False
    sport_text = _cell(row, cols, "sport")
    sport = normalise_sport(sport_text)
    if sport == "other" and sport_text:
        sport = garmin_csv.local_sport(sport_text) or ("swimming" if garmin_csv.is_pool_swim(sport_text) else sport)
    summary = ActivitySummary(sport=sport, start_time=start, local_offset_s=offset, name=_cell(row, cols, "name"))
    if sport_text and summary.sport == "other" and sport_text.lower() != "other":
        summary.sub_sport = sport_text
    times: dict[str, float] = {}
    for field in ("duration_s", "moving_time_s", "elapsed_s"):
        cell = _cell(row, cols, field)
        if cell is not None:
            try:
                times[field] = _parse_duration(cell, cols[field][1], layout.decimal)
            except ValueError:
                problems.append(f"cannot read {field} {cell!r}")
    duration_cell = _cell(row, cols, "duration_s")
    if layout.garmin and duration_cell is not None and "duration_s" in times:
        hours = garmin_csv.hours_minutes(duration_cell, times.get("elapsed_s"))
        if hours is not None:
            times["duration_s"] = hours
    summary.duration_s = times.get("duration_s", times.get("elapsed_s"))
    summary.moving_time_s = times.get("moving_time_s")
    metres = layout.garmin and garmin_csv.listed_in_metres(sport_text)
    distance_scale = 1.0 if metres else layout.distance_scale
    for field, scale in (("distance_m", distance_scale), ("avg_hr", 1.0), ("max_hr", 1.0),
                         ("ascent_m", layout.ascent_scale)):
        cell = _cell(row, cols, field)
        if cell is not None:
            try:
                setattr(summary, field, _number(cell, layout) * scale)
            except ValueError:
                problems.append(f"cannot read {field} {cell!r}")
    return summary, problems, naive
