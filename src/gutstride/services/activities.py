"""The stored activities of one athlete: list them (with filters), read one's stream, remove one."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from gutstride.store.activities import load_activities, load_stream, remove_activity
from gutstride.store.workspace import Workspace

#: The fields of one row of ``gutstride activities --json`` (and the web API's list).
ACTIVITY_FIELDS = ("id", "sport", "start_time", "duration_s", "distance_m", "avg_hr", "max_hr", "source_files",
                   "status")


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _iso(moment: Any) -> str | None:
    if moment is None or moment != moment:  # None or NaT
        return None
    stamp = moment.to_pydatetime() if hasattr(moment, "to_pydatetime") else moment
    return stamp.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def list_activities(ws: Workspace, athlete_id: int, since: date | None = None,
                    sport: str | None = None) -> list[dict[str, Any]]:
    """``athlete_id``'s activities, oldest first, one dict of :data:`ACTIVITY_FIELDS` each.

    ``source_files`` lists every file the activity was read from (after deduplication, all of them). ``status`` is
    ``ok``, or ``partial`` when the activity has no usable start time (it is then left out of the time-based
    analyses). ``since`` keeps activities starting on or after that day (UTC); ``sport`` keeps one sport.
    """
    frame = load_activities(ws, athlete_id)
    rows = []
    for record in frame.to_dict("records"):
        start = record["start_time"]
        has_start = start is not None and start == start
        if since is not None and (not has_start or start.date() < since):
            continue
        if sport is not None and record["sport"] != sport:
            continue
        sources = record["sources"] or [{"path": record["source_path"]}]
        rows.append({
            "id": int(record["id"]), "sport": record["sport"], "start_time": _iso(start),
            "duration_s": _number(record["duration_s"]), "distance_m": _number(record["distance_m"]),
            "avg_hr": _number(record["avg_hr"]), "max_hr": _number(record["max_hr"]),
            "source_files": [s.get("path") for s in sources],
            "status": "ok" if has_start else "partial",
        })
    return rows


def activity_stream(ws: Workspace, athlete_id: int, activity_id: int) -> dict[str, np.ndarray]:
    """One of ``athlete_id``'s activity streams (:class:`MissingDataError` for anyone else's)."""
    return load_stream(ws, athlete_id, activity_id)


def delete_activity(ws: Workspace, athlete_id: int, activity_id: int) -> None:
    """Remove one of ``athlete_id``'s activities, its stream and R-R files."""
    remove_activity(ws, athlete_id, activity_id)


def parse_since(text: str) -> date:
    """A ``--since`` value: ``YYYY-MM-DD``."""
    from gutstride.errors import BadInputError

    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise BadInputError(f"--since {text!r}: give a date as YYYY-MM-DD") from None
