"""Differential abundance: per-feature OLS equals statsmodels on the same CLR values; q-values are BH."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from skbio.stats.composition import ancombc as sk_ancombc
from skbio.stats.composition import clr as sk_clr
from statsmodels.stats.multitest import multipletests

from gutstride.analysis.design import design_matrix
from gutstride.analysis.microbiome.differential import CAVEAT, ancombc_abundance, clr_matrix, differential_abundance
from gutstride.errors import BadInputError


def data(seed: int = 0, n: int = 40, m: int = 25) -> tuple[np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"group": rng.choice(["athlete", "sedentary"], n), "AGE": rng.integers(20, 60, n) * 1.0})
    counts = rng.poisson(rng.gamma(0.7, 15, size=(n, m))).astype(float)
    counts[frame["group"].to_numpy() == "athlete", 0] += 200  # feature 0 responds
    return counts, frame


def test_clr_equals_skbio() -> None:
    counts, _ = data()
    np.testing.assert_allclose(clr_matrix(counts, "clr", 0.5), sk_clr(counts + 0.5), atol=1e-12)


@pytest.mark.parametrize("transform", ["clr", "rclr"])
def test_per_feature_ols_equals_statsmodels(transform: str) -> None:
    counts, frame = data()
    design, names = design_matrix(frame, "group + AGE")
    ids = [f"f{k}" for k in range(counts.shape[1])]
    result = differential_abundance(counts, ids, design, names, transform, min_prevalence=0.3)
    assert result["caveat"] == CAVEAT
    values = clr_matrix(counts, transform)
    tested = [r for r in result["results"] if r["term"] == "group[T.sedentary]"]
    assert len(tested) == result["features_tested"]
    for row in tested[:8]:
        k = ids.index(row["feature"])
        frame_k = frame.assign(y=values[:, k]).dropna()
        fit = smf.ols("y ~ group + AGE", frame_k).fit()
        assert row["estimate"] == pytest.approx(fit.params["group[T.sedentary]"], rel=1e-9)
        assert row["std_error"] == pytest.approx(fit.bse["group[T.sedentary]"], rel=1e-9)
        assert row["p_value"] == pytest.approx(fit.pvalues["group[T.sedentary]"], rel=1e-7)
        assert row["n"] == len(frame_k)
    order = sorted(tested, key=lambda r: r["feature"])
    expected = multipletests([r["p_value"] for r in order], method="fdr_bh")[1]
    assert [r["q_value"] for r in order] == pytest.approx(list(expected))
    assert tested[0]["feature"] == "f0" and tested[0]["q_value"] < 0.05
    present = (counts > 0).mean(axis=0)
    assert set(result["not_tested"]) == {ids[k] for k in np.flatnonzero(present < 0.3)}


# --------------------------------------------------------------------------- repeated measures: MixedLM per feature


def repeated_data(seed: int = 1, subjects: int = 14, visits: int = 3, m: int = 12) -> tuple[np.ndarray, pd.DataFrame]:
    """Counts of ``subjects`` people at ``visits`` weeks; each person has their own level of every feature."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "subject": [f"p{k // visits}" for k in range(subjects * visits)],
        "group": ["training" if (k // visits) % 2 else "control" for k in range(subjects * visits)],
        "week": [float(k % visits) for k in range(subjects * visits)],
    })
    person = rng.normal(0, 0.6, size=(subjects, m))[np.arange(subjects * visits) // visits]
    rate = np.exp(3 + person + 0.4 * np.outer((frame["group"] == "training") * frame["week"], np.eye(m)[0]))
    return rng.poisson(rate).astype(float), frame


def test_mixed_model_per_feature_equals_statsmodels_mixedlm() -> None:
    counts, frame = repeated_data()
    ids = [f"f{k}" for k in range(counts.shape[1])]
    formula = "group * week"
    design, names = design_matrix(frame, formula)
    result = differential_abundance(counts, ids, design, names, "clr", min_prevalence=0.1,
                                    subjects=list(frame["subject"]))
    assert result["caveat"] == CAVEAT and "mixed" in result["method"]
    values = clr_matrix(counts, "clr")
    term = "group[T.training]:week"
    rows = [r for r in result["results"] if r["term"] == term]
    assert len(rows) == counts.shape[1] and result["failed"] == []
    for feature in ("f0", "f3", "f7"):
        row = next(r for r in rows if r["feature"] == feature)
        fit = smf.mixedlm("y ~ " + formula, frame.assign(y=values[:, ids.index(feature)]),
                          groups=frame["subject"]).fit()
        assert row["estimate"] == pytest.approx(fit.params[term], rel=1e-8)
        assert row["std_error"] == pytest.approx(fit.bse[term], rel=1e-8)
        assert row["z"] == pytest.approx(fit.tvalues[term], rel=1e-8)
        assert row["p_value"] == pytest.approx(fit.pvalues[term], rel=1e-8)
        assert row["converged"] == bool(fit.converged)
        assert row["n"] == len(frame) and row["subjects"] == frame["subject"].nunique()
    order = sorted(rows, key=lambda r: r["feature"])
    expected = multipletests([r["p_value"] for r in order], method="fdr_bh")[1]
    assert [r["q_value"] for r in order] == pytest.approx(list(expected))
    assert rows[0]["feature"] == "f0" and rows[0]["q_value"] < 0.05


def test_mixed_model_failures_are_listed_not_dropped() -> None:
    counts, frame = repeated_data(m=6)
    counts[:, 5] = 0.0
    counts[frame["group"] == "training", 5] = 7.0  # rclr: seen only in one group, so "group" is constant there
    ids = [f"f{k}" for k in range(6)]
    design, names = design_matrix(frame, "group + week")
    result = differential_abundance(counts, ids, design, names, "rclr", min_prevalence=0.1,
                                    subjects=list(frame["subject"]))
    assert [row["feature"] for row in result["failed"]] == ["f5"]
    assert "rank" in result["failed"][0]["reason"]
    assert {r["feature"] for r in result["results"]} == {f"f{k}" for k in range(5)}
    assert all(isinstance(r["converged"], bool) for r in result["results"])


# ------------------------------------------------------------------------------------------ scikit-bio's ANCOM-BC


def test_ancombc_equals_skbio() -> None:
    counts, frame = data(seed=3, n=36, m=15)
    ids = [f"f{k}" for k in range(counts.shape[1])]
    samples = [f"s{k}" for k in range(len(frame))]
    frame.index = samples
    result = ancombc_abundance(counts, ids, frame, "group + AGE", min_prevalence=0.3)
    kept = [ids[k] for k in np.flatnonzero((counts > 0).mean(axis=0) >= 0.3)]
    assert result["features_tested"] == len(kept) and result["failed"] == []
    table = pd.DataFrame(counts, index=samples, columns=ids)[kept] + 1  # skbio docs pseudo-count (R: pseudo=1)
    expected = sk_ancombc(table, frame, "group + AGE", p_adjust="bh").result
    rows = result["results"]
    assert {r["term"] for r in rows} == {"group[T.sedentary]", "AGE"}
    assert len(rows) == 2 * len(kept)
    for row in rows:
        reference = expected.loc[(row["feature"], row["term"])]
        assert row["estimate"] == pytest.approx(reference["Log(FC)"], rel=1e-12)
        assert row["std_error"] == pytest.approx(reference["SE"], rel=1e-12)
        assert row["z"] == pytest.approx(reference["W"], rel=1e-12)
        assert row["p_value"] == pytest.approx(reference["pvalue"], rel=1e-12)
        assert row["q_value"] == pytest.approx(reference["qvalue"], rel=1e-12)
        assert row["method"] == "ancombc" and row["n"] == len(samples)
    assert "ANCOM-BC" in result["method"] and "relative" in result["caveat"]
    assert result["not_tested"] == [f for f in ids if f not in kept]


def test_ancombc_refuses_relative_abundances() -> None:
    counts, frame = data(n=20, m=6)
    with pytest.raises(BadInputError, match="counts"):
        ancombc_abundance(counts / counts.sum(axis=1, keepdims=True), [f"f{k}" for k in range(6)], frame, "group")


def test_ancombc_warns_about_levels_too_small_to_judge() -> None:
    counts, frame = data(seed=3, n=36, m=15)
    frame.index = [f"s{k}" for k in range(len(frame))]
    assert ancombc_abundance(counts, [f"f{k}" for k in range(15)], frame, "group + AGE")["warnings"] == []
    frame.loc[frame.index[:3], "group"] = "never"  # a third level of 3 samples
    warnings = ancombc_abundance(counts, [f"f{k}" for k in range(15)], frame, "group + AGE")["warnings"]
    assert len(warnings) == 1 and "group = 'never' has 3 sample(s)" in warnings[0] and "cannot be judged" in warnings[0]
