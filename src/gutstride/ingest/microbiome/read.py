"""Read any supported microbiome table: sniff the format, then dispatch to the reader of that format."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path

from gutstride.errors import MissingDataError, UnsupportedFormatError
from gutstride.model.feature_table import FeatureTable

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
ZIP_MAGIC = b"PK\x03\x04"
GZIP_MAGIC = b"\x1f\x8b"
TEXT_SUFFIXES = (".tsv", ".csv", ".txt", ".tab")

#: Header first cells that mark a feature table for sniffing (weaker ones need an abundance-like column too).
_STRONG_FIRST = {"otu id", "otuid", "feature id", "featureid", "asv", "asv id", "taxon", "taxa", "taxonomy",
                 "lineage", "organism", "clade_name"}
_WEAK_FIRST = {"name", "species", "genus", "sequence", "otu", "feature", "bacteria", "microbe"}
_KRAKEN_RANK_FIRST = set("URDKPCOFGS")


def _gunzip_head(head: bytes) -> bytes:
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 65536)
    except zlib.error:
        return b""


def _is_kraken_line(line: str) -> bool:
    fields = line.split("\t")
    if len(fields) not in (6, 8):
        return False
    rank = fields[-3].strip()
    try:
        float(fields[0])
        int(fields[1])
    except ValueError:
        return False
    return bool(rank) and rank[0] in _KRAKEN_RANK_FIRST and (rank[1:] == "" or rank[1:].isdigit())


def _sniff_text(text: str) -> str | None:
    from gutstride.ingest.microbiome.text import GENERIC_VALUE_HEADERS, looks_like_feature

    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or lines[0].lstrip().startswith("("):  # nothing, or a Newick tree
        return None
    if any(line.startswith("#mpa_v") or line.lstrip("#").startswith("clade_name") for line in lines[:10]):
        return "metaphlan"
    if lines[0].startswith("# Constructed from biom file"):
        return "text"
    header_line = next((line for line in lines if not (line.startswith("#") and "\t" not in line and "," not in line)),
                       "")
    sep = "\t" if "\t" in header_line else ","
    cells = [c.strip().strip('"') for c in header_line.split(sep)]
    first_cell = cells[0].lstrip("#").strip().lower()
    if len(cells) >= 2 and first_cell in _STRONG_FIRST:  # "#OTU ID", "Feature ID", "taxon"...
        return "text"
    if first_cell == "index" and any(looks_like_feature(c) for c in cells[1:]):  # QIIME 2 level-N.csv
        return "text"
    data = [line for line in lines if not line.startswith("#")]
    if not data:
        return None
    first = data[0]
    if first.lower().startswith("name\ttaxonomy_id\ttaxonomy_lvl"):
        return "bracken"
    if _is_kraken_line(first):
        return "kraken"
    clade = first.split("\t", 1)[0].strip()
    if clade.startswith(("k__", "d__")) and ";" not in clade and "\t" in first:
        return "metaphlan"  # v2 profile or an mpa-style report without a header
    if len(cells) < 2:
        return None
    if first_cell in _WEAK_FIRST and any(GENERIC_VALUE_HEADERS.search(c) for c in cells[1:]):
        return "text"
    if sum(looks_like_feature(c) for c in cells[1:]) >= max(1, (len(cells) - 1) // 2):
        return "text"
    rows = [line.split(sep, 1)[0].strip().strip('"') for line in lines[1:20] if not line.startswith("#")]
    if rows and sum(looks_like_feature(r) for r in rows) > len(rows) // 2:
        return "text"
    return None


def sniff_microbiome_format(head: bytes, name: str) -> str | None:
    """Name the microbiome format of a file from its first bytes and name, or ``None`` if it is not one.

    Parameters
    ----------
    head
        The first bytes of the file (a few KiB are enough; gzip is looked into).
    name
        The file name (used for ``.qza`` and ``.gz``).

    Returns
    -------
    str or None
        ``"biom"`` (HDF5 or JSON BIOM), ``"qza"``, ``"metaphlan"``, ``"kraken"``, ``"bracken"``, ``"ubiome"``
        and ``"abundance-profile"`` (consumer gut tests), ``"text"``
        (TSV/CSV feature table or taxa report), or ``None``. Text formats are claimed only on clear signs (a
        feature-table header such as ``#OTU ID``, lineage-like or DNA-sequence labels, a taxon column next to an
        abundance column), so that other CSVs (activities, logs) are left to their own readers.
    """
    lower = name.lower()
    if head.startswith(GZIP_MAGIC):
        head = _gunzip_head(head)
        lower = lower.removesuffix(".gz")
    if head.startswith(HDF5_MAGIC):
        return "biom"
    if head.startswith(ZIP_MAGIC):
        return "qza" if lower.endswith(".qza") else None
    if b"\x00" in head[:4096]:
        return None
    from gutstride.ingest.microbiome.consumer import sniff_consumer

    consumer = sniff_consumer(head)
    if consumer is not None:
        return consumer
    text = head.decode("utf-8-sig", errors="ignore")
    stripped = text.lstrip()
    if stripped.startswith("{"):
        markers = ("Biological Observation Matrix", "biom-format.org", '"matrix_type"', '"matrix_element_type"')
        return "biom" if lower.endswith(".biom") or any(m in stripped for m in markers) else None
    return _sniff_text(text)


def _readers(rank: str = "genus") -> dict[str, Callable[[Path], FeatureTable]]:
    from functools import partial

    from gutstride.ingest.microbiome.biom import read_biom
    from gutstride.ingest.microbiome.consumer import read_consumer
    from gutstride.ingest.microbiome.kraken import read_bracken, read_kraken_report
    from gutstride.ingest.microbiome.metaphlan import read_metaphlan
    from gutstride.ingest.microbiome.qza import read_qza
    from gutstride.ingest.microbiome.text import read_text

    return {
        "biom": read_biom,
        "qza": read_qza,
        "metaphlan": read_metaphlan,
        "kraken": read_kraken_report,
        "bracken": read_bracken,
        "text": read_text,
        "ubiome": partial(read_consumer, rank=rank),
        "abundance-profile": partial(read_consumer, rank=rank),
    }


def detect_format(path: Path) -> str:
    """The format :func:`read_table` would use for ``path``.

    Raises
    ------
    MissingDataError
        The file does not exist.
    UnsupportedFormatError
        Neither the content nor the extension (``.tsv``, ``.csv``, ``.txt``, ``.tab``) names a table format.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"{path}: no such file")
    with path.open("rb") as handle:
        head = handle.read(65536)
    fmt = sniff_microbiome_format(head, path.name)
    if fmt is not None:
        return fmt
    from gutstride.ingest.activities.dispatch import sniff_activity_format
    from gutstride.ingest.identify import is_known_other, refusal

    activity = sniff_activity_format(head, path.name)
    if activity is not None:
        raise UnsupportedFormatError(
            f"{path.name}: an activity file ({activity.upper()}), not a microbiome table: read it with gutstride import"
        )
    if not is_known_other(head, path.name) and path.name.lower().removesuffix(".gz").endswith(TEXT_SUFFIXES):
        return "text"
    raise UnsupportedFormatError(f"{path.name}: {refusal(head, path.name)}")


def why_not_read(path: Path) -> str | None:
    """The reason :func:`read_table` refuses ``path`` (without the file name), or None when it reads it.

    The import pipeline gives this reason for a file it does not take, so that ``import`` and ``alpha`` say the
    same thing about the same file.
    """
    from gutstride.errors import GutstrideError

    try:
        read_table(path)
    except GutstrideError as exc:
        return str(exc).removeprefix(f"{path.name}: ")
    return None


def read_table(path: Path, rank: str = "genus") -> FeatureTable:
    """Read a microbiome table in any supported format into a :class:`FeatureTable` (samples x features).

    Formats: BIOM v1 JSON and v2.1 HDF5 (also gzipped), QIIME 2 feature-table artifacts (``.qza``), TSV/CSV tables
    in either orientation with counts or relative abundances (see :mod:`gutstride.ingest.microbiome.text`),
    MetaPhlAn profiles, Kraken reports and Bracken outputs, and consumer gut-test results (uBiome JSON/CSV, long
    abundance profiles), read at ``rank`` (see :mod:`gutstride.ingest.microbiome.consumer`).

    Raises
    ------
    MissingDataError, UnsupportedFormatError, BadInputError
        Missing file, unknown format, or malformed content (the message names the row or column and the reason).
    """
    path = Path(path)
    return _readers(rank)[detect_format(path)](path)
