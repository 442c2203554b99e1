"""Research use cases on files already read: match samples to metadata, build the model, run the statistics.

The presenters (``gutstride permanova``, ``gutstride lme``, ``gutstride cohort``) read the files and call these;
every sample left out is listed with the reason, never dropped silently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from gutstride.errors import BadInputError, MissingDataError

if TYPE_CHECKING:
    import pandas as pd

    from gutstride.ingest.microbiome.metadata import SampleMetadata
    from gutstride.model.feature_table import FeatureTable


def model_columns(meta: SampleMetadata, column: str | None, formula: str | None, source: str = "metadata") -> list[str]:
    """The metadata columns a ``--column`` or ``--formula`` model uses (checked to exist)."""
    from gutstride.analysis.design import formula_columns

    if (column is None) == (formula is None):
        raise BadInputError("give exactly one of --column and --formula")
    if column is not None:
        if column not in meta.columns:
            raise MissingDataError(f"{source}: no column {column!r}; columns: {', '.join(meta.columns[:30])}")
        return [column]
    assert formula is not None
    used = formula_columns(formula, meta.columns)
    if not used:
        listed = ", ".join(meta.columns[:30])
        raise MissingDataError(f"formula {formula!r} names no column of {source}; columns: {listed}")
    return used


def match_samples(
    ids: list[str], meta: SampleMetadata, needed: list[str], what: str = "distance matrix"
) -> tuple[list[int], list[dict[str, str]]]:
    """Positions of ``ids`` with metadata and a value in every ``needed`` column, and the samples left out.

    Samples of the metadata that are not in ``ids`` are listed too (reason ``not in the <what>``).
    """
    keep: list[int] = []
    excluded: list[dict[str, str]] = []
    for k, sample in enumerate(ids):
        values = meta.values.get(sample)
        missing = None if values is None else next((c for c in needed if c not in values), None)
        if values is None:
            excluded.append({"id": sample, "reason": "not in the metadata"})
        elif missing is not None:
            excluded.append({"id": sample, "reason": f"no value in column {missing}"})
        else:
            keep.append(k)
    present = set(ids)
    excluded += [{"id": s, "reason": f"not in the {what}"} for s in meta.values if s not in present]
    return keep, excluded


def metadata_frame(meta: SampleMetadata, samples: list[str], columns: list[str]) -> pd.DataFrame:
    """A frame of ``columns`` for ``samples``: numeric columns as floats, categorical ones as strings."""
    import pandas as pd

    data = {
        c: [meta.numeric(s, c) for s in samples] if meta.is_numeric(c) else [meta.values[s][c] for s in samples]
        for c in columns
    }
    return pd.DataFrame(data, index=pd.Index(samples, name="sample_id"))


def model_terms(
    meta: SampleMetadata, samples: list[str], column: str | None, formula: str | None
) -> list[tuple[str, np.ndarray]]:
    """The design terms of ``--column C`` (one term named C) or ``--formula F`` for ``samples``."""
    from gutstride.analysis.design import design_terms, quote_column

    columns = model_columns(meta, column, formula)
    frame = metadata_frame(meta, samples, columns)
    if column is not None:
        terms = design_terms(frame, quote_column(column))
        return [(column, np.hstack([block for _, block in terms]))]
    assert formula is not None
    return design_terms(frame, formula)


def run_permanova(
    matrix: np.ndarray,
    ids: list[str],
    meta: SampleMetadata,
    *,
    column: str | None = None,
    formula: str | None = None,
    by: str = "terms",
    strata: str | None = None,
    permutations: int = 999,
    seed: int | None = None,
    with_permdisp: bool = False,
    with_pairwise: bool = False,
) -> dict[str, Any]:
    """PERMANOVA of ``--column`` or ``--formula`` on a distance matrix, with optional PERMDISP and pairwise tests.

    A categorical ``column`` gives scikit-bio's one-way fields too (``test_statistic``, ``p_value``,
    ``number_of_groups``...); a numeric ``column`` is one continuous term (``number_of_groups`` is null).
    PERMDISP and pairwise tests need a categorical ``column``.
    """
    from gutstride.analysis.microbiome import permanova as stats

    if by not in ("terms", "margin"):
        raise BadInputError(f"--by must be 'terms' or 'margin', not {by!r}")
    needed = model_columns(meta, column, formula) + ([strata] if strata else [])
    if strata is not None and strata not in meta.columns:
        raise MissingDataError(f"metadata: no column {strata!r}; columns: {', '.join(meta.columns[:30])}")
    categorical = column is not None and not meta.is_numeric(column)
    if (with_permdisp or with_pairwise) and not categorical:
        raise BadInputError("--permdisp and --pairwise need --column with a categorical column")
    keep, excluded = match_samples(ids, meta, needed)
    samples = [ids[k] for k in keep]
    # no copy when every sample is kept (keep is then 0..n-1): at 5,000 samples that is 200 MB of peak memory
    sub = np.asarray(matrix) if len(keep) == len(ids) else np.asarray(matrix)[np.ix_(keep, keep)]
    strata_labels = [meta.values[s][strata] for s in samples] if strata else None
    if categorical:
        assert column is not None
        grouping = [meta.values[s][column] for s in samples]
        result = stats.permanova(sub, grouping, permutations, seed, strata_labels)
        result["terms"][0]["term"] = column
    else:
        result = stats.permanova_formula(sub, model_terms(meta, samples, column, formula), by, permutations, seed,
                                         strata_labels)
        if column is not None:
            term = result["terms"][0]
            result.update(test_statistic_name="pseudo-F", test_statistic=term["f"], p_value=term["p_value"],
                          number_of_groups=None)
    if with_permdisp:
        result["permdisp"] = stats.permdisp(sub, grouping, permutations, seed)
    if with_pairwise:
        result["pairwise"] = stats.pairwise_permanova(sub, grouping, permutations, seed, strata_labels)
    return {**result, "column": column, "formula": formula, "strata": strata, "excluded": excluded}


def model_frame(
    meta: SampleMetadata, formula: str, extra: list[str], alpha: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    """The columns ``formula`` and ``extra`` use, for the samples that have them all, and the samples left out.

    With ``alpha`` (alpha metrics indexed by sample id), the formula may name metrics, merged by sample id; the
    samples are then the table's, and metadata samples absent from the table are listed as left out.
    """
    from gutstride.analysis.design import formula_columns

    metrics = [str(c) for c in alpha.columns] if alpha is not None else []
    used_meta = [c for c in formula_columns(formula, meta.columns) if c not in metrics]
    used_alpha = formula_columns(formula, metrics)
    if not used_meta and not used_alpha:
        raise MissingDataError(f"formula {formula!r} names no metadata column or alpha metric")
    needed = used_meta + [c for c in extra if c not in used_meta]
    if alpha is not None:
        ids = [str(s) for s in alpha.index]
        keep, excluded = match_samples(ids, meta, needed, what="table")
        for k in list(keep):
            bad = next((m for m in used_alpha if not np.isfinite(alpha.iloc[k][m])), None)
            if bad is not None:
                keep.remove(k)
                excluded.append({"id": ids[k], "reason": f"{bad} is not defined"})
        samples = [ids[k] for k in keep]
    else:
        samples = [s for s in meta.values if all(c in meta.values[s] for c in needed)]
        chosen = set(samples)
        excluded = [
            {"id": s, "reason": f"no value in column {next(c for c in needed if c not in meta.values[s])}"}
            for s in meta.values if s not in chosen
        ]
    frame = metadata_frame(meta, samples, needed)
    for metric in used_alpha:
        assert alpha is not None
        frame[metric] = alpha.loc[samples, metric].to_numpy(dtype=float)
    return frame, excluded


def run_lme(
    meta: SampleMetadata,
    formula: str,
    subject: str,
    random_slope: str | None = None,
    alpha: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """A mixed model of metadata columns, or of alpha metrics (``alpha``, indexed by sample id) merged with them.

    Samples without a value in a column the model uses (or, with ``alpha``, without metadata) are left out and
    listed in ``excluded``.
    """
    from gutstride.analysis.design import formula_columns
    from gutstride.analysis.mixed import fit_mixed_model

    if subject not in meta.columns:
        raise MissingDataError(f"metadata: no subject column {subject!r}; columns: {', '.join(meta.columns[:30])}")
    extra = [subject] + (formula_columns(random_slope, meta.columns) if random_slope else [])
    frame, excluded = model_frame(meta, formula, extra, alpha)
    frame[subject] = frame[subject].astype(str)
    return {**fit_mixed_model(frame, formula, subject, random_slope), "excluded": excluded}


def run_lm(meta: SampleMetadata, formula: str, alpha: pd.DataFrame | None = None) -> dict[str, Any]:
    """An ordinary least-squares model of metadata columns or alpha metrics (see :func:`model_frame`)."""
    from gutstride.analysis.mixed import fit_linear_model

    frame, excluded = model_frame(meta, formula, [], alpha)
    return {**fit_linear_model(frame, formula), "excluded": excluded}


def run_differential(
    table: FeatureTable, meta: SampleMetadata, formula: str, transform: str = "clr", min_prevalence: float = 0.1,
    subject: str | None = None, method: str = "clr",
) -> dict[str, Any]:
    """Differential abundance of every feature of ``table`` on the metadata model ``formula``; left-out samples
    are listed.

    ``method="clr"``: :func:`gutstride.analysis.microbiome.differential.differential_abundance` on ``transform``
    values, with a random intercept per ``subject`` (a metadata column) for repeated measures. ``method="ancombc"``:
    :func:`gutstride.analysis.microbiome.differential.ancombc_abundance` (counts only, no ``subject``, no
    ``transform`` other than the default).
    """
    from gutstride.analysis.design import design_matrix
    from gutstride.analysis.microbiome.differential import ancombc_abundance, differential_abundance

    if method not in ("clr", "ancombc"):
        raise BadInputError(f"--method must be 'clr' or 'ancombc', not {method!r}")
    if method == "ancombc" and subject is not None:
        raise BadInputError("--method ancombc has no random effects, so it does not apply with --subject "
                            "(use --method clr --subject)")
    if method == "ancombc" and transform != "clr":
        raise BadInputError("--transform applies to --method clr; ANCOM-BC takes the logarithm of counts + 1 itself")
    columns = model_columns(meta, None, formula)
    if subject is not None and subject not in meta.columns:
        raise MissingDataError(f"metadata: no subject column {subject!r}; columns: {', '.join(meta.columns[:30])}")
    needed = columns + ([subject] if subject is not None and subject not in columns else [])
    keep, excluded = match_samples(list(table.sample_ids), meta, needed, what="table")
    samples = [table.sample_ids[k] for k in keep]
    if len(samples) < 3:
        raise MissingDataError(f"only {len(samples)} sample(s) have the table row and the metadata values")
    frame = metadata_frame(meta, samples, columns)
    if method == "ancombc":
        result = ancombc_abundance(table.data[keep], list(table.feature_ids), frame, formula, min_prevalence)
        return {**result, "formula": formula, "subject": None, "sample_size": len(samples), "excluded": excluded}
    design, names = design_matrix(frame, formula)
    subjects = [str(meta.values[s][subject]) for s in samples] if subject is not None else None
    result = differential_abundance(table.data[keep], list(table.feature_ids), design, names, transform,
                                    min_prevalence, subjects=subjects)
    return {**result, "formula": formula, "subject": subject, "sample_size": len(samples), "excluded": excluded}


def _check_subject_and_time(meta: SampleMetadata, subject: str, time: str) -> None:
    """``subject`` and ``time`` are metadata columns and ``time`` is numeric (q2-longitudinal's times are numbers)."""
    for column in (subject, time):
        if column not in meta.columns:
            raise MissingDataError(f"metadata: no column {column!r}; columns: {', '.join(meta.columns[:30])}")
    if not meta.is_numeric(time):
        raise BadInputError(f"time column {time!r} is not numeric (declare it numeric in #q2:types or give numbers)")


def _subjects_and_times(meta: SampleMetadata, samples: list[str], subject: str, time: str
                        ) -> tuple[dict[str, str], dict[str, float]]:
    return ({s: meta.values[s][subject] for s in samples}, {s: meta.numeric(s, time) for s in samples})


def _longitudinal_values(meta: SampleMetadata, metric: str, subject: str, time: str, alpha: pd.DataFrame | None
                         ) -> tuple[dict[str, float], dict[str, str], dict[str, float], list[dict[str, str]]]:
    """Values of ``metric`` (an alpha metric of ``alpha`` or a numeric metadata column), subjects and times by
    sample, and the samples left out (see :func:`model_frame`)."""
    from gutstride.analysis.design import quote_column

    _check_subject_and_time(meta, subject, time)
    metrics = [str(c) for c in alpha.columns] if alpha is not None else []
    if metric not in metrics:
        if metric not in meta.columns:
            raise MissingDataError(f"--metric {metric!r} is no metadata column or alpha metric; columns: "
                                   f"{', '.join(meta.columns[:30])}")
        if not meta.is_numeric(metric):
            raise BadInputError(f"--metric {metric!r} is not a numeric column")
    frame, excluded = model_frame(meta, quote_column(metric), [subject, time], alpha)
    samples = [str(s) for s in frame.index]
    subjects, times = _subjects_and_times(meta, samples, subject, time)
    values = {s: float(v) for s, v in zip(samples, frame[metric], strict=True)}
    return values, subjects, times, excluded


def run_first_differences(meta: SampleMetadata, metric: str, subject: str, time: str,
                          baseline: float | None = None, alpha: pd.DataFrame | None = None) -> dict[str, Any]:
    """q2-longitudinal ``first-differences`` of ``metric`` (a numeric metadata column, or an alpha metric of
    ``alpha``): :func:`gutstride.analysis.microbiome.longitudinal.first_differences`, with the samples left out."""
    from gutstride.analysis.microbiome.longitudinal import first_differences

    values, subjects, times, excluded = _longitudinal_values(meta, metric, subject, time, alpha)
    result = first_differences(values, subjects, times, baseline)
    return {**result, "metric": metric, "subject": subject, "time": time, "baseline": baseline, "excluded": excluded}


def run_first_distances(matrix: np.ndarray, ids: list[str], meta: SampleMetadata, subject: str, time: str,
                        baseline: float | None = None, to_first: bool = False) -> dict[str, Any]:
    """q2-longitudinal ``first-distances`` on a distance matrix (``to_first``: the distance to each subject's first
    time, :func:`gutstride.analysis.microbiome.longitudinal.distance_to_baseline`), with the samples left out."""
    from gutstride.analysis.microbiome.longitudinal import distance_to_baseline, first_distances

    if to_first and baseline is not None:
        raise BadInputError("give --baseline or --to-first, not both")
    _check_subject_and_time(meta, subject, time)
    keep, excluded = match_samples(ids, meta, [subject, time])
    samples = [ids[k] for k in keep]
    sub = np.asarray(matrix)[np.ix_(keep, keep)]
    subjects, times = _subjects_and_times(meta, samples, subject, time)
    result = (distance_to_baseline(sub, samples, subjects, times) if to_first
              else first_distances(sub, samples, subjects, times, baseline))
    return {**result, "subject": subject, "time": time, "baseline": baseline, "to_first": to_first,
            "excluded": excluded}


def run_pairwise_differences(meta: SampleMetadata, metric: str, subject: str, time: str, before: float,
                             after: float, alpha: pd.DataFrame | None = None) -> dict[str, Any]:
    """q2-longitudinal ``pairwise-differences`` (non-parametric): the Wilcoxon signed-rank test of ``after -
    before`` per subject (:func:`gutstride.analysis.microbiome.longitudinal.paired_wilcoxon`)."""
    from gutstride.analysis.microbiome.longitudinal import paired_wilcoxon

    values, subjects, times, excluded = _longitudinal_values(meta, metric, subject, time, alpha)
    result = paired_wilcoxon(values, subjects, times, before, after)
    return {**result, "metric": metric, "subject": subject, "time": time, "before": before, "after": after,
            "excluded": excluded}
