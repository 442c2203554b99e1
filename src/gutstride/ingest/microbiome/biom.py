"""BIOM tables: v1.0 JSON and v2.1 HDF5, plain or gzipped, read with biom-format's own parser."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gutstride.errors import BadInputError
from gutstride.ingest.microbiome.layout import build_table
from gutstride.ingest.microbiome.taxonomy import normalise_lineage
from gutstride.model.feature_table import FeatureTable, ValueKind

if TYPE_CHECKING:
    import biom

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"

#: Observation-metadata keys that hold a lineage, in order of preference.
_TAXONOMY_KEYS = ("taxonomy", "Taxonomy", "taxon", "Taxon", "lineage", "Consensus Lineage")


def _lineage(meta: dict[str, Any] | None) -> list[str] | None:
    if not meta:
        return None
    for key in _TAXONOMY_KEYS:
        value = meta.get(key)
        if value is None:
            continue
        text = ";".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
        return normalise_lineage(text)
    return None


def from_biom_table(table: biom.Table, source: str, value_kind: ValueKind | None = None) -> FeatureTable:
    """Convert a ``biom.Table`` (features x samples) to a :class:`FeatureTable` (samples x features)."""
    feature_ids = [str(i) for i in table.ids(axis="observation")]
    sample_ids = [str(i) for i in table.ids(axis="sample")]
    taxonomy: dict[str, list[str] | None] = {}
    for fid, meta in zip(feature_ids, table.metadata(axis="observation") or [], strict=False):
        lineage = _lineage(meta)
        if lineage is not None:
            taxonomy[fid] = lineage
    if not taxonomy:  # e.g. MetaPhlAn tables whose ids are the clades themselves ("s__Akkermansia_muciniphila")
        taxonomy = {fid: normalise_lineage(fid) for fid in feature_ids if "__" in fid or ";" in fid}
    sample_metadata = {
        sid: {str(k): str(v) for k, v in meta.items()}
        for sid, meta in zip(sample_ids, table.metadata(axis="sample") or [], strict=False)
        if meta
    }
    return build_table(
        table.matrix_data.T.tocsr(),
        sample_ids,
        feature_ids,
        source,
        taxonomy=taxonomy,
        sample_metadata=sample_metadata,
        value_kind=value_kind,
    )


def parse_biom_bytes(raw: bytes, source: str, value_kind: ValueKind | None = None) -> FeatureTable:
    """Parse BIOM content held in memory (HDF5 or JSON), e.g. a member of a QIIME 2 artifact."""
    import biom
    import h5py

    try:
        if raw.startswith(HDF5_MAGIC):
            with h5py.File(io.BytesIO(raw), "r") as handle:
                table = biom.Table.from_hdf5(handle)
        else:
            table = biom.Table.from_json(json.loads(raw.decode("utf-8-sig")))
    except BadInputError:
        raise
    except Exception as exc:  # biom-format raises many types on malformed content
        raise BadInputError(f"{source}: not a valid BIOM table: {biom_fault(exc)}") from exc
    return from_biom_table(table, source, value_kind)


def biom_fault(exc: BaseException) -> str:
    """What is wrong with a BIOM file, in words, from what biom-format, json or h5py raised while reading it."""
    if isinstance(exc, KeyError):
        return f"the required field {exc.args[0]!r} is missing" if exc.args else "a required field is missing"
    if isinstance(exc, RecursionError):
        return "the JSON is nested too deeply"
    if isinstance(exc, json.JSONDecodeError):
        return f"broken JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})"
    if isinstance(exc, UnicodeDecodeError):
        return "the text is not UTF-8"
    if isinstance(exc, IndexError):
        return "a value points outside the table (row or column index out of range)"
    first = str(exc).splitlines()[0] if str(exc) else ""
    return first or "malformed content"


def read_biom(path: Path) -> FeatureTable:
    """Read a BIOM file (``.biom``, ``.biom.gz``, JSON or HDF5) into a :class:`FeatureTable`.

    Taxonomy comes from the observation metadata (``taxonomy`` and similar keys), sample metadata from the sample
    metadata (all values as strings).

    Raises
    ------
    BadInputError
        Unparseable content, an empty table, duplicated ids or negative values.
    """
    import biom

    path = Path(path)
    try:
        table = biom.load_table(str(path))
    except Exception as exc:  # biom-format raises TypeError/ValueError/KeyError/OSError on malformed files
        raise BadInputError(f"{path.name}: not a valid BIOM table: {biom_fault(exc)}") from exc
    return from_biom_table(table, path.name)
