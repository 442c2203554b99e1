"""Change over time and the microbiome findings, on tables whose answers can be worked out by hand."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial.distance import braycurtis

from gutstride.analysis.microbiome.change import microbiome_findings, sample_changes
from gutstride.analysis.microbiome.reference import MetricReference, ReferenceCohort, metric_reference
from gutstride.model.feature_table import FeatureTable

GENERA = ["Bacteroides", "Faecalibacterium", "Roseburia", "Akkermansia", "Prevotella"]


def lineage(genus: str) -> list[str]:
    return ["Bacteria", "Firmicutes", "Clostridia", "Clostridiales", "Family", genus]


def table(rows: list[list[float]]) -> FeatureTable:
    ids = [f"s{i}" for i in range(len(rows))]
    return FeatureTable(sp.csr_array(np.array(rows, dtype=float)), ids, [f"f{j}" for j in range(len(GENERA))],
                        {f"f{j}": lineage(g) for j, g in enumerate(GENERA)})


def reference(between: list[float], within: list[float] | None = None) -> ReferenceCohort:
    metrics: dict[str, MetricReference] = {"between_person_braycurtis": metric_reference(np.array(between))}
    if within is not None:
        metrics["within_person_braycurtis"] = metric_reference(np.array(within))
    return ReferenceCohort("test cohort", "made up", 50, 1000, metrics, taxonomy="Greengenes 13_8")


def test_consecutive_changes_in_date_order_with_genus_braycurtis() -> None:
    rows = [[600, 200, 100, 100, 0], [400, 300, 100, 0, 200], [500, 250, 150, 100, 0]]
    dates = [date(2026, 6, 1), date(2026, 1, 1), date(2026, 3, 1)]  # out of order on purpose
    changes = sample_changes(table(rows), dates, reference(list(np.linspace(0.1, 0.9, 50))))
    assert [(c["from"], c["to"]) for c in changes] == [("s1", "s2"), ("s2", "s0")]
    shares = [np.array(r) / sum(r) for r in rows]
    assert changes[0]["braycurtis"] == pytest.approx(braycurtis(shares[1], shares[2]))
    assert changes[1]["braycurtis"] == pytest.approx(braycurtis(shares[2], shares[0]))
    top = changes[0]["top_changes"][0]
    assert top["genus"] == "Prevotella" and top["before"] == pytest.approx(0.2) and top["after"] == 0.0
    # distances between different people cannot say how much one person's microbiome moves
    assert changes[0]["compared_with"] is None and changes[0]["judged"] is False
    assert changes[0]["judgement"] == "no within-person reference: this change cannot be judged"


def test_within_person_reference_is_preferred_when_the_cohort_has_one() -> None:
    rows = [[500, 500, 0, 0, 0], [100, 900, 0, 0, 0]]
    changes = sample_changes(table(rows), [date(2026, 1, 1), date(2026, 2, 1)],
                             reference(list(np.linspace(0.5, 0.9, 30)), list(np.linspace(0.05, 0.3, 30))))
    (change,) = changes
    assert change["compared_with"]["distribution"] == "within_person_braycurtis"
    assert change["braycurtis"] == pytest.approx(0.4)
    assert change["compared_with"]["percentile"] == 100.0  # larger than every within-person change


def test_findings_directions_and_not_enough_data() -> None:
    one = table([[700, 10, 5, 5, 280]])
    findings = {f.id: f for f in microbiome_findings(one, [date(2026, 1, 1)], None)}
    assert findings["microbiome.diversity_percentile"].direction == "not_enough_data"
    assert findings["microbiome.change_between_samples"].direction == "not_enough_data"
    # butyrate producers (Faecalibacterium + Roseburia) at 1.5% against a reference whose quartiles are 5-15%
    ref = ReferenceCohort("ref", "made up", 100, 1000, {
        "butyrate_producers": metric_reference(np.linspace(0.0, 0.2, 101)),
        "shannon": metric_reference(np.linspace(0.5, 4.0, 101)),
    }, taxonomy="Greengenes 13_8")
    found = {f.id: f for f in microbiome_findings(one, [date(2026, 1, 1)], ref)}
    butyrate = found["microbiome.butyrate_producers"]
    assert butyrate.direction == "below" and butyrate.value == pytest.approx(7.5, abs=0.6)
    assert butyrate.detail["raw_value"] == pytest.approx(15 / 1000)
    assert butyrate.claim_id == "butyrate-producers-guild" and butyrate.n == 1
