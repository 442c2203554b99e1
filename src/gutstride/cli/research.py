"""CLI commands of the research area (registered on the root app by :func:`register`): ``beta``, ``permanova``."""

from __future__ import annotations

from pathlib import Path

import typer

#: Metric names of ``gutstride beta --metric`` (kept here so ``--help`` needs no numpy).
BETA_METRICS = ("braycurtis", "jaccard", "unweighted_unifrac", "weighted_unifrac", "aitchison")


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""

    @app.command("beta")
    def beta(
        table_path: Path = typer.Argument(..., metavar="TABLE", help="BIOM, .qza, TSV/CSV, MetaPhlAn, Kraken/Bracken."),
        metric: str = typer.Option(..., "--metric", help="One of: " + ", ".join(BETA_METRICS) + "."),
        tree_path: Path | None = typer.Option(None, "--tree", help="Newick tree or .qza phylogeny (UniFrac)."),
        float32: bool = typer.Option(False, "--float32", help="Compute the result in float32 (half the memory)."),
        chunk_size: int | None = typer.Option(None, "--chunk-size", min=1, help="Samples per block of rows."),
        out: Path = typer.Option(..., "-o", "--output", metavar="OUT.tsv", help="Distance matrix TSV to write."),
    ) -> None:
        """Beta diversity between every pair of samples, written as a scikit-bio / QIIME 2 distance-matrix TSV."""
        from gutstride.errors import BadInputError, MissingDataError

        if metric not in BETA_METRICS:
            raise BadInputError(f"unknown metric {metric!r}; choose one of {', '.join(BETA_METRICS)}")
        if metric.endswith("unifrac") and tree_path is None:
            raise MissingDataError(f"{metric} needs a phylogenetic tree: add --tree TREE")

        import numpy as np

        from gutstride.analysis.microbiome.beta import beta_diversity
        from gutstride.ingest.microbiome.read import read_table
        from gutstride.report.research_export import write_distance_matrix

        tree = None
        if tree_path is not None:
            from gutstride.ingest.microbiome.newick import read_tree

            tree = read_tree(tree_path)
        table = read_table(table_path)
        dtype = np.float32 if float32 else np.float64
        matrix, ids, warnings = beta_diversity(table, metric, tree=tree, dtype=dtype, chunk_size=chunk_size)
        for message in warnings:
            typer.echo(f"warning: {message}", err=True)
        write_distance_matrix(out, matrix, ids)
        typer.echo(f"wrote {metric} distances between {len(ids)} samples to {out}", err=True)

    @app.command("permanova")
    def permanova(
        dm_path: Path = typer.Argument(..., metavar="DM.tsv", help="Distance matrix TSV (scikit-bio / QIIME 2)."),
        metadata_path: Path = typer.Argument(..., metavar="METADATA", help="TSV with sample ids in column 1."),
        column: str = typer.Option(..., "--column", help="Metadata column holding the groups."),
        strata: str | None = typer.Option(None, "--strata", help="Column whose groups restrict the permutations."),
        permutations: int = typer.Option(999, "--permutations", min=0, help="Number of label permutations."),
        seed: int | None = typer.Option(None, "--seed", help="Seed of the permutations."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """PERMANOVA (pseudo-F) of a metadata column on a distance matrix; unmatched samples are left out."""
        from gutstride.analysis.microbiome.permanova import permanova as run_permanova
        from gutstride.cli.common import print_json
        from gutstride.errors import MissingDataError
        from gutstride.ingest.microbiome.distance_matrix import read_distance_matrix
        from gutstride.ingest.microbiome.metadata import read_sample_metadata

        matrix, ids = read_distance_matrix(dm_path)
        columns, metadata = read_sample_metadata(metadata_path)
        for name in (column, strata):
            if name is not None and name not in columns:
                raise MissingDataError(f"{metadata_path}: no column {name!r}; columns: {', '.join(columns[:30])}")
        keep: list[int] = []
        excluded: list[dict[str, str]] = []
        for k, sample in enumerate(ids):
            values = metadata.get(sample)
            if values is None:
                excluded.append({"id": sample, "reason": "not in the metadata"})
            elif column not in values:
                excluded.append({"id": sample, "reason": f"no value in column {column}"})
            elif strata is not None and strata not in values:
                excluded.append({"id": sample, "reason": f"no value in column {strata}"})
            else:
                keep.append(k)
        in_matrix = set(ids)
        excluded += [{"id": s, "reason": "not in the distance matrix"} for s in metadata if s not in in_matrix]
        kept_ids = [ids[k] for k in keep]
        result = run_permanova(
            matrix[keep][:, keep],
            [metadata[s][column] for s in kept_ids],
            permutations=permutations,
            seed=seed,
            strata=[metadata[s][strata] for s in kept_ids] if strata is not None else None,
        )
        payload = {**result, "column": column, "strata": strata, "excluded": excluded}
        if as_json:
            print_json(payload)
            return
        if excluded:
            typer.echo(f"{len(excluded)} sample(s) left out (in only one of the two files, or no value)", err=True)
        typer.echo(
            f"PERMANOVA on {column}: pseudo-F = {result['test_statistic']:.4g}, p = {result['p_value']:.4g} "
            f"({result['sample_size']} samples, {result['number_of_groups']} groups, "
            f"{result['permutations']} permutations{', within ' + strata if strata else ''})"
        )
