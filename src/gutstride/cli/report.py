"""CLI commands of the report area: ``report``, ``demo`` and ``reference``."""

from __future__ import annotations

from pathlib import Path

import typer

from gutstride.cli.common import PERSON_OPTION, WORKSPACE_OPTION, open_athlete


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""

    @app.command()
    def report(
        workspace: Path | None = WORKSPACE_OPTION,
        output: Path = typer.Option(Path("report.html"), "-o", "--output", help="HTML report to write."),
        pdf: bool = typer.Option(False, "--pdf", help="Also write a PDF beside the HTML (same name, .pdf)."),
        json_out: bool = typer.Option(False, "--json", help="Also write the report's content as JSON (.json)."),
        reference: Path | None = typer.Option(None, "--reference", help="Reference cohort file (gutstride reference)."),
        person: int | None = PERSON_OPTION,
    ) -> None:
        """Write the gut-health report for the workspace (the main job).

        A report whose inputs are unchanged (the workspace's data and settings, the reference, the day and
        gutstride itself) is written from the workspace's cache instead of being computed again.
        """
        from gutstride.report.write import write_workspace_report
        from gutstride.settings import report_day

        ws, athlete = open_athlete(workspace, person)
        json_path = output.with_suffix(".json") if json_out else None
        pdf_path = output.with_suffix(".pdf") if pdf else None
        day = report_day(ws.settings)
        if ws.settings["report_date"]:
            typer.echo(f"report for {day.isoformat()}, this workspace's report_date (config.toml)")
        made = write_workspace_report(ws, athlete, day, output, json_path=json_path, pdf_path=pdf_path,
                                      reference_path=reference)
        for summary in made.report.red_flags:  # red flags first, before anything else the command prints
            typer.echo(f"RED FLAG: {summary}. {made.report.red_flag_advice}")
        if made.reused:
            typer.echo(f"report unchanged since {made.report.generated_at}: reused")
        for path in (output, json_path, pdf_path):
            if path is not None:
                typer.echo(f"wrote {path}")

    @app.command()
    def demo(
        output: Path = typer.Option(Path("demo-output"), "-o", "--output", help="Folder to write the demo into."),
    ) -> None:
        """Build the demo athlete (DEMO DATA) from real-format files and write DIR/report.html and report.json."""
        from gutstride.demo.build import build_demo

        paths = build_demo(output)
        typer.echo(f"demo report (demo data): {paths['html'].resolve()}")
        typer.echo(f"demo report JSON: {paths['json'].resolve()}")

    @app.command("reference")
    def reference_cmd(
        table: Path = typer.Argument(..., help="Cohort table (any microbiome format gutstride reads)."),
        output: Path = typer.Option(..., "-o", "--output", help="Reference file to write (JSON)."),
        name: str = typer.Option(..., "--name", help="How reports name this reference."),
        origin: str = typer.Option(..., "--origin", help="Where the cohort comes from (study, licence)."),
        metadata: Path | None = typer.Option(None, "--metadata", help="Sample metadata TSV (ids in column 1)."),
        where: list[str] = typer.Option([], "--where", help="Keep samples with COLUMN=VALUE in the metadata."),
        host_column: str | None = typer.Option(None, "--host-column", help="Metadata column naming the person."),
    ) -> None:
        """Build a reference cohort (percentiles of diversity and key taxa) from a cohort table."""
        from gutstride.services.reference import build_reference_file

        ref = build_reference_file(table, output, name, origin, metadata, where, host_column)
        typer.echo(f"wrote {output}: {ref.n_samples} samples, metrics {', '.join(sorted(ref.metrics))}")
