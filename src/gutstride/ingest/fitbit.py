"""Fitbit account exports: the classic ``MyFitbitData`` layout and the newer Google-era one with heart-rate CSVs.

Exercises
    ``exercise-N.json`` (classic ``<name>/Physical Activity/``; Google Takeout ``Fitbit/Global Export Data/``): a
    JSON list of logged exercises with ``activityName``, ``startTime`` (``"05/01/19 06:30:00"``, month/day/year,
    without an offset), ``duration`` and ``activeDuration`` (milliseconds), ``distance`` with ``distanceUnit``
    (``"Kilometer"``, ``"Mile"``, ``"Meter"``), ``averageHeartRate``, ``calories``. Each becomes an activity;
    ``duration`` gives its window and duration.
Heart rate
    Classic: ``Physical Activity/heart_rate-YYYY-MM-DD.json``, a list of ``{"dateTime": "01/25/23 13:00:07",
    "value": {"bpm": 54, "confidence": 2}}``. Google-era: ``Physical Activity_GoogleData/heart_rate_YYYY-MM-DD.csv``
    with the header ``timestamp,beats per minute`` and ISO 8601 UTC times (``2024-10-27T00:00:04Z,65.0``). Only
    files named ``heart_rate[-_]YYYY-MM-DD`` are heart rate: ``heart_rate_variability_*.csv`` in the same folder is
    not. The samples inside an exercise's window are its HR stream.

A Google-era export (Takeout folder ``Fitbit`` or ``Google Health``) holds most streams twice, the classic JSON in
``Global Export Data`` and the CSV in ``Physical Activity_GoogleData`` (described from a real 2026 export in public
code): a heart-rate sample found in both is counted once.

Heart-rate times are UTC. The Google-era CSVs say so (``Z``). The classic files write no offset, but their times
are UTC too: a user at UTC+11 finds the day file ``heart_rate-2023-01-26.json`` starting at ``01/25/23 13:00:07``,
midnight of the 26th in their zone. The same user shifts the exercises' ``startTime`` by 11 hours as well, so those
are read as UTC by default; as that rests on one analysed export, the clock of the exercises is checked against
the data (:func:`exercise_clock`): the reading (UTC, or wall-clock time in the workspace zone) under which the
exercises' heart-rate samples agree with Fitbit's own ``averageHeartRate`` is used, and the headline says which.
The workspace time zone (``time_zone`` in ``config.toml``) also gives each exercise's local offset (its local day).
The mean of an exercise's samples is compared with ``averageHeartRate``; a difference above 3 bpm is reported.

Sources (read for their layout only; no file copied): saubury/duckdb-fitbit @ d5396033, ``fitbit-analysis.md``
(classic ``exercise-*.json`` and ``heart_rate-*.json`` fields, and the UTC clock); kev-m/FitOut @ 64eb0e5f,
``fitout/importers/heart_rate.py`` (the Google-era ``heart_rate_YYYY-MM-DD.csv`` header and ``...Z`` times, the
``Global Export Data`` folder); Google's own ``*_readme.txt`` in the Takeout (``heart_rate_YYYY-MM-DD.csv``:
``timestamp``, ``beats per minute``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from array import array
from datetime import UTC, datetime, tzinfo
from typing import Any

import numpy as np

from gutstride.errors import BadInputError
from gutstride.ingest.activities.streams import normalise_sport, stream_from_columns, summarise_stream
from gutstride.ingest.bundle import ExportBundle
from gutstride.ingest.container import Container, base_name
from gutstride.model.activity import Activity, ActivitySummary
from gutstride.settings import zone_label

FORMAT = "fitbit"
HR_CHECK_BPM = 3.0
_DISTANCE = {"kilometer": 1000.0, "mile": 1609.344, "meter": 1.0, "km": 1000.0, "mi": 1609.344, "m": 1.0}
_US_FORMATS = ("%m/%d/%y %H:%M:%S", "%m/%d/%Y %H:%M:%S")
_SPORTS = {"run": "running", "walk": "walking", "bike": "cycling", "outdoor bike": "cycling",
           "spinning": "indoor_cycling", "treadmill": "treadmill_running", "weights": "strength",
           "swim": "swimming", "elliptical": "cross_training", "hike": "hiking", "yoga": "yoga"}
#: The Google-era heart-rate CSV's columns (``heart_rate_YYYY-MM-DD.csv``; ``data source`` may follow).
_HR_TIME = ("timestamp",)
_HR_VALUE = ("beats per minute",)


_HR_FILE = re.compile(r"heart_rate[-_]\d{4}-\d{2}-\d{2}\.(json|csv)")


def _is_exercise(name: str) -> bool:
    base = base_name(name)
    return base.startswith("exercise-") and base.endswith(".json")


def _is_hr(name: str) -> bool:
    return _HR_FILE.fullmatch(base_name(name).lower()) is not None


def is_fitbit(names: list[str]) -> bool:
    """True when the names hold Fitbit exercise logs (``exercise-N.json``)."""
    return any(_is_exercise(n) for n in names)


def parse_fitbit_time(text: str) -> float:
    """A Fitbit time (``05/01/19 06:30:00`` or ISO 8601, ``...Z``) -> epoch seconds; no offset means UTC."""
    text = text.strip()
    moment = None
    for fmt in _US_FORMATS:
        try:
            moment = datetime.strptime(text, fmt)
            break
        except ValueError:
            continue
    if moment is None:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        return None
    return float(value)


def _read_hr(container: Container, names: list[str], out: ExportBundle) -> tuple[np.ndarray, np.ndarray, int]:
    """All heart-rate samples, sorted by time, each time once (a Google-era export holds the same samples in
    ``Global Export Data/heart_rate-*.json`` and ``Physical Activity_GoogleData/heart_rate_*.csv``), and how many
    repeated times were dropped."""
    times, values = array("d"), array("f")
    bad = 0
    for name in names:
        if not _is_hr(name):
            continue
        try:
            data = container.read(name)
        except BadInputError as exc:
            out.warnings.append(str(exc))
            continue
        if name.lower().endswith(".json"):
            try:
                items = json.loads(data)
            except ValueError:
                out.warnings.append(f"{base_name(name)}: not JSON; not read")
                continue
            for item in items if isinstance(items, list) else []:
                try:
                    t = parse_fitbit_time(item["dateTime"])
                    bpm = _number(item["value"]["bpm"])
                except (KeyError, TypeError, ValueError):
                    bad += 1
                    continue
                if bpm is not None:
                    times.append(t)
                    values.append(bpm)
        else:
            bad += _read_hr_csv(data, name, times, values, out)
    if bad:
        out.warnings.append(f"{bad} heart-rate samples with an unreadable time or value left out")
    stamps = np.frombuffer(times, dtype=np.float64)
    order = np.argsort(stamps, kind="stable")
    stamps, rates = stamps[order], np.frombuffer(values, dtype=np.float32).astype(np.float64)[order]
    first = np.ones(stamps.size, dtype=bool)
    first[1:] = stamps[1:] != stamps[:-1]
    duplicates = int(stamps.size - first.sum())
    if duplicates:
        out.warnings.append(f"{duplicates} heart-rate samples found in both the JSON and the CSV files counted once")
    return stamps[first], rates[first], duplicates


def _read_hr_csv(data: bytes, name: str, times: array[float], values: array[float],
                 out: ExportBundle) -> int:
    """Append the samples of one heart-rate CSV; return how many rows could not be read."""
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig", errors="replace"), newline=""))
    try:
        header = [h.strip().lower() for h in next(reader, [])]
    except csv.Error:
        header = []
    t_col = next((header.index(h) for h in _HR_TIME if h in header), None)
    v_col = next((header.index(h) for h in _HR_VALUE if h in header), None)
    if t_col is None or v_col is None:
        out.warnings.append(f"{base_name(name)}: no time and heart-rate columns; not read")
        return 0
    bad = 0
    try:
        for row in reader:
            try:
                t = parse_fitbit_time(row[t_col])
                bpm = float(row[v_col])
            except (IndexError, ValueError):
                bad += 1
                continue
            times.append(t)
            values.append(bpm)
    except csv.Error as exc:
        out.warnings.append(f"{base_name(name)}: broken CSV at line {reader.line_num} ({exc}); rest not read")
    return bad


def _read_exercises(container: Container, names: list[str], out: ExportBundle) -> list[tuple[dict[str, Any], float]]:
    """The exercises of every ``exercise-N.json``, each with its ``startTime`` read as UTC (epoch seconds)."""
    found: list[tuple[dict[str, Any], float]] = []
    for name in names:
        if not _is_exercise(name):
            continue
        try:
            items = json.loads(container.read(name))
        except (ValueError, BadInputError) as exc:
            out.warnings.append(f"{base_name(name)}: not read ({exc})")
            continue
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            try:
                found.append((item, parse_fitbit_time(str(item["startTime"]))))
            except (KeyError, ValueError):
                out.warnings.append(f"{base_name(name)}: an exercise without a readable startTime left out")
    return found


def _as_local(written_as_utc: float, zone: tzinfo) -> float:
    """The epoch of a wall-clock time in ``zone``, given the same wall-clock time read as UTC."""
    wall = datetime.fromtimestamp(written_as_utc, tz=UTC).replace(tzinfo=None)
    return wall.replace(tzinfo=zone).timestamp()


def _window(hr_t: np.ndarray, start: float, seconds: float) -> slice:
    """The samples of ``hr_t`` (sorted epoch seconds) in ``[start, start + seconds]``."""
    lo = int(np.searchsorted(hr_t, start, side="left"))
    return slice(lo, int(np.searchsorted(hr_t, start + seconds, side="right")))


def _window_mean(hr_t: np.ndarray, hr_v: np.ndarray, start: float, seconds: float) -> float | None:
    inside = hr_v[_window(hr_t, start, seconds)]
    return float(inside.mean()) if inside.size else None


def exercise_clock(exercises: list[tuple[dict[str, Any], float]], hr_t: np.ndarray, hr_v: np.ndarray,
                   zone: tzinfo) -> tuple[str, int]:
    """``("UTC" | "local", n)``: the clock of the exercises' ``startTime``, and on how many exercises it was judged.

    Each exercise with Fitbit's ``averageHeartRate``, a duration and heart-rate samples votes for the reading
    (UTC, or wall-clock time in ``zone``) under which the mean of the samples in its window is closer to that
    average. UTC, the clock of the real export analysed (see the module docstring), wins ties and stands when no
    exercise can vote.
    """
    votes = {"UTC": 0, "local": 0}
    for item, written in exercises:
        average, duration_ms = _number(item.get("averageHeartRate")), _number(item.get("duration"))
        if average is None or duration_ms is None or duration_ms <= 0:
            continue
        errors = {}
        for clock, start in (("UTC", written), ("local", _as_local(written, zone))):
            mean = _window_mean(hr_t, hr_v, start, duration_ms / 1000)
            errors[clock] = abs(mean - average) if mean is not None else np.inf
        if errors["UTC"] != errors["local"]:
            votes[min(errors, key=lambda c: errors[c])] += 1
    return ("local" if votes["local"] > votes["UTC"] else "UTC"), votes["UTC"] + votes["local"]


def read_fitbit(container: Container, zone: tzinfo) -> ExportBundle:
    """Read a Fitbit export (see the module docstring)."""
    out = ExportBundle(FORMAT)
    names = container.names()
    hr_t, hr_v, duplicates = _read_hr(container, names, out)
    exercises = _read_exercises(container, names, out)
    clock, n_compared = exercise_clock(exercises, hr_t, hr_v, zone)
    n_exercises = with_hr = mismatch = 0
    for item, written in exercises:
        start = written if clock == "UTC" else _as_local(written, zone)
        duration_ms = _number(item.get("duration"))
        duration = duration_ms / 1000 if duration_ms is not None and duration_ms >= 0 else None
        moving_ms = _number(item.get("activeDuration"))
        distance = _number(item.get("distance"))
        unit = _DISTANCE.get(str(item.get("distanceUnit", "Kilometer")).lower())
        name_text = str(item.get("activityName") or "")
        summary = ActivitySummary(
            sport=_SPORTS.get(name_text.lower()) or normalise_sport(name_text),
            start_time=datetime.fromtimestamp(start, tz=UTC), duration_s=duration,
            moving_time_s=moving_ms / 1000 if moving_ms is not None and moving_ms >= 0 else None,
            distance_m=distance * unit if distance is not None and unit is not None else None,
            name=name_text[:400] or None,
        )
        offset = datetime.fromtimestamp(start, tz=zone).utcoffset()
        summary.local_offset_s = None if offset is None else int(offset.total_seconds())
        if summary.sport == "other" and name_text:
            summary.sub_sport = name_text[:40]
        inside = _window(hr_t, start, duration or 0.0)
        stream = stream_from_columns({"time": hr_t[inside], "hr": hr_v[inside]}, inside.stop - inside.start)
        summarise_stream(stream, summary)
        fitbit_avg = _number(item.get("averageHeartRate"))
        extra: dict[str, Any] = {}
        if _number(item.get("calories")) is not None:
            extra["energy_kcal"] = float(item["calories"])
        if fitbit_avg is not None:
            extra["fitbit_avg_hr"] = fitbit_avg
            if summary.n_hr == 0:
                summary.avg_hr = fitbit_avg
                extra["hr_from"] = "Fitbit's averageHeartRate (no heart-rate samples in the window)"
            elif summary.avg_hr is not None and abs(summary.avg_hr - fitbit_avg) > HR_CHECK_BPM:
                mismatch += 1
        with_hr += summary.n_hr > 0
        n_exercises += 1
        out.activities.append(Activity(summary=summary, stream=stream))
        out.extras.append(extra)
    if mismatch:
        out.warnings.append(f"{mismatch} exercises whose heart-rate samples average more than {HR_CHECK_BPM:g} bpm "
                            "away from Fitbit's averageHeartRate")
    out.counts = {"exercises": n_exercises, "with_hr": with_hr, "hr_samples": int(hr_t.size), "hr_mismatch": mismatch,
                  "clock_checked_on": n_compared, "hr_duplicates": duplicates}
    where = "UTC" if clock == "UTC" else f"local time in {zone_label(zone)}"
    why = (f"the clock under which {n_compared} exercises' heart rate agrees best with Fitbit's averageHeartRate"
           if n_compared else "no exercise to check the clock on")
    out.headline = (f"Fitbit: {n_exercises} exercises ({with_hr} with heart rate from {int(hr_t.size)} samples); "
                    f"heart rate read as UTC, exercise times read as {where} ({why}); local days in "
                    f"{zone_label(zone)}")
    return out
