"""Phylum summary: shares worked out by hand from the counts written in each test."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from gutstride.analysis.microbiome.phyla import (
    OTHER,
    SOURCE_LINEAGE,
    SOURCE_TEST_COUNTS,
    phylum_summary,
    pooled_shares,
)
from gutstride.model.feature_table import FeatureTable

#: Two samples of six genera; the last two have no phylum (a lineage stopping at the domain, and none at all).
FEATURES = ["Bacteroides", "Prevotella", "Faecalibacterium", "Akkermansia", "mystery", "no lineage"]
TAXONOMY: dict[str, list[str] | None] = {
    "Bacteroides": ["Bacteria", "Bacteroidetes", "Bacteroidia", "Bacteroidales", "Bacteroidaceae", "Bacteroides"],
    "Prevotella": ["Bacteria", "Bacteroidetes", "Bacteroidia", "Bacteroidales", "Prevotellaceae", "Prevotella"],
    "Faecalibacterium": ["Bacteria", "Firmicutes", "Clostridia", "Clostridiales", "Ruminococcaceae",
                         "Faecalibacterium"],
    "Akkermansia": ["Bacteria", "Verrucomicrobia", "Verrucomicrobiae", "Verrucomicrobiales", "Verrucomicrobiaceae",
                    "Akkermansia"],
    "mystery": ["Bacteria"],
}
COUNTS = [[30, 10, 40, 5, 10, 5],  # 100 reads: Bacteroidetes 40, Firmicutes 40, Verrucomicrobia 5, no phylum 15
          [0, 0, 7, 0, 0, 3]]  # 10 reads, but the test reported its own phylum counts for this one


def _table() -> FeatureTable:
    return FeatureTable(data=sp.csr_array(np.array(COUNTS, dtype=float)), sample_ids=["A", "B"],
                        feature_ids=FEATURES, taxonomy=TAXONOMY)


def test_lineage_and_own_counts_by_hand() -> None:
    own = {"B": {"Firmicutes": 300.0, "Bacteroidetes": 100.0, "other Bacteria kingdom": 100.0}}
    a, b = phylum_summary(_table(), own)
    assert a.sample == "A" and a.source == SOURCE_LINEAGE
    # Bacteroidetes 30 + 10 and Firmicutes 40 tie at 40/100: sorted by name then
    assert dict(a.phyla) == pytest.approx({"Bacteroidetes": 40 / 100, "Firmicutes": 40 / 100,
                                           "Verrucomicrobia": 5 / 100})
    assert [name for name, _ in a.phyla] == ["Bacteroidetes", "Firmicutes", "Verrucomicrobia"]
    assert a.unclassified_share == pytest.approx((10 + 5) / 100)
    # the test's own phylum rows, used as given: shares of their total 500; "other Bacteria kingdom" names no phylum
    assert b.sample == "B" and b.source == SOURCE_TEST_COUNTS
    assert [name for name, _ in b.phyla] == ["Firmicutes", "Bacteroidetes"]
    assert [share for _, share in b.phyla] == pytest.approx([300 / 500, 100 / 500])
    assert b.unclassified_share == pytest.approx(100 / 500)
    assert b.to_dict() == {"sample": "B", "source": SOURCE_TEST_COUNTS, "unclassified_share": b.unclassified_share,
                           "phyla": [{"name": "Firmicutes", "share": b.phyla[0][1]},
                                     {"name": "Bacteroidetes", "share": b.phyla[1][1]}]}


def test_top_phyla_then_other() -> None:
    (a, b) = phylum_summary(_table(), top=1)
    assert [name for name, _ in a.phyla] == ["Bacteroidetes", OTHER]
    assert dict(a.phyla) == pytest.approx({"Bacteroidetes": 40 / 100, OTHER: (40 + 5) / 100})
    assert sum(share for _, share in a.phyla) + a.unclassified_share == pytest.approx(1.0)
    # without its own counts, B falls back to its lineages: Firmicutes 7 of 10, and 3 reads with no lineage
    assert b.source == SOURCE_LINEAGE and dict(b.phyla) == pytest.approx({"Firmicutes": 7 / 10})
    assert b.unclassified_share == pytest.approx(3 / 10)


def test_spellings_pooled_and_shown_as_written_names_never_translated() -> None:
    reads = [("Bacteroidetes", 3.0), ("[bacteroidetes] ", 1.0), ("p__Bacteroidetes", 2.0), ("Bacillota", 2.0),
             ("Firmicutes", 2.0), ("Firmicutes_A", 1.0), ("Unassigned", 1.0), ("other", 1.0), ("Absent", 0.0)]
    phyla, unclassified = pooled_shares(reads)
    # 13 reads: Bacteroidetes 3 + 1 + 2 under its commonest spelling; Bacillota and Firmicutes (GTDB and the older
    # name of one group) and GTDB's Firmicutes_A stay apart, as written; a name with no reads is left out
    assert dict(phyla) == pytest.approx({"Bacteroidetes": 6 / 13, "Bacillota": 2 / 13, "Firmicutes": 2 / 13,
                                         "Firmicutes_A": 1 / 13})
    assert [name for name, _ in phyla] == ["Bacteroidetes", "Bacillota", "Firmicutes", "Firmicutes_A"]
    assert unclassified == pytest.approx((1 + 1) / 13)  # "Unassigned" and a row named just "other"


def test_no_reads_and_no_taxonomy() -> None:
    phyla, unclassified = pooled_shares([])
    assert phyla == () and math.isnan(unclassified)
    plain = FeatureTable(data=sp.csr_array(np.array([[4.0, 6.0]])), sample_ids=["S"], feature_ids=["x", "y"])
    (summary,) = phylum_summary(plain)
    assert summary.phyla == () and summary.unclassified_share == 1.0
