"""Taxonomy normalisation, taxonomy files and collapsing, checked against hand-written lineages and pandas."""

from __future__ import annotations

from pathlib import Path

import biom
import numpy as np
import pandas as pd
import pytest

from gutstride.analysis.microbiome.taxa import collapse
from gutstride.errors import BadInputError
from gutstride.ingest.microbiome.read import read_table
from gutstride.ingest.microbiome.taxonomy import attach_taxonomy, normalise_lineage, read_taxonomy
from gutstride.model.feature_table import RANKS

from .conftest import AG


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("k__Bacteria; p__Firmicutes; c__Clostridia; o__Clostridiales; f__Ruminococcaceae; g__Faecalibacterium; "
         "s__prausnitzii", ["Bacteria", "Firmicutes", "Clostridia", "Clostridiales", "Ruminococcaceae",
                            "Faecalibacterium", "Faecalibacterium prausnitzii"]),
        ("k__Bacteria; p__Proteobacteria; c__; o__; f__; g__; s__", ["Bacteria", "Proteobacteria"]),
        ("D_0__Bacteria;D_1__Firmicutes;D_2__Clostridia;D_3__Clostridiales;D_4__Lachnospiraceae;D_5__Roseburia",
         ["Bacteria", "Firmicutes", "Clostridia", "Clostridiales", "Lachnospiraceae", "Roseburia"]),
        ("d__Bacteria;p__Verrucomicrobiota;c__Verrucomicrobiae;o__Verrucomicrobiales;f__Akkermansiaceae;"
         "g__Akkermansia;s__Akkermansia muciniphila",
         ["Bacteria", "Verrucomicrobiota", "Verrucomicrobiae", "Verrucomicrobiales", "Akkermansiaceae",
          "Akkermansia", "Akkermansia muciniphila"]),
        ("k__Bacteria|p__Bacteroidetes|c__Bacteroidia|o__Bacteroidales|f__Bacteroidaceae|g__Bacteroides|"
         "s__Bacteroides_vulgatus|t__SGB1814",
         ["Bacteria", "Bacteroidetes", "Bacteroidia", "Bacteroidales", "Bacteroidaceae", "Bacteroides",
          "Bacteroides vulgatus"]),
        ("Bacteria;Firmicutes;Bacilli", ["Bacteria", "Firmicutes", "Bacilli"]),
        ("k__Bacteria; p__Firmicutes; c__; o__Clostridiales", ["Bacteria", "Firmicutes", "", "Clostridiales"]),
        ("Faecalibacterium prausnitzii", ["", "", "", "", "", "Faecalibacterium", "Faecalibacterium prausnitzii"]),
        ("Lachnospiraceae", ["", "", "", "", "Lachnospiraceae"]),
        ("Bifidobacteriales", ["", "", "", "Bifidobacteriales"]),
        ("Firmicutes", ["", "Firmicutes"]),
        ("Akkermansia", ["", "", "", "", "", "Akkermansia"]),
        ("Unassigned", []),
        ("", []),
    ],
)
def test_normalise_lineage(text: str, expected: list[str]) -> None:
    assert normalise_lineage(text) == expected
    assert len(normalise_lineage(text)) <= len(RANKS)


def test_collapse_matches_pandas_groupby() -> None:
    table = read_table(AG)
    genera = collapse(table, "genus")
    reference = biom.load_table(str(AG))
    frame = pd.DataFrame(reference.matrix_data.T.toarray(), index=reference.ids(),
                         columns=reference.ids(axis="observation"))
    keys = []
    for fid in frame.columns:
        lineage = (table.taxonomy.get(fid) or [])[:6]
        keys.append(";".join(lineage) + (";__" if lineage and len(lineage) < 6 else "") if lineage else "Unassigned")
    expected = frame.T.groupby(keys).sum().T
    np.testing.assert_array_equal(genera.data.toarray(), expected[genera.feature_ids].to_numpy())
    np.testing.assert_array_equal(genera.sample_depths(), table.sample_depths())
    faecali = next(f for f in genera.feature_ids if f.endswith(";Faecalibacterium"))
    assert genera.taxonomy[faecali][-1] == "Faecalibacterium"
    with pytest.raises(BadInputError, match="unknown rank"):
        collapse(table, "tribe")


def test_taxonomy_tsv_attached(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.tsv"
    path.write_text("Feature ID\tTaxon\tConfidence\n#q2:types\tcategorical\tnumeric\n"
                    "GG_OTU_1\td__Bacteria; p__Firmicutes; g__Roseburia\t0.98\n")
    table = read_table(Path(__file__).parents[2] / "data/microbiome/biom-format-examples/min_sparse_otu_table.biom")
    attach_taxonomy(table, read_taxonomy(path))
    assert table.taxonomy["GG_OTU_1"] == ["Bacteria", "Firmicutes", "", "", "", "Roseburia"]
    path.write_text("Feature ID\tTaxon\nGG_OTU_1\n")
    with pytest.raises(BadInputError, match="line 2: 1 fields"):
        read_taxonomy(path)
