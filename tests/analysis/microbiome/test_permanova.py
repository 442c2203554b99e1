"""PERMANOVA against scikit-bio: same pseudo-F, p-values within Monte-Carlo error; strata restrict permutations."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import biom
import numpy as np
import pytest
import scipy.sparse as sp
import skbio
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import pdist, squareform
from skbio.stats.distance import permanova as sk_permanova

from gutstride.analysis.microbiome.beta import beta_diversity
from gutstride.analysis.microbiome.permanova import permanova
from gutstride.errors import BadInputError
from gutstride.ingest.microbiome.metadata import read_sample_metadata
from gutstride.model.feature_table import FeatureTable

AG = Path(__file__).resolve().parents[2] / "data" / "microbiome" / "american-gut" / "AG_debug"


def monte_carlo_close(ours: float, theirs: float, permutations: int) -> bool:
    """Two permutation p-values agree within 4 standard errors of a Monte-Carlo estimate (plus one step)."""
    p = max(ours, theirs, 1.0 / (permutations + 1))
    return abs(ours - theirs) <= 4 * np.sqrt(p * (1 - p) / permutations) + 1.0 / (permutations + 1)


@pytest.mark.parametrize("column", ["SEX", "EXERCISE_FREQUENCY"])
def test_f_statistic_equals_skbio_on_american_gut(column: str) -> None:
    with gzip.open(AG / "AG_100nt.biom.gz", "rb") as handle:
        loaded = biom.Table.from_json(json.loads(handle.read()))
    ids = [str(s) for s in loaded.ids()]
    table = FeatureTable(sp.csr_matrix(loaded.matrix_data.T), ids, [str(f) for f in loaded.ids("observation")])
    dm, _, _ = beta_diversity(table, "braycurtis")
    _, metadata = read_sample_metadata(AG / "AG_100nt.txt")
    labels = {s: metadata[s].get(column) for s in ids}
    if column == "EXERCISE_FREQUENCY":  # the file spells each level two ways: "Regularly (3-5 times/week)"
        labels = {s: v.replace("(", "").replace(")", "") if v else v for s, v in labels.items()}
    keep = [k for k, s in enumerate(ids) if labels[s]]
    grouping = [labels[ids[k]] for k in keep]
    sub = dm[np.ix_(keep, keep)]
    ours = permanova(sub, grouping, permutations=99, seed=7)
    theirs = sk_permanova(skbio.DistanceMatrix(sub, [ids[k] for k in keep]), grouping, permutations=99, seed=7)
    assert ours["test_statistic"] == pytest.approx(theirs["test statistic"], rel=1e-9)
    assert ours["sample_size"] == theirs["sample size"] == len(keep)
    assert ours["number_of_groups"] == theirs["number of groups"]
    assert ours["permutations"] == 99 and ours["method"] == "PERMANOVA"
    assert monte_carlo_close(ours["p_value"], theirs["p-value"], 99)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(6, 30), n_groups=st.integers(2, 4))
def test_random_data_f_matches_skbio(seed: int, n: int, n_groups: int) -> None:
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(n, 3))
    grouping = [f"g{k % n_groups}" for k in range(n)]  # every group has at least one repeated label
    rng.shuffle(grouping)
    dm = squareform(pdist(points))
    ours = permanova(dm, grouping, permutations=99, seed=seed)
    theirs = sk_permanova(skbio.DistanceMatrix(dm), grouping, permutations=0)  # skbio's permutations are slow
    assert ours["test_statistic"] == pytest.approx(theirs["test statistic"], rel=1e-9)
    assert 1 / 100 <= ours["p_value"] <= 1.0


def test_strong_separation_gives_small_p_and_seed_repeats() -> None:
    rng = np.random.default_rng(1)
    points = np.vstack([rng.normal(0, 1, (15, 2)), rng.normal(6, 1, (15, 2))])
    grouping = ["a"] * 15 + ["b"] * 15
    dm = squareform(pdist(points))
    first = permanova(dm, grouping, permutations=199, seed=3)
    assert first["p_value"] == pytest.approx(1 / 200)
    assert permanova(dm, grouping, permutations=199, seed=3) == first


def test_permutations_stay_within_strata() -> None:
    # Groups equal to strata: shuffling within strata never changes the labelling, so every permuted F equals F.
    rng = np.random.default_rng(2)
    dm = squareform(pdist(rng.normal(size=(12, 2))))
    grouping = ["a"] * 6 + ["b"] * 6
    assert permanova(dm, grouping, permutations=50, seed=1, strata=grouping)["p_value"] == 1.0
    assert permanova(dm, grouping, permutations=50, seed=1)["p_value"] < 1.0


def test_no_permutations_gives_no_p_value() -> None:
    dm = squareform(pdist(np.arange(6.0)[:, None]))
    result = permanova(dm, list("aaabbb"), permutations=0)
    assert np.isnan(result["p_value"]) and result["test_statistic"] > 0


@pytest.mark.parametrize(
    ("grouping", "message"),
    [(list("aaaa"), "two groups"), (list("abcd"), "own group"), (list("aab"), "does not match")],
)
def test_bad_groupings_are_refused(grouping: list[str], message: str) -> None:
    dm = squareform(pdist(np.arange(4.0)[:, None]))
    with pytest.raises(BadInputError, match=message):
        permanova(dm, grouping)
