"""Phylum summary of each sample: the share of its reads in each phylum, described and never judged.

Each sample's phyla come from one of two sources, and the summary says which:

1. **The test's own phylum counts** (:data:`SOURCE_TEST_COUNTS`), where the file reported counts at the phylum rank
   (consumer gut tests list every rank; :attr:`~gutstride.model.feature_table.FeatureTable.phylum_counts`). The
   company's pipeline classified those reads at phylum, so they are used as given, as shares of their total:

   .. math:: a_{s,P} = \\frac{c_{s,P}}{\\sum_Q c_{s,Q}}

   where :math:`c_{s,Q}` are the sample's phylum-rank counts, :math:`Q` running over every phylum row (rows that
   name no phylum, such as an abundance profile's ``other Bacteria kingdom``, are counted as unclassified).
2. **The genus table's lineages** (:data:`SOURCE_LINEAGE`) otherwise: the table's features (genera, or whatever
   rank the table holds) are summed by the phylum in their lineage,

   .. math:: a_{s,P} = \\frac{\\sum_{f:\\, \\mathrm{phylum}(f) = P} x_{s,f}}{\\sum_f x_{s,f}}

   and the reads of features whose lineage names no phylum (or that have no lineage) make the share unclassified
   at phylum, :math:`u_s`.

Names are compared after trimming and dropping brackets, a ``p__`` prefix, letter case and the difference between
``_`` and a space, so that spellings of one name are pooled; they are shown as written (the spelling with the most
reads). Names are never translated between taxonomies: GTDB's Bacillota, SILVA's Bacteroidota and the older
Firmicutes and Bacteroidetes are shown as the data name them, and GTDB's Firmicutes_A stays apart from Firmicutes.
The :data:`TOP_PHYLA` largest phyla are listed by share (ties by name), the rest pooled as :data:`OTHER`, so that
the listed shares, "other" and :math:`u_s` add up to 1.

Shares are relative: a rise in one phylum lowers the others. gutstride shows them to describe what was sequenced,
and uses no phylum share or ratio between phyla (such as Firmicutes to Bacteroidetes) as a health judgement.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from gutstride.model.feature_table import FeatureTable

SOURCE_TEST_COUNTS = "test's own phylum counts"
SOURCE_LINEAGE = "genus table lineage"
#: The name of the pooled share of the phyla beyond the :data:`TOP_PHYLA` largest.
OTHER = "other"
TOP_PHYLA = 6
#: What the report says with the summary.
PHYLUM_NOTE = (
    "Phylum shares describe what was sequenced, nothing more: they are relative, so a rise in one phylum lowers the "
    "others. gutstride does not use any phylum share, or a ratio between phyla such as Firmicutes to Bacteroidetes, "
    "as a judgement of health. Where a test reported its own phylum counts, they are shown as given, as shares of "
    "the reads in its phylum rows; otherwise a sample's genera are summed by the phylum in their lineage, and reads "
    "whose lineage names no phylum are shown as not classified at phylum. Names are shown as the data write them: "
    "taxonomies name some phyla differently (Firmicutes in older ones, Bacillota in GTDB), so samples classified "
    "with different taxonomies can show different names for the same group."
)
_PHYLUM = 1  # position of the phylum in a normalised lineage
#: Names that say "no phylum" (compared after :func:`phylum_key`), as do names starting with ``other ``,
#: ``unclassified `` or ``unassigned ``.
_NO_PHYLUM = {"", "other", "unassigned", "unclassified", "unknown", "none", "nan", "na"}


@dataclass(frozen=True)
class PhylumShares:
    """One sample's phylum summary (see the module docstring).

    Attributes
    ----------
    sample
        The sample id.
    source
        :data:`SOURCE_TEST_COUNTS` or :data:`SOURCE_LINEAGE`.
    phyla
        ``(name, share)`` of the largest phyla by share (ties by name), then ``(OTHER, share)`` when there are more.
    unclassified_share
        The share of reads with no phylum; NaN for a sample with no reads.
    """

    sample: str
    source: str
    phyla: tuple[tuple[str, float], ...]
    unclassified_share: float

    def to_dict(self) -> dict[str, Any]:
        return {"sample": self.sample, "source": self.source,
                "phyla": [{"name": name, "share": share} for name, share in self.phyla],
                "unclassified_share": self.unclassified_share}


def phylum_key(name: str) -> str:
    """The form phylum names are compared in: ``" [p__Firmicutes] "`` -> ``"firmicutes"``."""
    text = name.strip().casefold().removeprefix("p__").strip().strip("[]")
    return " ".join(text.replace("_", " ").split())


def _lineage_phylum(lineage: list[str] | None) -> str:
    return lineage[_PHYLUM] if lineage and len(lineage) > _PHYLUM else ""


def _is_unclassified(key: str) -> bool:
    return key in _NO_PHYLUM or key.startswith(("other ", "unclassified ", "unassigned "))


def pooled_shares(reads: Iterable[tuple[str, float]], top: int = TOP_PHYLA
                  ) -> tuple[tuple[tuple[str, float], ...], float]:
    """Shares of ``(phylum name, reads)`` pairs of one sample: the ``top`` phyla, then :data:`OTHER`; unclassified.

    Spellings of one name (:func:`phylum_key`) are pooled and shown as the spelling with the most reads; names
    that say "no phylum" go to the unclassified share. Returns ``(phyla, unclassified_share)``; with no reads,
    ``((), nan)``.
    """
    spellings: dict[str, dict[str, float]] = {}
    unclassified = total = 0.0
    for name, value in reads:
        if not value > 0:
            continue
        total += value
        key = phylum_key(name)
        if _is_unclassified(key):
            unclassified += value
            continue
        written = spellings.setdefault(key, {})
        written[name.strip()] = written.get(name.strip(), 0.0) + value
    if total <= 0:
        return (), math.nan
    pooled = [(max(written.items(), key=lambda kv: (kv[1], kv[0]))[0], sum(written.values()))
              for written in spellings.values()]
    pooled.sort(key=lambda item: (-item[1], item[0]))
    phyla = [(name, value / total) for name, value in pooled[:top]]
    if len(pooled) > top:
        phyla.append((OTHER, sum(value for _, value in pooled[top:]) / total))
    return tuple(phyla), unclassified / total


def phylum_summary(table: FeatureTable, phylum_counts: Mapping[str, Mapping[str, float]] | None = None,
                   top: int = TOP_PHYLA) -> list[PhylumShares]:
    """The phylum summary of every sample of ``table``, in its order (see the module docstring).

    Parameters
    ----------
    table
        The samples, their features and lineages (the table the report reads, genus level as a rule).
    phylum_counts
        Counts at the phylum rank by sample id and phylum name, for the samples whose file reported them (source 1);
        other samples are summed by their lineages' phyla (source 2).
    top
        How many phyla to list before pooling the rest as :data:`OTHER`.
    """
    phylum_counts = phylum_counts or {}
    of_feature = [_lineage_phylum(table.taxonomy.get(fid)) for fid in table.feature_ids]
    names = sorted(set(of_feature))
    column = {name: j for j, name in enumerate(names)}
    n = len(of_feature)
    indicator = sp.csr_array((np.ones(n), (np.arange(n), [column[p] for p in of_feature])), shape=(n, len(names)))
    by_phylum = np.asarray((sp.csr_array(table.data) @ indicator).toarray())
    out = []
    for i, sample in enumerate(table.sample_ids):
        own = phylum_counts.get(sample) or {}
        if sum(v for v in own.values() if v > 0) > 0:
            phyla, unclassified = pooled_shares(own.items(), top)
            out.append(PhylumShares(sample, SOURCE_TEST_COUNTS, phyla, unclassified))
            continue
        phyla, unclassified = pooled_shares(zip(names, by_phylum[i].tolist(), strict=True), top)
        out.append(PhylumShares(sample, SOURCE_LINEAGE, phyla, unclassified))
    return out
