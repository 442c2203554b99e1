"""Consumer gut-test results: uBiome JSON and CSV (real files), the long abundance-profile CSV (written from its
documented layout): one rank by counts, lineage from ``parent``, phylum counts kept, tagged as another pipeline,
and the report shows the reference comparison only with that note."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from skbio.diversity import alpha_diversity

from gutstride.analysis.microbiome.alpha import alpha_diversity as our_alpha
from gutstride.ingest.microbiome.read import detect_format, read_table
from gutstride.services.athletes import workspace_athlete
from gutstride.services.importing import import_files
from gutstride.services.report import compose, gather
from gutstride.store.microbiome import load_phylum_counts
from gutstride.store.workspace import Workspace

UBIOME = Path(__file__).parents[2] / "data" / "microbiome" / "ubiome-microbiome-tools"
JSON_150815 = UBIOME / "sprague-ubiome-150815.json"


def genus_counts(path: Path, rank: str = "genus") -> dict[str, float]:
    """The rows of one rank, read with the json module (a reference independent of the reader)."""
    rows = json.loads(path.read_text())["ubiome_bacteriacounts"]
    out: dict[str, float] = {}
    for row in rows:
        if row["tax_rank"] == rank:
            out[row["tax_name"]] = out.get(row["tax_name"], 0.0) + float(row["count"])
    return out


@pytest.mark.parametrize("name", ["sprague-ubiome-150815", "sprague-uBiomeJun2014"])
def test_ubiome_json_and_csv_agree_with_the_genus_rows(name: str) -> None:
    expected = genus_counts(UBIOME / f"{name}.json")
    tables = [read_table(UBIOME / f"{name}.{ext}") for ext in ("json", "csv")]
    for table in tables:
        assert detect_format(UBIOME / f"{name}.json") == "ubiome"
        assert table.value_kind == "counts" and table.shape == (1, len(expected))
        values = dict(zip(table.feature_ids, table.data.toarray()[0], strict=True))
        assert values == pytest.approx(expected)
        assert table.sample_depths()[0] == pytest.approx(sum(expected.values()))
        shannon = alpha_diversity("shannon", [list(values.values())], base=2).iloc[0]
        assert our_alpha(table)["shannon"].iloc[0] == pytest.approx(shannon, rel=1e-12)
        assert table.sample_metadata[table.sample_ids[0]]["pipeline"] == "ubiome"
        assert any("uBiome's own pipeline" in note for note in table.notes)
    assert tables[0].taxonomy == tables[1].taxonomy


def test_ubiome_lineage_rank_and_phyla() -> None:
    table = read_table(JSON_150815)
    assert table.taxonomy["Bacteroides"] == ["Bacteria", "Bacteroidetes", "Bacteroidia", "Bacteroidales",
                                             "Bacteroidaceae", "Bacteroides"]
    assert table.taxonomy["Methanobrevibacter"][:2] == ["Archaea", "Euryarchaeota"]
    assert table.phylum_counts[table.sample_ids[0]] == pytest.approx(genus_counts(JSON_150815, "phylum"))
    family = read_table(JSON_150815, "family")
    assert family.sample_depths()[0] == pytest.approx(sum(genus_counts(JSON_150815, "family").values()))


PROFILE = (
    "taxon_id,rank,name,parent,count,relative_abundance\n"
    "2,superkingdom,Bacteria,1,1000,100.0\n"
    "1239,phylum,Firmicutes,2,600,60.0\n"
    "976,phylum,Bacteroidetes,2,400,40.0\n"
    "186801,class,Clostridia,1239,600,60.0\n"
    "186802,order,Clostridiales,186801,600,60.0\n"
    "186803,family,Lachnospiraceae,186802,350,35.0\n"
    "841,genus,Roseburia,186803,200,20.0\n"
    "572511,genus,Blautia,186803,150,15.0\n"
    "216572,family,Oscillospiraceae,186802,250,25.0\n"
    "216851,genus,Faecalibacterium,216572,240,24.0\n"
    "853,species,Faecalibacterium prausnitzii,216851,240,24.0\n"
    "815,family,Bacteroidaceae,999999,400,40.0\n"
    "816,genus,Bacteroides,815,390,39.0\n"
)


def test_abundance_profile(tmp_path: Path) -> None:
    path = tmp_path / "thryve_results.csv"
    path.write_text(PROFILE)
    assert detect_format(path) == "abundance-profile"
    table = read_table(path)
    counts = {"Roseburia": 200, "Blautia": 150, "Faecalibacterium": 240, "Bacteroides": 390}
    assert dict(zip(table.feature_ids, table.data.toarray()[0], strict=True)) == counts
    assert table.sample_depths()[0] == 980  # genus rows only: not 1000 + 600 + ... (all ranks summed)
    shannon = alpha_diversity("shannon", [list(counts.values())], base=2).iloc[0]
    assert our_alpha(table)["shannon"].iloc[0] == pytest.approx(shannon, rel=1e-12)
    assert table.taxonomy["Roseburia"] == ["Bacteria", "Firmicutes", "Clostridia", "Clostridiales",
                                           "Lachnospiraceae", "Roseburia"]
    assert table.taxonomy["Bacteroides"] == ["", "", "", "", "Bacteroidaceae", "Bacteroides"]  # broken chain
    assert read_table(path, "species").feature_ids == ["Faecalibacterium prausnitzii"]


def test_import_and_report_note(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", create=True)
    records = import_files(ws, workspace_athlete(ws), [JSON_150815], workers=1)
    assert [(r.status, r.format) for r in records] == [("ok", "ubiome")]
    assert "uBiome's own pipeline" in records[0].message
    content = compose(gather(ws, workspace_athlete(ws)))
    sample = content["microbiome"]["samples"][0]
    # another company's pipeline and taxonomy: no percentile against the shipped reference, a note instead
    assert sample["shannon_percentile"] is None and sample["note"]
    assert "uBiome's own pipeline" in sample["pipeline_note"]
    expected = genus_counts(JSON_150815)
    assert sample["depth"] == pytest.approx(sum(expected.values()))
    assert np.isfinite(sample["shannon"])


def test_imported_phylum_counts_are_stored(tmp_path: Path) -> None:
    """The phylum rows of a consumer file are stored at the phylum rank with the sample, read back as written."""
    ws = Workspace(tmp_path / "ws", create=True)
    assert [r.status for r in import_files(ws, workspace_athlete(ws), [JSON_150815], workers=1)] == ["ok"]
    phyla = load_phylum_counts(ws, workspace_athlete(ws))
    assert list(phyla.columns) == ["sample_row_id", "sample_id", "phylum", "count"]
    assert set(phyla["sample_id"]) == {"sprague-ubiome-150815"}
    assert dict(zip(phyla["phylum"], phyla["count"], strict=True)) == pytest.approx(
        genus_counts(JSON_150815, "phylum"))
