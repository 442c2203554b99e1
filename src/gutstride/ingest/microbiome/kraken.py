"""Kraken / Kraken 2 reports (``--report``, "kreport") and Bracken abundance outputs.

Kraken report, tab-separated, no header, one line per taxon in depth-first order::

    percent  clade_reads  taxon_reads  rank  taxid  name        (6 columns)
    percent  clade_reads  taxon_reads  minimizers  distinct_minimizers  rank  taxid  name
                                                                (8 columns, Kraken 2 --report-minimizer-data)

``rank`` is U, R, D, K, P, C, O, F, G, S, or one of these with a digit for intermediate ranks (S1...); the name
is indented by two spaces per level, which gives the lineage. We keep the clade reads of the species rows (``S``,
which include their S1/S2 sub-levels), or of the deepest standard rank present; unclassified reads are left out.

Bracken output (``bracken -o``), tab-separated with a header::

    name  taxonomy_id  taxonomy_lvl  kraken_assigned_reads  added_reads  new_est_reads  fraction_total_reads

We keep ``new_est_reads`` (counts). ``combine_bracken_outputs.py`` tables (``<sample>_num`` / ``<sample>_frac``
column pairs) are read as one sample per ``_num`` column. Bracken's own ``*_bracken_species.kreport`` files are
Kraken reports.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gutstride.errors import BadInputError
from gutstride.ingest.microbiome.layout import build_table
from gutstride.ingest.microbiome.taxonomy import lineage_at
from gutstride.model.feature_table import RANKS, FeatureTable

#: Kraken rank codes of the standard ranks, in :data:`RANKS` order (K, "kingdom", has no place in it).
KRAKEN_RANKS = ("D", "P", "C", "O", "F", "G", "S")
BRACKEN_COLUMNS = ("name", "taxonomy_id", "taxonomy_lvl")


def _unique_ids(names: list[str], taxids: list[str]) -> list[str]:
    if len(set(names)) == len(names):
        return names
    return [f"{n} (taxid {t})" for n, t in zip(names, taxids, strict=True)]


def _int(cell: str, source: str, lineno: int, column: str) -> float:
    try:
        return float(int(cell.strip()))
    except ValueError:
        raise BadInputError(
            f"{source}: line {lineno}, column {column}: {cell.strip()!r} is not a whole number"
        ) from None


def parse_kraken_report(text: str, source: str, sample: str) -> FeatureTable:
    """Parse a Kraken (2) report; see the module docstring.

    Raises
    ------
    BadInputError
        A line with a column count other than 6 or 8, a non-integer read count or an unknown rank code (naming the
        line), or no classified taxa.
    """
    stack: list[tuple[int, str, str]] = []  # (depth, rank code, name) of the current ancestors
    rows: list[tuple[str, str, str, float, list[str]]] = []  # rank, name, taxid, clade reads, lineage
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) not in (6, 8):
            raise BadInputError(f"{source}: line {lineno}: {len(fields)} tab-separated columns, expected 6 or 8")
        rank, taxid, raw_name = fields[-3].strip(), fields[-2].strip(), fields[-1].rstrip("\r\n")
        clade_reads = _int(fields[1], source, lineno, "2 (clade reads)")
        if not rank or not (rank[0] in "URDKPCOFGS" and (rank[1:] == "" or rank[1:].isdigit())):
            raise BadInputError(f"{source}: line {lineno}, column {len(fields) - 2} (rank): unknown code {rank!r}")
        name = raw_name.strip()
        depth = (len(raw_name) - len(raw_name.lstrip(" "))) // 2
        while stack and stack[-1][0] >= depth:
            stack.pop()
        stack.append((depth, rank, name))
        lineage = [""] * len(RANKS)
        for _, code, ancestor in stack:
            if code in KRAKEN_RANKS:
                lineage[KRAKEN_RANKS.index(code)] = ancestor
        while lineage and not lineage[-1]:
            lineage.pop()
        rows.append((rank, name, taxid, clade_reads, lineage))
    present = {r[0] for r in rows}
    levels = [code for code in KRAKEN_RANKS if code in present]
    if not levels:
        raise BadInputError(f"{source}: no classified taxa at a standard rank (D, P, C, O, F, G, S)")
    keep = levels[-1]
    kept = [r for r in rows if r[0] == keep]
    ids = _unique_ids([r[1] for r in kept], [r[2] for r in kept])
    taxonomy: dict[str, list[str] | None] = {fid: r[4] for fid, r in zip(ids, kept, strict=True)}
    matrix = np.array([[r[3] for r in kept]], dtype=np.float64)
    return build_table(matrix, [sample], ids, source, taxonomy=taxonomy, value_kind="counts")


def parse_bracken(text: str, source: str, sample: str) -> FeatureTable:
    """Parse a Bracken output or a ``combine_bracken_outputs.py`` table; see the module docstring.

    Raises
    ------
    BadInputError
        Missing ``name``/``taxonomy_lvl``/read-count columns, or a row with a wrong field count or a non-integer
        read count (naming the line and column).
    """
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise BadInputError(f"{source}: empty file")
    header = [h.strip() for h in lines[0][1].split("\t")]
    lowered = [h.lower() for h in header]
    if any(col not in lowered for col in BRACKEN_COLUMNS):
        raise BadInputError(f"{source}: line 1: a Bracken header needs the columns {', '.join(BRACKEN_COLUMNS)}")
    if "new_est_reads" in lowered:
        value_cols, samples = [lowered.index("new_est_reads")], [sample]
    else:
        value_cols = [i for i, h in enumerate(lowered) if h.endswith("_num")]
        samples = [header[i][: -len("_num")] for i in value_cols]
    if not value_cols:
        raise BadInputError(f"{source}: line 1: no new_est_reads or <sample>_num column")
    name_col, taxid_col, level_col = (lowered.index(c) for c in BRACKEN_COLUMNS)
    names, taxids, lineages, values = [], [], [], []
    for lineno, line in lines[1:]:
        fields = line.rstrip("\r\n").split("\t")
        if len(fields) != len(header):
            raise BadInputError(f"{source}: line {lineno}: {len(fields)} fields, expected {len(header)}")
        level = fields[level_col].strip()
        names.append(fields[name_col].strip())
        taxids.append(fields[taxid_col].strip())
        lineages.append(lineage_at(names[-1], RANKS[KRAKEN_RANKS.index(level)]) if level in KRAKEN_RANKS else None)
        values.append([_int(fields[c], source, lineno, header[c]) for c in value_cols])
    ids = _unique_ids(names, taxids)
    matrix = np.asarray(values, dtype=np.float64).reshape(len(ids), len(samples)).T
    taxonomy: dict[str, list[str] | None] = {fid: lin for fid, lin in zip(ids, lineages, strict=True) if lin}
    return build_table(matrix, samples, ids, source, taxonomy=taxonomy, value_kind="counts")


def _read(path: Path) -> tuple[str, str]:
    try:
        text = Path(path).read_bytes().decode("utf-8-sig", errors="replace")
    except OSError as exc:
        raise BadInputError(f"{Path(path).name}: cannot read: {exc.strerror}") from exc
    return text, Path(path).name.split(".", 1)[0]


def read_kraken_report(path: Path) -> FeatureTable:
    """Read a Kraken (2) report file (see :func:`parse_kraken_report`); the sample is named after the file."""
    text, sample = _read(path)
    return parse_kraken_report(text, Path(path).name, sample)


def read_bracken(path: Path) -> FeatureTable:
    """Read a Bracken output file (see :func:`parse_bracken`); a single sample is named after the file."""
    text, sample = _read(path)
    return parse_bracken(text, Path(path).name, sample)
