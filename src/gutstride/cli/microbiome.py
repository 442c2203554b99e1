"""CLI commands of the microbiome area (registered on the root app by :func:`register`)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""

    @app.command("alpha")
    def alpha(
        table_path: Path = typer.Argument(..., metavar="TABLE", help="BIOM, .qza, TSV/CSV, MetaPhlAn, Kraken/Bracken."),
        tree_path: Path | None = typer.Option(None, "--tree", help="Newick tree or .qza phylogeny: adds Faith PD."),
        rarefy_depth: int | None = typer.Option(None, "--rarefy", metavar="N", help="Subsample every sample to N."),
        seed: int = typer.Option(0, "--seed", metavar="S", help="Seed of the rarefaction draws."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
        rank: str = typer.Option("genus", "--rank", help="Rank read from consumer gut tests listing every rank."),
    ) -> None:
        """Alpha diversity of every sample: depth, observed features, Shannon (bits), Simpson, Pielou, Chao1."""
        from gutstride.cli.common import print_json
        from gutstride.services.diversity import alpha_of_file

        result = alpha_of_file(table_path, tree_path, rarefy_depth, seed, rank)
        frame, dropped = result.frame, result.dropped
        for note in result.notes:
            typer.echo(f"note: {note}", err=True)
        if dropped:
            typer.echo(
                f"{len(dropped)} sample(s) have fewer than {rarefy_depth} reads and are left out: "
                + ", ".join(dropped[:10])
                + (" ..." if len(dropped) > 10 else ""),
                err=True,
            )
        for warning in result.warnings:
            typer.echo(f"warning: {warning}", err=True)
        if as_json:
            samples = [
                {"id": str(sid), **{col: _number(frame.at[sid, col]) for col in frame.columns}} for sid in frame.index
            ]
            print_json({"samples": samples, "dropped": dropped})
            return
        from rich.console import Console
        from rich.table import Table

        view = Table(title=f"Alpha diversity of {table_path.name} ({len(frame)} samples)")
        view.add_column("sample")
        for col in frame.columns:
            view.add_column(col, justify="right")
        for sid, row in frame.iterrows():
            view.add_row(str(sid), *(_format(row[col]) for col in frame.columns))
        Console().print(view)


def _number(value: float) -> float | None:
    """A JSON-ready float (NaN becomes null)."""
    number = float(value)
    return None if number != number else number


def _format(value: float) -> str:
    number = float(value)
    if number != number:
        return "-"
    return f"{number:.0f}" if abs(number - round(number)) < 1e-9 else f"{number:.4f}"
