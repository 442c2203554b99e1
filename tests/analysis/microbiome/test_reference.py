"""Reference percentiles: the shipped American Gut reference, and the percentile arithmetic."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gutstride.analysis.microbiome.reference import (
    QUANTILES,
    ReferenceCohort,
    build_reference,
    metric_reference,
)
from gutstride.errors import BadInputError
from gutstride.ingest.microbiome.cohort import cohort_subset
from gutstride.ingest.microbiome.read import read_table
from gutstride.services.reference import load_default_reference

MICROBIOME = Path(__file__).parents[2] / "data" / "microbiome"

AG = MICROBIOME / "american-gut" / "AG_debug"


def test_shipped_reference_is_rebuilt_from_the_american_gut_faecal_samples() -> None:
    table, hosts = cohort_subset(read_table(AG / "AG_100nt.biom.gz"), AG / "AG_100nt.txt",
                                 ["BODY_SITE=UBERON:feces"], "HOST_SUBJECT_ID")
    shipped = load_default_reference()
    rebuilt = build_reference(table, shipped.name, shipped.origin, hosts, taxonomy="Greengenes 13_8")
    assert shipped.n_samples == rebuilt.n_samples == 143
    assert shipped.taxonomy == rebuilt.taxonomy == "Greengenes 13_8"
    assert build_reference(table, shipped.name, shipped.origin, hosts).taxonomy == "Greengenes"  # detected
    assert [(m.fingerprint, m.host) for m in shipped.members] == [(m.fingerprint, m.host) for m in rebuilt.members]
    for mine, theirs in zip(shipped.members, rebuilt.members, strict=True):
        assert mine.values == pytest.approx(theirs.values, rel=1e-9)
    assert set(shipped.metrics) == set(rebuilt.metrics)
    for key, metric in shipped.metrics.items():
        assert metric.n == rebuilt.metrics[key].n
        np.testing.assert_allclose(metric.quantiles, rebuilt.metrics[key].quantiles, rtol=1e-9, atol=1e-12)
    # no host has two faecal samples in this subset: no within-person distances, and the report must say so
    assert "within_person_braycurtis" not in shipped.metrics
    assert shipped.metrics["between_person_braycurtis"].n == 143 * 142 // 2


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1000, allow_nan=False), min_size=20, max_size=300, unique=True),
       st.floats(-10, 1010, allow_nan=False))
def test_percentile_agrees_with_the_empirical_rank(values: list[float], probe: float) -> None:
    ref = metric_reference(np.array(values))
    p = ref.percentile(probe)
    assert 0.0 <= p <= 100.0
    below = np.mean(np.array(values) < probe) * 100
    at_or_below = np.mean(np.array(values) <= probe) * 100
    # the quantile grid has 1-percentile steps: the interpolated rank is within one step (plus grid spacing)
    assert below - 100 / len(values) - 1.5 <= p <= at_or_below + 100 / len(values) + 1.5


def test_percentile_is_monotone_and_flat_runs_take_their_middle() -> None:
    ref = metric_reference(np.r_[np.zeros(50), np.arange(1, 51)])
    assert ref.percentile(0.0) == pytest.approx(np.mean(np.flatnonzero(np.array(ref.quantiles) == 0)))
    probes = np.linspace(-1, 60, 50)
    ranks = [ref.percentile(x) for x in probes]
    assert all(b >= a for a, b in zip(ranks, ranks[1:], strict=False))
    assert ref.percentile(-1) == 0.0 and ref.percentile(1e9) == 100.0


def test_reference_json_round_trip_and_bad_files() -> None:
    ref = ReferenceCohort("x", "y", 12, 1000, {"shannon": metric_reference(np.arange(12.0))})
    again = ReferenceCohort.from_json(ref.to_json())
    assert again == ref
    broken = json.loads(ref.to_json())
    broken["metrics"]["shannon"]["quantiles"] = list(reversed(broken["metrics"]["shannon"]["quantiles"]))
    with pytest.raises(BadInputError, match="non-decreasing"):
        ReferenceCohort.from_json(json.dumps(broken))
    with pytest.raises(BadInputError, match="not a gutstride reference"):
        ReferenceCohort.from_json("{}")
    assert len(QUANTILES) == 101


def test_reference_files_are_read_with_clear_errors(tmp_path: Path) -> None:
    from gutstride.errors import MissingDataError
    from gutstride.services.reference import read_reference

    ref = ReferenceCohort("x", "y", 12, 1000, {"shannon": metric_reference(np.arange(12.0))})
    (tmp_path / "ref.json").write_text(ref.to_json())
    assert read_reference(tmp_path / "ref.json") == ref
    with pytest.raises(MissingDataError, match="no such file"):
        read_reference(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("not json")
    with pytest.raises(BadInputError, match="bad.json: not a gutstride reference"):
        read_reference(tmp_path / "bad.json")
