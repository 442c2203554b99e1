"""Faith PD and UniFrac against scikit-bio, on the American Gut subset and on random tables and trees."""

from __future__ import annotations

import gzip
import io
import warnings
import zipfile
from pathlib import Path

import biom
import numpy as np
import pytest
import scipy.sparse as sp
import skbio
from hypothesis import given, settings
from hypothesis import strategies as st
from skbio.diversity import alpha_diversity
from skbio.diversity import beta_diversity as sk_beta

from gutstride.analysis.microbiome.beta import beta_diversity
from gutstride.analysis.microbiome.phylo import faith_pd, index_tree
from gutstride.errors import BadInputError
from gutstride.ingest.microbiome.newick import read_tree
from gutstride.model.feature_table import FeatureTable

AG = Path(__file__).resolve().parents[2] / "data" / "microbiome" / "american-gut" / "AG_debug"


@pytest.fixture(scope="module")
def ag_subset() -> tuple[FeatureTable, skbio.TreeNode]:
    """40 American Gut samples, restricted to the features they hold, and the matching Greengenes tree."""
    with gzip.open(AG / "AG_100nt.biom.gz", "rb") as handle:
        loaded = biom.Table.from_json(__import__("json").loads(handle.read()))
    data = sp.csr_matrix(loaded.matrix_data.T)[:40]
    used = np.flatnonzero(np.asarray(data.sum(axis=0)).ravel() > 0)
    features = [str(f) for f in loaded.ids("observation")]
    table = FeatureTable(sp.csr_matrix(data[:, used]), [str(s) for s in loaded.ids()[:40]], [features[k] for k in used])
    return table, read_tree(AG / "AG_100nt_gg13_8_97_pruned.tre")


def test_faith_pd_matches_skbio_on_american_gut(ag_subset: tuple[FeatureTable, skbio.TreeNode]) -> None:
    table, tree = ag_subset
    ours = faith_pd(table, tree)
    ref = alpha_diversity("faith_pd", table.data.toarray(), ids=table.sample_ids, taxa=table.feature_ids, tree=tree)
    assert list(ours.index) == table.sample_ids
    np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), rtol=0, atol=1e-6)


@pytest.mark.parametrize("metric", ["unweighted_unifrac", "weighted_unifrac"])
def test_unifrac_matches_skbio_on_american_gut(ag_subset: tuple[FeatureTable, skbio.TreeNode], metric: str) -> None:
    table, tree = ag_subset
    ours, ids, warns = beta_diversity(table, metric, tree=tree)
    ref = sk_beta(metric, table.data.toarray(), ids=table.sample_ids, taxa=table.feature_ids, tree=tree)
    assert ids == list(ref.ids) and warns == []
    np.testing.assert_allclose(ours, ref.data, rtol=0, atol=1e-6)
    ours32, _, _ = beta_diversity(table, metric, tree=tree, dtype=np.float32, chunk_size=7)
    assert ours32.dtype == np.float32
    np.testing.assert_allclose(ours32, ref.data, rtol=0, atol=1e-6)


def random_tree(names: list[str], rng: np.random.Generator) -> skbio.TreeNode:
    """A rooted tree from random bifurcations (random pairs joined until one node is left), random lengths."""
    nodes = [skbio.TreeNode(name=name, length=float(rng.uniform(0.01, 1.0))) for name in names]
    while len(nodes) > 1:
        i, j = sorted(rng.choice(len(nodes), size=2, replace=False), reverse=True)
        a, b = nodes.pop(i), nodes.pop(j)
        length = float(rng.choice([0.0, rng.uniform(0.01, 1.0)], p=[0.1, 0.9]))
        nodes.append(skbio.TreeNode(children=[a, b], length=length))
    nodes[0].length = None
    return nodes[0]


def random_table(rng: np.random.Generator, n_samples: int, n_features: int, density: float) -> np.ndarray:
    counts = rng.integers(1, 50, size=(n_samples, n_features)).astype(float)
    counts[rng.random((n_samples, n_features)) > density] = 0
    return counts


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_samples=st.integers(2, 12),
    n_features=st.integers(2, 25),
    density=st.floats(0.05, 1.0),
)
def test_unifrac_and_faith_pd_match_skbio_on_random_trees(
    seed: int, n_samples: int, n_features: int, density: float
) -> None:
    rng = np.random.default_rng(seed)
    names = [f"f{k}" for k in range(n_features)]
    counts = random_table(rng, n_samples, n_features, density)
    counts[0, 0] = max(counts[0, 0], 1.0)  # at least one observation
    tree = random_tree(names + [f"extra{k}" for k in range(3)], rng)  # tree tips are a superset of the features
    ids = [f"s{k}" for k in range(n_samples)]
    table = FeatureTable(sp.csr_matrix(counts), ids, names)
    for metric in ("unweighted_unifrac", "weighted_unifrac"):
        ours, _, warns = beta_diversity(table, metric, tree=tree, chunk_size=int(rng.integers(1, n_samples + 1)))
        ref = sk_beta(metric, counts, ids=ids, taxa=names, tree=tree)
        assert warns == []
        np.testing.assert_allclose(ours, ref.data, rtol=0, atol=1e-6)
    ref_pd = alpha_diversity("faith_pd", counts, ids=ids, taxa=names, tree=tree)
    np.testing.assert_allclose(faith_pd(table, tree).to_numpy(), ref_pd.to_numpy(), rtol=0, atol=1e-6)


def test_features_missing_from_tree_are_reported_and_left_out() -> None:
    rng = np.random.default_rng(3)
    names = [f"f{k}" for k in range(8)]
    tree = random_tree(names, rng)
    counts = random_table(rng, 6, 8, 0.8)
    counts[:, 0] += 1  # every sample holds f0 and the stray features
    stray = np.array([[5.0, 0.0]] * 3 + [[0.0, 2.0]] * 3)
    full = np.hstack([counts, stray])
    table = FeatureTable(sp.csr_matrix(full), [f"s{k}" for k in range(6)], names + ["ghost1", "ghost2"])
    share = stray.sum() / full.sum()
    for metric in ("unweighted_unifrac", "weighted_unifrac"):
        ours, _, warns = beta_diversity(table, metric, tree=tree)
        assert len(warns) == 1
        assert warns[0].startswith("2 of 10 features are not in the tree")
        assert f"{share:.2%}" in warns[0]
        ref = sk_beta(metric, counts, ids=table.sample_ids, taxa=names, tree=tree)
        np.testing.assert_allclose(ours, ref.data, rtol=0, atol=1e-6)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pd_values = faith_pd(table, tree)
    assert any("2 of 10 features" in str(w.message) for w in caught)
    ref_pd = alpha_diversity("faith_pd", counts, ids=table.sample_ids, taxa=names, tree=tree)
    np.testing.assert_allclose(pd_values.to_numpy(), ref_pd.to_numpy(), atol=1e-9)


def test_tree_without_branch_lengths_is_refused() -> None:
    tree = skbio.TreeNode.read(io.StringIO("((a,b),c);"))
    with pytest.raises(BadInputError, match="no length"):
        index_tree(tree)
    with pytest.raises(BadInputError, match="non-negative"):
        index_tree(skbio.TreeNode.read(io.StringIO("((a:1,b:-2):1,c:1);")))


@pytest.mark.parametrize("suffix", [".nwk", ".tre", ".txt"])
def test_read_tree_from_newick_files(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"tree{suffix}"
    path.write_text("((a:1,b:2)x:0.5,c:3);\n")
    tree = read_tree(path)
    assert sorted(t.name for t in tree.tips()) == ["a", "b", "c"]
    assert tree.find("b").length == 2.0


def test_read_tree_from_qza(tmp_path: Path) -> None:
    path = tmp_path / "rooted-tree.qza"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("0f3c/metadata.yaml", "uuid: 0f3c\ntype: Phylogeny[Rooted]\nformat: NewickDirectoryFormat\n")
        archive.writestr("0f3c/data/tree.nwk", "((a:1,b:2):0.5,c:3);\n")
    tree = read_tree(path)
    assert sorted(t.name for t in tree.tips()) == ["a", "b", "c"]


def test_real_tree_reads_with_every_tip(tmp_path: Path) -> None:
    tree = read_tree(AG / "AG_100nt_gg13_8_97_pruned.tre")
    reference = skbio.TreeNode.read(str(AG / "AG_100nt_gg13_8_97_pruned.tre"))
    assert tree.count(tips=True) == reference.count(tips=True)


@pytest.mark.parametrize(
    "text",
    ["((a:1,b:2):1,c:3", "(a,b;", ")(;", "((a:x,b):1);", "", "   \n", "lonely;", "((a,a));", "((a,b),);", "\xff\xfe"],
)
def test_malformed_newick_is_a_bad_input_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.nwk"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(BadInputError):
        read_tree(path)
