"""What the science says: the claims of the knowledge base that answer a question, or all of them by certainty."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gutstride.errors import MissingDataError

if TYPE_CHECKING:
    from gutstride.evidence.model import Claim


def find_claims(query: str | None, limit: int = 3) -> list[Claim]:
    """The ``limit`` claims that best answer ``query``; without a query every claim, surest first.

    Raises
    ------
    MissingDataError
        No claim matches the query.
    """
    from gutstride.evidence.engine import answer, default_knowledge_base
    from gutstride.evidence.model import CERTAINTIES

    kb = default_knowledge_base()
    if query:
        claims = answer(query, kb, limit=limit)
        if not claims:
            raise MissingDataError(f"no claim in the evidence base matches {query!r}")
        return list(claims)
    return sorted(kb.claims.values(), key=lambda c: (CERTAINTIES.index(c.certainty), c.id))
