"""Phylogenetic diversity on a tree: node-by-sample matrices, Faith's PD, unweighted and weighted UniFrac.

Every branch ``b`` of a rooted tree (the edge above node ``b``, of length ``l_b``) gets, in each sample, the total
count of the features that descend from it. With ``T`` the tips-by-nodes incidence matrix (``T[t, b] = 1`` when tip
``t`` is ``b`` or lies below it) and ``X`` the samples-by-tips table, the node table is the sparse product
``N = X T`` (samples by nodes). Then

- Faith's phylogenetic diversity: ``PD(A) = sum_b l_b [N_Ab > 0]`` (Faith's PD, 1992);
- unweighted UniFrac: ``U(A, B) = sum_b l_b |[N_Ab > 0] - [N_Bb > 0]| / sum_b l_b max([N_Ab > 0], [N_Bb > 0])``,
  the unique fraction of the branch length observed in either sample (Lozupone and Knight, 2005);
- weighted UniFrac, unnormalised as QIIME 2 reports it by default:
  ``W(A, B) = sum_b l_b |N_Ab / n_A - N_Bb / n_B|`` with ``n_A`` the sample's total count (Lozupone et al., 2007).

Both UniFrac forms reduce to sums of element-wise minima of sparse rows (see
:mod:`gutstride.analysis.microbiome._pairwise`), so a pair costs the number of branches one sample covers, not the
size of the tree. Branches of length zero, and branches no sample covers, are dropped first. The root's own length,
if the Newick gives one, counts like any branch, as in scikit-bio.

Features of the table that are not tips of the tree are left out, with a warning giving how many there are and the
share of the table's total they hold.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from gutstride.errors import BadInputError
from gutstride.model.tree import Tree

if TYPE_CHECKING:
    import pandas as pd
    import skbio

    from gutstride.model.feature_table import FeatureTable


@dataclass(frozen=True)
class TreeIndex:
    """A tree flattened for matrix work.

    Attributes
    ----------
    lengths
        Branch length of each node, in post-order (root last); a missing root length is 0.
    tip_position
        Tip name -> row of ``incidence``.
    incidence
        CSR matrix (tips x nodes), 1 where the node is the tip itself or one of its ancestors.
    """

    lengths: np.ndarray
    tip_position: dict[str, int]
    incidence: sp.csr_matrix


@dataclass(frozen=True)
class NodeTable:
    """Samples-by-branches totals of a table on a tree (branches of zero length or never observed dropped).

    Attributes
    ----------
    counts
        CSR matrix (samples x kept branches): total of the features below each branch.
    lengths
        Length of each kept branch.
    sample_totals
        Total of each sample over the features found in the tree.
    warnings
        Messages about features left out.
    """

    counts: sp.csr_matrix
    lengths: np.ndarray
    sample_totals: np.ndarray
    warnings: list[str]


def as_tree(tree: Tree | skbio.TreeNode) -> Tree:
    """``tree`` as a flat :class:`~gutstride.model.tree.Tree` (a scikit-bio ``TreeNode`` is flattened in
    post-order; its missing lengths become NaN)."""
    if isinstance(tree, Tree):
        return tree
    nodes = list(tree.postorder(include_self=True))
    position = {id(node): k for k, node in enumerate(nodes)}
    return Tree(
        names=[None if node.name is None else str(node.name) for node in nodes],
        lengths=np.array([np.nan if node.length is None else node.length for node in nodes], dtype=np.float64),
        parent=np.array([-1 if node.parent is None else position[id(node.parent)] for node in nodes], dtype=np.int64),
    )


def index_tree(tree: Tree | skbio.TreeNode) -> TreeIndex:
    """Flatten ``tree`` into branch lengths and a tips-by-nodes incidence matrix.

    Raises
    ------
    BadInputError
        A non-root branch has no length, a length is negative or not finite, or tip names repeat.
    """
    flat = as_tree(tree)
    parent = flat.parent
    missing = np.isnan(flat.lengths) & (parent >= 0)
    if missing.any():
        name = flat.names[int(np.argmax(missing))]
        raise BadInputError(f"tree: branch above node {name!r} has no length; UniFrac and PD need lengths")
    lengths = np.where(np.isnan(flat.lengths), 0.0, flat.lengths)
    if not np.all(np.isfinite(lengths)) or np.any(lengths < 0):
        raise BadInputError("tree: branch lengths must be finite and non-negative")
    tip_nodes = np.flatnonzero(flat.is_tip())
    tip_position: dict[str, int] = {}
    for k, node in enumerate(tip_nodes):
        name = str(flat.names[node])
        if name in tip_position:
            raise BadInputError(f"tree: tip name {name!r} appears more than once")
        tip_position[name] = k
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    tips = np.arange(tip_nodes.size, dtype=np.int64)
    current = tip_nodes.astype(np.int64)
    while current.size:  # walk every tip up to the root, one level per step for all tips at once
        rows.append(tips)
        cols.append(current)
        current = parent[current]
        keep = current >= 0
        tips, current = tips[keep], current[keep]
    row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    col = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    incidence = sp.csr_matrix((np.ones(row.size), (row, col)), shape=(tip_nodes.size, len(flat.names)))
    return TreeIndex(lengths=lengths, tip_position=tip_position, incidence=incidence)


def node_table(table: FeatureTable, tree: Tree | skbio.TreeNode | TreeIndex) -> NodeTable:
    """Totals of ``table`` on every branch of ``tree`` (the node-by-sample matrix, transposed).

    Features missing from the tree are left out; ``warnings`` then says how many and what share of the table's
    total they hold.

    Raises
    ------
    BadInputError
        No feature of the table is a tip of the tree (every value would be 0).
    """
    index = tree if isinstance(tree, TreeIndex) else index_tree(tree)
    data = sp.csr_matrix(table.data, dtype=np.float64)
    in_tree = [k for k, fid in enumerate(table.feature_ids) if fid in index.tip_position]
    if not in_tree:
        features = ", ".join(repr(f) for f in table.feature_ids[:3]) or "none"
        tips = ", ".join(repr(t) for t in list(index.tip_position)[:3])
        raise BadInputError(
            f"none of the table's {len(table.feature_ids)} features is a tip of the tree (features: {features}, ...; "
            f"tips: {tips}, ...); the feature ids must be the tree's tip names"
        )
    messages: list[str] = []
    n_missing = len(table.feature_ids) - len(in_tree)
    if n_missing:
        total = float(data.sum())
        kept = data[:, in_tree]
        share = 1.0 - float(kept.sum()) / total if total > 0 else 0.0
        messages.append(
            f"{n_missing} of {len(table.feature_ids)} features are not in the tree and were left out "
            f"({share:.2%} of the table's total counts)"
        )
        data = kept
    tip_rows = np.fromiter((index.tip_position[table.feature_ids[k]] for k in in_tree), dtype=np.int64)
    counts = sp.csr_matrix(data @ index.incidence[tip_rows])
    observed = np.asarray((counts > 0).sum(axis=0)).ravel() > 0
    keep = np.flatnonzero(observed & (index.lengths > 0))
    return NodeTable(
        counts=sp.csr_matrix(counts[:, keep]),
        lengths=index.lengths[keep],
        sample_totals=np.asarray(data.sum(axis=1)).ravel(),
        warnings=messages,
    )


def faith_pd(table: FeatureTable, tree: Tree | skbio.TreeNode) -> pd.Series:
    """Faith's phylogenetic diversity of each sample: the total length of the branches it covers.

    ``PD(A) = sum_b l_b [N_Ab > 0]`` over every branch ``b`` with at least one feature of ``A`` below it
    (Faith's PD, 1992), as scikit-bio's ``faith_pd``. Features not in the tree are left out and reported with
    :func:`warnings.warn` (category :class:`UserWarning`).

    Returns
    -------
    pandas.Series
        Float PD indexed by sample id, named ``"faith_pd"``.
    """
    import pandas as pd

    nodes = node_table(table, tree)
    for message in nodes.warnings:
        warnings.warn(message, UserWarning, stacklevel=2)
    presence = nodes.counts.copy()
    presence.data = (presence.data > 0).astype(np.float64)
    values = presence @ nodes.lengths
    return pd.Series(np.asarray(values, dtype=np.float64), index=list(table.sample_ids), name="faith_pd")


def unifrac(
    table: FeatureTable,
    tree: Tree | skbio.TreeNode,
    *,
    weighted: bool,
    dtype: type = np.float64,
    chunk_size: int | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Unweighted or (unnormalised) weighted UniFrac between every pair of samples.

    Unweighted: rows ``x_A = l * [N_A > 0]``, so ``m(x_A, x_B)`` (sum of minima) is the shared branch length and
    ``U = (s_A + s_B - 2 m) / (s_A + s_B - m)``. Weighted: rows ``x_A = l * N_A / n_A``, and
    ``W = sum_b |x_Ab - x_Bb| = s_A + s_B - 2 m``. An empty sample has distance 0 to another empty sample.

    Returns
    -------
    (numpy.ndarray, list of str)
        The square distance matrix in ``table.sample_ids`` order, and warnings (features not in the tree).
    """
    from gutstride.analysis.microbiome._pairwise import minsum_distances

    nodes = node_table(table, tree)
    rows = nodes.counts.copy()
    if weighted:
        totals = np.where(nodes.sample_totals > 0, nodes.sample_totals, 1.0)
        rows = sp.csr_matrix(sp.diags(1.0 / totals) @ rows)
    else:
        rows.data = (rows.data > 0).astype(np.float64)
    rows = sp.csr_matrix(rows @ sp.diags(nodes.lengths))
    rows.eliminate_zeros()
    dm = minsum_distances(rows, ratio=not weighted, shared_in_denominator=True, dtype=dtype, chunk_size=chunk_size)
    return dm, nodes.warnings
