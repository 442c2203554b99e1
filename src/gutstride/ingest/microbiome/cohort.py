"""Cohorts: select the samples of a table by their metadata (read by :mod:`gutstride.ingest.microbiome.metadata`)."""

from __future__ import annotations

from pathlib import Path

from gutstride.errors import BadInputError, MissingDataError
from gutstride.ingest.microbiome.metadata import read_sample_metadata
from gutstride.model.feature_table import FeatureTable


def subset_samples(table: FeatureTable, keep: list[str]) -> FeatureTable:
    """The table restricted to the sample ids in ``keep`` (in that order)."""
    index = {sid: i for i, sid in enumerate(table.sample_ids)}
    rows = [index[s] for s in keep]
    return FeatureTable(table.data[rows, :], list(keep), table.feature_ids, table.taxonomy, table.value_kind,
                        {s: table.sample_metadata.get(s, {}) for s in keep})


def cohort_subset(table: FeatureTable, metadata_path: Path | None, where: list[str],
                  host_column: str | None) -> tuple[FeatureTable, list[str] | None]:
    """Keep the samples whose metadata match every ``COLUMN=VALUE`` in ``where``; return them and their hosts."""
    if metadata_path is None:
        if where or host_column:
            raise MissingDataError("--where and --host-column need --metadata")
        return table, None
    columns, meta = read_sample_metadata(metadata_path)
    conditions = []
    for cond in where:
        column, sep, value = cond.partition("=")
        if not sep:
            raise BadInputError(f"--where {cond!r}: expected COLUMN=VALUE")
        conditions.append((column, value))
    for column in [c for c, _ in conditions] + ([host_column] if host_column else []):
        if column not in columns:
            raise BadInputError(f"{metadata_path}: no column {column!r}")
    keep = [s for s in table.sample_ids if s in meta and all(meta[s].get(c) == v for c, v in conditions)]
    if not keep:
        raise MissingDataError("no sample of the table matches the metadata conditions")
    hosts = [meta[s].get(host_column, s) for s in keep] if host_column else None
    return subset_samples(table, keep), hosts
