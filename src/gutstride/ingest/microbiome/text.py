"""Delimited feature tables: DADA2 / QIIME / ``biom convert`` TSV, other CSVs, and consumer reports of taxa.

The first column holds ids; the other columns are samples or features, values are counts or relative abundances.

How the layout is decided
-------------------------
* **Delimiter**: tab if the header line has one, else comma, else semicolon. Leading ``#`` comment lines with a
  single field (``# Constructed from biom file``) are skipped; an R-style header with one field fewer than the
  rows (DADA2's ``write.table`` of ``seqtab``) gets an empty first cell.
* **Annotation columns**: a column whose every value is non-numeric is an annotation. One named ``taxonomy``,
  ``taxon``, ``lineage``... gives the features' lineages; one named ``rank``/``level``/``taxonomy_lvl`` gives each
  row's rank, and then only the rows of the deepest rank present are kept (a report listing a phylum and its genera
  would otherwise count the same reads twice). Other annotation columns are ignored (logged). A column mixing
  numbers and text is malformed: the error names the line and column.
* **Orientation** (first rule that decides):

  1. the first header cell: ``#OTU ID``, ``Feature ID``, ``taxon``, ``clade_name``... means features are rows;
     ``SampleID``, ``sample``... means samples are rows;
  2. a taxonomy column means features are rows; a row named ``taxonomy`` means features are columns;
  3. the side whose labels look like features (lineages with ``__``, ``;`` or ``|``, or DNA sequences as DADA2
     writes them) holds the features;
  4. otherwise the longer side holds the features (tables have more features than samples).

* **Counts or proportions**: see :mod:`gutstride.ingest.microbiome.layout` (whole numbers are counts; anything
  else is a relative abundance, rescaled per sample to sum 1). Values written with ``%``, or under a header
  saying ``%``, ``percent``, ``relative``, ``fraction`` or ``proportion``, are relative abundances even when whole.
* A single value column with a generic name (``abundance``, ``relative_abundance``, ``percent``...) is one sample
  named after the file.
"""

from __future__ import annotations

import csv
import logging
import re
from pathlib import Path

import numpy as np

from gutstride.errors import BadInputError, UnsupportedFormatError
from gutstride.ingest.microbiome.layout import build_table
from gutstride.ingest.microbiome.taxonomy import lineage_at, normalise_lineage
from gutstride.model.feature_table import RANKS, FeatureTable, rank_index

log = logging.getLogger(__name__)

FEATURE_HEADERS = {
    "otu id", "otuid", "otu", "feature id", "featureid", "feature", "asv", "asv id", "taxon", "taxa", "taxonomy",
    "clade_name", "clade", "name", "species", "genus", "organism", "bacteria", "microbe", "lineage", "sequence",
}
SAMPLE_HEADERS = {"sampleid", "sample id", "sample", "sample_id", "sample_name", "sample name", "samples", "index"}
#: Column headers of unclassified reads in QIIME 2 taxa tables (``Unassigned`` at level 1).
UNASSIGNED = {"unassigned", "unclassified"}
TAXONOMY_COLUMNS = {"taxonomy", "taxon", "lineage", "consensus lineage", "taxonomy_string", "classification"}
RANK_COLUMNS = {"rank", "level", "taxonomy_lvl", "taxonomic_rank", "taxonomic rank", "tax_level"}
GENERIC_VALUE_HEADERS = re.compile(r"abundance|percent|%|fraction|proportion|value|count|reads|relative", re.I)
RELATIVE_HEADERS = re.compile(r"%|percent|relative|fraction|proportion", re.I)
_DNA = re.compile(r"^[ACGTNacgtn]{20,}$")
_MAPPING_COLUMNS = {"BarcodeSequence", "LinkerPrimerSequence"}


def _norm(header: str) -> str:
    return header.strip().lstrip("#").strip().lower()


def looks_like_feature(label: str) -> bool:
    """True for a lineage (``__``, ``;``, ``|``) or a DNA sequence (DADA2's ASV ids)."""
    return "__" in label or ";" in label or "|" in label or bool(_DNA.match(label))


def is_taxon_header(label: str) -> bool:
    """True for a column header that is a taxonomy string (``k__Bacteria;p__Firmicutes``, ``Unassigned``)."""
    text = label.strip()
    return (looks_like_feature(text) and not _DNA.match(text)) or text.lower() in UNASSIGNED


def metadata_columns(header: list[str]) -> list[int]:
    """Columns of sample metadata in a samples-by-taxa table (a QIIME 2 ``taxa barplot`` ``level-N.csv``).

    Such a table has samples as rows, taxonomy strings as column headers, and then the sample-metadata columns
    (``barcode-sequence``, ``AGE``, ``sex``...). When some headers are taxonomy strings and others are not, and
    either the first header is a sample header (``index``, ``SampleID``) or two or more headers are taxonomy
    strings, the others are metadata. Empty otherwise.
    """
    taxa = [c for c in range(1, len(header)) if is_taxon_header(header[c])]
    others = [c for c in range(1, len(header)) if c not in set(taxa)]
    if not taxa or not others:
        return []
    if _norm(header[0]) in SAMPLE_HEADERS | {""} or len(taxa) >= 2:
        return others
    return []


def _split_header(lines: list[str]) -> tuple[int, str, list[str]]:
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        sep = "\t" if "\t" in line else "," if "," in line else ";" if ";" in line else "\t"
        if line.startswith("#") and sep not in line:
            continue
        return index, sep, next(csv.reader([line], delimiter=sep))
    raise BadInputError("no header line: the file is empty")


def parse_text_table(text: str, source: str, default_sample: str) -> FeatureTable:
    """Parse a delimited feature table (see the module docstring for the rules).

    Parameters
    ----------
    text
        The file content.
    source
        Name used in error messages.
    default_sample
        Sample id when the file holds one unnamed sample (a consumer report).

    Raises
    ------
    BadInputError
        Ragged rows, a non-numeric or negative value (naming line and column), duplicated ids.
    UnsupportedFormatError
        A sample metadata (mapping) file or another table that holds no feature values.
    """
    import pandas as pd

    lines = text.splitlines()
    try:
        header_index, sep, header = _split_header(lines)
    except BadInputError as exc:
        raise BadInputError(f"{source}: {exc}") from None
    meta_cols = metadata_columns(header)
    if _MAPPING_COLUMNS & {h.strip() for h in header} and not meta_cols:
        raise UnsupportedFormatError(f"{source}: a sample metadata (mapping) file, not a feature table")
    first_line = header_index + 2  # 1-based line number of the first body row
    records: list[list[str]] = []
    line_numbers: list[int] = []
    for offset, fields in enumerate(csv.reader(lines[header_index + 1 :], delimiter=sep)):
        if fields and "".join(fields).strip():
            records.append(fields)
            line_numbers.append(first_line + offset)
    if not records:
        raise BadInputError(f"{source}: a header but no rows")
    n_cols = len(records[0])
    if len(header) == n_cols - 1:  # R's write.table leaves out the row-names header cell
        header = ["", *header]
    n_cols = len(header)
    if n_cols < 2:
        raise BadInputError(f"{source}: one column only: expected ids then values")
    for fields, lineno in zip(records, line_numbers, strict=True):
        if len(fields) != n_cols:
            raise BadInputError(f"{source}: line {lineno}: {len(fields)} fields, expected {n_cols}")
    frame = np.char.strip(np.array(records, dtype=str))
    notes: list[str] = []
    sample_metadata: dict[str, dict[str, str]] = {}
    if meta_cols:
        names = [header[c].strip() for c in meta_cols]
        sample_metadata = {
            str(row[0]): {name: str(row[c]) for name, c in zip(names, meta_cols, strict=True)} for row in frame
        }
        keep_cols = [c for c in range(n_cols) if c not in set(meta_cols)]
        frame = frame[:, keep_cols]
        header = [header[c] for c in keep_cols]
        n_cols = len(header)
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        notes.append(f"{len(names)} sample-metadata columns kept as metadata, not counted as taxa: {shown}")
        log.info("%s: %s", source, notes[-1])
    percent_signs = bool(np.any(np.char.endswith(frame[:, 1:], "%")))
    if percent_signs:  # "12.5%" in a consumer report
        frame[:, 1:] = np.char.rstrip(frame[:, 1:], "%")
    n_rows = len(records)

    row_ids = frame[:, 0].tolist()
    line_of = dict(enumerate(line_numbers))
    lineage_row = [i for i, r in enumerate(row_ids) if _norm(r) in TAXONOMY_COLUMNS]
    row_lineages: list[str] | None = None
    if lineage_row:
        row_lineages = frame[lineage_row[0], 1:].tolist()
        keep_rows = [i for i in range(n_rows) if i != lineage_row[0]]
        frame = frame[keep_rows]
        row_ids = [row_ids[i] for i in keep_rows]
        line_of = {new: line_of[old] for new, old in enumerate(keep_rows)}

    value_cols: list[int] = []
    taxonomy_col: int | None = None
    rank_col: int | None = None
    try:  # fast path: every cell is a number (large tables)
        numbers = np.where(frame[:, 1:] == "", "0", frame[:, 1:]).astype(np.float64)
        value_cols = list(range(1, n_cols))
    except ValueError:
        columns_read = []
        for c in range(1, n_cols):
            cells = pd.Series(frame[:, c])
            parsed = pd.to_numeric(cells.replace("", "0"), errors="coerce")
            bad = parsed.isna().to_numpy()
            name = _norm(header[c])
            if bad.all() or (name in TAXONOMY_COLUMNS | RANK_COLUMNS and bad.any()):
                if name in TAXONOMY_COLUMNS and taxonomy_col is None:
                    taxonomy_col = c
                elif name in RANK_COLUMNS and rank_col is None:
                    rank_col = c
                else:
                    log.info("%s: column %r holds text, ignored", source, header[c])
                continue
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise BadInputError(
                    f"{source}: line {line_of[row]}, column {header[c]!r}: {cells.iloc[row]!r} is not a number"
                ) from None
            value_cols.append(c)
            columns_read.append(parsed.to_numpy(dtype=np.float64))
        numbers = np.column_stack(columns_read) if columns_read else np.zeros((len(row_ids), 0))
    n_text = n_cols - 1 - len(value_cols) - (taxonomy_col is not None) - (rank_col is not None)
    if not value_cols or n_text > len(value_cols):
        raise UnsupportedFormatError(
            f"{source}: {len(value_cols)} numeric and {n_text} text columns: not a feature table"
        )

    keep = np.ones(len(row_ids), dtype=bool)
    row_ranks: list[str] | None = None
    if rank_col is not None:
        codes = frame[:, rank_col].tolist()
        known = {}
        for code in set(codes):
            try:
                known[code] = rank_index(code)
            except BadInputError:
                continue
        if not known:
            raise BadInputError(f"{source}: column {header[rank_col]!r} names no rank of {', '.join(RANKS)}")
        deepest = max(known.values())
        keep = np.array([known.get(code) == deepest for code in codes])
        row_ranks = [RANKS[deepest]] * int(keep.sum())
        log.info("%s: kept the %d rows at rank %s (deepest listed)", source, int(keep.sum()), RANKS[deepest])

    values = numbers[keep]
    ids = [r for r, k in zip(row_ids, keep, strict=True) if k]
    columns = [header[c].strip() for c in value_cols]
    lineages_by_row = [str(v) for v, k in zip(frame[:, taxonomy_col], keep, strict=True) if k] if (
        taxonomy_col is not None
    ) else None

    first = _norm(header[0])
    if first in FEATURE_HEADERS:
        features_are_rows = True
    elif first in SAMPLE_HEADERS:
        features_are_rows = False
    elif lineages_by_row is not None or row_ranks is not None:
        features_are_rows = True
    elif row_lineages is not None:
        features_are_rows = False
    else:
        row_score = np.mean([looks_like_feature(r) for r in ids]) if ids else 0.0
        col_score = np.mean([looks_like_feature(c) for c in columns])
        features_are_rows = bool(row_score > col_score) if row_score != col_score else len(ids) >= len(columns)

    if features_are_rows:
        feature_ids, sample_ids, matrix = ids, columns, values.T
        texts = lineages_by_row
    else:
        feature_ids, sample_ids, matrix = columns, ids, values
        texts = [row_lineages[c - 1] for c in value_cols] if row_lineages is not None else None
    if len(sample_ids) == 1 and features_are_rows and GENERIC_VALUE_HEADERS.search(sample_ids[0] or "abundance"):
        sample_ids = [default_sample]

    taxonomy: dict[str, list[str] | None] = {}
    named_taxa = first in FEATURE_HEADERS - {"otu id", "otuid", "otu", "feature id", "featureid", "feature",
                                               "asv", "asv id", "sequence"}
    for pos, fid in enumerate(feature_ids):
        if texts is not None:
            taxonomy[fid] = normalise_lineage(texts[pos])
        elif row_ranks is not None and features_are_rows:
            taxonomy[fid] = normalise_lineage(fid) if looks_like_feature(fid) else lineage_at(fid, row_ranks[pos])
        elif (looks_like_feature(fid) and not _DNA.match(fid)) or named_taxa:
            taxonomy[fid] = normalise_lineage(fid)
    relative = percent_signs or any(RELATIVE_HEADERS.search(header[c]) for c in value_cols)
    table = build_table(matrix, sample_ids, feature_ids, source, taxonomy=taxonomy,
                        sample_metadata=sample_metadata, value_kind="proportions" if relative else None)
    table.notes.extend(notes)
    return table


def read_text(path: Path) -> FeatureTable:
    """Read a TSV/CSV feature table or a consumer report of taxa (see the module docstring)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInputError(f"{path.name}: cannot read: {exc.strerror}") from exc
    if path.suffix == ".gz":
        import gzip

        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise BadInputError(f"{path.name}: broken gzip: {exc}") from exc
    stem = path.name.split(".", 1)[0]
    return parse_text_table(raw.decode("utf-8-sig", errors="replace"), path.name, stem)
