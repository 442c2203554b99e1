"""CLI commands over everything stored for the athlete: ``activities`` (list, remove), ``export`` and ``erase``."""

from __future__ import annotations

from pathlib import Path

import typer

from gutstride.cli.common import PERSON_OPTION, WORKSPACE_OPTION, open_athlete, print_json


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""

    @app.command("activities")
    def activities(
        workspace: Path | None = WORKSPACE_OPTION,
        as_json: bool = typer.Option(False, "--json", help="Print one JSON array, an object per activity."),
        since: str | None = typer.Option(None, "--since", help="Only activities on or after this day (YYYY-MM-DD)."),
        sport: str | None = typer.Option(None, "--sport", help="Only this sport (e.g. running, cycling)."),
        remove: int | None = typer.Option(None, "--remove", help="Delete the activity with this id, and its stream."),
        person: int | None = PERSON_OPTION,
    ) -> None:
        """List the stored activities (or remove one with --remove ID)."""
        from gutstride.services.activities import delete_activity, list_activities, parse_since

        ws, athlete = open_athlete(workspace, person)
        if remove is not None:
            delete_activity(ws, athlete, remove)
            if as_json:
                print_json({"removed": remove})
            else:
                typer.echo(f"removed activity {remove}")
            return
        rows = list_activities(ws, athlete, parse_since(since) if since else None, sport)
        if as_json:
            print_json(rows)
            return
        _print_activities(rows)

    @app.command("export")
    def export(
        workspace: Path | None = WORKSPACE_OPTION,
        output: Path = typer.Option(Path("gutstride-export.zip"), "-o", "--output", help="Zip file to write."),
        as_json: bool = typer.Option(False, "--json", help="Print what was exported as JSON."),
        person: int | None = PERSON_OPTION,
    ) -> None:
        """Write everything held for the athlete into one zip: profile, log, activities, streams, microbiome
        tables (BIOM), import records and the original files, machine-readable (CSV, JSON, Parquet, BIOM)."""
        from gutstride.services.export import export_athlete

        ws, athlete = open_athlete(workspace, person)
        summary = export_athlete(ws, athlete, output)
        if as_json:
            print_json({"path": str(summary.path), **summary.counts})
        else:
            shown = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in summary.counts.items())
            typer.echo(f"wrote {summary.path}: {shown}")

    @app.command("erase")
    def erase(
        workspace: Path | None = WORKSPACE_OPTION,
        yes: bool = typer.Option(False, "--yes", help="Confirm: delete every row and file held for the athlete."),
        as_json: bool = typer.Option(False, "--json", help="Print what was removed as JSON."),
        person: int | None = PERSON_OPTION,
    ) -> None:
        """Delete everything held for the athlete (rows and files). Needs --yes; consider `gutstride export` first."""
        from gutstride.errors import BadInputError
        from gutstride.services.export import erase_athlete

        if not yes:
            raise BadInputError("erase deletes everything held for the athlete and cannot be undone: add --yes")
        ws, athlete = open_athlete(workspace, person)
        removed = erase_athlete(ws, athlete)
        if as_json:
            print_json(removed)
        else:
            shown = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in removed.items())
            typer.echo(f"erased: {shown}")


def _print_activities(rows: list[dict[str, object]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Activities")
    for name in ("id", "sport", "start (UTC)", "duration", "km", "avg/max HR", "files", "status"):
        table.add_column(name, overflow="fold")
    for row in rows:
        duration = row["duration_s"]
        distance = row["distance_m"]
        hr = "" if row["max_hr"] is None else f"{row['avg_hr'] or 0:.0f}/{row['max_hr']:.0f}"
        files = row["source_files"]
        table.add_row(str(row["id"]), str(row["sport"]), str(row["start_time"] or ""),
                      "" if duration is None else f"{float(duration) / 60:.1f} min",  # type: ignore[arg-type]
                      "" if distance is None else f"{float(distance) / 1000:.2f}",  # type: ignore[arg-type]
                      hr, "\n".join(Path(str(f)).name for f in files),  # type: ignore[attr-defined]
                      str(row["status"]))
    console = Console()
    console.print(table)
    console.print(f"{len(rows)} activities")
