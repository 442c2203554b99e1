"""Sample metadata for cohorts: read a QIIME 2-style metadata TSV and select the samples of a cohort."""

from __future__ import annotations

from pathlib import Path

from gutstride.errors import BadInputError, MissingDataError
from gutstride.ingest.microbiome.table import FeatureTable


def read_metadata(path: Path) -> dict[str, dict[str, str]]:
    """Per-sample metadata from a TSV whose first column holds sample ids (``#SampleID``, ``sample-id``...).

    Lines starting with ``#q2:`` (QIIME 2 type directives) are skipped.
    """
    try:
        lines = [ln for ln in path.read_text(encoding="utf-8-sig").splitlines() if ln and not ln.startswith("#q2:")]
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{path}: cannot read metadata ({exc})") from None
    if not lines:
        raise BadInputError(f"{path}: empty metadata file")
    header = lines[0].split("\t")
    out: dict[str, dict[str, str]] = {}
    for lineno, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) != len(header):
            raise BadInputError(f"{path}, line {lineno}: {len(cells)} columns, the header has {len(header)}")
        out[cells[0]] = dict(zip(header[1:], cells[1:], strict=True))
    return out


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
    meta = read_metadata(metadata_path)
    conditions = []
    for cond in where:
        column, sep, value = cond.partition("=")
        if not sep:
            raise BadInputError(f"--where {cond!r}: expected COLUMN=VALUE")
        conditions.append((column, value))
    columns = set(next(iter(meta.values()), {}))
    for column in [c for c, _ in conditions] + ([host_column] if host_column else []):
        if column not in columns:
            raise BadInputError(f"{metadata_path}: no column {column!r}")
    keep = [s for s in table.sample_ids if s in meta and all(meta[s][c] == v for c, v in conditions)]
    if not keep:
        raise MissingDataError("no sample of the table matches the metadata conditions")
    hosts = [meta[s][host_column] for s in keep] if host_column else None
    return subset_samples(table, keep), hosts
