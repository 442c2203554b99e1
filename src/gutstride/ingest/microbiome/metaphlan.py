"""MetaPhlAn taxonomic profiles (v2, v3, v4; single-sample profiles and ``merge_metaphlan_tables.py`` output).

A profile lists every clade of the hierarchy (``k__Bacteria``, ``k__Bacteria|p__Firmicutes``, ...), each with the
relative abundance (percent) of everything below it, so summing all rows would count the same reads up to eight
times. We keep one rank: species (``s__``) when present, else the deepest rank present; strain / SGB rows
(``t__``) and ``UNCLASSIFIED`` are left out, and each sample is rescaled to sum 1.

Layout (v3/v4)::

    #mpa_vJan21_CHOCOPhlAnSGB_202103
    #/path/to/metaphlan sample.fastq --input_type fastq
    #SampleID	Metaphlan_Analysis
    #clade_name	NCBI_tax_id	relative_abundance	additional_species
    k__Bacteria	2	100.0
    k__Bacteria|p__Firmicutes	2|1239	60.5
    ...

Merged tables have a ``clade_name`` header followed by one column per sample (v3/v4 add ``NCBI_tax_id`` or
``clade_taxid``); v2 profiles have two columns and no header.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gutstride.errors import BadInputError
from gutstride.ingest.microbiome.layout import build_table
from gutstride.ingest.microbiome.taxonomy import normalise_lineage
from gutstride.model.feature_table import FeatureTable, ValueKind

_LEVELS = "kdpcofgs"  # rank letters from the top; "t" (strain / SGB) is never kept
_NON_SAMPLE = {"clade_name", "ncbi_tax_id", "clade_taxid", "additional_species", "coverage", "id"}
_GENERIC_SAMPLE = {"metaphlan_analysis", "metaphlan2_analysis", "metaphlan3_analysis", "metaphlan4_analysis"}


def _level(clade: str) -> str:
    last = clade.rsplit("|", 1)[-1]
    return last[0].lower() if len(last) > 3 and last[1:3] == "__" else "?"


def parse_metaphlan(text: str, source: str, default_sample: str) -> FeatureTable:
    """Parse a MetaPhlAn profile or merged table (see the module docstring).

    Raises
    ------
    BadInputError
        No clade rows, or a value that is not a number (naming the line and column).
    """
    header: list[str] | None = None
    sample_name = default_sample
    rows: list[tuple[int, list[str]]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.rstrip("\n\r").split("\t")
        if line.startswith("#"):
            key = fields[0].lstrip("#").strip().lower()
            if key == "sampleid" and len(fields) > 1 and fields[1].strip().lower() not in _GENERIC_SAMPLE:
                sample_name = fields[1].strip()
            elif key == "clade_name":
                header = [f.lstrip("#").strip() for f in fields]
            continue
        if header is None and fields[0].strip().lower() in ("clade_name", "id"):
            header = [f.strip() for f in fields]
            continue
        rows.append((lineno, fields))
    has_header = header is not None
    if header is None:  # v2 profile or an mpa-style report: clade then one value
        header = ["clade_name", "relative_abundance"]
    lowered = [h.lower() for h in header]
    if "relative_abundance" in lowered:
        value_cols = [lowered.index("relative_abundance")]
        samples = [sample_name]
    else:
        value_cols = [i for i, h in enumerate(lowered) if i > 0 and h not in _NON_SAMPLE]
        samples = [header[i] for i in value_cols]
    if not value_cols:
        raise BadInputError(f"{source}: no abundance column in header {header}")

    levels = {_level(fields[0].strip()) for _, fields in rows}
    present = [lv for lv in _LEVELS if lv in levels]
    if not present:
        raise BadInputError(f"{source}: no clade rows (k__/d__ ... s__) found")
    keep_level = "s" if "s" in present else present[-1]
    clades: list[str] = []
    values: list[list[float]] = []
    for lineno, fields in rows:
        clade = fields[0].strip()
        if _level(clade) != keep_level:
            continue
        row = []
        for c in value_cols:
            cell = fields[c].strip() if c < len(fields) else ""
            try:
                row.append(float(cell))
            except ValueError:
                raise BadInputError(
                    f"{source}: line {lineno}, column {header[c]!r}: {cell!r} is not a number"
                ) from None
        clades.append(clade)
        values.append(row)
    short = [c.rsplit("|", 1)[-1] for c in clades]
    ids = short if len(set(short)) == len(short) else clades
    taxonomy: dict[str, list[str] | None] = {fid: normalise_lineage(c) for fid, c in zip(ids, clades, strict=True)}
    matrix = np.asarray(values, dtype=np.float64).reshape(len(ids), len(value_cols)).T
    # MetaPhlAn writes percentages; a headerless two-column file may be a Kraken mpa-style report of read counts
    kind: ValueKind | None = "proportions" if has_header else None
    return build_table(matrix, samples, ids, source, taxonomy=taxonomy, value_kind=kind)


def read_metaphlan(path: Path) -> FeatureTable:
    """Read a MetaPhlAn profile file (see :func:`parse_metaphlan`)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError as exc:
        raise BadInputError(f"{path.name}: cannot read: {exc.strerror}") from exc
    return parse_metaphlan(text, path.name, path.name.split(".", 1)[0])
