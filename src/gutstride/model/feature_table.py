"""The one feature-table type every microbiome reader returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from gutstride.errors import BadInputError

if TYPE_CHECKING:  # this module needs neither at run time: importing it costs nothing until a table is made
    import numpy as np
    import scipy.sparse as sp

ValueKind = Literal["counts", "proportions"]

#: The ranks of a normalised lineage, in order.
RANKS: tuple[str, ...] = ("domain", "phylum", "class", "order", "family", "genus", "species")
#: One-letter rank prefixes (``g__``) and their position in :data:`RANKS`.
PREFIX_RANK = {"k": 0, "d": 0, "p": 1, "c": 2, "o": 3, "f": 4, "g": 5, "s": 6}


def rank_index(rank: str) -> int:
    """Position of ``rank`` in :data:`RANKS` (also accepts "kingdom" and one-letter prefixes)."""
    key = rank.strip().lower()
    if key == "kingdom":
        key = "domain"
    if len(key) == 1 and key in PREFIX_RANK:
        return PREFIX_RANK[key]
    if key not in RANKS:
        raise BadInputError(f"unknown rank {rank!r}: use one of {', '.join(RANKS)}")
    return RANKS.index(key)


@dataclass
class FeatureTable:
    """A samples-by-features sparse table.

    Attributes
    ----------
    data
        ``scipy.sparse.csr_array`` (or csr_matrix) of shape (n_samples, n_features), float64.
    sample_ids, feature_ids
        Row and column labels, unique.
    taxonomy
        Normalised lineage per feature (see :mod:`gutstride.ingest.microbiome.taxonomy`), a list of ranks from
        domain to species, or ``None`` where unknown. Empty dict when the table has no taxonomy.
    value_kind
        ``"counts"`` (integers) or ``"proportions"`` (each sample sums to 1, or 100 for percentages, already
        rescaled to 1).
    sample_metadata
        Optional per-sample metadata (e.g. collection date), keyed by sample id.
    notes
        What the reader decided that changes the numbers and must be shown with them (columns read as metadata,
        the rank kept, another pipeline's classification), one sentence each.
    phylum_counts
        Per sample, the counts a file reports at the phylum rank itself (consumer gut tests list every rank), by
        phylum name; empty when the file has no phylum rows. They are clade totals, kept apart from ``data``
        (which holds one rank) for the phylum summary.
    """

    data: sp.csr_array | sp.csr_matrix
    sample_ids: list[str]
    feature_ids: list[str]
    taxonomy: dict[str, list[str] | None] = field(default_factory=dict)
    value_kind: ValueKind = "counts"
    sample_metadata: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    phylum_counts: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.sample_ids), len(self.feature_ids))

    def sample_depths(self) -> np.ndarray:
        """Total of each sample's values."""
        import numpy as np

        return np.asarray(self.data.sum(axis=1)).ravel()
