"""Every microbiome reader against biom-format on the real tables, in every layout and format we accept."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import biom
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gutstride.errors import BadInputError, GutstrideError, UnsupportedFormatError
from gutstride.ingest.microbiome.artifact import read_qza_member
from gutstride.ingest.microbiome.read import read_table, sniff_microbiome_format
from gutstride.ingest.microbiome.taxonomy import normalise_lineage, read_taxonomy

from .conftest import MICROBIOME, dense, hdf5_bytes, write_qza

ALL_FILES = sorted(p for p in MICROBIOME.rglob("*") if p.is_file())
BIOM_FILES = [p for p in ALL_FILES if p.name.endswith((".biom", ".biom.gz")) and p.name != "empty.biom"]
#: uBiome results are tables too (read by the consumer reader, tests/ingest/microbiome/test_consumer.py).
UBIOME_FILES = [p for p in ALL_FILES if p.name.startswith("sprague-")]
NOT_TABLES = [p for p in ALL_FILES if p not in BIOM_FILES + UBIOME_FILES and p.name != "empty.biom"]


def expected_matrix(table: biom.Table) -> np.ndarray:
    """biom-format's samples x features values, closed per sample when they are not whole numbers."""
    values = table.matrix_data.T.toarray()
    if np.all(values == np.rint(values)):
        return values
    totals = values.sum(axis=1, keepdims=True)
    return np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)


def test_the_data_folder_is_covered() -> None:
    assert len(BIOM_FILES) >= 11 and NOT_TABLES  # the lists below really run over the shared data


@pytest.mark.parametrize("path", BIOM_FILES, ids=lambda p: p.name)
def test_biom_files_match_biom_format(path: Path) -> None:
    reference = biom.load_table(str(path))
    table = read_table(path)
    assert table.sample_ids == [str(i) for i in reference.ids()]
    assert table.feature_ids == [str(i) for i in reference.ids(axis="observation")]
    np.testing.assert_allclose(dense(table), expected_matrix(reference), rtol=1e-12, atol=1e-15)
    assert table.data.dtype == np.float64
    with path.open("rb") as handle:
        assert sniff_microbiome_format(handle.read(4096), path.name) == "biom"


def test_biom_taxonomy_and_metadata_are_kept() -> None:
    table = read_table(MICROBIOME / "biom-format-examples" / "rich_sparse_otu_table_hdf5.biom")
    assert table.taxonomy["GG_OTU_1"] == [
        "Bacteria", "Proteobacteria", "Gammaproteobacteria", "Enterobacteriales", "Enterobacteriaceae", "Escherichia",
    ]
    assert table.sample_metadata["Sample1"]["BODY_SITE"] == "gut"
    assert table.value_kind == "counts"


def test_relative_abundance_biom_is_proportions() -> None:
    table = read_table(MICROBIOME / "american-gut" / "BeyondBacteria" / "AmericanGutMetaphlanWGS.biom")
    assert table.value_kind == "proportions"
    np.testing.assert_allclose(table.sample_depths(), 1.0)
    # MetaPhlAn ids are clades: their lineage is derived from the id
    assert table.taxonomy["s__Akkermansia_muciniphila"] == [""] * 5 + ["Akkermansia", "Akkermansia muciniphila"]


def test_empty_biom_is_a_clear_error() -> None:
    with pytest.raises(BadInputError, match="empty.biom: the table holds no samples"):
        read_table(MICROBIOME / "biom-format-examples" / "empty.biom")


@pytest.mark.parametrize("path", NOT_TABLES, ids=lambda p: p.name)
def test_files_that_are_not_tables_give_a_clear_error(path: Path) -> None:
    with pytest.raises(GutstrideError, match=path.name):
        read_table(path)


def test_mapping_files_are_recognised() -> None:
    with pytest.raises(UnsupportedFormatError, match="sample metadata"):
        read_table(MICROBIOME / "american-gut" / "AG_debug" / "test_mapping.txt")


# -- TSV / CSV -----------------------------------------------------------------------------------------------
def test_biom_convert_tsv_features_as_rows(tmp_path: Path, ag_small: biom.Table) -> None:
    text = ag_small.to_tsv(header_key="taxonomy", header_value="taxonomy", metadata_formatter="; ".join)
    path = tmp_path / "table.tsv"
    path.write_text(text)
    assert sniff_microbiome_format(path.read_bytes()[:4096], path.name) == "text"
    table = read_table(path)
    assert table.sample_ids == list(ag_small.ids())
    assert table.feature_ids == list(ag_small.ids(axis="observation"))
    np.testing.assert_array_equal(dense(table), ag_small.matrix_data.T.toarray())
    first = ag_small.ids(axis="observation")[0]
    lineage = "; ".join(ag_small.metadata(first, axis="observation")["taxonomy"])
    assert table.taxonomy[first] == normalise_lineage(lineage)
    assert table.value_kind == "counts"


def test_csv_samples_as_rows_without_header_hint(tmp_path: Path, ag_small: biom.Table) -> None:
    frame = pd.DataFrame(ag_small.matrix_data.T.toarray().astype(int), index=ag_small.ids(),
                         columns=ag_small.ids(axis="observation"))
    path = tmp_path / "samples_rows.csv"
    frame.to_csv(path)  # first header cell empty; more features than samples decides the orientation
    table = read_table(path)
    assert table.sample_ids == list(ag_small.ids())
    np.testing.assert_array_equal(dense(table), frame.to_numpy())


def test_percentages_samples_as_columns(tmp_path: Path, ag_small: biom.Table) -> None:
    counts = ag_small.matrix_data.toarray()  # features x samples
    percent = 100 * counts / counts.sum(axis=0, keepdims=True)
    frame = pd.DataFrame(percent, index=ag_small.ids(axis="observation"), columns=ag_small.ids())
    frame.index.name = "Feature ID"
    path = tmp_path / "percent.tsv"
    frame.to_csv(path, sep="\t", float_format="%.10g")
    table = read_table(path)
    assert table.value_kind == "proportions"
    np.testing.assert_allclose(dense(table), (counts / counts.sum(axis=0, keepdims=True)).T, atol=1e-9)


def test_fractions_samples_as_rows(tmp_path: Path, ag_small: biom.Table) -> None:
    counts = ag_small.matrix_data.T.toarray()
    frame = pd.DataFrame(counts / counts.sum(axis=1, keepdims=True), index=ag_small.ids(),
                         columns=ag_small.ids(axis="observation"))
    frame.index.name = "SampleID"
    path = tmp_path / "fractions.csv"
    frame.to_csv(path)
    table = read_table(path)
    assert table.sample_ids == list(ag_small.ids())
    np.testing.assert_allclose(dense(table), frame.to_numpy(), atol=1e-12)


def test_dada2_seqtab_with_r_header(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    seqs = ["".join(rng.choice(list("ACGT"), 60)) for _ in range(5)]
    counts = rng.integers(0, 50, size=(8, 5))
    lines = ["\t".join(f'"{s}"' for s in seqs)]  # write.table(seqtab): no cell above the row names
    lines += ["\t".join([f'"S{i}"', *map(str, row)]) for i, row in enumerate(counts)]
    path = tmp_path / "seqtab.tsv"
    path.write_text("\n".join(lines) + "\n")
    assert sniff_microbiome_format(path.read_bytes(), path.name) == "text"
    table = read_table(path)
    assert table.sample_ids == [f"S{i}" for i in range(8)] and table.feature_ids == seqs
    np.testing.assert_array_equal(dense(table), counts)
    assert table.taxonomy == {}


def test_consumer_report_of_taxa(tmp_path: Path) -> None:
    path = tmp_path / "my-gut-test.csv"
    path.write_text(
        "Taxon,Rank,Relative abundance (%)\n"
        "Firmicutes,phylum,60.0\nBacteroidetes,phylum,40.0\n"
        "Faecalibacterium,genus,12.5\nBacteroides,genus,30.0\nAkkermansia,genus,2.5\nRoseburia,genus,5.0\n"
    )
    assert sniff_microbiome_format(path.read_bytes(), path.name) == "text"
    table = read_table(path)
    assert table.sample_ids == ["my-gut-test"]
    assert table.feature_ids == ["Faecalibacterium", "Bacteroides", "Akkermansia", "Roseburia"]  # genus rows only
    np.testing.assert_allclose(dense(table)[0], np.array([12.5, 30.0, 2.5, 5.0]) / 50.0)
    assert table.taxonomy["Akkermansia"] == ["", "", "", "", "", "Akkermansia"]


def test_other_csvs_are_not_claimed() -> None:
    head = b"date,distance_km,duration_min,avg_hr\n2024-01-01,10.2,55,150\n"
    assert sniff_microbiome_format(head, "runs.csv") is None
    assert sniff_microbiome_format(b"day,bloating,stool_type\n2024-01-01,2,4\n", "log.csv") is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("#OTU ID\tS1\tS2\nA\t1\t2\nB\t3\tx\n", r"line 3, column 'S2': 'x' is not a number"),
        ("#OTU ID\tS1\tS2\nA\t1\t2\nB\t3\n", r"line 3: 2 fields, expected 3"),
        ("#OTU ID\tS1\tS2\nA\t1\t2\nB\t3\t4\t5\n", r"line 3: 4 fields, expected 3"),
        ("#OTU ID\tS1\tS2\nA\t1\t2\nB\t3\t-4\n", r"sample 'S2', feature 'B'.*not a non-negative"),
        ("#OTU ID\tS1\tS1\nA\t1\t2\n", r"sample id 'S1' appears twice"),
        ("#OTU ID\tS1\tS2\nA\t1\t2\nA\t3\t4\n", r"feature id 'A' appears twice"),
        ("#OTU ID\tS1\tS2\n", r"a header but no rows"),
    ],
)
def test_malformed_text_tables(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text(content)
    with pytest.raises(BadInputError, match=message):
        read_table(path)


# -- QIIME 2 artifacts -----------------------------------------------------------------------------------------
def test_qza_feature_table_equals_the_biom(tmp_path: Path, ag_biom: biom.Table) -> None:
    path = write_qza(tmp_path / "table.qza", "FeatureTable[Frequency]", {"feature-table.biom": hdf5_bytes(ag_biom)})
    assert sniff_microbiome_format(path.read_bytes()[:4096], path.name) == "qza"
    table = read_table(path)
    assert table.sample_ids == list(ag_biom.ids()) and table.feature_ids == list(ag_biom.ids(axis="observation"))
    assert (table.data != ag_biom.matrix_data.T.tocsr()).nnz == 0
    assert table.value_kind == "counts"
    assert not list(tmp_path.glob("*/")), "nothing extracted to disk"


def test_qza_taxonomy_and_tree_members(tmp_path: Path) -> None:
    tsv = ("Feature ID\tTaxon\tConfidence\n"
           "f1\tk__Bacteria; p__Firmicutes; g__\t0.99\nf2\td__Bacteria;p__Bacillota\t0.9\n")
    tax = write_qza(tmp_path / "taxonomy.qza", "FeatureData[Taxonomy]", {"taxonomy.tsv": tsv.encode()},
                    "TSVTaxonomyDirectoryFormat")
    assert read_taxonomy(tax) == {"f1": ["Bacteria", "Firmicutes"], "f2": ["Bacteria", "Bacillota"]}
    tree = write_qza(tmp_path / "tree.qza", "Phylogeny[Rooted]", {"tree.nwk": b"((a:1,b:2):1,c:3);\n"},
                     "NewickDirectoryFormat")
    assert read_qza_member(tree, ("Phylogeny[Rooted]",)) == ("Phylogeny[Rooted]", "tree.nwk", b"((a:1,b:2):1,c:3);\n")
    with pytest.raises(UnsupportedFormatError, match=r"Phylogeny\[Rooted\] is not accepted"):
        read_table(tree)


def test_malformed_qza(tmp_path: Path) -> None:
    bad_zip = tmp_path / "broken.qza"
    bad_zip.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(BadInputError, match="broken.qza"):
        read_table(bad_zip)
    no_meta = tmp_path / "nometa.qza"
    import zipfile

    with zipfile.ZipFile(no_meta, "w") as archive:
        archive.writestr("abc/data/feature-table.biom", b"{}")
    with pytest.raises(BadInputError, match="metadata.yaml"):
        read_table(no_meta)
    no_data = write_qza(tmp_path / "nodata.qza", "FeatureTable[Frequency]", {})
    with pytest.raises(BadInputError, match="no feature-table.biom"):
        read_table(no_data)


def test_gzipped_json_biom_and_corrupt_json(tmp_path: Path, ag_small: biom.Table) -> None:
    path = tmp_path / "t.biom.gz"
    path.write_bytes(gzip.compress(ag_small.to_json("tests").encode()))
    assert sniff_microbiome_format(path.read_bytes()[:2048], path.name) == "biom"
    np.testing.assert_array_equal(dense(read_table(path)), ag_small.matrix_data.T.toarray())
    broken = tmp_path / "broken.biom"
    doc = json.loads(ag_small.to_json("tests"))
    doc["shape"] = [1, 1]
    broken.write_text(json.dumps(doc)[:-200])
    with pytest.raises(BadInputError, match="broken.biom: not a valid BIOM table"):
        read_table(broken)


def test_consumer_report_with_percent_signs_and_whole_percentages(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_text("Genus,Abundance\nBacteroides,30%\nPrevotella,50%\nAkkermansia,20%\n")
    table = read_table(path)
    assert table.value_kind == "proportions" and table.sample_ids == ["report"]
    np.testing.assert_allclose(dense(table)[0], [0.3, 0.5, 0.2])
    path.write_text("taxon,relative_abundance_percent\nBacteroides,30\nPrevotella,70\n")
    assert read_table(path).value_kind == "proportions"


def test_no_activity_file_is_claimed() -> None:
    activities = sorted(p for p in (MICROBIOME.parent / "activities").rglob("*") if p.is_file())
    assert activities
    for path in activities:
        with path.open("rb") as handle:
            assert sniff_microbiome_format(handle.read(65536), path.name) is None, path


@settings(max_examples=25, deadline=None)
@given(counts=arrays(np.int64, st.tuples(st.integers(1, 6), st.integers(1, 9)), elements=st.integers(0, 40)),
       samples_as_rows=st.booleans(), comma=st.booleans())
def test_random_text_tables_round_trip(tmp_path_factory: pytest.TempPathFactory, counts: np.ndarray,
                                       samples_as_rows: bool, comma: bool) -> None:
    counts[:, 0] += 1  # every sample has reads
    samples = [f"sample.{i}" for i in range(counts.shape[0])]
    features = [f"k__Bacteria;g__G{j}" for j in range(counts.shape[1])]
    frame = pd.DataFrame(counts, index=samples, columns=features)
    if not samples_as_rows:
        frame = frame.T
    frame.index.name = "SampleID" if samples_as_rows else "#OTU ID"
    path = tmp_path_factory.mktemp("t") / ("t.csv" if comma else "t.tsv")
    frame.to_csv(path, sep="," if comma else "\t")
    table = read_table(path)
    assert table.sample_ids == samples and table.feature_ids == features
    np.testing.assert_array_equal(dense(table), counts)
    assert table.taxonomy[features[0]] == ["Bacteria", "", "", "", "", "G0"]
