"""Taxonomy strings: normalise Greengenes, SILVA, GTDB, MetaPhlAn and plain lineages; read taxonomy files; collapse.

A normalised lineage is a list of names from domain down to (at most) species, one per entry of :data:`RANKS`,
without rank prefixes. Ranks below the deepest known one are dropped (``g__;s__`` -> the list ends at family); an
unknown rank in the middle is ``""`` so that positions always mean the same rank. Species are written as binomials
("Akkermansia muciniphila"): Greengenes' bare epithets (``g__Bulleidia; s__moorei``) get their genus prepended and
MetaPhlAn's underscores become spaces.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from gutstride.errors import BadInputError
from gutstride.model.feature_table import PREFIX_RANK, RANKS, FeatureTable, rank_index

_LETTER_PREFIX = re.compile(r"^([a-zA-Z])__(.*)$")
_SILVA_PREFIX = re.compile(r"^D_(\d+)__(.*)$")
_DOMAINS = {"bacteria", "archaea", "eukaryota", "eukarya", "viruses", "unclassified"}
_PHYLUM_ENDINGS = ("ota", "etes", "utes", "bacteria")
_EMPTY = {"", "unassigned", "unclassified", "unknown", "none", "nan", "na", "__"}


def _plain_rank(name: str) -> int:
    """Guess the rank of a lone name from the endings of bacteriological nomenclature (else genus)."""
    low = name.lower()
    if low in _DOMAINS:
        return 0
    if " " in name.strip() or "_" in name.strip():
        return 6
    if low.endswith("aceae"):
        return 4
    if low.endswith("ales"):
        return 3
    if low.endswith(_PHYLUM_ENDINGS):
        return 1
    return 5


def normalise_lineage(text: str) -> list[str]:
    """Normalise one taxonomy string to a list of names from domain to species.

    Parameters
    ----------
    text
        Greengenes (``k__Bacteria; p__Firmicutes; ...``), SILVA (``D_0__Bacteria;D_1__...``), GTDB
        (``d__Bacteria;p__...``), MetaPhlAn (``k__Bacteria|p__...|s__...|t__...``) or plain names separated by
        ``;`` (positional, from domain). A lone name without separators is placed by its nomenclature ending
        (``-aceae`` family, ``-ales`` order, ``-ota``/``-etes``/``-utes``/``-bacteria`` phylum, a two-word name
        species, a domain name domain, anything else genus).

    Returns
    -------
    list of str
        At most ``len(RANKS)`` names; trailing empty ranks removed, interior unknown ranks ``""``; strain levels
        (``t__``) dropped. An empty or "Unassigned" string gives ``[]``.
    """
    text = (text or "").strip().strip('"')
    if not text:
        return []
    parts = [p.strip() for p in re.split(r"[;|]", text)]
    slots: list[str] = [""] * len(RANKS)
    prefixed = any(_LETTER_PREFIX.match(p) or _SILVA_PREFIX.match(p) for p in parts)
    if prefixed:
        for part in parts:
            letter = _LETTER_PREFIX.match(part)
            silva = _SILVA_PREFIX.match(part)
            if letter:
                rank = PREFIX_RANK.get(letter.group(1).lower())
                name = letter.group(2)
            elif silva:
                rank = int(silva.group(1))
                name = silva.group(2)
            else:
                continue
            if rank is not None and rank < len(RANKS):
                slots[rank] = name.strip()
    elif len(parts) == 1:
        slots[_plain_rank(parts[0])] = parts[0]
    else:
        for rank, name in enumerate(parts[: len(RANKS)]):
            slots[rank] = name
    slots = ["" if s.lower() in _EMPTY else s for s in slots]
    species = slots[6].replace("_", " ")
    if species and " " not in species and species[:1].islower() and slots[5]:
        species = f"{slots[5]} {species}"
    slots[6] = species
    if species and not slots[5] and " " in species:
        slots[5] = species.split(" ", 1)[0]
    while slots and not slots[-1]:
        slots.pop()
    return slots


def parse_taxonomy_tsv(text: str, source: str) -> dict[str, list[str]]:
    """Read a QIIME 2 taxonomy TSV (``Feature ID``, ``Taxon``, optional ``Confidence``) into normalised lineages.

    Raises
    ------
    BadInputError
        Missing header columns, or a row with too few fields (the error names the line).
    """
    rows = csv.reader(io.StringIO(text), delimiter="\t")
    header: list[str] | None = None
    out: dict[str, list[str]] = {}
    for lineno, row in enumerate(rows, start=1):
        if not row or not "".join(row).strip():
            continue
        if header is None:
            header = [h.strip().lstrip("#").strip().lower() for h in row]
            if "taxon" not in header or not ({"feature id", "featureid", "otu id", "id"} & set(header)):
                raise BadInputError(f"{source}: line {lineno}: expected a header with 'Feature ID' and 'Taxon'")
            id_col = next(i for i, h in enumerate(header) if h in {"feature id", "featureid", "otu id", "id"})
            taxon_col = header.index("taxon")
            continue
        if row[0].startswith("#"):  # QIIME 2 directives such as "#q2:types"
            continue
        if len(row) <= max(id_col, taxon_col):
            raise BadInputError(f"{source}: line {lineno}: {len(row)} fields, expected at least {taxon_col + 1}")
        out[row[id_col].strip()] = normalise_lineage(row[taxon_col])
    if header is None:
        raise BadInputError(f"{source}: the taxonomy file is empty")
    return out


def read_taxonomy(path: Path) -> dict[str, list[str]]:
    """Read a taxonomy TSV or a QIIME 2 ``FeatureData[Taxonomy]`` artifact (``.qza``) into normalised lineages."""
    from gutstride.ingest.microbiome.artifact import read_file_or_artifact

    raw, _source = read_file_or_artifact(path, ("FeatureData[Taxonomy]",))
    return parse_taxonomy_tsv(raw.decode("utf-8-sig", errors="replace"), Path(path).name)


def attach_taxonomy(table: FeatureTable, lineages: dict[str, list[str]]) -> FeatureTable:
    """Return ``table`` with the lineage of each of its features found in ``lineages`` (others keep theirs)."""
    taxonomy = dict(table.taxonomy)
    for fid in table.feature_ids:
        if fid in lineages:
            taxonomy[fid] = lineages[fid]
    table.taxonomy = taxonomy
    return table


def lineage_at(name: str, rank: str) -> list[str]:
    """The lineage of a lone ``name`` known to be at ``rank`` (higher ranks unknown, ``""``).

    A species binomial also fills the genus (its first word).
    """
    depth = rank_index(rank)
    slots = [""] * depth + [name.strip().replace("_", " ") if depth == 6 else name.strip()]
    if depth == 6 and " " in slots[6]:
        slots[5] = slots[6].split(" ", 1)[0]
    return slots
