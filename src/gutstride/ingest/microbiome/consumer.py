"""Consumer gut-test results: long "abundance profile" CSVs and uBiome's JSON and CSV.

Layouts
-------
* **Abundance profile** (one row per taxon, all ranks in one table, as Thryve and Ombre deliver it): every value
  quoted; columns ``taxon_id``, ``rank``, ``name``, ``parent`` (the parent's *name*), ``count``, ``rank_count``
  (the total of the row's rank), ``perc``; Thryve adds ``tags``, ``health_effects``, ``associated_diseases``.
  Ranks are ``kingdom``, ``phylum``, ``class``, ``order``, ``family``, ``genus``, ``species``. Rows named
  ``other <taxon> <rank>`` (no ``taxon_id``) hold the reads of a taxon not classified further, and
  ``<genus> species`` rows the unnamed species of a genus. Checked against real downloads (cwarden45/DTC_Scripts,
  ``Psomagen_Viome/Sample2-thryve-GJKE4_abundance_profile.csv`` and ``Sample5-Ombre-GGPW9_abundance_profile.csv``;
  no licence, so only the layout is used). Their ``taxon_id`` cannot be trusted as a key (the phylum Bacteroidetes
  carries the id of the class Bacteroidia) and one name can sit at two ranks (Actinobacteria, phylum and class).
* **uBiome JSON**: ``{"ubiome_bacteriacounts": [{"taxon", "parent", "count", "count_norm", "tax_name",
  "tax_rank", ...}], "sampling_time": ...}``; numbers may be written as strings.
* **uBiome CSV**: the same fields as columns (``tax_name, tax_rank, count, ...``), also with the
  ``ubiome_bacteriacounts.`` prefix R's ``write.csv`` of the JSON adds.

Reading
-------
* One rank is read, genus by default (``rank``): its rows' ``count`` values are the sample's counts. These counts
  are clade totals (a genus counts the reads of its species too), so rows of one rank do not overlap, and summing
  ranks would count reads twice.
* Each taxon's lineage is rebuilt by following ``parent`` up to the root, keeping the names found at the ranks
  domain (``superkingdom``, ``kingdom``), phylum, class, order, family, genus and species; intermediate ranks
  (``no_rank``, ``subclass``...) are skipped; a broken chain stops there (higher ranks unknown). uBiome's
  ``parent`` is an id; the abundance profile's is a name, looked up among the rows of a higher rank than the child's
  (the nearest one), so a name at two ranks and a reused id do not mislead it.
* An ``other <taxon> <rank>`` row at the rank read is a feature of its own (those reads belong to no named taxon of
  that rank), its lineage stopping at the taxon it names; a ``<genus> species`` row has no species name.
* The phylum rows' counts are kept at the phylum rank (``FeatureTable.phylum_counts``), and stored with the sample
  (:func:`gutstride.store.microbiome.load_phylum_counts`) for the report's phylum summary.
* The sample is tagged with the company's pipeline (``pipeline`` in its metadata, and the table's ``notes``):
  these companies use their own classification and reference databases, so a comparison with the bundled
  reference cohort is shown only with a note that the pipelines differ (:data:`OTHER_PIPELINE_FORMATS`).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from gutstride.errors import BadInputError
from gutstride.ingest.microbiome.layout import build_table
from gutstride.model.feature_table import RANKS, FeatureTable, rank_index

#: Formats read here: the samples come from another company's pipeline.
OTHER_PIPELINE_FORMATS = frozenset({"abundance-profile", "ubiome"})
PIPELINE_NOTE = ("{who}'s own pipeline and reference database classified these reads, not the pipeline behind the "
                 "bundled reference: the comparison with the reference is approximate")
_RANK_ALIASES = {"superkingdom": "domain", "kingdom": "domain", "domain": "domain"}
_PROFILE_COLUMNS = {"taxon_id", "rank", "name", "parent", "count"}
_UBIOME_COLUMNS = {"tax_name", "tax_rank", "count"}
_UBIOME_PREFIX = "ubiome_bacteriacounts."


def _norm(header: str) -> str:
    return header.strip().strip('"').lower().removeprefix(_UBIOME_PREFIX)


def sniff_consumer(head: bytes) -> str | None:
    """``"ubiome"``, ``"abundance-profile"`` or None from the first bytes of a file."""
    text = head.decode("utf-8-sig", errors="ignore")
    if '"ubiome_bacteriacounts"' in text[:4096]:
        return "ubiome"
    line = text.lstrip().split("\n", 1)[0].strip("\r")
    sep = "\t" if "\t" in line else ","
    headers = {_norm(h) for h in line.split(sep)}
    if headers >= _UBIOME_COLUMNS:
        return "ubiome"
    if headers >= _PROFILE_COLUMNS or (_PROFILE_COLUMNS - {"count"}) | {"reads"} <= headers:
        return "abundance-profile"
    return None


def _rows_from_json(data: dict[str, Any], source: str) -> list[dict[str, Any]]:
    rows = data.get("ubiome_bacteriacounts")
    if not isinstance(rows, list):
        raise BadInputError(f"{source}: no ubiome_bacteriacounts list")
    return [
        {"id": r.get("taxon"), "parent": r.get("parent"), "name": r.get("tax_name"), "rank": r.get("tax_rank"),
         "count": r.get("count")}
        for r in rows if isinstance(r, dict)
    ]


def _rows_from_csv(text: str, source: str) -> tuple[list[dict[str, Any]], str]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = [_norm(h) for h in next(reader)]
    except (StopIteration, csv.Error):
        raise BadInputError(f"{source}: empty file") from None
    cols = set(header)
    if cols >= _UBIOME_COLUMNS:
        who, names = "ubiome", {"id": "taxon", "parent": "parent", "name": "tax_name", "rank": "tax_rank",
                                "count": "count"}
    elif {"rank", "name"} <= cols and ({"count"} & cols or {"reads"} & cols):
        who, names = "abundance-profile", {"id": "taxon_id", "parent": "parent", "name": "name", "rank": "rank",
                                           "count": "count" if "count" in cols else "reads"}
    else:
        raise BadInputError(f"{source}: no tax_name/tax_rank/count or name/rank/count columns")
    index = {key: header.index(col) if col in header else None for key, col in names.items()}
    rows = []
    try:
        for row in reader:
            rows.append({key: (row[i] if i is not None and i < len(row) else None) for key, i in index.items()})
    except csv.Error as exc:
        raise BadInputError(f"{source}: broken CSV ({exc})") from None
    return rows, who


def _count(value: Any, source: str, name: Any) -> float:
    if value is None or (isinstance(value, str) and value.strip() in ("", "NA")):
        return 0.0
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInputError(f"{source}: taxon {name!r}: count {value!r} is not a number") from None
    if number != number or number < 0 or number == float("inf"):
        raise BadInputError(f"{source}: taxon {name!r}: count {value!r} is not a non-negative number")
    return number


def _key(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _lineage(start: str | None, nodes: dict[str, dict[str, Any]]) -> list[str]:
    slots = [""] * len(RANKS)
    seen: set[str] = set()
    node_id = start
    while node_id is not None and node_id in nodes and node_id not in seen:
        seen.add(node_id)
        node = nodes[node_id]
        rank = _RANK_ALIASES.get(str(node["rank"] or "").strip().lower(), str(node["rank"] or "").strip().lower())
        if rank in RANKS and not slots[RANKS.index(rank)]:
            slots[RANKS.index(rank)] = str(node["name"] or "").strip()
        node_id = _key(node["parent"])
    while slots and not slots[-1]:
        slots.pop()
    return slots


def _rank_of(row: dict[str, Any]) -> str:
    text = str(row["rank"] or "").strip().lower()
    return _RANK_ALIASES.get(text, text)


def _placeholder(name: str, rank: str) -> bool:
    """True for the abundance profile's ``other <taxon> <rank>`` rows and ``<genus> species`` rows."""
    return name.startswith("other ") or (rank == "species" and name.endswith(" species"))


def _lineage_by_name(row: dict[str, Any], by_name: dict[str, list[tuple[int, dict[str, Any]]]]) -> list[str]:
    """Lineage of ``row`` following ``parent`` as a name, each step to the nearest row of a higher rank."""
    slots = [""] * len(RANKS)
    seen: set[int] = set()
    node: dict[str, Any] | None = row
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        rank, name = _rank_of(node), str(node["name"] or "").strip()
        if rank not in RANKS:
            break
        level = RANKS.index(rank)
        if not slots[level] and not _placeholder(name, rank):
            slots[level] = name
        higher = [(lv, r) for lv, r in by_name.get(str(node["parent"] or "").strip(), []) if lv < level]
        node = max(higher, key=lambda item: item[0])[1] if higher else None
    while slots and not slots[-1]:
        slots.pop()
    return slots


def parse_consumer(rows: list[dict[str, Any]], who: str, source: str, sample_id: str, rank: str,
                   sampling_time: str | None = None) -> FeatureTable:
    """Build the one-sample table at ``rank`` from taxon rows (``id``, ``parent``, ``name``, ``rank``, ``count``)."""
    depth = rank_index(rank)
    wanted = RANKS[depth]
    nodes = {key: r for r in rows if (key := _key(r["id"])) is not None} if who == "ubiome" else {}
    by_name: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    if who != "ubiome":
        for r in rows:
            if _rank_of(r) in RANKS:
                by_name.setdefault(str(r["name"] or "").strip(), []).append((RANKS.index(_rank_of(r)), r))
    counts: dict[str, float] = {}
    taxonomy: dict[str, list[str] | None] = {}
    phyla: dict[str, float] = {}
    for r in rows:
        row_rank = _rank_of(r)
        name = str(r["name"] or "").strip()
        if row_rank == "phylum" and name:
            phyla[name] = phyla.get(name, 0.0) + _count(r["count"], source, name)
        if row_rank != wanted or not name:
            continue
        counts[name] = counts.get(name, 0.0) + _count(r["count"], source, name)
        if who != "ubiome":
            taxonomy[name] = _lineage_by_name(r, by_name)
            continue
        lineage = _lineage(_key(r["id"]), nodes) if nodes else []
        if len(lineage) <= depth or lineage[depth] != name:
            lineage = (lineage + [""] * len(RANKS))[:depth] + [name]
        taxonomy[name] = lineage
    if not counts:
        raise BadInputError(f"{source}: no taxon at rank {wanted}")
    features = sorted(counts)
    metadata = {"pipeline": who, "rank": wanted}
    if sampling_time:
        metadata["collection_date"] = sampling_time[:10]
    table = build_table([[counts[f] for f in features]], [sample_id], features, source, taxonomy=taxonomy,
                        sample_metadata={sample_id: metadata})
    if phyla:
        table.phylum_counts[sample_id] = phyla
    table.notes.append(f"rank {wanted} read ({len(features)} taxa, {sum(counts.values()):g} reads); "
                       + PIPELINE_NOTE.format(who="uBiome" if who == "ubiome" else "The testing company"))
    return table


def read_consumer(path: Path, rank: str = "genus") -> FeatureTable:
    """Read a consumer gut-test result (see the module docstring) at ``rank``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInputError(f"{path.name}: cannot read: {exc.strerror}") from None
    text = raw.decode("utf-8-sig", errors="replace")
    sample_id = path.name.split(".", 1)[0]
    if text.lstrip().startswith(("{", "[")) or '"ubiome_bacteriacounts"' in text[:4096]:
        start, end = text.find("{"), text.rfind("}")
        try:
            data = json.loads(text[start:end + 1])  # some downloads have page junk around the JSON
        except ValueError as exc:
            raise BadInputError(f"{path.name}: not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise BadInputError(f"{path.name}: not a uBiome JSON object")
        when = data.get("sampling_time")
        return parse_consumer(_rows_from_json(data, path.name), "ubiome", path.name, sample_id, rank,
                              when if isinstance(when, str) else None)
    rows, who = _rows_from_csv(text, path.name)
    return parse_consumer(rows, who, path.name, sample_id, rank)
