"""Store activities in the workspace, keep each real activity once, and load them back.

Deduplication
-------------
The same workout often reaches a workspace twice: as the watch's FIT file from a Garmin export and as a GPX or
TCX file from a Strava export. Two activities of one person are taken to be the same when

* their start times differ by at most :data:`START_TOLERANCE_S` (60 s): devices and platforms round or shift the
  start a little, but two separate workouts do not start within a minute of each other; and
* their durations differ by at most :data:`DURATION_TOLERANCE` (5 %) of the longer one or
  :data:`DURATION_TOLERANCE_S` (20 s), whichever is larger: ``|d1 - d2| <= max(0.05 * max(d1, d2), 20)``.
  Platforms trim the ends differently (a 2-minute ride was 113 s as FIT and 126 s as TCX: 10 %, but 13 s), but a
  warm-up and the run after it do not pass this test.

An activity without a start time or a duration is never matched (it is kept; nothing is dropped on a guess).
Of a matching pair the richer is kept, by :func:`richness`: more heart-rate samples, then more records, then the
format (FIT > TCX > GPX > CSV); on a tie the one stored first stays. Samples are counted once per distinct
timestamp (:func:`sample_counts`), so a TCX file that repeats the trackpoint at each lap boundary is not
"richer" than the FIT file it was made from. The kept row's fields it lacks (name, perceived exertion, gear,
temperature...; the sport if it is only "other") are filled from the other, and both files are listed in
``ActivityRow.sources``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import select

from gutstride.model.activity import Activity, ActivitySummary
from gutstride.store.schema import ActivityRow, Person
from gutstride.store.storage import checked_athlete_id

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.orm import Session

    from gutstride.store.workspace import Workspace

START_TOLERANCE_S = 60.0
DURATION_TOLERANCE = 0.05
DURATION_TOLERANCE_S = 20.0
FORMAT_RANK = {"fit": 3, "tcx": 2, "gpx": 1, "csv": 0}

#: Summary fields copied from the other file when the kept activity lacks them.
_FILLABLE = (
    "sub_sport", "local_offset_s", "moving_time_s", "distance_m", "avg_hr", "max_hr", "ascent_m", "avg_temp_c",
    "device", "name", "perceived_exertion", "gear",
)
_SUMMARY_FIELDS = (
    "sport", "sub_sport", "start_time", "local_offset_s", "duration_s", "moving_time_s", "distance_m", "avg_hr",
    "max_hr", "ascent_m", "avg_temp_c", "device", "n_records", "n_hr", "name", "perceived_exertion", "gear",
)


@dataclass
class SaveOutcome:
    """What storing one file's activities did: ids of new rows, and one message per duplicate found."""

    new_ids: list[int] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    kept_ids: list[int] = field(default_factory=list)


def richness(n_hr: int, n_records: int, fmt: str) -> tuple[int, int, int]:
    """Sort key of how much an activity holds: HR samples, then records, then format (FIT > TCX > GPX > CSV).

    The counts are those of :func:`sample_counts`.
    """
    return (int(n_hr), int(n_records), FORMAT_RANK.get(fmt, -1))


def sample_counts(activity: Activity) -> tuple[int, int]:
    """``(n_hr, n_records)`` counted over distinct timestamps of the stream (HR: finite and above 0).

    Without a stream, the summary's counts.
    """
    time = activity.stream.get("time")
    if time is None or len(time) == 0:
        return int(activity.summary.n_hr or 0), int(activity.summary.n_records or 0)
    hr = activity.stream.get("hr")
    finite = np.isfinite(time)
    with np.errstate(invalid="ignore"):
        has_hr = finite & np.isfinite(hr) & (hr > 0) if hr is not None else np.zeros(len(time), dtype=bool)
        increasing = bool(np.all(np.diff(time[finite]) > 0))
    if increasing:  # the usual case: every timestamp distinct, no sorting needed
        return int(np.count_nonzero(has_hr)), int(np.count_nonzero(finite))
    return len(np.unique(time[has_hr])), len(np.unique(time[finite]))


def _row_richness(row: ActivityRow) -> tuple[int, int, int]:
    for source in row.sources or []:
        if source.get("sha256") == row.source_sha256 and source.get("index") == row.source_index:
            return richness(source.get("n_hr", row.n_hr), source.get("n_records", row.n_records), row.format)
    return richness(row.n_hr, row.n_records, row.format)


def _lists_source(row: ActivityRow, sha256: str, index: int) -> bool:
    return any(s.get("sha256") == sha256 and s.get("index") == index for s in row.sources or [])


def as_utc(value: datetime | None) -> datetime | None:
    """``value`` as an aware UTC datetime (naive values, as SQLite returns them, are taken to be UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def same_activity(start_a: datetime, dur_a: float, start_b: datetime, dur_b: float) -> bool:
    """The deduplication rule of the module docstring."""
    if abs((start_a - start_b).total_seconds()) > START_TOLERANCE_S:
        return False
    return abs(dur_a - dur_b) <= max(DURATION_TOLERANCE * max(dur_a, dur_b), DURATION_TOLERANCE_S)


def find_duplicate(session: Session, person_id: int, summary: ActivitySummary) -> ActivityRow | None:
    """The stored activity of ``person_id`` that ``summary`` duplicates (closest start), or ``None``."""
    start = as_utc(summary.start_time)
    duration = summary.duration_s
    if start is None or duration is None or not np.isfinite(duration):
        return None
    window = timedelta(seconds=START_TOLERANCE_S)
    candidates = session.scalars(
        select(ActivityRow).where(
            ActivityRow.person_id == person_id,
            ActivityRow.start_time >= start - window,
            ActivityRow.start_time <= start + window,
        )
    ).all()
    best: ActivityRow | None = None
    for row in candidates:
        row_start = as_utc(row.start_time)
        if row_start is None or row.duration_s is None:
            continue
        if same_activity(start, float(duration), row_start, float(row.duration_s)) and (
            best is None
            or abs((row_start - start).total_seconds()) < abs((as_utc(best.start_time) - start).total_seconds())  # type: ignore[operator]
        ):
            best = row
    return best


def _clean(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _summary_values(summary: ActivitySummary) -> dict[str, Any]:
    values = {name: _clean(getattr(summary, name)) for name in _SUMMARY_FIELDS}
    values["start_time"] = as_utc(summary.start_time)
    values["n_records"] = int(summary.n_records or 0)
    values["n_hr"] = int(summary.n_hr or 0)
    values["sport"] = summary.sport or "other"
    return values


def _has_stream(activity: Activity) -> bool:
    time = activity.stream.get("time")
    return time is not None and len(time) > 0


def _write_rr(ws: Workspace, athlete_id: int, activity_id: int, activity: Activity) -> None:
    """Keep the activity's R-R intervals (HRV) beside its stream, when the file held any."""
    if activity.rr_intervals is not None and len(activity.rr_intervals):
        ws.write_rr(athlete_id, activity_id, activity.rr_intervals)


def save_activities(
    ws: Workspace,
    session: Session,
    person: Person,
    activities: list[Activity],
    fmt: str,
    source_path: str,
    sha256: str,
    extra_source: dict[str, Any] | None = None,
    encoded_streams: list[bytes | None] | None = None,
    extras: list[dict[str, Any]] | None = None,
) -> SaveOutcome:
    """Store the activities decoded from one file, deduplicating against what the workspace holds.

    Each activity either becomes a new :class:`ActivityRow` (its stream written with ``ws.write_stream``) or is
    merged into the stored activity it duplicates (see the module docstring); then the message says
    ``"duplicate of activity N (kept the richer FIT)"``. ``extra_source`` is added to this file's entry in
    ``sources`` (e.g. the Strava activity id). ``encoded_streams`` are the streams already encoded by
    :func:`~gutstride.store.workspace.encode_stream` (one per activity), to write instead of encoding here.
    ``extras`` (one dict per activity) are added to each activity's own source entry (e.g. energy from a health
    export). The caller commits.
    """
    outcome = SaveOutcome()
    for index, activity in enumerate(activities):
        match = find_duplicate(session, person.id, activity.summary)
        existing = match if match is not None and _lists_source(match, sha256, index) else None
        if existing is None and activity.summary.start_time is None:
            existing = session.scalars(
                select(ActivityRow).where(
                    ActivityRow.person_id == person.id,
                    ActivityRow.source_sha256 == sha256,
                    ActivityRow.source_index == index,
                )
            ).first()
        if existing is not None:  # this very file was stored before
            outcome.duplicates.append(f"already stored as activity {existing.id}")
            outcome.kept_ids.append(existing.id)
            continue
        summary = activity.summary
        n_hr, n_records = sample_counts(activity)
        source = {
            "path": source_path, "sha256": sha256, "index": index, "format": fmt, "n_records": n_records,
            "n_hr": n_hr, **(extra_source or {}), **(extras[index] if extras is not None else {}),
        }
        values = _summary_values(summary)
        encoded = encoded_streams[index] if encoded_streams is not None else None
        stream: dict[str, np.ndarray] | bytes = activity.stream if encoded is None else encoded
        if match is None:
            row = ActivityRow(
                person_id=person.id, format=fmt, source_path=source_path, source_sha256=sha256, source_index=index,
                sources=[source], has_stream=_has_stream(activity), **values,
            )
            session.add(row)
            session.flush()
            if row.has_stream:
                ws.write_stream(person.id, row.id, stream)
            _write_rr(ws, person.id, row.id, activity)
            outcome.new_ids.append(row.id)
            outcome.kept_ids.append(row.id)
            continue
        outcome.kept_ids.append(match.id)
        if richness(n_hr, n_records, fmt) > _row_richness(match):
            old = {name: getattr(match, name) for name in _FILLABLE}
            old_sport = match.sport
            for name, value in values.items():
                setattr(match, name, value)
            for name in _FILLABLE:
                if getattr(match, name) is None and old[name] is not None:
                    setattr(match, name, old[name])
            if match.sport == "other" and old_sport != "other":
                match.sport = old_sport
            match.format, match.source_path, match.source_sha256, match.source_index = fmt, source_path, sha256, index
            match.has_stream = _has_stream(activity)
            if match.has_stream:
                ws.write_stream(person.id, match.id, stream)
            _write_rr(ws, person.id, match.id, activity)
            kept = f"kept the richer {fmt.upper()}, this file"
        else:
            for name in _FILLABLE:
                if getattr(match, name) is None and values.get(name) is not None:
                    setattr(match, name, values[name])
            if match.sport == "other" and values["sport"] != "other":
                match.sport = values["sport"]
            kept = f"kept the richer {match.format.upper()}"
        match.sources = [*(match.sources or []), source]  # a new list, so the JSON column is marked changed
        outcome.duplicates.append(f"duplicate of activity {match.id} ({kept})")
    session.flush()
    return outcome


def load_activities(ws: Workspace, athlete_id: int) -> pd.DataFrame:
    """Every stored activity of ``athlete_id`` as a DataFrame, one row per activity.

    The columns are those of :class:`~gutstride.store.schema.ActivityRow`; ``start_time`` is timezone-aware UTC.
    Rows are sorted by start time (activities without one last).
    """
    import pandas as pd

    table = ActivityRow.__table__
    columns = [column.name for column in table.columns]
    # the table's columns rather than ORM objects: the same typed values without building 277 mapped instances
    query = (select(*table.columns).where(ActivityRow.person_id == checked_athlete_id(athlete_id))
             .order_by(ActivityRow.start_time.is_(None), ActivityRow.start_time, ActivityRow.id))
    with ws.session() as session:
        ws.athlete(session, athlete_id)
        records = [tuple(row) for row in session.execute(query)]
    frame = pd.DataFrame.from_records(records, columns=columns)
    frame["start_time"] = pd.to_datetime(frame["start_time"], utc=True)
    return frame


def load_stream(ws: Workspace, athlete_id: int, activity_id: int) -> dict[str, np.ndarray]:
    """One activity's stored stream as numpy columns (see :mod:`gutstride.model.activity`); only the athlete's own."""
    return ws.read_stream(athlete_id, activity_id)


def remove_activity(ws: Workspace, athlete_id: int, activity_id: int) -> None:
    """Delete one of ``athlete_id``'s activities with its stream and R-R files.

    Raises
    ------
    MissingDataError
        The athlete has no activity ``activity_id`` (another athlete's id is not found either).
    """
    from gutstride.errors import MissingDataError

    with ws.session() as session:
        row = session.get(ActivityRow, int(activity_id))
        if row is None or row.person_id != checked_athlete_id(athlete_id):
            raise MissingDataError(f"no activity with id {activity_id}")
        session.delete(row)
    ws.storage.delete(ws.stream_key(athlete_id, activity_id))
    ws.storage.delete(ws.rr_key(athlete_id, activity_id))
