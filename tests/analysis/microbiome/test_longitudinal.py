"""Longitudinal helpers: first differences and distances, distance to baseline, paired Wilcoxon (scipy)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import pdist, squareform
from scipy.stats import wilcoxon

from gutstride.analysis.microbiome.longitudinal import (
    distance_to_baseline,
    first_differences,
    first_distances,
    paired_wilcoxon,
)
from gutstride.errors import BadInputError, MissingDataError

# Two subjects; A sampled at weeks 0, 2, 4 (listed out of order), B at weeks 2 and 4 only.
VALUES = {"A4": 7.0, "A0": 5.0, "A2": 6.5, "B2": 3.0, "B4": 2.0}
SUBJECTS = {s: s[0] for s in VALUES}
TIMES = {s: float(s[1:]) for s in VALUES}


def test_first_differences_by_hand() -> None:
    rows = first_differences(VALUES, SUBJECTS, TIMES)["rows"]
    assert {(r["sample_id"], r["reference"]): r["difference"] for r in rows} == {
        ("A2", "A0"): 1.5, ("A4", "A2"): 0.5, ("B4", "B2"): -1.0}
    result = first_differences(VALUES, SUBJECTS, TIMES, baseline=0)
    assert {r["sample_id"]: r["difference"] for r in result["rows"]} == {"A2": 1.5, "A4": 2.0}
    assert result["left_out"] == ["B"]  # no sample at the baseline week


def test_distances_by_hand() -> None:
    ids = list(VALUES)
    points = np.array([[VALUES[s], TIMES[s]] for s in ids])
    dm = squareform(pdist(points))
    d = {(a, b): dm[ids.index(a), ids.index(b)] for a in ids for b in ids}
    rows = first_distances(dm, ids, SUBJECTS, TIMES)["rows"]
    assert {r["sample_id"]: r["distance"] for r in rows} == {"A2": d["A0", "A2"], "A4": d["A2", "A4"],
                                                             "B4": d["B2", "B4"]}
    rows = distance_to_baseline(dm, ids, SUBJECTS, TIMES)["rows"]
    assert {r["sample_id"]: r["distance"] for r in rows} == {"A2": d["A0", "A2"], "A4": d["A0", "A4"],
                                                             "B4": d["B2", "B4"]}
    with pytest.raises(MissingDataError, match="no subject or time"):
        first_distances(dm, ids + ["C0"], SUBJECTS, TIMES)


def test_replicates_are_refused() -> None:
    with pytest.raises(BadInputError, match="more than one sample at one time"):
        first_differences({"x": 1.0, "y": 2.0}, {"x": "P", "y": "P"}, {"x": 1.0, "y": 1.0})


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(-10, 10), st.floats(-10, 10)), min_size=6, max_size=25), st.booleans())
def test_paired_wilcoxon_equals_scipy(pairs: list[tuple[float, float]], missing: bool) -> None:
    values, subjects, times = {}, {}, {}
    for k, (before, after) in enumerate(pairs):
        for t, v in ((0.0, before), (1.0, after)):
            values[f"P{k}-{t}"], subjects[f"P{k}-{t}"], times[f"P{k}-{t}"] = v, f"P{k}", t
    if missing:
        del values["P0-1.0"]
    diffs = [a - b for k, (b, a) in enumerate(pairs) if not (missing and k == 0)]
    if all(d == 0 for d in diffs):
        return
    result = paired_wilcoxon(values, subjects, times, before=0, after=1)
    expected = wilcoxon(diffs)
    assert result["statistic"] == pytest.approx(float(expected.statistic))
    assert result["p_value"] == pytest.approx(float(expected.pvalue))
    assert result["n_pairs"] == len(diffs) and result["left_out"] == (["P0"] if missing else [])
