"""Alpha diversity and rarefaction against scikit-bio, on the American Gut table and on random tables."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gutstride.analysis.microbiome.alpha import alpha_diversity
from gutstride.analysis.microbiome.rarefy import rarefy
from gutstride.errors import BadInputError
from gutstride.ingest.microbiome.read import read_table
from gutstride.model.feature_table import FeatureTable

AG = Path(__file__).parents[2] / "data" / "microbiome" / "american-gut" / "AG_debug" / "AG_100nt.biom.gz"

#: Our column -> (scikit-bio metric, keyword arguments).
SKBIO = {
    "observed_features": ("sobs", {}),
    "shannon": ("shannon", {"base": 2}),
    "simpson": ("simpson", {}),
    "pielou_evenness": ("pielou_e", {}),
    "chao1": ("chao1", {}),
}


def skbio_alpha(counts: np.ndarray, ids: list[str]) -> dict[str, np.ndarray]:
    from skbio.diversity import alpha_diversity as skbio_alpha_diversity

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skbio warns on empty samples
        return {ours: skbio_alpha_diversity(metric, counts, ids=ids, **kw).to_numpy(dtype=float)
                for ours, (metric, kw) in SKBIO.items()}


def assert_matches_skbio(table: FeatureTable) -> None:
    counts = np.asarray(table.data.toarray()).astype(np.int64)
    ours = alpha_diversity(table)
    assert list(ours.index) == table.sample_ids
    np.testing.assert_array_equal(ours["depth"], counts.sum(axis=1))
    for column, expected in skbio_alpha(counts, table.sample_ids).items():
        np.testing.assert_allclose(ours[column].to_numpy(), expected, rtol=1e-6, atol=1e-9, equal_nan=True,
                                   err_msg=column)


@pytest.fixture(scope="module")
def ag() -> FeatureTable:
    return read_table(AG)


def test_american_gut_matches_skbio(ag: FeatureTable) -> None:
    assert_matches_skbio(ag)


@settings(max_examples=40, deadline=None)
@given(arrays(np.int64, st.tuples(st.integers(1, 12), st.integers(1, 15)),
              elements=st.sampled_from([0, 0, 0, 1, 1, 2, 2, 3, 5, 17, 250])))
def test_random_tables_match_skbio(counts: np.ndarray) -> None:
    table = FeatureTable(data=sp.csr_array(counts.astype(np.float64)),
                         sample_ids=[f"s{i}" for i in range(counts.shape[0])],
                         feature_ids=[f"f{j}" for j in range(counts.shape[1])])
    assert_matches_skbio(table)


def test_metric_selection_and_aliases(ag: FeatureTable) -> None:
    frame = alpha_diversity(ag, ["sobs", "pielou_e"])
    assert list(frame.columns) == ["observed_features", "pielou_evenness"]
    with pytest.raises(BadInputError, match="unknown alpha metric"):
        alpha_diversity(ag, ["faith"])


def test_proportions_have_no_chao1() -> None:
    data = sp.csr_array(np.array([[0.5, 0.25, 0.25], [0.0, 1.0, 0.0]]))
    table = FeatureTable(data=data, sample_ids=["a", "b"], feature_ids=["x", "y", "z"], value_kind="proportions")
    frame = alpha_diversity(table)
    assert frame["chao1"].isna().all()
    assert frame.loc["a", "shannon"] == pytest.approx(1.5)
    assert frame.loc["a", "simpson"] == pytest.approx(1 - (0.25 + 0.0625 + 0.0625))


def test_rarefaction_depth_and_seed(ag: FeatureTable) -> None:
    rarefied, dropped = rarefy(ag, 1000, seed=7)
    depths = ag.sample_depths()
    assert dropped == [s for s, d in zip(ag.sample_ids, depths, strict=True) if d < 1000]
    assert rarefied.sample_ids == [s for s, d in zip(ag.sample_ids, depths, strict=True) if d >= 1000]
    np.testing.assert_array_equal(rarefied.sample_depths(), 1000)
    original = ag.data.toarray()[[ag.sample_ids.index(s) for s in rarefied.sample_ids]]
    assert np.all(rarefied.data.toarray() <= original)
    again, _ = rarefy(ag, 1000, seed=7)
    assert (again.data != rarefied.data).nnz == 0
    other, _ = rarefy(ag, 1000, seed=8)
    assert (other.data != rarefied.data).nnz > 0


def test_rarefaction_is_hypergeometric_and_keeps_everything_at_full_depth() -> None:
    counts = np.array([[60, 30, 10, 0], [5, 5, 0, 90]], dtype=np.float64)
    table = FeatureTable(data=sp.csr_array(counts), sample_ids=["a", "b"], feature_ids=list("wxyz"))
    full, _ = rarefy(table, 100, seed=1)
    np.testing.assert_array_equal(full.data.toarray(), counts)
    # 4,000 copies of sample "a" are 4,000 independent draws of 20 reads without replacement
    copies = 4000
    many = FeatureTable(data=sp.csr_array(np.repeat(counts[:1], copies, axis=0)),
                        sample_ids=[f"a{i}" for i in range(copies)], feature_ids=list("wxyz"))
    draws = rarefy(many, 20, seed=5)[0].data.toarray()
    share = counts[0] / 100
    mean = 20 * share
    # hypergeometric variance; a multinomial (with replacement) would lack the last factor
    variance = 20 * share * (1 - share) * (100 - 20) / (100 - 1)
    np.testing.assert_allclose(draws.mean(axis=0), mean, atol=4 * np.sqrt(variance.max() / copies))
    np.testing.assert_allclose(draws.var(axis=0), variance, atol=0.25)
    assert abs(draws[:, 0].var() - 20 * 0.6 * 0.4) > 0.5  # with replacement would give 4.8, not 3.88


def test_rarefaction_rejects_bad_input() -> None:
    table = FeatureTable(data=sp.csr_array(np.array([[0.5, 0.5]])), sample_ids=["a"], feature_ids=["x", "y"],
                         value_kind="proportions")
    with pytest.raises(BadInputError, match="needs counts"):
        rarefy(table, 10, seed=0)
    with pytest.raises(BadInputError, match="positive"):
        rarefy(table, 0, seed=0)
