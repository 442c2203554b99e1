"""CLI commands of the activities area: ``inspect`` (decode files, no store; see :mod:`.inspect_files`) and
``import``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from gutstride.cli.common import PERSON_OPTION, WORKSPACE_OPTION, open_athlete, print_json
from gutstride.cli.inspect_files import STATUS_STYLE, inspect_files
from gutstride.cli.tables import print_table

if TYPE_CHECKING:
    from gutstride.model.import_record import ImportRecord
    from gutstride.store.workspace import Workspace

#: Statuses of a file whose content is in the workspace.
_IMPORTED = ("ok", "partial", "duplicate")


def _print_import_table(records: list[ImportRecord], title: str) -> None:
    from collections import Counter

    shown = ["imported" if record.status == "ok" else record.status for record in records]
    cells = [
        [record.path, status, record.kind, record.format or "", str(record.n_items), record.message]
        for record, status in zip(records, shown, strict=True)
    ]
    print_table(title, ["file", "status", "kind", "format", "items", "reason"], cells,
                [STATUS_STYLE.get(status, "") for status in shown])
    counts = Counter(shown)
    if counts:
        typer.echo(", ".join(f"{n} {status}" for status, n in sorted(counts.items())))


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""

    @app.command("inspect")
    def inspect(
        files: list[Path] = typer.Argument(..., help="FIT, GPX, TCX or CSV files (optionally .gz)."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON array, an object per file."),
    ) -> None:
        """Decode activity files and summarise each one. Stores nothing."""
        inspect_files(files, as_json)  # a plain `inspect FILE... [--json]` reaches it without typer: see cli.main

    @app.command("import")
    def import_(
        paths: list[Path] = typer.Argument(..., help="Files, folders, Garmin/Strava export zips, tables, logs."),
        workspace: Path | None = WORKSPACE_OPTION,
        as_json: bool = typer.Option(False, "--json", help="Print the import records as a JSON array."),
        person: int | None = PERSON_OPTION,
        workers: int = typer.Option(0, "--workers", help="Decoding processes (0: one per CPU)."),
        rank: str = typer.Option("genus", "--rank", help="Rank read from consumer gut tests listing every rank."),
        sample: str | None = typer.Option(
            None, "--sample", help="Of a microbiome table holding several people's samples, the one that is yours."),
    ) -> None:
        """Import workout files, whole-account exports, microbiome tables and log files into the workspace."""
        from gutstride.services.importing import collect_files

        files = collect_files(paths)  # a missing path is a one-line error (exit 2)
        if not files:
            where = ", ".join(str(p) for p in paths)
            if as_json:
                print_json([])
            else:
                typer.echo(f"no files found in {where}", err=True)
                _print_import_table([], "Import")
            return
        ws, athlete = open_athlete(workspace, person, create=True)
        total = sum(path.stat().st_size for path in files)
        records = _import_with_progress(ws, athlete, paths, workers, total, show=not as_json, rank=rank,
                                        sample=sample)
        if as_json:
            print_json([record.to_dict() for record in records])
        else:
            _print_import_table(records, f"Import into {ws.path}")
        refused = [r for r in records if r.status in ("skipped", "error")]
        if records and not any(r.status in _IMPORTED for r in records):
            from gutstride.errors import BadInputError

            reasons = "; ".join(f"{Path(r.path).name}: {r.message}" for r in refused[:5])
            more = f"; and {len(refused) - 5} more" if len(refused) > 5 else ""
            raise BadInputError(f"nothing imported: none of the {len(records)} files could be read ({reasons}{more})")


def _import_with_progress(
    ws: Workspace, athlete: int, paths: list[Path], workers: int, total: int, show: bool, rank: str = "genus",
    sample: str | None = None,
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

    from gutstride.services.importing import import_files

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

        return import_files(ws, athlete, paths, workers=workers, progress=progress, rank=rank, on_wait=waiting,
                            sample=sample)
