"""QIIME 2 ``taxa barplot`` exports (``level-N.csv``): samples as rows, taxonomy strings as columns, then the
sample-metadata columns. Only taxonomy columns are taxa; the others are metadata, never counted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from skbio.diversity import alpha_diversity

from gutstride.analysis.microbiome.alpha import alpha_diversity as our_alpha
from gutstride.ingest.microbiome.read import read_table, sniff_microbiome_format

# The layout `qiime taxa barplot` writes when its CSV is downloaded: "index", taxa, then metadata in the mapping
# file's order (here with a numeric AGE column and a BarcodeSequence column).
TAXA = [
    "k__Bacteria;p__Firmicutes;c__Clostridia;o__Clostridiales;f__Lachnospiraceae;g__Roseburia",
    "k__Bacteria;p__Bacteroidetes;c__Bacteroidia;o__Bacteroidales;f__Bacteroidaceae;g__Bacteroides",
    "k__Bacteria;p__Actinobacteria;c__Actinobacteria;o__Bifidobacteriales;f__Bifidobacteriaceae;g__Bifidobacterium",
    "Unassigned;__;__;__;__;__",
]
COUNTS = {"S1": [30, 20, 10, 1], "S2": [0, 44, 7, 3]}
META = {"S1": ["AGCTAGCTAGCT", "65", "female", "2019"], "S2": ["TTGGCCAATTGG", "41", "male", "2020"]}
HEADER = ["index", *TAXA, "BarcodeSequence", "AGE", "sex", "year"]


@pytest.fixture
def level6(tmp_path: Path) -> Path:
    lines = [",".join(HEADER)]
    for sample, counts in COUNTS.items():
        lines.append(",".join([sample, *map(str, counts), *META[sample]]))
    path = tmp_path / "level-6.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_metadata_columns_are_not_taxa(level6: Path) -> None:
    assert sniff_microbiome_format(level6.read_bytes(), level6.name) == "text"
    table = read_table(level6)  # not rejected as "a mapping file" for its BarcodeSequence column
    assert table.feature_ids == TAXA
    assert table.value_kind == "counts"
    np.testing.assert_array_equal(table.sample_depths(), [61, 54])  # not 61 + 65 + 2019 (AGE and year)
    assert table.sample_metadata["S1"] == {"BarcodeSequence": "AGCTAGCTAGCT", "AGE": "65", "sex": "female",
                                           "year": "2019"}
    assert any("AGE" in note and "not counted" in note for note in table.notes)
    assert table.taxonomy[TAXA[1]][5] == "Bacteroides"
    ours = our_alpha(table)
    expected = alpha_diversity("shannon", np.array(list(COUNTS.values())), ids=list(COUNTS), base=2)
    np.testing.assert_allclose(ours["shannon"].to_numpy(), expected.to_numpy(), rtol=1e-12)


def test_level1_with_unassigned_and_more_metadata_than_taxa(tmp_path: Path) -> None:
    path = tmp_path / "level-1.csv"
    path.write_text("index,k__Bacteria,Unassigned,AGE,sex,year,month,bmi\nS1,60,1,65,female,2019,5,22.5\n")
    assert sniff_microbiome_format(path.read_bytes(), path.name) == "text"
    table = read_table(path)
    assert table.feature_ids == ["k__Bacteria", "Unassigned"]
    np.testing.assert_array_equal(table.sample_depths(), [61])
