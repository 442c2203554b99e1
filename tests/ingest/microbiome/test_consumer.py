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
from gutstride.report.html import render_html
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


# The layout of real Thryve and Ombre "abundance profile" downloads (cwarden45/DTC_Scripts @ 108d39f0 and e9a64a5f,
# Psomagen_Viome/Sample2-thryve-GJKE4_abundance_profile.csv and Sample5-Ombre-GGPW9_abundance_profile.csv; no licence,
# so only the layout is taken and the rows are written here): every value quoted; ``parent`` is the parent's NAME,
# not its id; ``rank_count`` is the total of the row's rank and ``perc`` the share; ranks come class, family, order,
# genus, kingdom, phylum, species; "other <taxon> <rank>" rows (no taxon_id) hold reads of a taxon not classified
# further, and "<genus> species" rows the unnamed species of a genus; Thryve adds tags, health_effects and
# associated_diseases. Two quirks of the real files are kept: the phylum Bacteroidetes carries the taxon_id of the
# class Bacteroidia (200643), and Actinobacteria is the name of both a phylum and a class.
PROFILE = (
    '"taxon_id","rank","name","parent","count","rank_count","perc"\n'
    '"186801","class","Clostridia","Firmicutes","600","1000","0.6"\n'
    '"200643","class","Bacteroidia","Bacteroidetes","380","1000","0.38"\n'
    '"1760","class","Actinobacteria","Actinobacteria","20","1000","0.02"\n'
    '"186803","family","Lachnospiraceae","Clostridiales","350","990","0.3535353535353535"\n'
    '"216572","family","Oscillospiraceae","Clostridiales","240","990","0.24242424242424243"\n'
    '"815","family","Bacteroidaceae","Bacteroidales","380","990","0.3838383838383838"\n'
    '"31953","family","Bifidobacteriaceae","Bifidobacteriales","20","990","0.020202020202020204"\n'
    '"186802","order","Clostridiales","Clostridia","600","1000","0.6"\n'
    '"171549","order","Bacteroidales","Bacteroidia","380","1000","0.38"\n'
    '"85004","order","Bifidobacteriales","Actinobacteria","20","1000","0.02"\n'
    '"841","genus","Roseburia","Lachnospiraceae","200","970","0.20618556701030927"\n'
    '"572511","genus","Blautia","Lachnospiraceae","130","970","0.13402061855670103"\n'
    '"","genus","other Lachnospiraceae family","Lachnospiraceae","20","970","0.020618556701030927"\n'
    '"216851","genus","Faecalibacterium","Oscillospiraceae","240","970","0.24742268041237114"\n'
    '"816","genus","Bacteroides","Bacteroidaceae","360","970","0.3711340206185567"\n'
    '"1678","genus","Bifidobacterium","Bifidobacteriaceae","20","970","0.020618556701030927"\n'
    '"2","kingdom","Bacteria","","1000","1000","1"\n'
    '"1239","phylum","Firmicutes","Bacteria","600","1000","0.6"\n'
    '"200643","phylum","Bacteroidetes","Bacteria","380","1000","0.38"\n'
    '"201174","phylum","Actinobacteria","Bacteria","20","1000","0.02"\n'
    '"853","species","Faecalibacterium prausnitzii","Faecalibacterium","240","620","0.3870967741935484"\n'
    '"","species","Bacteroides species","Bacteroides","360","620","0.5806451612903226"\n'
    '"","species","other Lachnospiraceae family","other Lachnospiraceae family","20","620","0.03225806451612903"\n'
)


def test_abundance_profile(tmp_path: Path) -> None:
    path = tmp_path / "GJKE4_abundance_profile.csv"
    path.write_text(PROFILE)
    assert detect_format(path) == "abundance-profile"
    table = read_table(path)
    counts = {"Roseburia": 200, "Blautia": 130, "other Lachnospiraceae family": 20, "Faecalibacterium": 240,
              "Bacteroides": 360, "Bifidobacterium": 20}
    assert dict(zip(table.feature_ids, table.data.toarray()[0], strict=True)) == counts
    assert table.sample_depths()[0] == 970  # the genus rows' rank_count: not every rank summed
    shannon = alpha_diversity("shannon", [list(counts.values())], base=2).iloc[0]
    assert our_alpha(table)["shannon"].iloc[0] == pytest.approx(shannon, rel=1e-12)
    # lineage rebuilt from the parents' names, whatever the ids say
    assert table.taxonomy["Roseburia"] == ["Bacteria", "Firmicutes", "Clostridia", "Clostridiales",
                                           "Lachnospiraceae", "Roseburia"]
    assert table.taxonomy["Bacteroides"] == ["Bacteria", "Bacteroidetes", "Bacteroidia", "Bacteroidales",
                                             "Bacteroidaceae", "Bacteroides"]
    assert table.taxonomy["Bifidobacterium"] == ["Bacteria", "Actinobacteria", "Actinobacteria", "Bifidobacteriales",
                                                 "Bifidobacteriaceae", "Bifidobacterium"]
    # reads of the family not classified to a genus: their own feature, with no genus in the lineage
    assert table.taxonomy["other Lachnospiraceae family"] == ["Bacteria", "Firmicutes", "Clostridia",
                                                              "Clostridiales", "Lachnospiraceae"]
    assert table.phylum_counts[table.sample_ids[0]] == {"Firmicutes": 600, "Bacteroidetes": 380, "Actinobacteria": 20}
    species = read_table(path, "species")
    assert species.sample_depths()[0] == 620
    assert species.taxonomy["Faecalibacterium prausnitzii"][-2:] == ["Faecalibacterium", "Faecalibacterium prausnitzii"]
    assert species.taxonomy["Bacteroides species"][-1] == "Bacteroides"  # an unnamed species: no species name


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


def test_report_phylum_summary_uses_the_tests_own_phylum_rows(tmp_path: Path) -> None:
    """The report's phylum summary of a uBiome sample is the file's phylum rows, as shares of their total (the
    sample imported from the JSON and from the CSV: one sample id twice, each found by its own stored row)."""
    ws = Workspace(tmp_path / "ws", create=True)
    files = [JSON_150815, JSON_150815.with_suffix(".csv")]
    assert [r.status for r in import_files(ws, workspace_athlete(ws), files, workers=1)] == ["ok", "ok"]
    content = compose(gather(ws, workspace_athlete(ws)))
    section = content["microbiome"]
    summary, twin = section["phylum_summary"]
    assert [s["sample"] for s in section["phylum_summary"]] == [s["sample_id"] for s in section["samples"]]
    assert {summary["sample"], twin["sample"]} == {"sprague-ubiome-150815#1", "sprague-ubiome-150815#2"}
    assert summary["source"] == twin["source"] == "test's own phylum counts"
    assert twin["phyla"] == summary["phyla"]
    rows = genus_counts(JSON_150815, "phylum")  # read with the json module
    total = sum(rows.values())
    ranked = sorted(rows, key=lambda name: (-rows[name], name))
    listed = summary["phyla"]
    assert [p["name"] for p in listed] == ranked[:6] + ["other"]
    assert [p["share"] for p in listed[:6]] == pytest.approx([rows[name] / total for name in ranked[:6]])
    assert listed[6]["share"] == pytest.approx(sum(rows[name] for name in ranked[6:]) / total)
    assert summary["unclassified_share"] == 0.0  # every phylum row names a phylum
    assert "health" in section["phylum_note"]
    # the report page shows both samples' rows, saying where the shares come from
    html = render_html(content)
    top = f"{ranked[0]} {100 * rows[ranked[0]] / total:.1f}%"
    assert html.count(f"<td>{top}; ") == 2 and html.count("s own phylum counts</td>") == 2  # test&#39;s, escaped
