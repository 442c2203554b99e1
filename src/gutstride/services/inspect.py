"""Inspect activity files: decode each and summarise every activity it holds, storing nothing.

This module imports only the readers (no store, pandas or typer), so that ``gutstride inspect`` starts fast.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

INSPECT_FIELDS = (
    "path", "status", "message", "format", "sport", "start_time", "end_time", "duration_s", "n_records", "n_hr",
    "avg_hr", "max_hr", "distance_m",
)

def iso_utc(moment: datetime | None) -> str | None:
    """``moment`` as ISO 8601 in UTC with a ``Z`` (``2019-02-17T06:26:44Z``; fractions only if present)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    timespec = "microseconds" if moment.microsecond else "seconds"
    return moment.replace(tzinfo=None).isoformat(timespec=timespec) + "Z"


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def describe_file(path: Path) -> list[dict[str, Any]]:
    """The ``inspect`` objects of one file (see :data:`INSPECT_FIELDS`): one per activity it holds, in file order,
    each with the file's path (a TCX file with 4 activities gives 4 objects); one object when the file holds no
    activity or cannot be read. Never raises for bad input."""
    from gutstride.errors import GutstrideError
    from gutstride.ingest.activities.fit_summary import quick_summary

    out: dict[str, Any] = dict.fromkeys(INSPECT_FIELDS)
    out.update(path=str(path), status="error", message="", n_records=0, n_hr=0)
    try:
        data = path.read_bytes()
    except OSError as exc:
        out["message"] = f"cannot read: {exc.strerror or exc}"
        return [out]
    quick = quick_summary(data) if data[8:12] == b".FIT" else None
    if quick is not None:  # a well-formed FIT file, read without numpy
        from gutstride.ingest.activities.undated import undated_status

        status, message = undated_status("ok", "", sum(a["start_time"] is None for a in quick), len(quick))
        return [_row(out, status, message, "fit", activity) for activity in quick]
    from gutstride.ingest.activities.dispatch import decode_activity

    try:
        decoded = decode_activity(data, path.name)
    except GutstrideError as exc:
        out["message"] = str(exc)
        return [out]
    if not decoded.activities:
        out.update(status=decoded.status, message=decoded.message, format=decoded.format)
        if decoded.status != "error":
            out["message"] = decoded.message or "no activity in this file"
        return [out]
    rows = []
    for activity in decoded.activities:
        summary = activity.summary
        avg_hr, max_hr = _sample_hr(activity.stream.get("hr"), summary.avg_hr, summary.max_hr)
        values = {
            "sport": summary.sport, "start_time": summary.start_time, "end_time": summary.end_time,
            "duration_s": summary.duration_s, "n_records": summary.n_records, "n_hr": summary.n_hr,
            "distance_m": summary.distance_m, "avg_hr": avg_hr, "max_hr": max_hr,
        }
        rows.append(_row(out, decoded.status, decoded.message, decoded.format, values))
    return rows


def _row(base: dict[str, Any], status: str, message: str, fmt: str, values: dict[str, Any]) -> dict[str, Any]:
    """The ``inspect`` object of one activity: ``base`` (the path) with the file's status, message and format and
    the activity's summary ``values`` (see :func:`~gutstride.ingest.activities.fit_summary.quick_summary`)."""
    row = dict(base)
    row.update(
        status=status,
        message=message,
        format=fmt,
        sport=values["sport"],
        start_time=iso_utc(values["start_time"]),
        end_time=iso_utc(values["end_time"]),
        duration_s=_number(values["duration_s"]),
        n_records=int(values["n_records"] or 0),
        n_hr=int(values["n_hr"] or 0),
        distance_m=_number(values["distance_m"]),
        avg_hr=values["avg_hr"],
        max_hr=values["max_hr"],
    )
    return row


def _sample_hr(hr: Any, avg: float | None, top: float | None) -> tuple[float | None, float | None]:
    """Mean and maximum over the recorded heart-rate samples above 0 (the summary's values without a stream)."""
    import numpy as np

    if hr is None or len(hr) == 0:
        return _number(avg), _number(top)
    values = np.asarray(hr, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    if values.size == 0:
        return None, None
    return float(values.mean()), float(values.max())
