"""Google Fit in a Google Takeout archive: ``Fit/All Sessions/*.json`` and ``Fit/Activities/*.tcx``.

Google Fit writes each session twice: a JSON summary in ``All Sessions`` (``fitnessActivity``, ``startTime``,
``endTime``, ``duration`` such as ``"1800.000s"``, and ``aggregate`` metrics such as ``com.google.distance.delta``
in metres and ``com.google.calories.expended`` in kcal) and a TCX file in ``Activities`` that holds the session as
several ``<Activity>`` segments, the first of which often carries a stale point up to two hours before the session.
Read one activity per ``<Activity>``, that gives about 2.4 activities per session and inflated training time.

So the session is the unit:

* each All Sessions JSON is one activity (sport, start, duration, distance, energy from Google's own values);
* the segments of a TCX file are merged into one stream, cut to the window ``[start - 60 s, end + 60 s]`` of the
  session it overlaps most, and joined to that session as its stream (HR, positions): never a second activity;
* a TCX file that overlaps no session (an export without All Sessions) is one activity of its own: its merged
  segments, after dropping stale points (:func:`drop_stale_points`: a run of at most 3 points separated from the
  rest by more than 30 minutes, at either end). A Google Fit TCX imported on its own, outside a Takeout, is read
  the same way (:func:`merge_segments`, recognised by its ``<Author><Name>Google Fit</Name>``).

Checked against public code that reads real Takeouts (facts only, no file copied):

* the folder is spelled both ``Fit/All Sessions/`` and ``Fit/All sessions/``, so folder names are matched without
  regard to case (``Fit/Activities/`` likewise);
* times are UTC and say so (``2021-04-19T20:57:39.686Z``), ``duration`` is ``"674.186s"``;
* sleep is filed in the same folder as sessions (``"fitnessActivity": "sleep"``, files ``..._SLEEP.json``, a
  night of about 8 h; segments ``sleep``/``sleep.awake``): such a session is not training and is left out
  (counted as ``sleep_sessions``), or a month of nights would add some 240 h of "training".

Localised Takeouts translate the folder names (a Korean one has ``모든 세션`` for All Sessions) and the activity in
the TCX file names (a French one: ``2018-10-28T14_30_31.734+01_00_PT22M11.176S_Marche_.tcx``), while the session
files keep names that start with their local start time (``2016-11-03T10_00_00-07_00_WALKING.json``). So members
are recognised by those names under the ``Fit`` folder (:func:`is_session_file`, :func:`is_tcx_file`), whatever
the language of the folders between; the ``Fit`` folder itself is assumed untranslated.
"""

from __future__ import annotations

import contextlib
import json
import re
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

import numpy as np

from gutstride.errors import BadInputError
from gutstride.ingest.activities.streams import normalise_sport, stream_from_columns, summarise_stream
from gutstride.ingest.activities.tcx_segments import drop_stale_points, merged_stream
from gutstride.ingest.bundle import ExportBundle
from gutstride.ingest.container import Container, base_name
from gutstride.model.activity import STREAM_COLUMNS, Activity, ActivitySummary

FORMAT = "google-fit"
WINDOW_MARGIN_S = 60.0
#: Google Fit activity names that :func:`normalise_sport` does not know.
SPORTS = {
    "biking": "cycling", "biking.road": "cycling", "biking.mountain": "cycling", "biking.stationary": "indoor_cycling",
    "running.treadmill": "treadmill_running", "running.jogging": "running", "walking.fitness": "walking",
    "walking.treadmill": "walking", "strength_training": "strength", "weightlifting": "strength",
    "swimming.pool": "swimming", "swimming.open_water": "swimming", "elliptical": "cross_training",
    "interval_training.high_intensity": "cross_training", "rowing.machine": "rowing",
}


_SESSION_NAME = re.compile(r"\d{4}-\d\d-\d\dT\d\d_\d\d_\d\d[^/]*\.json", re.IGNORECASE)


def _under_fit(name: str) -> PurePosixPath | None:
    path = PurePosixPath(name.replace("\\", "/"))
    return path if len(path.parts) >= 3 and path.parts[-3].lower() == "fit" else None


def is_session_file(name: str) -> bool:
    """A session JSON: ``Fit/All Sessions/*.json`` (any case), or a timestamp-named JSON in any folder of ``Fit``
    (a localised Takeout)."""
    path = _under_fit(name)
    return path is not None and path.suffix.lower() == ".json" and (
        path.parts[-2].lower() == "all sessions" or _SESSION_NAME.fullmatch(path.name) is not None)


def is_tcx_file(name: str) -> bool:
    """A Google Fit TCX: a ``.tcx`` in a folder of ``Fit`` (``Activities``, or its translation)."""
    path = _under_fit(name)
    return path is not None and path.suffix.lower() == ".tcx"


def is_google_fit(names: list[str]) -> bool:
    """True when the names hold a Google Fit Takeout (:func:`is_session_file` or :func:`is_tcx_file` members)."""
    return any(is_session_file(n) or is_tcx_file(n) for n in names)


def _sport(text: str | None) -> str:
    key = (text or "").strip().lower()
    return SPORTS.get(key) or normalise_sport(key.split(".")[0] if key else None)


def _time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _aggregate(session: dict[str, Any], metric: str) -> float | None:
    for item in session.get("aggregate") or []:
        if isinstance(item, dict) and item.get("metricName") == metric:
            value = item.get("floatValue", item.get("intValue"))
            if isinstance(value, int | float) and np.isfinite(value):
                return float(value)
    return None


def is_sleep(data: bytes) -> bool:
    """True for a sleep session (``"fitnessActivity": "sleep"`` or ``"sleep.*"``), which is not training."""
    try:
        activity = json.loads(data).get("fitnessActivity")
    except (ValueError, AttributeError):
        return False
    return isinstance(activity, str) and (activity == "sleep" or activity.startswith("sleep."))


def read_session(data: bytes, name: str) -> tuple[ActivitySummary, dict[str, Any]]:
    """One All Sessions JSON -> (summary, extras). Raises BadInputError for a file that is not one."""
    try:
        session = json.loads(data)
        start, end = _time(session["startTime"]), _time(session["endTime"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadInputError(f"{name}: not a Google Fit session ({type(exc).__name__}: {exc})") from None
    duration = end - start
    text = session.get("duration")
    if isinstance(text, str) and text.endswith("s"):
        with contextlib.suppress(ValueError):
            duration = float(text[:-1])
    if not (np.isfinite(duration) and duration >= 0):
        raise BadInputError(f"{name}: session duration {text!r} is not a duration")
    summary = ActivitySummary(
        sport=_sport(session.get("fitnessActivity")), start_time=datetime.fromtimestamp(start, tz=UTC),
        duration_s=duration, distance_m=_aggregate(session, "com.google.distance.delta"),
    )
    if summary.sport == "other" and session.get("fitnessActivity"):
        summary.sub_sport = str(session["fitnessActivity"])[:40]
    extras: dict[str, Any] = {"session_end": end}
    energy = _aggregate(session, "com.google.calories.expended")
    if energy is not None:
        extras["energy_kcal"] = round(energy, 1)
    return summary, extras


def read_google_fit(container: Container) -> ExportBundle:
    """Read the Google Fit part of a Takeout (see the module docstring)."""
    out = ExportBundle(FORMAT)
    sessions: list[tuple[ActivitySummary, dict[str, Any]]] = []
    names = container.names()
    n_sleep = 0
    for name in names:
        if is_session_file(name):
            try:
                data = container.read(name)
                if is_sleep(data):
                    n_sleep += 1
                    continue
                sessions.append(read_session(data, base_name(name)))
            except BadInputError as exc:
                out.warnings.append(str(exc))
    sessions.sort(key=lambda s: s[0].start_time or datetime.min.replace(tzinfo=UTC))
    starts = np.array([s[0].start_time.timestamp() for s in sessions if s[0].start_time is not None])
    ends = np.array([s[1]["session_end"] for s in sessions])
    joined: dict[int, dict[str, np.ndarray]] = {}
    alone: list[Activity] = []
    n_tcx = n_segments_dropped = 0
    for name in names:
        if not is_tcx_file(name):
            continue
        n_tcx += 1
        try:
            stream, sport, warnings = merged_stream(container.read(name), base_name(name))
        except BadInputError as exc:
            out.warnings.append(str(exc))
            continue
        out.warnings += warnings
        time = stream["time"]
        if time.size == 0:
            continue
        overlap = np.minimum(ends, time[-1]) - np.maximum(starts, time[0]) if starts.size else np.empty(0)
        best = int(np.argmax(overlap)) if overlap.size else -1
        if best >= 0 and overlap[best] > 0:
            keep = (time >= starts[best] - WINDOW_MARGIN_S) & (time <= ends[best] + WINDOW_MARGIN_S)
            n_segments_dropped += int((~keep).sum())
            part = {c: v[keep] for c, v in stream.items()}
            if best in joined:
                merged = {c: np.concatenate([joined[best][c], part[c]]) for c in STREAM_COLUMNS}
                part = stream_from_columns(merged, int(merged["time"].size))
            joined[best] = part
            continue
        stream, dropped = drop_stale_points(stream)
        n_segments_dropped += dropped
        summary = summarise_stream(stream, ActivitySummary(sport=sport or "other"))
        alone.append(Activity(summary=summary, stream=stream))
    for index, (summary, extras) in enumerate(sessions):
        stream = joined.get(index, stream_from_columns({}, 0))
        if stream["time"].size:
            summarise_stream(stream, summary)
        extras = {k: v for k, v in extras.items() if k != "session_end"}
        out.activities.append(Activity(summary=summary, stream=stream))
        out.extras.append(extras)
    for activity in alone:
        out.activities.append(activity)
        out.extras.append({"note": "Google Fit TCX without a session; its segments merged"})
    hours = sum(a.summary.duration_s or 0.0 for a in out.activities) / 3600
    out.counts = {"sessions": len(sessions), "sleep_sessions": n_sleep, "tcx": n_tcx, "tcx_joined": len(joined),
                  "tcx_alone": len(alone), "points_outside": n_segments_dropped}
    out.headline = (
        f"Google Fit: {len(sessions)} sessions from All Sessions ({n_sleep} sleep sessions left out), {n_tcx} TCX "
        f"files ({len(joined)} joined to their session, {len(alone)} on their own, segments merged); "
        f"{hours:.1f} h of training; "
        f"{n_segments_dropped} points outside their session dropped"
    )
    return out
