"""Issue 15, microbiome honesty: same taxonomy only, never against itself, rarefaction ranges, change judged only
within a person, samples of different people never presented as one person's change."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from gutstride.analysis.microbiome.change import NO_WITHIN_PERSON, microbiome_findings, sample_changes
from gutstride.analysis.microbiome.reference import (
    build_reference,
    sample_fingerprint,
    sample_metrics,
    sample_percentiles,
)
from gutstride.analysis.microbiome.taxa import GREENGENES_MISSING, detect_taxonomy
from gutstride.ingest.microbiome.cohort import cohort_subset
from gutstride.ingest.microbiome.read import read_table
from gutstride.ingest.microbiome.taxonomy import normalise_lineage
from gutstride.model.feature_table import FeatureTable
from gutstride.services.reference import load_default_reference

AG = Path(__file__).parents[2] / "data" / "microbiome" / "american-gut" / "AG_debug"


@pytest.fixture(scope="module")
def cohort() -> tuple[FeatureTable, list[str]]:
    table, hosts = cohort_subset(read_table(AG / "AG_100nt.biom.gz"), AG / "AG_100nt.txt",
                                 ["BODY_SITE=UBERON:feces"], "HOST_SUBJECT_ID")
    assert hosts is not None
    return table, hosts


def subset(table: FeatureTable, rows: list[int]) -> FeatureTable:
    data = sp.csr_array(table.data)[rows, :]
    ids = [table.sample_ids[i] for i in rows]
    return FeatureTable(data, ids, list(table.feature_ids), dict(table.taxonomy), table.value_kind,
                        {i: table.sample_metadata.get(i, {}) for i in ids})


def relabelled(table: FeatureTable, lineage: dict[str, str]) -> FeatureTable:
    """The same counts with every feature's lineage replaced (by genus name) as another taxonomy writes it."""
    taxonomy = {}
    for fid in table.feature_ids:
        genus = (table.taxonomy.get(fid) or [""] * 6)[5:6]
        taxonomy[fid] = normalise_lineage(lineage.get(genus[0] if genus else "", lineage["*"]))
    return FeatureTable(table.data, list(table.sample_ids), list(table.feature_ids), taxonomy, table.value_kind)


SILVA = {"*": "d__Bacteria; p__Firmicutes; c__Clostridia; o__Lachnospirales; f__Lachnospiraceae; "
              "g__Lachnospiraceae_NK4A136_group",
         "Bacteroides": "d__Bacteria; p__Bacteroidota; c__Bacteroidia; o__Bacteroidales; f__Bacteroidaceae; "
                        "g__Bacteroides"}
GTDB = {"*": "d__Bacteria;p__Firmicutes_A;c__Clostridia;o__Lachnospirales;f__Lachnospiraceae;g__Agathobacter",
        "Bacteroides": "d__Bacteria;p__Bacteroidota;c__Bacteroidia;o__Bacteroidales;f__Bacteroidaceae;"
                       "g__Phocaeicola"}
NCBI = {"*": "Bacteria;Firmicutes;Clostridia;Eubacteriales;Lachnospiraceae;Agathobacter"}


def test_taxonomy_is_told_apart_from_the_names(cohort: tuple[FeatureTable, list[str]]) -> None:
    table, _ = cohort
    assert detect_taxonomy(table) == "Greengenes"
    assert load_default_reference().taxonomy == "Greengenes 13_8"
    assert detect_taxonomy(relabelled(table, SILVA)) == "SILVA"
    assert detect_taxonomy(relabelled(table, GTDB)) == "GTDB"
    assert detect_taxonomy(relabelled(table, NCBI)) == "other"
    genus_only = FeatureTable(table.data, table.sample_ids, table.feature_ids,
                              {f: ["", "", "", "", "", "Bacteroides"] for f in table.feature_ids})
    assert detect_taxonomy(genus_only) == "unknown"
    # Greengenes 13_8 names none of these butyrate producers: the guild under-counts on it
    genera = {(lin or [""] * 7)[5:6][0] if lin and len(lin) > 5 else "" for lin in table.taxonomy.values()}
    assert not {"Agathobacter", "Anaerobutyricum", "Subdoligranulum"} & genera
    assert "Agathobacter" in GREENGENES_MISSING


def test_a_sample_from_another_taxonomy_gets_a_note_not_a_percentile(cohort: tuple[FeatureTable, list[str]]) -> None:
    table, _ = cohort
    reference = load_default_reference()
    silva = relabelled(subset(table, [0, 1]), SILVA)
    (placed, _second) = sample_percentiles(silva, reference, n_rarefactions=2)
    assert placed["comparable"] is False and placed["shannon_percentile"] is None and placed["percentiles"] == {}
    assert "SILVA" in placed["note"] and "Greengenes 13_8" in placed["note"]
    by_id = {f.id: f for f in microbiome_findings(silva, [date(2026, 1, 1), date(2026, 3, 1)], reference)}
    diversity = by_id["microbiome.diversity_percentile"]
    assert diversity.direction == "not_enough_data" and "no percentile" in diversity.summary
    shotgun = sample_percentiles(subset(table, [0]), reference, formats=["metaphlan"], n_rarefactions=1)[0]
    assert shotgun["comparable"] is False and "shotgun" in shotgun["note"]


def test_a_sample_is_never_compared_with_itself(cohort: tuple[FeatureTable, list[str]]) -> None:
    table, hosts = cohort
    reference = load_default_reference()
    i = 7
    one = subset(table, [i])
    fingerprint = sample_fingerprint(one, 0)
    assert fingerprint == sample_fingerprint(table, i)
    assert reference.member(fingerprint) is not None and reference.member(fingerprint).host == hosts[i]
    placed = sample_percentiles(one, reference, n_rarefactions=1)[0]
    assert placed["in_reference"] and placed["host"] == hosts[i]
    # the reference without it, rebuilt independently from the other 142 samples
    others = [k for k in range(len(table.sample_ids)) if k != i]
    rebuilt = build_reference(subset(table, others), "rest", "test", [hosts[k] for k in others])
    left_out = reference.without(fingerprint)
    assert left_out.n_samples == rebuilt.n_samples == 142
    for key in ("butyrate_producers", "akkermansia", "faecalibacterium"):  # all reads: no random subsample
        np.testing.assert_allclose(left_out.metrics[key].quantiles, rebuilt.metrics[key].quantiles, atol=1e-12)
        value = float(sample_metrics(one)[key][0])
        assert placed["percentiles"][key] == pytest.approx(rebuilt.metrics[key].percentile(value))
    # diversity is rarefied with one random stream over the whole cohort, so a rebuild draws differently; the grid
    # left out must still rest on the other 142 members' values only
    assert "shannon" in reference.member(fingerprint).values
    others_values = [m.values["shannon"] for m in reference.members
                     if m.fingerprint != fingerprint and "shannon" in m.values]
    assert left_out.metrics["shannon"].n == reference.metrics["shannon"].n - 1 == len(others_values)
    np.testing.assert_allclose(left_out.metrics["shannon"].quantiles, np.percentile(others_values, np.arange(101)))
    # a sample that is not a member is compared with the whole reference
    changed = FeatureTable(one.data * 2, ["doubled"], one.feature_ids, one.taxonomy)
    assert not sample_percentiles(changed, reference, n_rarefactions=1)[0]["in_reference"]


def test_the_percentile_has_a_range_over_repeated_rarefactions(cohort: tuple[FeatureTable, list[str]]) -> None:
    table, _ = cohort
    reference = load_default_reference()
    two = subset(table, [3, 11])
    placed = sample_percentiles(two, reference, n_rarefactions=12, seed=5)
    for j, row in enumerate(placed):
        low, high = row["shannon_percentile_range"]
        assert low <= row["shannon_percentile"] <= high and low < high
        fair = reference.without(sample_fingerprint(two, j))
        runs = [fair.metrics["shannon"].percentile(float(sample_metrics(two, 1000, 5 + k)["shannon"][j]))
                for k in range(12)]
        assert (low, high) == pytest.approx((min(runs), max(runs)))
        assert row["shannon_percentile"] == pytest.approx(float(np.median(runs)))
    single = sample_percentiles(two, reference, n_rarefactions=1)[0]["shannon_percentile_range"]
    assert single[0] == single[1]


def test_change_is_judged_only_against_repeated_samples_of_one_person(
        cohort: tuple[FeatureTable, list[str]]) -> None:
    table, _ = cohort
    dates = [date(2026, 1, 1), date(2026, 4, 1)]
    # not members of the reference (counts changed), so not known to be different people
    pair = FeatureTable(sp.csr_array(table.data)[[0, 1], :] * 3, ["a", "b"], table.feature_ids, table.taxonomy)
    (change,) = sample_changes(pair, dates, load_default_reference())
    assert change["judged"] is False and change["judgement"] == NO_WITHIN_PERSON and change["compared_with"] is None
    finding = next(f for f in microbiome_findings(pair, dates, load_default_reference())
                   if f.id == "microbiome.change_between_samples")
    assert finding.direction == "not_enough_data" and NO_WITHIN_PERSON in finding.summary
    # a reference with repeated samples of the same people (hosts shared by pairs of samples) can judge it
    paired_hosts = [f"h{k // 2}" for k in range(40)]
    within = build_reference(subset(table, list(range(2, 42))), "paired", "test", paired_hosts)
    assert "within_person_braycurtis" in within.metrics
    (judged,) = sample_changes(pair, dates, within)
    assert judged["judged"] is True and judged["compared_with"]["distribution"] == "within_person_braycurtis"


def test_samples_of_different_people_are_not_one_persons_change(cohort: tuple[FeatureTable, list[str]]) -> None:
    table, hosts = cohort
    people = subset(table, [0, 1])
    assert hosts[0] != hosts[1]
    (change,) = sample_changes(people, [date(2026, 1, 1), date(2026, 4, 1)], load_default_reference())
    assert change["different_people"] is True and change["judged"] is False
    assert "two different people" in change["judgement"] and hosts[0] in change["judgement"]


def test_the_callers_placements_and_changes_are_the_ones_computed_inside(
        cohort: tuple[FeatureTable, list[str]]) -> None:
    from gutstride.analysis.microbiome.change import key_taxa_table

    table, _hosts = cohort
    reference = load_default_reference()
    three = subset(table, [7, 8, 9])  # members of the reference: compared with it without themselves
    dates = [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    placements = sample_percentiles(three, reference)
    changes = sample_changes(three, dates, reference)
    assert key_taxa_table(three, reference, placements=placements) == key_taxa_table(three, reference)
    assert (microbiome_findings(three, dates, reference, placements=placements, changes=changes)
            == microbiome_findings(three, dates, reference))
    # what is passed is what is read: placements that compare nothing give no percentile
    apart = [{**p, "comparable": False} for p in placements]
    assert all(row["percentile"] is None for row in key_taxa_table(three, reference, placements=apart))
    found = {f.id: f for f in microbiome_findings(three, dates, reference, placements=placements, changes=[])}
    assert found["microbiome.change_between_samples"].summary.startswith("Change over time: not enough data yet")
