"""``gutstride inspect``: decode activity files and summarise each one, storing nothing.

This module imports neither typer nor anything the store needs, so that :func:`gutstride.cli.main` can run a plain
``gutstride inspect FILE... [--json]`` without building the typer app (whose parameter handling imports pydantic,
~0.15 s): the command's start-up is then Python, numpy and the reader of the file's format.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

INSPECT_FIELDS = (
    "path", "status", "message", "format", "sport", "start_time", "end_time", "duration_s", "n_records", "n_hr",
    "avg_hr", "max_hr", "distance_m",
)

STATUS_STYLE = {
    "ok": "green", "imported": "green", "partial": "yellow", "duplicate": "cyan", "skipped": "dim", "error": "red",
}


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


def describe_file(path: Path) -> dict[str, Any]:
    """The ``inspect`` object of one file (see :data:`INSPECT_FIELDS`); never raises for bad input."""
    from gutstride.errors import GutstrideError
    from gutstride.ingest.activities.dispatch import decode_activity

    out: dict[str, Any] = dict.fromkeys(INSPECT_FIELDS)
    out.update(path=str(path), status="error", message="", n_records=0, n_hr=0)
    try:
        data = path.read_bytes()
    except OSError as exc:
        out["message"] = f"cannot read: {exc.strerror or exc}"
        return out
    try:
        decoded = decode_activity(data, path.name)
    except GutstrideError as exc:
        out["message"] = str(exc)
        return out
    out.update(status=decoded.status, message=decoded.message, format=decoded.format)
    if not decoded.activities:
        if decoded.status != "error":
            out["message"] = decoded.message or "no activity in this file"
        return out
    activity = decoded.activities[0]
    summary = activity.summary
    if len(decoded.activities) > 1:
        note = f"the file holds {len(decoded.activities)} activities; the first is described"
        out["message"] = f"{decoded.message}; {note}" if decoded.message else note
    out.update(
        sport=summary.sport,
        start_time=iso_utc(summary.start_time),
        end_time=iso_utc(summary.end_time),
        duration_s=_number(summary.duration_s),
        n_records=int(summary.n_records or 0),
        n_hr=int(summary.n_hr or 0),
        distance_m=_number(summary.distance_m),
    )
    out["avg_hr"], out["max_hr"] = _sample_hr(activity.stream.get("hr"), summary.avg_hr, summary.max_hr)
    return out


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


def _fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def print_inspect_table(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Activity files")
    for name in ("file", "status", "format", "sport", "start (UTC)", "duration", "records", "HR", "avg/max HR",
                 "distance km", "message"):
        table.add_column(name, overflow="fold")
    for row in rows:
        minutes = "" if row["duration_s"] is None else f"{row['duration_s'] / 60:.1f} min"
        km = "" if row["distance_m"] is None else f"{row['distance_m'] / 1000:.2f}"
        hr = "" if row["max_hr"] is None else f"{_fmt(row['avg_hr'])}/{_fmt(row['max_hr'])}"
        style = STATUS_STYLE.get(row["status"], "")
        table.add_row(
            Path(row["path"]).name, f"[{style}]{row['status']}[/]", _fmt(row["format"]), _fmt(row["sport"]),
            _fmt(row["start_time"]), minutes, str(row["n_records"]), str(row["n_hr"]), hr, km, row["message"] or "",
        )
    Console().print(table)



def inspect_files(paths: list[Path], as_json: bool) -> None:
    """Describe each file: print one JSON array, or a table.

    Raises
    ------
    BadInputError
        Every file is an error (exit code 2).
    """
    rows = [describe_file(path) for path in paths]
    if as_json:
        from gutstride.jsonout import dumps

        sys.stdout.write(dumps(rows) + "\n")
    else:
        print_inspect_table(rows)
    if rows and all(row["status"] == "error" for row in rows):
        from gutstride.errors import BadInputError

        raise BadInputError(f"none of the {len(rows)} files could be read")  # exit code 2
