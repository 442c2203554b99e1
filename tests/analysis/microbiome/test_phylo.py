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
from gutstride.analysis.microbiome.phylo import as_tree, faith_pd, index_tree
from gutstride.errors import BadInputError
from gutstride.ingest.microbiome.newick import parse_newick, read_tree
from gutstride.model.feature_table import FeatureTable
from gutstride.model.tree import Tree

AG = Path(__file__).resolve().parents[2] / "data" / "microbiome" / "american-gut" / "AG_debug"


@pytest.fixture(scope="module")
def ag_subset() -> tuple[FeatureTable, Tree, skbio.TreeNode]:
    """40 American Gut samples, restricted to the features they hold, and the matching Greengenes tree (ours, and
    scikit-bio's reading of it for the references)."""
    with gzip.open(AG / "AG_100nt.biom.gz", "rb") as handle:
        loaded = biom.Table.from_json(__import__("json").loads(handle.read()))
    data = sp.csr_matrix(loaded.matrix_data.T)[:40]
    used = np.flatnonzero(np.asarray(data.sum(axis=0)).ravel() > 0)
    features = [str(f) for f in loaded.ids("observation")]
    table = FeatureTable(sp.csr_matrix(data[:, used]), [str(s) for s in loaded.ids()[:40]], [features[k] for k in used])
    path = AG / "AG_100nt_gg13_8_97_pruned.tre"
    return table, read_tree(path), skbio.TreeNode.read(str(path), convert_underscores=False)


def test_faith_pd_matches_skbio_on_american_gut(ag_subset: tuple[FeatureTable, Tree, skbio.TreeNode]) -> None:
    table, tree, reference = ag_subset
    ours = faith_pd(table, tree)
    ref = alpha_diversity("faith_pd", table.data.toarray(), ids=table.sample_ids, taxa=table.feature_ids,
                          tree=reference)
    assert list(ours.index) == table.sample_ids
    np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), rtol=0, atol=1e-6)


@pytest.mark.parametrize("metric", ["unweighted_unifrac", "weighted_unifrac"])
def test_unifrac_matches_skbio_on_american_gut(
    ag_subset: tuple[FeatureTable, Tree, skbio.TreeNode], metric: str
) -> None:
    table, tree, reference = ag_subset
    ours, ids, warns = beta_diversity(table, metric, tree=tree)
    ref = sk_beta(metric, table.data.toarray(), ids=table.sample_ids, taxa=table.feature_ids, tree=reference)
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


#: Hypothesis draws of a small random table on a random tree (see :func:`random_tree_table`).
random_tree_tables = given(
    seed=st.integers(0, 2**32 - 1),
    n_samples=st.integers(2, 12),
    n_features=st.integers(2, 25),
    density=st.floats(0.05, 1.0),
)


def random_tree_table(seed: int, n_samples: int, n_features: int, density: float, extra_tips: int = 0
                      ) -> tuple[np.random.Generator, np.ndarray, skbio.TreeNode, FeatureTable]:
    """A seeded random count table (at least one observation) and a random tree over its features, with
    ``extra_tips`` more tips than features: ``(rng, counts, tree, table)``."""
    rng = np.random.default_rng(seed)
    names = [f"f{k}" for k in range(n_features)]
    counts = random_table(rng, n_samples, n_features, density)
    counts[0, 0] = max(counts[0, 0], 1.0)  # at least one observation
    tree = random_tree(names + [f"extra{k}" for k in range(extra_tips)], rng)
    table = FeatureTable(sp.csr_matrix(counts), [f"s{k}" for k in range(n_samples)], names)
    return rng, counts, tree, table


@settings(max_examples=25, deadline=None)
@random_tree_tables
def test_unifrac_and_faith_pd_match_skbio_on_random_trees(
    seed: int, n_samples: int, n_features: int, density: float
) -> None:
    rng, counts, tree, table = random_tree_table(seed, n_samples, n_features, density, extra_tips=3)
    ids, names = list(table.sample_ids), list(table.feature_ids)
    for metric in ("unweighted_unifrac", "weighted_unifrac"):
        ref = sk_beta(metric, counts, ids=ids, taxa=names, tree=tree)
        try:
            ours, _, warns = beta_diversity(table, metric, tree=tree, chunk_size=int(rng.integers(1, n_samples + 1)))
        except BadInputError as exc:  # every distance 0 (identical samples): an error, never a zero matrix
            assert not ref.data.any() and "is 0" in str(exc)
            continue
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
    assert sorted(tree.tip_names()) == ["a", "b", "c"]  # type: ignore[type-var]
    assert tree.lengths[tree.names.index("b")] == 2.0


def test_read_tree_from_qza(tmp_path: Path) -> None:
    path = tmp_path / "rooted-tree.qza"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("0f3c/metadata.yaml", "uuid: 0f3c\ntype: Phylogeny[Rooted]\nformat: NewickDirectoryFormat\n")
        archive.writestr("0f3c/data/tree.nwk", "((a:1,b:2):0.5,c:3);\n")
    tree = read_tree(path)
    assert sorted(tree.tip_names()) == ["a", "b", "c"]  # type: ignore[type-var]


def test_real_tree_equals_skbio_node_for_node() -> None:
    tree = read_tree(AG / "AG_100nt_gg13_8_97_pruned.tre")
    reference = as_tree(skbio.TreeNode.read(str(AG / "AG_100nt_gg13_8_97_pruned.tre"), convert_underscores=False))
    assert tree.names == reference.names
    np.testing.assert_array_equal(tree.parent, reference.parent)
    np.testing.assert_array_equal(tree.lengths, reference.lengths)


LABEL = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=8)


def to_newick(tree: Tree, quote_all: bool) -> str:
    """Standard Newick for ``tree``: a label is quoted when it holds a blank, an underscore, a quote or
    punctuation (or always, with ``quote_all``), with ``''`` for a quote inside it; lengths in ``repr`` form."""
    children: dict[int, list[int]] = {}
    for k, p in enumerate(tree.parent):
        children.setdefault(int(p), []).append(k)

    def label(k: int) -> str:
        name = tree.names[k]
        text = ""
        if name is not None:
            plain = not quote_all and not any(c in name for c in " _'()[]:;,") and not any(c.isspace() for c in name)
            text = name if plain else "'" + name.replace("'", "''") + "'"
        return text + ("" if np.isnan(tree.lengths[k]) else f":{float(tree.lengths[k])!r}")

    def node(k: int) -> str:
        inner = ",".join(node(c) for c in children.get(k, []))
        return (f"({inner})" if k in children else "") + label(k)

    return node(len(tree.names) - 1) + ";"


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), names=st.lists(LABEL, min_size=2, max_size=12, unique=True),
       inner=st.lists(st.one_of(st.none(), LABEL), min_size=11, max_size=11), quote_all=st.booleans())
def test_newick_labels_are_read_as_written(
    seed: int, names: list[str], inner: list[str | None], quote_all: bool
) -> None:
    """Any labels (quotes, underscores, blanks, punctuation) read back exactly as written; and as scikit-bio reads
    them with ``convert_underscores=False`` (QIIME 2's reading) where scikit-bio follows the Newick rules (it does
    not read parentheses, brackets, colons, commas or semicolons inside quotes, and keeps a doubled quote
    doubled)."""
    generated = random_tree(names, np.random.default_rng(seed))
    for node, name in zip(generated.non_tips(include_self=True), inner, strict=False):
        node.name = name
    truth = as_tree(generated)
    text = to_newick(truth, quote_all)
    ours = parse_newick(text.encode("utf-8"))
    assert ours.names == truth.names
    np.testing.assert_array_equal(ours.parent, truth.parent)
    np.testing.assert_array_equal(ours.lengths, truth.lengths)
    if not any(c in (name or "") for name in truth.names for c in "'()[]:;,"):
        reference = as_tree(skbio.TreeNode.read(io.StringIO(text), format="newick", convert_underscores=False))
        assert ours.names == reference.names
        np.testing.assert_array_equal(ours.parent, reference.parent)
        np.testing.assert_array_equal(ours.lengths, reference.lengths)


def test_underscored_tip_names_match_the_table(tmp_path: Path) -> None:
    """Issue 17, defect 1: ``Methanobrevibacter_smithii`` stays as written and matches the table's feature id."""
    path = tmp_path / "tree.nwk"
    path.write_text("((Methanobrevibacter_smithii:1,'Bacteroides_fragilis':2):0.5,Akkermansia_muciniphila:3);\n")
    tree = read_tree(path)
    names = ["Methanobrevibacter_smithii", "Bacteroides_fragilis", "Akkermansia_muciniphila"]
    assert sorted(tree.tip_names()) == sorted(names)  # type: ignore[type-var]
    counts = np.array([[5.0, 0.0, 1.0], [0.0, 4.0, 2.0], [1.0, 1.0, 1.0]])
    table = FeatureTable(sp.csr_matrix(counts), ["s1", "s2", "s3"], names)
    reference_tree = skbio.TreeNode.read(str(path), convert_underscores=False)
    for metric in ("unweighted_unifrac", "weighted_unifrac"):
        ours, _, warns = beta_diversity(table, metric, tree=tree)
        assert warns == []
        ref = sk_beta(metric, counts, ids=table.sample_ids, taxa=names, tree=reference_tree)
        np.testing.assert_allclose(ours, ref.data, rtol=0, atol=1e-12)


@pytest.mark.parametrize("metric", ["unweighted_unifrac", "weighted_unifrac"])
def test_no_feature_in_the_tree_is_an_error_not_a_zero_matrix(metric: str) -> None:
    tree = parse_newick(b"(('Methanobrevibacter smithii':1,b:2):0.5,c:3);")
    table = FeatureTable(sp.csr_matrix(np.array([[1.0, 2.0], [3.0, 0.0]])), ["s1", "s2"],
                         ["Methanobrevibacter_smithii", "d"])
    with pytest.raises(BadInputError, match="none of the table's 2 features is a tip of the tree"):
        beta_diversity(table, metric, tree=tree)
    with pytest.raises(BadInputError, match="none of the table's 2 features"):
        faith_pd(table, tree)


@pytest.mark.parametrize("metric", ["unweighted_unifrac", "weighted_unifrac", "braycurtis", "jaccard"])
def test_all_zero_distances_are_an_error(metric: str) -> None:
    """Samples empty on the tree (features only on zero-length branches), or identical: no silent zero matrix."""
    tree = parse_newick(b"((a:0,b:0):0,c:1);")
    table = FeatureTable(sp.csr_matrix(np.array([[1.0, 2.0, 0.0], [3.0, 0.0, 0.0]])), ["s1", "s2"], ["a", "b", "c"])
    if metric in ("braycurtis", "jaccard"):
        table = FeatureTable(sp.csr_matrix(np.array([[1.0, 2.0, 0.0], [1.0, 2.0, 0.0]])), ["s1", "s2"], ["a", "b", "c"])
    with pytest.raises(BadInputError, match=f"every {metric} distance between the 2 samples is 0"):
        beta_diversity(table, metric, tree=tree)


@pytest.mark.parametrize(
    "text",
    ["((a:1,b:2):1,c:3", "(a,b;", ")(;", "((a:x,b):1);", "", "   \n", "lonely;", "((a,a));", "((a,b),);", "\xff\xfe",
     "((a,b));x", "(a,'b);", "(a,b[c);", "(a,b]);", "(a:1:2,b);", "(a b,c);", "a(b,c);", "(a:1 x,b);", "(a,b):;"],
)
def test_malformed_newick_is_a_bad_input_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.nwk"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(BadInputError):
        read_tree(path)


def _force_path(monkeypatch: pytest.MonkeyPatch, dense: bool) -> list[int]:
    """Make :func:`minsum_distances` choose the dense product (``dense``) or the sparse tiles whatever the density;
    returns a list that grows by one for every block the sparse tiles compute (which the dense path must not)."""
    from gutstride.analysis.microbiome import _pairwise

    monkeypatch.setattr(_pairwise, "DENSE_MIN_DENSITY", 0.0 if dense else 1.1)
    monkeypatch.setattr(_pairwise, "DENSE_MIN_ROWS", 0)
    sparse_blocks: list[int] = []
    tiles = _pairwise.pairwise_min_sums

    def counted(matrix: sp.csr_matrix, row_block: slice, out: np.ndarray | None = None) -> np.ndarray:
        sparse_blocks.append(row_block.start)
        return tiles(matrix, row_block, out)

    monkeypatch.setattr(_pairwise, "pairwise_min_sums", counted)
    return sparse_blocks


@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("metric", ["unweighted_unifrac", "jaccard", "weighted_unifrac"])
def test_dense_and_sparse_paths_match_skbio_on_american_gut(
    ag_subset: tuple[FeatureTable, Tree, skbio.TreeNode], monkeypatch: pytest.MonkeyPatch, metric: str, dense: bool
) -> None:
    """Unweighted UniFrac and Jaccard (weighted presence) through the dense product or the sparse tiles: the same
    distances as scikit-bio; weighted UniFrac's rows are not presence, so it stays on the tiles either way."""
    table, tree, reference = ag_subset
    sparse_blocks = _force_path(monkeypatch, dense)
    kwargs = {"taxa": table.feature_ids, "tree": reference} if metric != "jaccard" else {}
    ref = sk_beta(metric, table.data.toarray(), ids=table.sample_ids, **kwargs)
    for dtype, chunk, atol in ((np.float64, None, 1e-9), (np.float32, 7, 1e-6)):
        ours, _, _ = beta_diversity(table, metric, tree=tree, dtype=dtype, chunk_size=chunk)
        assert ours.dtype == dtype
        np.testing.assert_allclose(ours, ref.data, rtol=0, atol=atol)
        np.testing.assert_array_equal(ours, ours.T)
    assert bool(sparse_blocks) == (not dense or metric == "weighted_unifrac")


@settings(max_examples=25, deadline=None)
@random_tree_tables
def test_dense_path_equals_sparse_path_and_skbio_on_random_tables(
    seed: int, n_samples: int, n_features: int, density: float
) -> None:
    """minsum_distances forced dense and forced sparse on the same weighted-presence rows (unweighted UniFrac's,
    Jaccard's): equal to 1e-12 and to scikit-bio to 1e-9, in any block size."""
    from gutstride.analysis.microbiome._pairwise import minsum_distances
    from gutstride.analysis.microbiome.phylo import node_table

    rng, counts, tree, table = random_tree_table(seed, n_samples, n_features, density)
    ids, names = list(table.sample_ids), list(table.feature_ids)
    nodes = node_table(table, tree)
    presence = sp.csr_matrix(nodes.counts, copy=True)
    presence.data = (presence.data > 0).astype(np.float64)
    cases = {
        "unweighted_unifrac": (sp.csr_matrix(presence @ sp.diags(nodes.lengths)),
                               sk_beta("unweighted_unifrac", counts, ids=ids, taxa=names, tree=tree).data),
        "jaccard": (sp.csr_matrix((counts > 0).astype(np.float64)), sk_beta("jaccard", counts, ids=ids).data),
    }
    chunk = int(rng.integers(1, n_samples + 1))
    for rows, ref in cases.values():
        both = [minsum_distances(rows, ratio=True, shared_in_denominator=True, chunk_size=chunk, dense=dense)
                for dense in (True, False)]
        np.testing.assert_allclose(both[0], both[1], rtol=0, atol=1e-12)
        np.testing.assert_allclose(both[0], np.nan_to_num(ref), rtol=0, atol=1e-9)


def test_dense_path_refuses_rows_that_are_not_weighted_presence() -> None:
    from gutstride.analysis.microbiome._pairwise import minsum_distances

    rows = sp.csr_matrix(np.array([[1.0, 2.0], [3.0, 2.0]]))  # column 0 holds 1 and 3
    with pytest.raises(ValueError, match="weighted presence"):
        minsum_distances(rows, ratio=True, dense=True)
    np.testing.assert_allclose(minsum_distances(rows, ratio=True, dense=None), [[0, 2 / 8], [2 / 8, 0]])


def test_min_sums_into_a_given_array_and_a_wrong_one_refused() -> None:
    from gutstride.analysis.microbiome._pairwise import pairwise_min_sums

    rows = sp.csr_matrix(np.array([[1.0, 2.0, 0.0], [3.0, 1.0, 1.0], [0.0, 5.0, 2.0]]))
    out = np.full((2, 2), -1.0)
    assert pairwise_min_sums(rows, slice(1, 3), out=out) is out
    assert out[0, 1] == 1.0 + 1.0  # m(row 1, row 2) = min(3, 0) + min(1, 5) + min(1, 2); below the diagonal untouched
    assert out[1, 0] == -1.0
    with pytest.raises(ValueError, match="C-contiguous float64"):
        pairwise_min_sums(rows, slice(1, 3), out=np.zeros((2, 3)))
