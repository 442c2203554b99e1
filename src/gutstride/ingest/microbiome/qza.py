"""QIIME 2 feature-table artifacts (``.qza``): the BIOM payload read straight from the zip."""

from __future__ import annotations

from pathlib import Path

from gutstride.ingest.microbiome.artifact import read_qza_member
from gutstride.ingest.microbiome.biom import parse_biom_bytes
from gutstride.model.feature_table import FeatureTable, ValueKind

#: Feature-table artifact types we read, and whether their values are counts.
TABLE_TYPES = (
    "FeatureTable[Frequency]",
    "FeatureTable[RelativeFrequency]",
    "FeatureTable[PresenceAbsence]",
    "FeatureTable[Composition]",
)


def read_qza(path: Path) -> FeatureTable:
    """Read a QIIME 2 feature-table artifact (``FeatureTable[Frequency]`` and the other :data:`TABLE_TYPES`)."""
    artifact_type, member, raw = read_qza_member(path, TABLE_TYPES)
    counts = artifact_type in ("FeatureTable[Frequency]", "FeatureTable[PresenceAbsence]")
    kind: ValueKind = "counts" if counts else "proportions"
    return parse_biom_bytes(raw, f"{Path(path).name}:{member}", value_kind=kind)
