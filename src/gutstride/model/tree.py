"""A rooted phylogenetic tree stored flat: one entry per node, every child before its parent (post-order)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tree:
    """A rooted tree with ``n`` nodes in post-order (each node after all its descendants; the root is last).

    Attributes
    ----------
    names
        Each node's label as written in the Newick text (underscores kept, quotes removed), or None.
    lengths
        Float64 length of the branch above each node; NaN where the text gives none.
    parent
        Int64 index of each node's parent; -1 for the root.
    """

    names: list[str | None]
    lengths: np.ndarray
    parent: np.ndarray

    def is_tip(self) -> np.ndarray:
        """Boolean mask of the nodes without children (the root is never a tip)."""
        tip = np.ones(len(self.names), dtype=bool)
        tip[self.parent[self.parent >= 0]] = False
        tip[self.parent < 0] = False
        return tip

    def tip_names(self) -> list[str | None]:
        """Names of the tips, in post-order."""
        return [self.names[k] for k in np.flatnonzero(self.is_tip())]
