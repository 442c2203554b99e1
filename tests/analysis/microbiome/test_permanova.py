"""PERMANOVA against scikit-bio: same pseudo-F, p-values within Monte-Carlo error; strata restrict permutations."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import biom
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import skbio
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import orth
from scipy.spatial.distance import pdist, squareform
from skbio.stats.distance import permanova as sk_permanova
from skbio.stats.distance import permdisp as sk_permdisp
from statsmodels.stats.multitest import multipletests

from gutstride.analysis.design import design_terms
from gutstride.analysis.microbiome.beta import beta_diversity
from gutstride.analysis.microbiome.permanova import (
    benjamini_hochberg,
    pairwise_permanova,
    permanova,
    permanova_formula,
    permdisp,
)
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


# ------------------------------------------------------------------------------------------ formula PERMANOVA


def hat_trace(x: np.ndarray, g: np.ndarray) -> float:
    """tr(H G) with H = X (X'X)^-1 X', straight from McArdle & Anderson (2001)."""
    h = x @ np.linalg.pinv(x.T @ x) @ x.T
    return float(np.trace(h @ g))


def test_sums_of_squares_equal_the_hat_matrix_formula_by_hand() -> None:
    # Six samples on a line; a continuous exposure and two groups.
    points = np.array([0.0, 1.0, 3.0, 4.0, 7.0, 8.5])
    dm = np.abs(points[:, None] - points[None, :])
    vo2 = np.array([40.0, 42.0, 45.0, 50.0, 51.0, 58.0])
    group = np.array([0, 1, 0, 1, 0, 1.0])
    n = 6
    centre = np.eye(n) - 1.0 / n
    g = centre @ (-0.5 * dm**2) @ centre
    one = np.ones(n)
    x1 = np.column_stack([one, vo2])
    x12 = np.column_stack([one, vo2, group])
    x2 = np.column_stack([one, group])
    ss_total = float(np.trace(g))
    ss_vo2 = hat_trace(x1, g)
    ss_group_seq = hat_trace(x12, g) - ss_vo2
    ss_res = ss_total - hat_trace(x12, g)
    terms = [("VO2_max", vo2[:, None]), ("group", group[:, None])]
    seq = permanova_formula(dm, terms, by="terms", permutations=0)
    assert seq["total"]["sum_of_squares"] == pytest.approx(ss_total, rel=1e-12)
    assert seq["total"]["sum_of_squares"] == pytest.approx((dm**2).sum() / (2 * n))
    assert [t["sum_of_squares"] for t in seq["terms"]] == pytest.approx([ss_vo2, ss_group_seq], rel=1e-10)
    assert seq["residual"] == pytest.approx({"df": 3, "sum_of_squares": ss_res, "r2": ss_res / ss_total}, rel=1e-10)
    assert seq["terms"][0]["f"] == pytest.approx((ss_vo2 / 1) / (ss_res / 3), rel=1e-10)
    assert [t["df"] for t in seq["terms"]] == [1, 1]
    margin = permanova_formula(dm, terms, by="margin", permutations=0)
    expected = [hat_trace(x12, g) - hat_trace(x2, g), hat_trace(x12, g) - hat_trace(x1, g)]
    assert [t["sum_of_squares"] for t in margin["terms"]] == pytest.approx(expected, rel=1e-10)
    assert margin["residual"]["sum_of_squares"] == pytest.approx(ss_res, rel=1e-10)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(8, 25))
def test_random_models_match_the_hat_matrix(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    dm = squareform(pdist(rng.normal(size=(n, 4))))
    x = rng.normal(size=n)
    groups = np.eye(3)[np.arange(n) % 3][:, 1:]
    centre = np.eye(n) - 1.0 / n
    g = centre @ (-0.5 * dm**2) @ centre
    one = np.ones((n, 1))
    full = hat_trace(np.hstack([one, x[:, None], groups]), g)
    result = permanova_formula(dm, [("x", x[:, None]), ("g", groups)], by="terms", permutations=9, seed=seed)
    ss = [t["sum_of_squares"] for t in result["terms"]]
    assert ss == pytest.approx([hat_trace(np.hstack([one, x[:, None]]), g), full - ss[0]], rel=1e-8, abs=1e-10)
    assert sum(ss) + result["residual"]["sum_of_squares"] == pytest.approx(result["total"]["sum_of_squares"])
    assert [t["df"] for t in result["terms"]] == [1, 2] and result["residual"]["df"] == n - 4


def test_p_value_equals_skbio_for_the_same_seed_and_repeats() -> None:
    rng = np.random.default_rng(5)
    points = np.vstack([rng.normal(0, 1, (20, 3)), rng.normal(0.4, 1, (20, 3))])
    dm = squareform(pdist(points))
    grouping = ["a"] * 20 + ["b"] * 20
    ours = permanova(dm, grouping, permutations=199, seed=11)
    theirs = sk_permanova(skbio.DistanceMatrix(dm), grouping, permutations=199, seed=11)
    assert ours["test_statistic"] == pytest.approx(theirs["test statistic"], rel=1e-10)
    assert ours["p_value"] == theirs["p-value"]
    assert permanova(dm, grouping, permutations=199, seed=11)["p_value"] == ours["p_value"]
    assert ours["terms"][0]["r2"] == pytest.approx(ours["terms"][0]["sum_of_squares"] / ours["total"]["sum_of_squares"])


def test_formula_from_metadata_with_design_terms() -> None:
    rng = np.random.default_rng(3)
    n = 30
    frame = pd.DataFrame({"BMI": rng.normal(24, 3, n), "Groupe": rng.choice(["athlete", "sedentary", "mixed"], n)})
    dm = squareform(pdist(np.column_stack([frame["BMI"], rng.normal(size=n)])))
    terms = design_terms(frame, "BMI + Groupe")
    assert [name for name, _ in terms] == ["BMI", "Groupe"] and terms[1][1].shape == (n, 2)
    result = permanova_formula(dm, terms, permutations=99, seed=1)
    assert result["terms"][0]["p_value"] == pytest.approx(1 / 100)  # the distances are driven by BMI
    only_group = permanova_formula(dm, design_terms(frame, "Groupe"), permutations=0)
    sk = sk_permanova(skbio.DistanceMatrix(dm), list(frame["Groupe"]), permutations=0)
    assert only_group["terms"][0]["f"] == pytest.approx(sk["test statistic"], rel=1e-10)
    with pytest.raises(BadInputError, match="formula"):
        design_terms(frame, "BMI + nope")


def test_permdisp_equals_skbio() -> None:
    rng = np.random.default_rng(8)
    points = np.vstack([rng.normal(0, 1, (15, 4)), rng.normal(0, 2.5, (18, 4)), rng.normal(1, 1, (12, 4))])
    dm = squareform(pdist(points))
    grouping = ["a"] * 15 + ["b"] * 18 + ["c"] * 12
    for test in ("median", "centroid"):
        ours = permdisp(dm, grouping, permutations=99, seed=2, test=test)
        theirs = sk_permdisp(skbio.DistanceMatrix(dm), grouping, permutations=99, seed=2, test=test)
        assert ours["f"] == pytest.approx(theirs["test statistic"], rel=1e-6)
        assert ours["p_value"] == theirs["p-value"]


def test_pairwise_q_values_are_benjamini_hochberg() -> None:
    rng = np.random.default_rng(4)
    points = np.vstack([rng.normal(0, 1, (10, 2)), rng.normal(0.8, 1, (10, 2)), rng.normal(3, 1, (10, 2))])
    dm = squareform(pdist(points))
    grouping = ["a"] * 10 + ["b"] * 10 + ["c"] * 10
    rows = pairwise_permanova(dm, grouping, permutations=99, seed=1)
    assert [(r["group1"], r["group2"]) for r in rows] == [("a", "b"), ("a", "c"), ("b", "c")]
    for row in rows:
        keep = [k for k, g in enumerate(grouping) if g in (row["group1"], row["group2"])]
        sub = skbio.DistanceMatrix(dm[np.ix_(keep, keep)])
        theirs = sk_permanova(sub, [grouping[k] for k in keep], permutations=99, seed=1)
        assert row["pseudo_f"] == pytest.approx(theirs["test statistic"], rel=1e-10)
        assert row["p_value"] == theirs["p-value"]
    expected = multipletests([r["p_value"] for r in rows], method="fdr_bh")[1]
    assert [r["q_value"] for r in rows] == pytest.approx(list(expected))


@given(st.lists(st.floats(0, 1), min_size=1, max_size=30))
def test_benjamini_hochberg_equals_statsmodels(p: list[float]) -> None:
    assert benjamini_hochberg(p) == pytest.approx(list(multipletests(p, method="fdr_bh")[1]))


# ------------------------------------------------------------------ p-values as vegan's adonis2 computes them


def adonis2_reference(
    dm: np.ndarray, terms: list[tuple[str, np.ndarray]], by: str, permutations: list[np.ndarray], tested: list[int],
) -> tuple[list[float], list[float]]:
    """F and p-values of the terms ``tested`` as vegan's ``adonis2`` -> ``anova.cca`` computes them.

    Written from vegan's R/adonis2.R (``adonis0``), R/anova.ccabyterm.R (``anovaCCAbyterm``,
    ``anovaCCAbymargin``) and R/permutest.cca.R with src/getF.c (``do_getF``): adonis2 has no ``Condition()``, so
    the "reduced" model permutes the whole Gower matrix ``G`` (rows and columns together, ``E[perm, perm]``); the
    design and its QR decomposition stay fixed. For ``by="terms"`` each permutation gives the nested fits
    ``tr(Q_k Q_k' G*)`` of the first k terms' columns; a term's statistic is ``(SS*_k / q_k) / (RSS* / r)`` with
    ``RSS* = tr(G) - SS*(all terms)``. For ``by="margin"`` the full model and each model without one term are
    permuted with the same permutations and ``F* = ((SS*_full - SS*_without) / df) / (RSS* / r)``.
    ``P = (#{F* >= F - sqrt(eps)} + 1) / (nperm + 1)``.
    """
    n = dm.shape[0]
    centre = np.eye(n) - 1.0 / n
    g = centre @ (-0.5 * dm**2) @ centre
    blocks = [np.asarray(b, dtype=float).reshape(n, -1) for _, b in terms]
    assign = np.concatenate([np.full(b.shape[1], k) for k, b in enumerate(blocks)])
    x = np.hstack(blocks)
    x = x - x.mean(axis=0)
    r = n - 1 - np.linalg.matrix_rank(x)

    def fitted_trace(columns: np.ndarray, gp: np.ndarray) -> float:
        q = orth(columns)  # the fitted space, of the design's rank (R's pivoted QR keeps the first qrank columns)
        return float(np.trace(q.T @ gp @ q))

    def statistics(gp: np.ndarray) -> np.ndarray:
        full = fitted_trace(x, gp)
        rss = float(np.trace(gp)) - full
        if by == "terms":
            cumulative = [fitted_trace(x[:, assign <= k], gp) for k in range(len(blocks))]
            ss = np.diff([0.0, *cumulative])
            df = np.array([np.linalg.matrix_rank(x[:, assign <= k]) for k in range(len(blocks))])
            df = np.diff([0, *df])
        else:
            ss = np.array([full - fitted_trace(x[:, assign != k], gp) for k in range(len(blocks))])
            df = np.linalg.matrix_rank(x) - np.array([np.linalg.matrix_rank(x[:, assign != k])
                                                      for k in range(len(blocks))])
        return ((ss / df) / (rss / r))[tested]

    f0 = statistics(g)
    perm_f = np.array([statistics(g[np.ix_(p, p)]) for p in permutations])
    eps = np.sqrt(np.finfo(float).eps)
    p_values = ((perm_f >= f0 - eps).sum(axis=0) + 1) / (len(permutations) + 1)
    return list(f0), list(p_values)


def drawn_permutations(n: int, permutations: int, seed: int, strata: list[str] | None) -> list[np.ndarray]:
    """The permutations ``permanova_formula`` applies to the design's rows, as vegan's permutations of ``G``.

    Exchanging the design's rows by ``pi`` gives the same statistic as exchanging ``G``'s rows and columns by
    ``pi^-1``, so the reference gets the inverses.
    """
    from gutstride.analysis.microbiome.permanova import permutation_batches

    drawn = np.vstack(list(permutation_batches(n, permutations, seed, strata, 64)))
    return [np.argsort(p) for p in drawn]


@pytest.mark.parametrize("by", ["terms", "margin"])
@pytest.mark.parametrize("with_strata", [False, True])
def test_p_values_equal_adonis2_permutation_scheme(by: str, with_strata: bool) -> None:
    # BMI drives the distances; the group is partly confounded with BMI, so its sequential and marginal tests
    # differ. vegan's scheme (the whole Gower matrix permuted, every term's F from the same permutation) is what
    # permuting the design's rows gives: the p-values agree exactly, with and without strata.
    rng = np.random.default_rng(8)
    n = 24
    bmi = rng.normal(24, 3, n)
    group = np.where(bmi + rng.normal(0, 2, n) > 24, 1.0, 0.0)
    subject = [f"s{k // 3}" for k in range(n)]
    dm = squareform(pdist(np.column_stack([bmi + 0.8 * group, rng.normal(size=(n, 2))])))
    terms = [("BMI", bmi[:, None]), ("group", group[:, None]), ("site", np.eye(3)[np.arange(n) % 3][:, 1:])]
    strata = subject if with_strata else None
    ours = permanova_formula(dm, terms, by=by, permutations=199, seed=4, strata=strata)
    f0, p_values = adonis2_reference(dm, terms, by, drawn_permutations(n, 199, 4, strata), [0, 1, 2])
    assert [t["f"] for t in ours["terms"]] == pytest.approx(f0, rel=1e-9)
    assert [t["p_value"] for t in ours["terms"]] == p_values


def test_margin_tests_only_terms_outside_interactions_as_adonis2() -> None:
    # adonis2(by = "margin") tests the terms that drop.scope() allows: a main effect inside an interaction that
    # stays in the model is not tested marginally.
    rng = np.random.default_rng(10)
    n = 30
    frame = pd.DataFrame({"week": rng.normal(size=n), "group": rng.choice(["a", "b"], n), "age": rng.normal(size=n)})
    dm = squareform(pdist(rng.normal(size=(n, 3))))
    terms = design_terms(frame, "week * group + age")
    assert [name for name, _ in terms] == ["week", "group", "age", "week:group"]
    ours = permanova_formula(dm, terms, by="margin", permutations=99, seed=5)
    assert [t["term"] for t in ours["terms"]] == ["age", "week:group"]
    assert [row["term"] for row in ours["not_tested"]] == ["week", "group"]
    f0, p_values = adonis2_reference(dm, terms, "margin", drawn_permutations(n, 99, 5, None), [2, 3])
    assert [t["f"] for t in ours["terms"]] == pytest.approx(f0, rel=1e-9)
    assert [t["p_value"] for t in ours["terms"]] == p_values


def test_marginal_df_is_the_rank_the_model_loses() -> None:
    # "diet" and "site" share one column: sequentially "diet" adds 2 ranks, marginally the model loses only 1.
    rng = np.random.default_rng(12)
    n = 20
    shared, own_a, own_b = (rng.integers(0, 2, n).astype(float) for _ in range(3))
    terms = [("dose", rng.normal(size=(n, 1))), ("diet", np.column_stack([shared, own_a])),
             ("site", np.column_stack([shared, own_b]))]
    dm = squareform(pdist(rng.normal(size=(n, 3))))
    ours = permanova_formula(dm, terms, by="margin", permutations=49, seed=1)
    assert [t["df"] for t in ours["terms"]] == [1, 1, 1]
    f0, p_values = adonis2_reference(dm, terms, "margin", drawn_permutations(n, 49, 1, None), [0, 1, 2])
    assert [t["f"] for t in ours["terms"]] == pytest.approx(f0, rel=1e-9)
    assert [t["p_value"] for t in ours["terms"]] == p_values
    assert [t["df"] for t in permanova_formula(dm, terms, by="terms", permutations=0)["terms"]] == [1, 2, 1]
