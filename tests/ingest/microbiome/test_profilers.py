"""MetaPhlAn profiles, Kraken reports and Bracken outputs written in tmp_path in their documented layouts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gutstride.errors import BadInputError
from gutstride.ingest.microbiome.read import read_table, sniff_microbiome_format

from .conftest import dense

#: A small community: lineage (domain..species) -> reads. Abundances of every clade are sums of these.
COMMUNITY = {
    ("Bacteria", "Firmicutes", "Clostridia", "Eubacteriales", "Oscillospiraceae", "Faecalibacterium",
     "Faecalibacterium prausnitzii"): 450,
    ("Bacteria", "Firmicutes", "Clostridia", "Eubacteriales", "Lachnospiraceae", "Roseburia",
     "Roseburia intestinalis"): 150,
    ("Bacteria", "Bacteroidetes", "Bacteroidia", "Bacteroidales", "Bacteroidaceae", "Bacteroides",
     "Bacteroides vulgatus"): 300,
    ("Bacteria", "Bacteroidetes", "Bacteroidia", "Bacteroidales", "Bacteroidaceae", "Bacteroides",
     "Bacteroides uniformis"): 60,
    ("Archaea", "Euryarchaeota", "Methanobacteria", "Methanobacteriales", "Methanobacteriaceae",
     "Methanobrevibacter", "Methanobrevibacter smithii"): 40,
}
TOTAL = sum(COMMUNITY.values())
LETTERS = "kpcofgs"
KRAKEN_CODES = "DPCOFGS"


def clades() -> list[tuple[tuple[str, ...], int]]:
    """Every clade (lineage prefix) with its reads, in MetaPhlAn's order: by depth, then by abundance."""
    sums: dict[tuple[str, ...], int] = {}
    for lineage, reads in COMMUNITY.items():
        for depth in range(1, len(lineage) + 1):
            sums[lineage[:depth]] = sums.get(lineage[:depth], 0) + reads
    return sorted(sums.items(), key=lambda item: (len(item[0]), -item[1]))


def mpa_name(clade: tuple[str, ...]) -> str:
    return "|".join(f"{LETTERS[i]}__{name.replace(' ', '_')}" for i, name in enumerate(clade))


def metaphlan_v3(unclassified: float = 0.0) -> str:
    lines = [
        "#mpa_v30_CHOCOPhlAn_201901",
        "#/usr/local/bin/metaphlan sample.fastq --input_type fastq -o profile.txt",
        "#SampleID\tMetaphlan_Analysis",
        "#clade_name\tNCBI_tax_id\trelative_abundance\tadditional_species",
    ]
    if unclassified:
        lines.append(f"UNCLASSIFIED\t-1\t{unclassified:.5f}\t")
    scale = (100.0 - unclassified) / TOTAL
    for taxid, (clade, reads) in enumerate(clades(), start=1):
        taxids = "|".join(str(taxid * 10 + i) for i in range(len(clade)))
        extra = "k__Bacteria|p__Bacteroidetes|s__Bacteroides_dorei" if clade[-1] == "Bacteroides vulgatus" else ""
        lines.append(f"{mpa_name(clade)}\t{taxids}\t{reads * scale:.5f}\t{extra}")
        if len(clade) == 7:  # MetaPhlAn 4 adds the SGB below each species
            lines.append(f"{mpa_name(clade)}|t__SGB{taxid}\t{taxids}|\t{reads * scale:.5f}\t")
    return "\n".join(lines) + "\n"


def species_fractions() -> dict[str, float]:
    return {f"s__{lineage[-1].replace(' ', '_')}": reads / TOTAL for lineage, reads in COMMUNITY.items()}


def kraken_report(minimizers: bool = False, unclassified: int = 25) -> str:
    total = TOTAL + unclassified

    def line(reads: int, direct: int, code: str, taxid: int, depth: int, name: str) -> str:
        cols = [f"{100 * reads / total:6.2f}", str(reads), str(direct)]
        if minimizers:
            cols += [str(reads * 40), str(reads * 30)]
        return "\t".join([*cols, code, str(taxid), "  " * depth + name])

    lines = [line(unclassified, unclassified, "U", 0, 0, "unclassified"), line(TOTAL, 0, "R", 1, 0, "root"),
             line(TOTAL, 0, "R1", 131567, 1, "cellular organisms")]

    def walk(prefix: tuple[str, ...], depth: int) -> None:
        children = sorted({lin[: len(prefix) + 1] for lin in COMMUNITY if lin[: len(prefix)] == prefix},
                          key=lambda c: -sum(r for lin, r in COMMUNITY.items() if lin[: len(c)] == c))
        for child in children:
            reads = sum(r for lin, r in COMMUNITY.items() if lin[: len(child)] == child)
            level = len(child) - 1
            if level == 6:  # a species with part of its reads on a strain (S1) below it
                strain = reads // 3
                lines.append(line(reads, reads - strain, "S", 1000 + len(lines), depth, child[-1]))
                lines.append(line(strain, strain, "S1", 2000 + len(lines), depth + 1, child[-1] + " strain X"))
            else:
                lines.append(line(reads, 0, KRAKEN_CODES[level], 1000 + len(lines), depth, child[-1]))
                walk(child, depth + 1)

    walk((), 2)
    return "\n".join(lines) + "\n"


def test_metaphlan_v3_keeps_species_once(tmp_path: Path) -> None:
    path = tmp_path / "sample42_profile.txt"
    path.write_text(metaphlan_v3())
    assert sniff_microbiome_format(path.read_bytes(), path.name) == "metaphlan"
    table = read_table(path)
    expected = species_fractions()
    assert table.sample_ids == ["sample42_profile"] and set(table.feature_ids) == set(expected)
    np.testing.assert_allclose(dense(table)[0], [expected[f] for f in table.feature_ids], rtol=1e-5)
    assert table.value_kind == "proportions"
    assert table.taxonomy["s__Faecalibacterium_prausnitzii"] == [
        "Bacteria", "Firmicutes", "Clostridia", "Eubacteriales", "Oscillospiraceae", "Faecalibacterium",
        "Faecalibacterium prausnitzii",
    ]


def test_metaphlan_v4_drops_sgb_and_unclassified(tmp_path: Path) -> None:
    path = tmp_path / "v4.txt"
    text = metaphlan_v3(unclassified=12.5)
    path.write_text(text.replace("#mpa_v30_CHOCOPhlAn_201901", "#mpa_vJan21_CHOCOPhlAnSGB_202103"))
    table = read_table(path)
    expected = species_fractions()  # species closed to 1 among classified reads
    assert set(table.feature_ids) == set(expected)
    np.testing.assert_allclose(dense(table)[0], [expected[f] for f in table.feature_ids], rtol=1e-5)


def test_merged_metaphlan_table(tmp_path: Path) -> None:
    rows = ["#mpa_vJan21_CHOCOPhlAnSGB_202103", "clade_name\tS1\tS2"]
    for clade, reads in clades():
        rows.append(f"{mpa_name(clade)}\t{100 * reads / TOTAL:.5f}\t{100.0 if clade == ('Bacteria',) else 0.0}")
    rows.append("k__Bacteria|p__Firmicutes|c__Bacilli|o__Lactobacillales|f__Lactobacillaceae|g__Lactobacillus|"
                "s__Lactobacillus_ruminis\t0.0\t100.0")
    path = tmp_path / "merged_abundance_table.txt"
    path.write_text("\n".join(rows) + "\n")
    table = read_table(path)
    assert table.sample_ids == ["S1", "S2"]
    assert dense(table)[1, table.feature_ids.index("s__Lactobacillus_ruminis")] == 1.0


def test_malformed_metaphlan(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(metaphlan_v3() + "k__Bacteria|p__Firmicutes|c__C|o__O|f__F|g__G|s__G_x\t1|2\tabc\t\n")
    with pytest.raises(BadInputError, match=r"bad.txt: line \d+, column 'relative_abundance': 'abc' is not a number"):
        read_table(path)


@pytest.mark.parametrize("minimizers", [False, True])
def test_kraken_report_species_clade_reads(tmp_path: Path, minimizers: bool) -> None:
    path = tmp_path / "S7.kreport"
    path.write_text(kraken_report(minimizers))
    assert sniff_microbiome_format(path.read_bytes(), path.name) == "kraken"
    table = read_table(path)
    expected = {lineage[-1]: reads for lineage, reads in COMMUNITY.items()}
    assert table.sample_ids == ["S7"] and set(table.feature_ids) == set(expected)
    np.testing.assert_array_equal(dense(table)[0], [expected[f] for f in table.feature_ids])  # S1 reads included
    assert table.value_kind == "counts"
    lineage = next(lin for lin in COMMUNITY if lin[-1] == "Methanobrevibacter smithii")
    assert table.taxonomy["Methanobrevibacter smithii"] == list(lineage)


def test_malformed_kraken(tmp_path: Path) -> None:
    lines = kraken_report().splitlines()
    lines[4] = lines[4].replace("\t", " ", 1)
    path = tmp_path / "bad.kreport"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(BadInputError, match="bad.kreport: line 5: 5 tab-separated columns, expected 6 or 8"):
        read_table(path)
    lines = kraken_report().splitlines()
    fields = lines[6].split("\t")
    fields[1] = "12.5"
    lines[6] = "\t".join(fields)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(BadInputError, match=r"line 7, column 2 \(clade reads\): '12.5' is not a whole number"):
        read_table(path)


def bracken_output() -> str:
    header = "name\ttaxonomy_id\ttaxonomy_lvl\tkraken_assigned_reads\tadded_reads\tnew_est_reads\tfraction_total_reads"
    rows = [header]
    for i, (lineage, reads) in enumerate(COMMUNITY.items()):
        assigned = reads * 2 // 3
        rows.append(f"{lineage[-1]}\t{500 + i}\tS\t{assigned}\t{reads - assigned}\t{reads}\t{reads / TOTAL:.5f}")
    return "\n".join(rows) + "\n"


def test_bracken_output(tmp_path: Path) -> None:
    path = tmp_path / "S9.bracken"
    path.write_text(bracken_output())
    assert sniff_microbiome_format(path.read_bytes(), path.name) == "bracken"
    table = read_table(path)
    expected = {lineage[-1]: reads for lineage, reads in COMMUNITY.items()}
    assert table.sample_ids == ["S9"]
    np.testing.assert_array_equal(dense(table)[0], [expected[f] for f in table.feature_ids])
    assert table.taxonomy["Roseburia intestinalis"] == ["", "", "", "", "", "Roseburia", "Roseburia intestinalis"]


def test_combined_bracken_outputs(tmp_path: Path) -> None:
    rows = ["name\ttaxonomy_id\ttaxonomy_lvl\tA.bracken_num\tA.bracken_frac\tB.bracken_num\tB.bracken_frac"]
    rows += ["Faecalibacterium prausnitzii\t853\tS\t10\t0.5\t0\t0.0", "Bacteroides vulgatus\t821\tS\t10\t0.5\t4\t1.0"]
    path = tmp_path / "combined.txt"
    path.write_text("\n".join(rows) + "\n")
    table = read_table(path)
    assert table.sample_ids == ["A.bracken", "B.bracken"]
    np.testing.assert_array_equal(dense(table), [[10, 10], [0, 4]])


def test_malformed_bracken(tmp_path: Path) -> None:
    path = tmp_path / "bad.bracken"
    path.write_text(bracken_output().replace("\t300\t", "\t3x0\t"))
    with pytest.raises(BadInputError, match=r"line 4, column new_est_reads: '3x0' is not a whole number"):
        read_table(path)
