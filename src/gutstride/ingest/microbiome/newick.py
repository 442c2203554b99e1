"""Read a phylogenetic tree: Newick text (.nwk, .tre, .txt, anything else) or a QIIME 2 ``Phylogeny[Rooted]`` .qza.

The tree is parsed by scikit-bio (:class:`skbio.TreeNode`), forcing the Newick format instead of sniffing it so
that a malformed file gets a parse error rather than "unknown format". Every failure is a
:class:`~gutstride.errors.BadInputError` naming the file and the reason.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from gutstride.errors import BadInputError

if TYPE_CHECKING:
    import skbio


def read_tree(path: Path) -> skbio.TreeNode:
    """Read a rooted tree from a Newick file or a QIIME 2 ``Phylogeny[Rooted]`` artifact.

    Parameters
    ----------
    path
        A Newick file (any extension; ``.nwk``, ``.tre`` and ``.txt`` are usual) or a ``.qza`` holding a rooted
        phylogeny.

    Returns
    -------
    skbio.TreeNode
        The root of the tree.

    Raises
    ------
    MissingDataError
        The file does not exist.
    BadInputError
        The text is not valid Newick, the tree has no tips, or tip names are duplicated.
    """
    from gutstride.ingest.microbiome.artifact import read_file_or_artifact

    raw, source = read_file_or_artifact(path, ("Phylogeny[Rooted]",))
    return parse_newick(raw, source)


def parse_newick(raw: bytes, source: str = "<newick>") -> skbio.TreeNode:
    """Parse Newick bytes into a :class:`skbio.TreeNode`; ``source`` names the input in error messages."""
    import warnings

    import skbio

    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInputError(f"{source}: not a Newick tree (not UTF-8 text at byte {exc.start})") from None
    stripped = text.strip()
    if not stripped:
        raise BadInputError(f"{source}: empty file, expected a Newick tree")
    if not stripped.endswith(";"):
        raise BadInputError(f"{source}: malformed Newick: the tree does not end with ';'")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "does not look like a newick file": we report our own error
            tree = skbio.io.read(io.StringIO(text), format="newick", into=skbio.TreeNode)
    except Exception as exc:  # scikit-bio raises NewickFormatError, ValueError, ... for bad text
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BadInputError(f"{source}: malformed Newick: {reason}") from None
    if not tree.children:
        raise BadInputError(f"{source}: malformed Newick: the tree has no branches")
    names = [tip.name for tip in tree.tips()]
    if not names or any(name is None for name in names):
        raise BadInputError(f"{source}: malformed Newick: every tip needs a name")
    if len(set(names)) != len(names):
        seen: set[str] = set()
        dup = next(name for name in names if name in seen or seen.add(name))  # type: ignore[func-returns-value]
        raise BadInputError(f"{source}: tip name {dup!r} appears more than once")
    return tree
