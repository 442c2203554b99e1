"""Key taxa and guilds of one sample: relative abundances, with no "good or bad bacteria" score.

Relative abundance of a taxon in a sample is the sum of its features' values divided by the sample total,

.. math:: a_{s,T} = \\frac{\\sum_{f \\in T} x_{s,f}}{\\sum_f x_{s,f}}

Microbiome data are compositional: a rise in one taxon's share lowers the others'. These numbers describe what
was sequenced, not absolute amounts, and carry no verdict on their own.

References
----------
.. [1] Louis P, Flint HJ (2009). Diversity, metabolism and microbial ecology of butyrate-producing bacteria
   from the human large intestine. FEMS Microbiol Lett. Study ``louis2009`` in the evidence base, where its DOI
   and the page that verified it are recorded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from gutstride.model.feature_table import FeatureTable, rank_index

#: The evidence base's key of the verified source for the butyrate-producer membership list.
BUTYRATE_REFERENCE = "louis2009"


@dataclass(frozen=True)
class TaxonGroup:
    """A named set of taxa matched by genus (and optionally genus + species) names, case-insensitively.

    ``genera`` match the lineage's genus; ``species`` pairs match genus and species together (for groups such as
    the *Eubacterium rectale* group, whose genus name alone would catch unrelated species).
    """

    id: str
    label: str
    genera: tuple[str, ...] = ()
    species: tuple[tuple[str, str], ...] = ()
    reference: str | None = None  # key of a study in the evidence base
    note: str = ""


#: Butyrate producers, after [1]_: the E. rectale/Roseburia and F. prausnitzii groups first, and others.
BUTYRATE_PRODUCERS = TaxonGroup(
    id="butyrate_producers",
    label="Butyrate producers",
    genera=("Faecalibacterium", "Roseburia", "Agathobacter", "Anaerostipes", "Coprococcus", "Butyrivibrio",
            "Subdoligranulum", "Anaerobutyricum"),
    species=(("Eubacterium", "rectale"), ("Eubacterium", "hallii")),
    reference=BUTYRATE_REFERENCE,
    note="16S genus-level membership; not every strain of these genera makes butyrate, and other taxa do.",
)

#: Members of the butyrate guild that Greengenes 13_8 does not name, so that the guild under-counts on Greengenes
#: data (the shipped American Gut reference included): their reads fall under other or unassigned genera.
GREENGENES_MISSING = ("Agathobacter", "Anaerobutyricum", "Subdoligranulum", "Eubacterium rectale",
                      "Eubacterium hallii")

#: Taxonomy families :func:`detect_taxonomy` tells apart.
TAXONOMIES = ("Greengenes", "SILVA", "GTDB", "other", "unknown")
_OLD_PHYLA = {"firmicutes", "bacteroidetes", "proteobacteria", "actinobacteria", "verrucomicrobia", "tenericutes",
              "cyanobacteria", "fusobacteria", "synergistetes", "lentisphaerae", "spirochaetes", "euryarchaeota"}
_GTDB_PHYLA = {"bacillota", "pseudomonadota", "actinomycetota", "verrucomicrobiota", "fusobacteriota",
               "methanobacteriota", "thermoplasmatota"}
_SILVA_PHYLA = {"bacteroidota", "actinobacteriota", "desulfobacterota", "campilobacterota", "verrucomicrobiota",
                "fusobacteriota", "synergistota", "euryarchaeota"}
_GTDB_SUFFIX = re.compile(r"^[A-Z][a-z]+_[A-Z]{1,2}$")  # Firmicutes_A, Blautia_A
_SILVA_NAME = re.compile(r"([ _]group$|UCG-\d|NK4A\d|[ _]sensu[ _]stricto|Incertae[ _]Sedis|^\[[A-Z][a-z]+\][ _])")
_NOT_IN_GREENGENES = {"agathobacter", "anaerobutyricum", "subdoligranulum", "phocaeicola", "mediterraneibacter"}

#: Single taxa the report shows; named in the seed documents and the exercise studies of the evidence base.
KEY_TAXA = (
    TaxonGroup("akkermansia", "Akkermansia", genera=("Akkermansia",)),
    TaxonGroup("veillonella", "Veillonella", genera=("Veillonella",)),
    TaxonGroup("bifidobacterium", "Bifidobacterium", genera=("Bifidobacterium",)),
    TaxonGroup("prevotella", "Prevotella", genera=("Prevotella",)),
    TaxonGroup("bacteroides", "Bacteroides", genera=("Bacteroides",)),
    TaxonGroup("faecalibacterium", "Faecalibacterium", genera=("Faecalibacterium",)),
    TaxonGroup("roseburia", "Roseburia", genera=("Roseburia",)),
)

ALL_GROUPS = (BUTYRATE_PRODUCERS, *KEY_TAXA)

_GENUS, _SPECIES = 5, 6  # positions in a normalised lineage (domain, phylum, class, order, family, genus, species)


def _clean(name: str | None) -> str:
    """Lower-case a rank name and drop Greengenes' brackets and GTDB's suffixes: "[Eubacterium]" -> "eubacterium"."""
    if not name:
        return ""
    name = name.strip().strip("[]").lower()
    return name.split("_")[0] if "_" in name else name


def detect_taxonomy(table: FeatureTable, sample_index: int | None = None) -> str:
    """Which taxonomy a table's (or one sample's) lineages were assigned with, from the names they use.

    Names are read at phylum to genus over the features present (in ``sample_index`` only, when given):

    - ``GTDB``: GTDB-only phylum names (Bacillota, Pseudomonadota, Actinomycetota...) or GTDB's letter suffixes
      (``Firmicutes_A``, ``Blautia_A``);
    - ``SILVA``: SILVA's group names (``..._group``, ``UCG-``, ``NK4A136``, ``[Eubacterium]_hallii_group``,
      ``sensu_stricto``) or SILVA 138's phylum names (Bacteroidota, Actinobacteriota, Desulfobacterota...);
    - ``Greengenes``: the old phylum names (Firmicutes, Bacteroidetes...) and none of the genera Greengenes 13_8
      lacks (:data:`GREENGENES_MISSING`, Phocaeicola...);
    - ``other``: old phylum names with genera Greengenes 13_8 lacks (an NCBI-style or consumer pipeline);
    - ``unknown``: no phylum names at all (plain genus tables, no taxonomy).

    A heuristic, not a proof: it is used to refuse comparisons across taxonomies, never to allow a doubtful one.
    """
    if not table.taxonomy:
        return "unknown"
    if sample_index is None:
        present = np.asarray(table.data.sum(axis=0)).ravel() > 0
    else:
        row = table.data[[sample_index], :]
        present = np.asarray(row.toarray() if hasattr(row, "toarray") else row).ravel() > 0
    phyla: set[str] = set()
    names: set[str] = set()
    for j in np.flatnonzero(present):  # the features present only
        lineage = table.taxonomy.get(table.feature_ids[j]) or []
        if len(lineage) > 1 and lineage[1]:
            phyla.add(lineage[1].strip())
        names.update(n.strip() for n in lineage[1:_GENUS + 1] if n and n.strip())
    lower = {p.lower() for p in phyla}
    if lower & _GTDB_PHYLA - _SILVA_PHYLA or any(_GTDB_SUFFIX.match(n) for n in names):
        return "GTDB"
    if any(_SILVA_NAME.search(n) for n in names) or lower & _SILVA_PHYLA - {"euryarchaeota"}:
        return "SILVA"
    if lower & _OLD_PHYLA:
        genera = {_clean(n) for n in names}
        return "other" if genera & _NOT_IN_GREENGENES else "Greengenes"
    return "unknown"


def genus_species(taxonomy: Mapping[str, list[str] | None], feature_ids: list[str]) -> list[tuple[str, str]]:
    """Each feature's cleaned genus and species epithet (``("", "")`` without a genus), as groups are matched on.

    MetaPhlAn-style species names repeat the genus ("Eubacterium_rectale"): the epithet is kept.
    """
    out = []
    for fid in feature_ids:
        lineage = taxonomy.get(fid) or []
        genus = _clean(lineage[_GENUS]) if len(lineage) > _GENUS else ""
        if not genus:
            out.append(("", ""))
            continue
        sp = _clean(lineage[_SPECIES]) if len(lineage) > _SPECIES else ""
        out.append((genus, sp.split(" ")[-1]))
    return out


def group_membership(taxonomy: Mapping[str, list[str] | None], feature_ids: list[str], group: TaxonGroup,
                     names: list[tuple[str, str]] | None = None) -> np.ndarray:
    """Boolean mask over ``feature_ids``: which features belong to ``group`` (``names``: their
    :func:`genus_species`, when the caller has them already)."""
    genera = {g.lower() for g in group.genera}
    species = {(g.lower(), s.lower()) for g, s in group.species}
    if names is None:
        names = genus_species(taxonomy, feature_ids)
    return np.array([bool(genus) and (genus in genera or (genus, sp) in species) for genus, sp in names],
                    dtype=bool).reshape(len(feature_ids))


def group_abundances(table: FeatureTable, groups: tuple[TaxonGroup, ...] = ALL_GROUPS) -> dict[str, np.ndarray]:
    """Relative abundance (0-1) of each group in each sample: ``{group.id: array over table.sample_ids}``.

    Samples with a zero total get NaN. Needs taxonomy; without it every group is NaN.
    """
    depths = table.sample_depths()
    with np.errstate(invalid="ignore", divide="ignore"):
        inv = np.where(depths > 0, 1.0 / depths, np.nan)
    out: dict[str, np.ndarray] = {}
    names = genus_species(table.taxonomy, table.feature_ids) if table.taxonomy else []
    for group in groups:
        if not table.taxonomy:
            out[group.id] = np.full(len(table.sample_ids), np.nan)
            continue
        mask = group_membership(table.taxonomy, table.feature_ids, group, names)
        sums = np.asarray(table.data[:, np.flatnonzero(mask)].sum(axis=1)).ravel()
        out[group.id] = sums * inv
    return out


def top_genera(table: FeatureTable, sample_index: int, n: int = 10) -> list[tuple[str, float]]:
    """The ``n`` most abundant genera of one sample, as (genus, relative abundance), unassigned reads pooled."""
    row = table.data[[sample_index], :]
    row = row.tocoo() if hasattr(row, "tocoo") else row
    total = float(row.sum())
    if total <= 0:
        return []
    sums: dict[str, float] = {}
    for j, v in zip(row.col, row.data, strict=True):
        lineage = table.taxonomy.get(table.feature_ids[j]) or []
        genus = lineage[_GENUS].strip() if len(lineage) > _GENUS and lineage[_GENUS] else "(unassigned genus)"
        sums[genus] = sums.get(genus, 0.0) + float(v)
    ranked = sorted(sums.items(), key=lambda kv: -kv[1])[:n]
    return [(g, v / total) for g, v in ranked]


def collapse(table: FeatureTable, rank: str) -> FeatureTable:
    """Sum features sharing a lineage down to ``rank``.

    Features whose lineage stops above ``rank`` are grouped by what is known, with ``;__`` appended (as QIIME 2's
    ``taxa collapse`` pads them); features without taxonomy are grouped as ``Unassigned``.

    Returns
    -------
    FeatureTable
        Same samples; one feature per lineage, its id the ``;``-joined lineage.
    """
    depth = rank_index(rank) + 1
    keys: list[str] = []
    lineages: dict[str, list[str] | None] = {}
    column_of: dict[str, int] = {}
    group = np.empty(len(table.feature_ids), dtype=np.int64)
    for j, fid in enumerate(table.feature_ids):
        lineage = table.taxonomy.get(fid) or []
        cut = lineage[:depth]
        key = ";".join(cut) if cut else "Unassigned"
        if cut and len(cut) < depth:
            key += ";__"
        if key not in column_of:
            column_of[key] = len(keys)
            keys.append(key)
            lineages[key] = cut or None
        group[j] = column_of[key]
    n = len(table.feature_ids)
    indicator = sp.csr_array((np.ones(n), (np.arange(n), group)), shape=(n, len(keys)))
    data = sp.csr_array(table.data @ indicator)
    return FeatureTable(
        data=data,
        sample_ids=list(table.sample_ids),
        feature_ids=keys,
        taxonomy=lineages,
        value_kind=table.value_kind,
        sample_metadata=dict(table.sample_metadata),
    )
