"""Read a phylogenetic tree: Newick text (.nwk, .tre, .txt, anything else) or a QIIME 2 ``Phylogeny[Rooted]`` .qza.

The Newick text is parsed here, into a flat :class:`~gutstride.model.tree.Tree` (no scikit-bio import). Labels are
kept as written, as QIIME 2 reads them: an unquoted label's underscores stay underscores (the Newick standard's
"underscores become blanks" rule is not applied, since feature ids such as ``Methanobrevibacter_smithii`` must
match the table). Quoted labels follow the Newick rules: a label between single quotes may hold any character,
and ``''`` inside it stands for one quote. Comments in square brackets and whitespace between tokens are ignored.
Every failure is a :class:`~gutstride.errors.BadInputError` naming the file and the reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from gutstride.errors import BadInputError
from gutstride.model.tree import Tree

#: One token of Newick text: a quoted label, a comment, punctuation, an unquoted label, whitespace, or any other
#: single character (an unterminated quote or comment, a stray ']'), which is an error.
_TOKEN = re.compile(r"'(?:[^']|'')*'|\[[^\]]*\]|[(),:;]|[^\s(),:;'\[\]]+|\s+|.", re.DOTALL)


def read_tree(path: Path) -> Tree:
    """Read a rooted tree from a Newick file or a QIIME 2 ``Phylogeny[Rooted]`` artifact.

    Parameters
    ----------
    path
        A Newick file (any extension; ``.nwk``, ``.tre`` and ``.txt`` are usual) or a ``.qza`` holding a rooted
        phylogeny.

    Returns
    -------
    Tree
        The tree, nodes in post-order.

    Raises
    ------
    MissingDataError
        The file does not exist.
    BadInputError
        The text is not valid Newick, the tree has no branches, a tip has no name, or tip names are duplicated.
    """
    from gutstride.ingest.microbiome.artifact import read_file_or_artifact

    raw, source = read_file_or_artifact(path, ("Phylogeny[Rooted]",))
    return parse_newick(raw, source)


def parse_newick(raw: bytes, source: str = "<newick>") -> Tree:
    """Parse Newick bytes into a :class:`Tree`; ``source`` names the input in error messages."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInputError(f"{source}: not a Newick tree (not UTF-8 text at byte {exc.start})") from None
    stripped = text.strip()
    if not stripped:
        raise BadInputError(f"{source}: empty file, expected a Newick tree")
    if not stripped.endswith(";"):
        raise BadInputError(f"{source}: malformed Newick: the tree does not end with ';'")
    names, lengths, parent = _parse(stripped, source)
    tree = Tree(names=names, lengths=np.asarray(lengths, dtype=np.float64), parent=np.asarray(parent, dtype=np.int64))
    if len(names) < 2:
        raise BadInputError(f"{source}: malformed Newick: the tree has no branches")
    tips = tree.tip_names()
    if any(name is None for name in tips):
        raise BadInputError(f"{source}: malformed Newick: every tip needs a name")
    if len(set(tips)) != len(tips):
        seen: set[str | None] = set()
        dup = next(name for name in tips if name in seen or seen.add(name))  # type: ignore[func-returns-value]
        raise BadInputError(f"{source}: tip name {dup!r} appears more than once")
    return tree


def _parse(text: str, source: str) -> tuple[list[str | None], list[float], list[int]]:
    """Names, lengths (NaN when absent) and parents of the nodes of one Newick tree, in post-order.

    A node is created when its first token arrives: a tip at its label, ``:`` or the ``,``/``)`` that ends it,
    an internal node at its ``)``, after its children; so every child precedes its parent.
    """
    names: list[str | None] = []
    lengths: list[float] = []
    parent: list[int] = []
    open_children: list[list[int]] = []  # children of each internal node whose ')' has not come yet
    current = -1  # the node whose label and length may follow, or -1
    named = False  # whether ``current`` has its label already
    expect_length = False
    done = False

    def fail(reason: str) -> BadInputError:
        return BadInputError(f"{source}: malformed Newick: {reason}")

    def new_node(name: str | None = None) -> int:
        names.append(name)
        lengths.append(float("nan"))
        parent.append(-1)
        return len(names) - 1

    for match in _TOKEN.finditer(text):
        token = match.group()
        first = token[0]
        if token in ("'", "[", "]"):
            raise fail(f"unterminated quote or comment at character {match.start() + 1}")
        if first.isspace() or first == "[":
            continue
        if done:
            raise fail(f"text after the final ';' at character {match.start() + 1}")
        if expect_length:
            if current < 0 or first in "(),:;'":
                raise fail(f"expected a branch length at character {match.start() + 1}")
            try:
                lengths[current] = float(token)
            except ValueError:
                raise fail(f"branch length {token!r} is not a number") from None
            expect_length = False
            continue
        if first == "(":
            if current >= 0:
                raise fail(f"'(' after a node at character {match.start() + 1}")
            open_children.append([])
        elif first in ",)":
            if not open_children:
                raise fail(f"unbalanced {first!r} at character {match.start() + 1}")
            open_children[-1].append(current if current >= 0 else new_node())
            current, named = -1, False
            if first == ")":
                children = open_children.pop()
                current = new_node()
                for child in children:
                    parent[child] = current
        elif first == ":":
            if current < 0:
                current, named = new_node(), False
            if lengths[current] == lengths[current]:  # not NaN: a length was given already
                raise fail(f"a second branch length at character {match.start() + 1}")
            expect_length = True
        elif first == ";":
            if open_children:
                raise fail("unbalanced '(': the tree ends before every ')'")
            if current < 0:
                current = new_node()
            done = True
        else:  # a label
            if current >= 0 and (named or lengths[current] == lengths[current]):
                raise fail(f"unexpected label {token!r} at character {match.start() + 1}")
            name = token[1:-1].replace("''", "'") if first == "'" else token
            if current >= 0:
                names[current] = name
            else:
                current = new_node(name)
            named = True
    if not done:
        raise fail("the tree does not end with ';'")
    return names, lengths, parent
