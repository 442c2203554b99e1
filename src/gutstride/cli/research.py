"""CLI commands of the research area (registered on the root app by :func:`register`): ``beta``, ``permanova``,
``pcoa``, ``differential``,
``lme``, ``lm``, ``first-differences``, ``first-distances``, ``pairwise-differences``, ``cohort``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

#: Metric names of ``gutstride beta --metric`` (kept here so ``--help`` needs no numpy).
#: Options shared by the research commands that read sample metadata.
ID_COLUMN_OPTION = typer.Option(None, "--id-column", help="Metadata column of sample ids.")
MISSING_OPTION = typer.Option([], "--missing", help="Another metadata value meaning missing (repeat).")
TABLE_METADATA_OPTION = typer.Option(None, "--metadata", help="Metadata, when the argument is a table.")
SUBJECT_OPTION = typer.Option(..., "--subject", help="Metadata column identifying each subject.")

BETA_METRICS = ("braycurtis", "jaccard", "unweighted_unifrac", "weighted_unifrac", "aitchison")


def _metadata_and_alpha(
    path: Path, metadata_path: Path | None, rarefy_depth: int | None, seed: int, id_column: str | None,
    missing: tuple[str, ...],
) -> tuple[Any, Any, dict[str, str]]:
    """The metadata, alpha diversity when ``path`` is a table (given with ``--metadata``) else None, and the
    samples dropped by ``--rarefy`` with the reason."""
    from gutstride.ingest.microbiome.metadata import read_metadata

    if metadata_path is None:
        return read_metadata(path, id_column, missing), None, {}
    from gutstride.services.diversity import alpha_of_file

    alpha = alpha_of_file(path, rarefy_depth=rarefy_depth, seed=seed)
    reasons = {s: f"fewer than {rarefy_depth} reads (rarefaction)" for s in alpha.dropped}
    return read_metadata(metadata_path, id_column, missing), alpha.frame, reasons


def _with_rarefaction(result: dict[str, Any], reasons: dict[str, str]) -> dict[str, Any]:
    """``result`` with the samples dropped by rarefaction given that reason in ``excluded``."""
    excluded = [row for row in result["excluded"] if row["id"] not in reasons]
    excluded += [{"id": s, "reason": r} for s, r in reasons.items()]
    return {**result, "excluded": excluded}


def _report_changes(result: dict[str, Any], value: str, out: Path | None, as_json: bool) -> None:
    """Write the rows of a first-differences / first-distances result as q2-longitudinal's TSV (``#SampleID``,
    subject, time, ``Difference`` or ``Distance``, ``Reference``), list the subjects left out on stderr, print."""
    from gutstride.cli.common import print_json

    if out is not None:
        import pandas as pd

        frame = pd.DataFrame({
            "#SampleID": [r["sample_id"] for r in result["rows"]],
            result["subject"]: [r["subject"] for r in result["rows"]],
            result["time"]: [r["time"] for r in result["rows"]],
            value.capitalize(): [r[value] for r in result["rows"]],
            "Reference": [r["reference"] for r in result["rows"]],
        })
        frame.to_csv(out, sep="\t", index=False)
    _report_left_out(result)
    if as_json:
        print_json(result)
        return
    if out is not None:
        typer.echo(f"wrote {len(result['rows'])} {value}s to {out}", err=True)
        return
    typer.echo(f"{'sample':<24} {'subject':<16} {'time':>8} {value:>12} reference")
    for row in result["rows"]:
        typer.echo(f"{row['sample_id']:<24} {row['subject']:<16} {row['time']:>8.4g} {row[value]:>12.5g} "
                   f"{row['reference']}")


def _report_left_out(result: dict[str, Any], reason: str = "no sample at the baseline time") -> None:
    """Print the subjects (with ``reason``) and samples a longitudinal result left out on stderr."""
    if result["left_out"]:
        typer.echo(f"{len(result['left_out'])} subject(s) left out ({reason}): "
                   f"{', '.join(result['left_out'][:20])}", err=True)
    if result["excluded"]:
        typer.echo(f"{len(result['excluded'])} sample(s) left out: see --json", err=True)


def _print_coefficients(rows: list[dict[str, Any]], statistic: str) -> None:
    typer.echo(f"{'term':<40} {'estimate':>10} {'SE':>9} {statistic:>8} {'p':>8} {'95% CI':>22}")
    for row in rows:
        typer.echo(f"{row['term']:<40} {row['estimate']:>10.4g} {row['std_error']:>9.3g} {row[statistic]:>8.3g} "
                   f"{row['p_value']:>8.3g} [{row['ci_low']:.3g}, {row['ci_high']:.3g}]")


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""

    @app.command("beta")
    def beta(
        table_path: Path | None = typer.Argument(None, metavar="TABLE",
                                                 help="BIOM, .qza, TSV/CSV, MetaPhlAn, Kraken/Bracken."),
        metric: str | None = typer.Option(None, "--metric", help="One of: " + ", ".join(BETA_METRICS) + "."),
        tree_path: Path | None = typer.Option(None, "--tree", help="Newick tree or .qza phylogeny (UniFrac)."),
        float32: bool = typer.Option(False, "--float32", help="Compute the result in float32 (half the memory)."),
        chunk_size: int | None = typer.Option(None, "--chunk-size", min=1, help="Samples per block of rows."),
        from_zarr: Path | None = typer.Option(None, "--from-zarr", metavar="OUTDIR/distance/METRIC.zarr",
                                              help="Export the distance store of a cohort run instead of a TABLE."),
        out: Path = typer.Option(..., "-o", "--output", metavar="OUT.tsv", help="Distance matrix TSV to write."),
    ) -> None:
        """Beta diversity between every pair of samples, written as a scikit-bio / QIIME 2 distance-matrix TSV.

        With --from-zarr, the distances a cohort run stored are written instead, streamed row block by row block
        (up to 30,000 samples)."""
        from gutstride.errors import BadInputError
        from gutstride.report.research_export import write_distance_matrix, write_distance_rows

        if from_zarr is not None:
            if table_path is not None or metric or tree_path or float32 or chunk_size:
                raise BadInputError("--from-zarr exports a stored matrix: give no TABLE, --metric, --tree, --float32 "
                                    "or --chunk-size")
            from gutstride.services.diversity import distance_store_rows

            ids, stored_metric, blocks = distance_store_rows(from_zarr)
            write_distance_rows(out, ids, blocks)
            typer.echo(f"wrote {stored_metric} distances between {len(ids)} samples to {out}", err=True)
            return
        if table_path is None or metric is None:
            raise BadInputError("give a TABLE and --metric (or --from-zarr STORE)")
        from gutstride.services.diversity import beta_of_file

        matrix, ids, warnings = beta_of_file(table_path, metric, tree_path, float32, chunk_size)
        for message in warnings:
            typer.echo(f"warning: {message}", err=True)
        write_distance_matrix(out, matrix, ids)
        typer.echo(f"wrote {metric} distances between {len(ids)} samples to {out}", err=True)

    @app.command("permanova")
    def permanova(
        dm_path: Path = typer.Argument(..., metavar="DM.tsv", help="Distance matrix TSV (scikit-bio / QIIME 2)."),
        metadata_path: Path = typer.Argument(..., metavar="METADATA", help="QIIME 2 TSV, CSV/TSV, R output."),
        column: str | None = typer.Option(None, "--column", help="Metadata column (numeric: continuous)."),
        formula: str | None = typer.Option(None, "--formula", help='Model, e.g. "BMI + Groupe" (patsy syntax).'),
        by: str = typer.Option("terms", "--by", help="terms (sequential) or margin (marginal), as adonis2."),
        strata: str | None = typer.Option(None, "--strata", help="Column whose levels restrict the permutations."),
        with_permdisp: bool = typer.Option(False, "--permdisp", help="Add PERMDISP (dispersion) of --column."),
        with_pairwise: bool = typer.Option(False, "--pairwise", help="Add pairwise tests of --column (BH q)."),
        id_column: str | None = ID_COLUMN_OPTION,
        missing: list[str] = MISSING_OPTION,
        permutations: int = typer.Option(999, "--permutations", min=0, help="Number of permutations."),
        seed: int | None = typer.Option(None, "--seed", help="Seed of the permutations."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """PERMANOVA of a metadata column or a formula on a distance matrix; unmatched samples are left out.

        Sums of squares and permutation p-values as vegan's adonis2 (--by terms: sequential; --by margin: each
        term against the model without it, only for terms outside every interaction, as adonis2).

        --json prints {"terms": [{"term", "df", "sum_of_squares", "r2", "f", "p_value"}], "not_tested": [{"term",
        "reason"}], "residual": {"df", "sum_of_squares", "r2"}, "total": {...}, "sample_size", "permutations",
        "method", "by", "column", "formula", "strata", "excluded": [{"id", "reason"}]}; with --column also
        "test_statistic", "p_value", "number_of_groups"; "permdisp": {"f", "p_value", ...} and "pairwise":
        [{"group1", "group2", "pseudo_f", "p_value", "q_value", ...}] when asked for.
        """
        from gutstride.cli.common import print_json
        from gutstride.ingest.microbiome.distance_matrix import read_distance_matrix
        from gutstride.ingest.microbiome.metadata import read_metadata
        from gutstride.services.research import run_permanova

        matrix, ids = read_distance_matrix(dm_path)
        meta = read_metadata(metadata_path, id_column, tuple(missing))
        result = run_permanova(
            matrix, ids, meta, column=column, formula=formula, by=by, strata=strata, permutations=permutations,
            seed=seed, with_permdisp=with_permdisp, with_pairwise=with_pairwise,
        )
        if as_json:
            print_json(result)
            return
        excluded = result["excluded"]
        if excluded:
            typer.echo(f"{len(excluded)} sample(s) left out (in only one of the two files, or no value)", err=True)
        within = f", within {strata}" if strata else ""
        typer.echo(
            f"PERMANOVA on {column or formula} ({result['sample_size']} samples, {result['permutations']} "
            f"permutations{within}; sums of squares by {result['by']})"
        )
        typer.echo(f"{'term':<30} {'df':>4} {'SS':>12} {'R2':>8} {'F':>10} {'p':>8}")
        for row in result["terms"]:
            typer.echo(f"{row['term']:<30} {row['df']:>4} {row['sum_of_squares']:>12.5g} {row['r2']:>8.4f} "
                       f"{row['f']:>10.4g} {row['p_value']:>8.4g}")
        for name in ("residual", "total"):
            row = result[name]
            typer.echo(f"{name:<30} {row['df']:>4} {row['sum_of_squares']:>12.5g} {row['r2']:>8.4f}")
        for row in result["not_tested"]:
            typer.echo(f"{row['term']}: not tested ({row['reason']})")
        if "permdisp" in result:
            typer.echo(f"PERMDISP: F = {result['permdisp']['f']:.4g}, p = {result['permdisp']['p_value']:.4g}")
        for row in result.get("pairwise", []):
            typer.echo(f"{row['group1']} vs {row['group2']}: pseudo-F = {row['pseudo_f']:.4g}, "
                       f"p = {row['p_value']:.4g}, q = {row['q_value']:.4g} ({row['sample_size']} samples)")

    @app.command("pcoa")
    def pcoa_command(
        dm_path: Path = typer.Argument(..., metavar="DM.tsv", help="Distance matrix TSV (scikit-bio / QIIME 2)."),
        out: Path = typer.Option(..., "-o", "--output", metavar="PCOA.txt", help="Ordination file to write."),
        dimensions: int | None = typer.Option(None, "--dimensions", min=1, help="Axes to keep (default: all)."),
        method: str = typer.Option("eigh", "--method", help="eigh (exact) or fsvd (randomised, large n)."),
        seed: int = typer.Option(0, "--seed", help="Seed of the randomised method."),
    ) -> None:
        """PCoA of a distance matrix, written in the QIIME 2 / scikit-bio ordination format."""
        from gutstride.report.ordination_export import write_ordination
        from gutstride.services.diversity import pcoa_of_file

        result = pcoa_of_file(dm_path, dimensions, method, seed)
        ids = result.sample_ids
        write_ordination(out, result)
        shown = ", ".join(f"{p:.1%}" for p in result.proportion_explained[:3])
        typer.echo(f"wrote {result.coordinates.shape[1]} principal coordinates of {len(ids)} samples to {out} "
                   f"(first axes explain {shown})", err=True)

    @app.command("differential")
    def differential(
        table_path: Path = typer.Argument(..., metavar="TABLE", help="BIOM, .qza, TSV/CSV, MetaPhlAn, Kraken/Bracken."),
        metadata_path: Path = typer.Option(..., "--metadata", help="Sample metadata (QIIME 2 TSV, CSV/TSV, R)."),
        formula: str = typer.Option(..., "--formula", help='Model, e.g. "group + AGE" (patsy syntax).'),
        transform: str = typer.Option("clr", "--transform", help="clr (pseudo-count 0.5) or rclr (zeros missing)."),
        min_prevalence: float = typer.Option(0.1, "--min-prevalence", min=0.0, max=1.0,
                                             help="Test features seen in at least this share of samples."),
        subject: str | None = typer.Option(None, "--subject", help="Subject column: a mixed model per feature "
                                           "(random intercept per subject) for repeated samples."),
        method: str = typer.Option("clr", "--method", help="clr (a model per feature on --transform values) or "
                                   "ancombc (scikit-bio's ANCOM-BC on counts; not with --subject)."),
        id_column: str | None = ID_COLUMN_OPTION,
        missing: list[str] = MISSING_OPTION,
        out: Path | None = typer.Option(None, "-o", "--output", metavar="OUT.tsv", help="Write every result as TSV."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Differential abundance: a linear model per feature on CLR values, Benjamini-Hochberg FDR per coefficient.

        With --subject, a linear mixed model per feature (statsmodels MixedLM, REML, random intercept per
        subject); convergence is reported per feature and features whose model cannot be fitted are listed.
        --method ancombc runs scikit-bio's ANCOM-BC on the counts + 1 instead (bias-corrected log fold changes,
        BH q-values); it needs counts and one sample per person. Compositional data: every estimate is a change
        relative to the other features, not in absolute amount.

        --json prints {"method", "transform", "caveat", "formula", "subject", "sample_size", "min_prevalence",
        "features_tested", "results": [{"feature", "term", "estimate", "std_error", "p_value", "q_value", "n",
        "method" (clr-ols, rclr-ols, clr-mixedlm, rclr-mixedlm or ancombc), and "t", "df" (linear model) or "z"
        (mixed model, ANCOM-BC's W), "converged", "subjects" (mixed model)}], "not_tested": [feature], "failed":
        [{"feature", "reason"}], "not_converged": [feature], "excluded": [{"id", "reason"}]}; with ancombc also
        "warnings": levels of a categorical term with fewer than 5 samples, whose rows cannot be judged.
        """
        from gutstride.cli.common import print_json
        from gutstride.ingest.microbiome.metadata import read_metadata
        from gutstride.ingest.microbiome.read import read_table
        from gutstride.services.research import run_differential

        result = run_differential(read_table(table_path), read_metadata(metadata_path, id_column, tuple(missing)),
                                  formula, transform, min_prevalence, subject, method)
        if out is not None:
            import pandas as pd

            pd.DataFrame(result["results"]).to_csv(out, sep="\t", index=False)
        if as_json:
            print_json(result)
            return
        typer.echo(f"{result['method']}; {result['features_tested']} features tested on {result['sample_size']} "
                   f"samples ({len(result['not_tested'])} below the prevalence threshold)")
        typer.echo(result["caveat"])
        for warning in result.get("warnings", []):
            typer.echo(f"warning: {warning}", err=True)
        for row in result["failed"]:
            typer.echo(f"not fitted: {row['feature']}: {row['reason']}", err=True)
        if result["not_converged"]:
            typer.echo(f"{len(result['not_converged'])} feature(s) whose mixed model did not converge: "
                       f"{', '.join(result['not_converged'][:10])} (converged: false in the results)", err=True)
        for row in [r for r in result["results"] if r["q_value"] <= 0.05][:30]:
            typer.echo(f"{row['term']:<30} {row['feature'][:40]:<40} {row['estimate']:>8.3g} q {row['q_value']:.3g}")

    @app.command("lme")
    def lme(
        path: Path = typer.Argument(..., metavar="METADATA_OR_TABLE", help="Metadata, or a table with --metadata."),
        formula: str = typer.Option(..., "--formula", help='Model, e.g. "shannon ~ week*group" (patsy syntax).'),
        subject: str = SUBJECT_OPTION,
        random_slope: str | None = typer.Option(None, "--random-slope", help="Variable with a random slope."),
        metadata_path: Path | None = TABLE_METADATA_OPTION,
        rarefy_depth: int | None = typer.Option(None, "--rarefy", metavar="N", help="Subsample the table to N."),
        seed: int = typer.Option(0, "--seed", help="Seed of --rarefy."),
        id_column: str | None = ID_COLUMN_OPTION,
        missing: list[str] = MISSING_OPTION,
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Linear mixed-effects model (statsmodels MixedLM, as q2-longitudinal) of metadata or alpha diversity."""
        from gutstride.cli.common import print_json
        from gutstride.services.research import run_lme

        meta, alpha, dropped = _metadata_and_alpha(path, metadata_path, rarefy_depth, seed, id_column,
                                                   tuple(missing))
        result = _with_rarefaction(run_lme(meta, formula, subject, random_slope, alpha), dropped)
        if as_json:
            print_json(result)
            return
        if result["excluded"]:
            typer.echo(f"{len(result['excluded'])} sample(s) left out: see --json", err=True)
        for message in result["warnings"]:
            typer.echo(f"warning: {message}", err=True)
        typer.echo(f"Mixed model {formula} | {subject}: {result['n_observations']} observations, "
                   f"{result['n_groups']} subjects, REML, converged: {'yes' if result['converged'] else 'NO'}")
        _print_coefficients(result["fixed_effects"], "z")

    @app.command("lm")
    def lm(
        path: Path = typer.Argument(..., metavar="METADATA_OR_TABLE", help="Metadata, or a table with --metadata."),
        formula: str = typer.Option(..., "--formula", help='Model, e.g. "shannon ~ AGE + BMI + SEX".'),
        metadata_path: Path | None = TABLE_METADATA_OPTION,
        rarefy_depth: int | None = typer.Option(None, "--rarefy", metavar="N", help="Subsample the table to N."),
        seed: int = typer.Option(0, "--seed", help="Seed of --rarefy."),
        id_column: str | None = ID_COLUMN_OPTION,
        missing: list[str] = MISSING_OPTION,
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Linear model (statsmodels OLS) of metadata or alpha diversity, one sample per person (covariates)."""
        from gutstride.cli.common import print_json
        from gutstride.services.research import run_lm

        meta, alpha, dropped = _metadata_and_alpha(path, metadata_path, rarefy_depth, seed, id_column,
                                                   tuple(missing))
        result = _with_rarefaction(run_lm(meta, formula, alpha), dropped)
        if as_json:
            print_json(result)
            return
        if result["excluded"]:
            typer.echo(f"{len(result['excluded'])} sample(s) left out: see --json", err=True)
        typer.echo(f"Linear model {formula}: {result['n_observations']} observations, R2 {result['r2']:.3f} "
                   f"(adjusted {result['adjusted_r2']:.3f})")
        _print_coefficients(result["fixed_effects"], "t")

    @app.command("first-differences")
    def first_differences_command(
        path: Path = typer.Argument(..., metavar="METADATA_OR_TABLE", help="Metadata, or a table with --metadata."),
        metric: str = typer.Option(..., "--metric", help="Numeric metadata column, or an alpha metric of the table."),
        subject: str = SUBJECT_OPTION,
        time: str = typer.Option(..., "--time", help="Numeric metadata column of the sampling time."),
        baseline: float | None = typer.Option(None, "--baseline", metavar="T", help="Differences to time T."),
        metadata_path: Path | None = TABLE_METADATA_OPTION,
        id_column: str | None = ID_COLUMN_OPTION,
        missing: list[str] = MISSING_OPTION,
        out: Path | None = typer.Option(None, "-o", "--output", metavar="OUT.tsv", help="Write the rows as TSV."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """First differences per subject (q2-longitudinal first-differences): y(t_k) - y(t_k-1) between each
        subject's successive times, or y(t_k) - y(T) with --baseline T; subjects without a sample at T are left out.

        Times must be numeric. The TSV has #SampleID, the subject and time columns, Difference and Reference (the
        earlier or baseline sample). --json prints {"rows": [{"sample_id", "subject", "time", "reference",
        "difference"}], "left_out": [subject], "metric", "subject", "time", "baseline", "excluded": [{"id",
        "reason"}]}.
        """
        from gutstride.services.research import run_first_differences

        meta, alpha, _ = _metadata_and_alpha(path, metadata_path, None, 0, id_column, tuple(missing))
        _report_changes(run_first_differences(meta, metric, subject, time, baseline, alpha), "difference", out,
                        as_json)

    @app.command("first-distances")
    def first_distances_command(
        dm_path: Path = typer.Argument(..., metavar="DM.tsv", help="Distance matrix TSV (scikit-bio / QIIME 2)."),
        metadata_path: Path = typer.Option(..., "--metadata", help="Sample metadata (QIIME 2 TSV, CSV/TSV, R)."),
        subject: str = SUBJECT_OPTION,
        time: str = typer.Option(..., "--time", help="Numeric metadata column of the sampling time."),
        baseline: float | None = typer.Option(None, "--baseline", metavar="T", help="Distances to time T."),
        to_first: bool = typer.Option(False, "--to-first", help="Distances to each subject's first time."),
        id_column: str | None = ID_COLUMN_OPTION,
        missing: list[str] = MISSING_OPTION,
        out: Path | None = typer.Option(None, "-o", "--output", metavar="OUT.tsv", help="Write the rows as TSV."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """First distances per subject (q2-longitudinal first-distances): d(t_k, t_k-1) between each subject's
        successive samples, d(t_k, T) with --baseline T, or the distance to the subject's first sample with
        --to-first; subjects without a sample at T are left out.

        Times must be numeric. The TSV has #SampleID, the subject and time columns, Distance and Reference.
        --json prints {"rows": [{"sample_id", "subject", "time", "reference", "distance"}], "left_out": [subject],
        "subject", "time", "baseline", "to_first", "excluded": [{"id", "reason"}]}.
        """
        from gutstride.ingest.microbiome.distance_matrix import read_distance_matrix
        from gutstride.ingest.microbiome.metadata import read_metadata
        from gutstride.services.research import run_first_distances

        matrix, ids = read_distance_matrix(dm_path)
        meta = read_metadata(metadata_path, id_column, tuple(missing))
        _report_changes(run_first_distances(matrix, ids, meta, subject, time, baseline, to_first), "distance", out,
                        as_json)

    @app.command("pairwise-differences")
    def pairwise_differences_command(
        path: Path = typer.Argument(..., metavar="METADATA_OR_TABLE", help="Metadata, or a table with --metadata."),
        metric: str = typer.Option(..., "--metric", help="Numeric metadata column, or an alpha metric of the table."),
        subject: str = SUBJECT_OPTION,
        time: str = typer.Option(..., "--time", help="Numeric metadata column of the sampling time."),
        before: float = typer.Option(..., "--before", metavar="T1", help="Time of the first sample of each pair."),
        after: float = typer.Option(..., "--after", metavar="T2", help="Time of the second sample of each pair."),
        metadata_path: Path | None = TABLE_METADATA_OPTION,
        id_column: str | None = ID_COLUMN_OPTION,
        missing: list[str] = MISSING_OPTION,
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Paired before/after test (q2-longitudinal pairwise-differences, non-parametric): the two-sided Wilcoxon
        signed-rank test (scipy) of y(T2) - y(T1) over the subjects sampled at both times (zero differences
        dropped); the other subjects are left out.

        --json prints {"test", "n_pairs", "statistic", "p_value", "median_difference", "left_out": [subject],
        "metric", "subject", "time", "before", "after", "excluded": [{"id", "reason"}]}.
        """
        from gutstride.cli.common import print_json
        from gutstride.services.research import run_pairwise_differences

        meta, alpha, _ = _metadata_and_alpha(path, metadata_path, None, 0, id_column, tuple(missing))
        result = run_pairwise_differences(meta, metric, subject, time, before, after, alpha)
        _report_left_out(result, f"not sampled at both {before:g} and {after:g}")
        if as_json:
            print_json(result)
            return
        typer.echo(f"{result['test']} of {metric} at {after:g} minus {before:g}: {result['n_pairs']} subjects, "
                   f"W = {result['statistic']:.4g}, p = {result['p_value']:.4g}, median difference "
                   f"{result['median_difference']:.4g}")

    @app.command("cohort")
    def cohort(
        table_path: Path = typer.Argument(..., metavar="TABLE", help="BIOM, .qza, TSV/CSV, MetaPhlAn, Kraken/Bracken."),
        metadata_path: Path = typer.Option(..., "--metadata", help="Sample metadata (QIIME 2 TSV, CSV/TSV, R)."),
        column: str | None = typer.Option(None, "--column", help="Metadata column (numeric: continuous)."),
        formula: str | None = typer.Option(None, "--formula", help='Model, e.g. "BMI + Groupe" (patsy syntax).'),
        by: str = typer.Option("terms", "--by", help="terms (sequential) or margin (marginal), as adonis2."),
        metric: str = typer.Option(..., "--metric", help="One of: " + ", ".join(BETA_METRICS) + "."),
        tree_path: Path | None = typer.Option(None, "--tree", help="Newick tree or .qza phylogeny (UniFrac)."),
        rarefy_depth: int | None = typer.Option(None, "--rarefy", metavar="N", help="Subsample every sample to N."),
        strata: str | None = typer.Option(None, "--strata", help="Column whose levels restrict the permutations."),
        permutations: int = typer.Option(999, "--permutations", min=0, help="Number of permutations."),
        seed: int = typer.Option(0, "--seed", help="Seed of the permutations and of --rarefy."),
        out: Path = typer.Option(..., "-o", "--output", metavar="OUTDIR", help="Folder for the outputs."),
        scheduler: str | None = typer.Option(None, "--scheduler", metavar="ADDRESS", help="Dask scheduler address."),
        workers: int = typer.Option(2, "--workers", min=0, help="LocalCluster workers (0: run in this process)."),
        memory_limit: str = typer.Option("1GiB", "--memory-limit", metavar="SIZE", help="Memory per worker."),
        tile: int = typer.Option(1000, "--tile", min=2, help="Samples per tile side."),
        float64: bool = typer.Option(False, "--float64", help="Store distances as float64 (default float32)."),
        write_distances: bool = typer.Option(
            False, "--write-distances",
            help="aitchison: also store the distances (the statistics then come from their tiles; by default they "
                 "come from the CLR values, with no matrix). Other metrics always store them."),
        id_column: str | None = ID_COLUMN_OPTION,
        missing: list[str] = MISSING_OPTION,
        as_json: bool = typer.Option(False, "--json", help="Print the PERMANOVA rows as JSON."),
    ) -> None:
        """A whole study: alpha diversity, tiled distances in Zarr, PERMANOVA from the tiles, methods and summary."""
        from rich.progress import Progress

        from gutstride.cli.common import print_json
        from gutstride.ingest.microbiome.metadata import read_metadata
        from gutstride.ingest.microbiome.read import read_table
        from gutstride.report.cohort import COHORT_WRITERS
        from gutstride.services.cohort import CohortOptions, run_cohort
        from gutstride.services.diversity import metric_tree

        tree = metric_tree(metric, tree_path)
        table = read_table(table_path)
        meta = read_metadata(metadata_path, id_column, tuple(missing))
        options = CohortOptions(metric=metric, column=column, formula=formula, by=by, strata=strata,
                                permutations=permutations, seed=seed, rarefy=rarefy_depth, float64=float64, tile=tile,
                                workers=workers, memory_limit=memory_limit, scheduler=scheduler,
                                write_distances=write_distances)
        with Progress(transient=True, console=None) as bar:
            task = bar.add_task("distance tiles", total=None)
            result = run_cohort(
                table, meta, out, options, COHORT_WRITERS, tree=tree,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                announce=lambda link: typer.echo(f"Dask dashboard: {link}", err=True),
            )
        for message in result["warnings"]:
            typer.echo(f"warning: {message}", err=True)
        if as_json:
            print_json({k: v for k, v in result.items() if k != "run"})
            return
        run = result["run"]
        typer.echo(f"{run['samples_analysed']} samples analysed, {run['samples_excluded']} excluded "
                   f"(see {out / 'excluded.tsv'}); statistics from {run['statistics_from']}, {run['tiles']} tasks on "
                   f"{run['workers'] or 'no'} workers in {run['timings']['total_s']:.1f} s")
        for row in result["terms"]:
            typer.echo(f"{row['term']}: df {row['df']}, R2 {row['r2']:.4f}, pseudo-F {row['f']:.4g}, "
                       f"p {row['p_value']:.4g}")
        for row in result.get("pairwise") or []:
            typer.echo(f"  {row['group1']} vs {row['group2']}: pseudo-F {row['pseudo_f']:.4g}, p {row['p_value']:.4g}, "
                       f"q {row['q_value']:.4g} ({row['sample_size']} samples)")
        written = ["alpha.tsv", "permanova.tsv"] + (["permdisp.tsv", "pairwise.tsv"] if "pairwise" in result else [])
        written += ["excluded.tsv", f"pcoa/{metric}.tsv", "run.json", "methods.md", "summary.html"]
        written += [run["distance_store"]] if run["distance_store"] else []
        typer.echo(f"wrote {', '.join(written)} in {out}")
