"""Diversity of microbiome tables read from files: alpha per sample, beta between samples, and PCoA of a distance
matrix; the use cases behind ``gutstride alpha``, ``beta`` and ``pcoa``. Nothing is stored."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gutstride.errors import BadInputError, MissingDataError

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy as np
    import pandas as pd

    from gutstride.analysis.microbiome.ordination import Ordination
    from gutstride.model.tree import Tree


@dataclass
class AlphaResult:
    """Alpha diversity of every sample kept (``frame``, one row per sample), the samples left out by rarefaction, and
    what to tell the user (notes on the table, warnings of the tree)."""

    frame: pd.DataFrame
    dropped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def alpha_of_file(table_path: Path, tree_path: Path | None = None, rarefy_depth: int | None = None, seed: int = 0,
                  rank: str = "genus") -> AlphaResult:
    """Read the table at ``table_path`` (optionally rarefied to ``rarefy_depth`` with ``seed``) and compute alpha
    diversity (see :func:`gutstride.analysis.microbiome.alpha.alpha_diversity`), with Faith PD when a tree is
    given."""
    from gutstride.analysis.microbiome.alpha import alpha_diversity
    from gutstride.ingest.microbiome.read import read_table

    table = read_table(table_path, rank)
    notes = list(table.notes)
    dropped: list[str] = []
    if rarefy_depth is not None:
        from gutstride.analysis.microbiome.rarefy import rarefy

        table, dropped = rarefy(table, rarefy_depth, seed)
    frame = alpha_diversity(table)
    caught_messages: list[str] = []
    if tree_path is not None:
        from gutstride.analysis.microbiome.phylo import faith_pd
        from gutstride.ingest.microbiome.newick import read_tree

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame["faith_pd"] = faith_pd(table, read_tree(tree_path)).reindex(frame.index).to_numpy()
        caught_messages = [str(w.message) for w in caught]
    if table.value_kind != "counts":
        notes.append("the table holds relative abundances: chao1 needs counts and is left empty")
    return AlphaResult(frame, dropped, notes, caught_messages)


def beta_of_file(table_path: Path, metric: str, tree_path: Path | None = None, float32: bool = False,
                 chunk_size: int | None = None) -> tuple[np.ndarray, list[str], list[str]]:
    """Distances between every pair of samples of the table at ``table_path``: ``(matrix, sample ids, warnings)``.

    Raises
    ------
    BadInputError, MissingDataError
        An unknown metric, or a UniFrac without a tree.
    """
    import numpy as np

    from gutstride.analysis.microbiome.beta import beta_diversity
    from gutstride.ingest.microbiome.read import read_table

    tree = metric_tree(metric, tree_path)
    table = read_table(table_path)
    matrix, ids, messages = beta_diversity(table, metric, tree=tree, dtype=np.float32 if float32 else np.float64,
                                           chunk_size=chunk_size)
    return matrix, list(ids), list(messages)


#: Largest cohort whose distance store ``gutstride beta --from-zarr`` exports as a TSV: the TSV of 30,000 samples
#: holds 9e8 values (about 10 GB as float32 text, 18 GB as float64), and the tools that read it (scikit-bio's
#: ``DistanceMatrix.read``, QIIME 2) hold the whole square in memory (7.2 GB of float64 at 30,000).
MAX_TSV_SAMPLES = 30_000
#: Distances read from the store at once by the export (128 MB of float64).
_EXPORT_VALUES = 16_000_000


def distance_store_rows(store_path: Path) -> tuple[list[str], str, Iterator[np.ndarray]]:
    """The sample ids, the metric and the rows of the distance store of a cohort run
    (:mod:`gutstride.ingest.microbiome.distance_store`), in blocks of consecutive rows read one at a time (at most
    about :data:`_EXPORT_VALUES` values each, in the stored float32 or float64), for a streamed export.

    Raises
    ------
    MissingDataError, BadInputError
        No store there, not a complete gutstride distance store, or more than :data:`MAX_TSV_SAMPLES` samples.
    """
    from gutstride.analysis.cohort import row_ranges
    from gutstride.ingest.microbiome.distance_store import open_distance_store

    store = open_distance_store(store_path)
    n = len(store.sample_ids)
    if n > MAX_TSV_SAMPLES:
        per_value = 11 if store.array.dtype.itemsize == 4 else 20  # shortest repr and a tab
        raise BadInputError(
            f"{store_path}: {n:,} samples, above the {MAX_TSV_SAMPLES:,} a distance TSV is written for (about "
            f"{n * n * per_value / 1e9:.0f} GB of text that scikit-bio and QIIME 2 would read whole); read the "
            f"Zarr store itself (zarr.open_array) instead")

    def blocks() -> Iterator[np.ndarray]:
        for start, stop in row_ranges(n, int(store.array.chunks[0]), _EXPORT_VALUES):
            yield store.array[start:stop, :]

    return store.sample_ids, store.metric, blocks()


def metric_tree(metric: str, tree_path: Path | None) -> Tree | None:
    """Check ``metric`` and read the tree it needs (UniFrac), if any.

    Raises
    ------
    BadInputError, MissingDataError
        An unknown metric, or a UniFrac without a tree.
    """
    from gutstride.analysis.microbiome.beta import METRICS

    if metric not in METRICS:
        raise BadInputError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    if metric.endswith("unifrac") and tree_path is None:
        raise MissingDataError(f"{metric} needs a phylogenetic tree: add --tree TREE")
    if tree_path is None:
        return None
    from gutstride.ingest.microbiome.newick import read_tree

    return read_tree(tree_path)


def pcoa_of_file(dm_path: Path, dimensions: int | None = None, method: str = "eigh", seed: int = 0) -> Ordination:
    """PCoA of the distance matrix at ``dm_path`` (see :func:`gutstride.analysis.microbiome.ordination.pcoa`)."""
    from gutstride.analysis.microbiome.ordination import pcoa
    from gutstride.ingest.microbiome.distance_matrix import read_distance_matrix

    matrix, ids = read_distance_matrix(dm_path)
    return pcoa(matrix, ids, dimensions, method, seed)
