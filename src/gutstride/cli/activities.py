"""CLI commands of the activities area: ``inspect`` (decode files, no store), ``import`` and ``activities``.

``inspect`` uses only numpy and the readers (no pandas, SQLAlchemy or scipy) so that it starts fast.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from gutstride.cli.common import WORKSPACE_OPTION, print_json, print_table

if TYPE_CHECKING:
    from gutstride.model.import_record import ImportRecord
    from gutstride.store.workspace import Workspace

INSPECT_FIELDS = (
    "path", "status", "message", "format", "sport", "start_time", "end_time", "duration_s", "n_records", "n_hr",
    "avg_hr", "max_hr", "distance_m",
)

#: Statuses of a file whose content is in the workspace.
_IMPORTED = ("ok", "partial", "duplicate")
_STATUS_STYLE = {
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


def describe_file(path: Path) -> list[dict[str, Any]]:
    """The ``inspect`` objects of one file (see :data:`INSPECT_FIELDS`): one per activity it holds, in file order,
    each with the file's path (a TCX file with 4 activities gives 4 objects); one object when the file holds no
    activity or cannot be read. Never raises for bad input."""
    from gutstride.errors import GutstrideError
    from gutstride.ingest.activities.dispatch import decode_activity

    out: dict[str, Any] = dict.fromkeys(INSPECT_FIELDS)
    out.update(path=str(path), status="error", message="", n_records=0, n_hr=0)
    try:
        data = path.read_bytes()
    except OSError as exc:
        out["message"] = f"cannot read: {exc.strerror or exc}"
        return [out]
    try:
        decoded = decode_activity(data, path.name)
    except GutstrideError as exc:
        out["message"] = str(exc)
        return [out]
    out.update(status=decoded.status, message=decoded.message, format=decoded.format)
    if not decoded.activities:
        if decoded.status != "error":
            out["message"] = decoded.message or "no activity in this file"
        return [out]
    rows = []
    for activity in decoded.activities:
        summary = activity.summary
        row = dict(out)
        row.update(
            sport=summary.sport,
            start_time=iso_utc(summary.start_time),
            end_time=iso_utc(summary.end_time),
            duration_s=_number(summary.duration_s),
            n_records=int(summary.n_records or 0),
            n_hr=int(summary.n_hr or 0),
            distance_m=_number(summary.distance_m),
        )
        row["avg_hr"], row["max_hr"] = _sample_hr(activity.stream.get("hr"), summary.avg_hr, summary.max_hr)
        rows.append(row)
    return rows


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


def _print_inspect_table(rows: list[dict[str, Any]]) -> None:
    headers = ["file", "status", "format", "sport", "start (UTC)", "duration", "records", "HR", "avg/max HR",
               "distance km", "message"]
    cells = []
    for row in rows:
        minutes = "" if row["duration_s"] is None else f"{row['duration_s'] / 60:.1f} min"
        km = "" if row["distance_m"] is None else f"{row['distance_m'] / 1000:.2f}"
        hr = "" if row["max_hr"] is None else f"{_fmt(row['avg_hr'])}/{_fmt(row['max_hr'])}"
        cells.append([
            Path(row["path"]).name, row["status"], _fmt(row["format"]), _fmt(row["sport"]), _fmt(row["start_time"]),
            minutes, str(row["n_records"]), str(row["n_hr"]), hr, km, row["message"] or "",
        ])
    print_table("Activity files", headers, cells, [_STATUS_STYLE.get(row["status"], "") for row in rows])


def _print_import_table(records: list[ImportRecord], title: str) -> None:
    from collections import Counter

    shown = ["imported" if record.status == "ok" else record.status for record in records]
    cells = [
        [record.path, status, record.kind, record.format or "", str(record.n_items), record.message]
        for record, status in zip(records, shown, strict=True)
    ]
    print_table(title, ["file", "status", "kind", "format", "items", "reason"], cells,
                [_STATUS_STYLE.get(status, "") for status in shown])
    counts = Counter(shown)
    if counts:
        typer.echo(", ".join(f"{n} {status}" for status, n in sorted(counts.items())))


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""

    @app.command("inspect")
    def inspect(
        files: list[Path] = typer.Argument(..., help="FIT, GPX, TCX or CSV files (optionally .gz)."),
        as_json: bool = typer.Option(
            False, "--json", help="Print one JSON array: an object per activity (a file with several gives several, "
            "each with the file's path), or one per file without an activity."),
    ) -> None:
        """Decode activity files and summarise each activity. Stores nothing."""
        rows = [row for path in files for row in describe_file(path)]
        if as_json:
            print_json(rows)
        else:
            _print_inspect_table(rows)
        if rows and all(row["status"] == "error" for row in rows):
            from gutstride.errors import BadInputError

            raise BadInputError(f"none of the {len(files)} files could be read")  # exit code 2

    @app.command("import")
    def import_(
        paths: list[Path] = typer.Argument(..., help="Files, folders, Garmin/Strava export zips, tables, logs."),
        workspace: Path | None = WORKSPACE_OPTION,
        as_json: bool = typer.Option(False, "--json", help="Print the import records as a JSON array."),
        person: int | None = typer.Option(None, "--person", help="Person id (default: the workspace's first)."),
        workers: int = typer.Option(0, "--workers", help="Decoding processes (0: one per CPU)."),
        sample: str | None = typer.Option(
            None, "--sample", help="Of a microbiome table holding several people's samples, the one that is yours."),
    ) -> None:
        """Import workout files, whole-account exports, microbiome tables and log files into the workspace."""
        from gutstride.ingest.pipeline import collect_files
        from gutstride.settings import workspace_path
        from gutstride.store.workspace import Workspace

        files = collect_files(paths)  # a missing path is a one-line error (exit 2)
        if not files:
            where = ", ".join(str(p) for p in paths)
            if as_json:
                print_json([])
            else:
                typer.echo(f"no files found in {where}", err=True)
                _print_import_table([], "Import")
            return
        ws = Workspace(workspace_path(workspace), create=True)
        total = sum(path.stat().st_size for path in files)
        records = _import_with_progress(ws, paths, person, workers, total, show=not as_json, sample=sample)
        if as_json:
            print_json([record.to_dict() for record in records])
        else:
            _print_import_table(records, f"Import into {ws.path}")
        if any(r.status == "error" for r in records) and not any(r.status in _IMPORTED for r in records):
            from gutstride.errors import BadInputError

            raise BadInputError(f"nothing imported: all {len(records)} files failed or were skipped")  # exit code 2

    @app.command("activities")
    def activities(
        remove: int = typer.Option(..., "--remove", help="Delete the stored activity with this id."),
        workspace: Path | None = WORKSPACE_OPTION,
        person: int | None = typer.Option(None, "--person", help="Person id (default: the workspace's first)."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Remove a stored activity (its stream too); the import records of its files stay."""
        from gutstride.settings import workspace_path
        from gutstride.store.activities import remove_activity
        from gutstride.store.workspace import Workspace

        remove_activity(Workspace(workspace_path(workspace)), person, remove)
        if as_json:
            print_json({"removed": remove})
        else:
            typer.echo(f"removed activity {remove}")


def _import_with_progress(
    ws: Workspace, paths: list[Path], person: int | None, workers: int, total: int, show: bool, sample: str | None
) -> list[ImportRecord]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from gutstride.ingest.pipeline import import_paths

    console = Console(stderr=True)
    columns = (
        TextColumn("imported {task.fields[files]} files"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True, disable=not show) as bar:
        task = bar.add_task("import", total=total, files=0)

        def progress(files_done: int, bytes_done: int, bytes_total: int) -> None:
            bar.update(task, completed=bytes_done, total=bytes_total, files=files_done)

        def waiting() -> None:
            console.print(f"another import is writing to {ws.path}; waiting for it to finish...", soft_wrap=True)

        return import_paths(ws, paths, person_id=person, workers=workers, progress=progress, on_wait=waiting,
                            sample=sample)
