"""CLI commands of the report area: ``report`` and ``demo``."""

from __future__ import annotations

from pathlib import Path

import typer

from gutstride.cli.common import WORKSPACE_OPTION


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""

    @app.command()
    def report(
        workspace: Path | None = WORKSPACE_OPTION,
        output: Path = typer.Option(Path("report.html"), "-o", "--output", help="HTML report to write."),
        pdf: bool = typer.Option(False, "--pdf", help="Also write a PDF beside the HTML."),
        json_out: bool = typer.Option(False, "--json", help="Also write the report's content as JSON."),
    ) -> None:
        """Write the gut-health report for the workspace (the main job)."""
        from gutstride.settings import workspace_path
        from gutstride.store.workspace import Workspace

        Workspace(workspace_path(workspace))
        raise typer.Exit(1)
