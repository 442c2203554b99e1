"""The evidence engine: from findings about one person to an ordered list of recommendations.

Pure functions: no I/O beyond loading the package's own knowledge base when none is given.

Ordering
--------
Red flags come first, always. The rest are ordered by ``score = expected_benefit x w(certainty)``, with
``w = 1.0, 0.75, 0.5, 0.25`` for high, moderate, low and very low certainty (the certainty of the rule's main
claim), then by rule id so that the order is deterministic. Findings whose direction is ``not_enough_data`` never
trigger advice: each yields an informational item placed after all advice.

Two labels
----------
Each recommendation carries two separate labels, so that the literature's rating is never shown on the person's
own pattern: *in your data*, the strength of the personal finding (:func:`personal_strength`), and *in research*,
the GRADE certainty of the rule's main claim. Under each recommendation the claims behind it form a GRADE
summary-of-findings table, one row per outcome (:meth:`~gutstride.evidence.model.Claim.summary_of_findings`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Any

from gutstride.evidence.model import CERTAINTY_WEIGHT, Claim, KnowledgeBase, Rule, load_knowledge_base
from gutstride.model.finding import Finding

_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    _WORD.findall(
        "a an and are as at be by can could do does for from how i if in is it its me my of on or should so the "
        "than that this to was what when which who why will with you your"
    )
)


#: Order of the personal-strength levels, strongest first (see :func:`personal_strength`).
STRENGTH_LEVELS = ("recorded", "strong", "moderate", "weak", "measured", "single sample", "cannot be judged",
                   "not enough data")


def personal_strength(findings: Sequence[Finding]) -> dict[str, str]:
    """How strong the person's own finding is ("in your data"), as a level and a sentence.

    For each finding:

    - a red flag is ``recorded`` (the person wrote it down; its strength is not in question);
    - ``not_enough_data`` findings are ``not enough data``;
    - a tested association (``detail["p_adjusted"]``: a within-person trigger, Fisher's exact test, Holm-adjusted)
      is ``strong`` when the adjusted p < 0.001, ``moderate`` when < 0.01, ``weak`` when < 0.05, otherwise
      ``cannot be judged``; the sentence gives the rate ratio, its interval and the number of sessions;
    - a microbiome finding rests on ``single sample`` (one test, no repeat), or ``cannot be judged`` when its
      detail says so (a change without a within-person reference);
    - any other finding is ``measured``: a count or share over ``n`` observations, not an inference.

    The strongest level over the findings is returned (order :data:`STRENGTH_LEVELS`).
    """
    graded = [_strength_of(f) for f in findings]
    if not graded:
        return {"level": "not enough data", "text": "No personal data behind this item."}
    level, text = min(graded, key=lambda item: STRENGTH_LEVELS.index(item[0]))
    return {"level": level, "text": text}


def _strength_of(finding: Finding) -> tuple[str, str]:
    if finding.domain == "red_flag" and finding.direction not in ("absent", "not_enough_data"):
        return "recorded", f"recorded in your log (n={finding.n})"
    if finding.domain == "microbiome" and finding.detail.get("judged") is False:
        return "cannot be judged", str(finding.detail.get("why", "no reference to judge it against"))
    if finding.direction == "not_enough_data":
        return "not enough data", f"not enough data yet (n={finding.n})"
    p = finding.detail.get("p_adjusted")
    if p is not None:
        level = "strong" if p < 0.001 else "moderate" if p < 0.01 else "weak" if p < 0.05 else "cannot be judged"
        interval = (f", 95% interval {finding.interval[0]:.2g}-{finding.interval[1]:.2g}"
                    if finding.interval is not None else "")
        ratio = f"rate ratio {finding.value:.2g}{interval}, " if finding.value is not None else ""
        return level, f"an association in your own log: {ratio}Holm-adjusted p = {p:.2g}, {finding.n} sessions"
    if finding.domain == "microbiome":
        return "single sample", "one microbiome test, not repeated; a single sample says little about you"
    return "measured", f"measured over {finding.n} observations"


@dataclass(frozen=True)
class Recommendation:
    """One item of advice (or, with ``kind == "info"``, a note that there is not enough data yet).

    ``personal_evidence`` holds the triggering findings' summaries with their numbers, ``n`` and dates;
    ``claims`` the claims behind the advice, each with its citations. ``in_your_data`` is the strength of the
    personal finding (:func:`personal_strength`); ``certainty`` is the research label, the GRADE certainty of the
    main claim.
    """

    id: str
    kind: str
    category: str
    title: str
    advice: str
    certainty: str
    plain_wording: str
    personal_evidence: tuple[str, ...]
    findings: tuple[Finding, ...]
    claims: tuple[Claim, ...]
    what_would_change_it: str
    expected_benefit: int
    score: float
    in_your_data: dict[str, str] | None = None

    def summary_of_findings(self) -> list[dict[str, Any]]:
        """GRADE summary-of-findings rows, one per outcome: the claims behind this recommendation."""
        return [c.summary_of_findings() for c in self.claims]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "category": self.category,
            "title": self.title,
            "advice": self.advice,
            "certainty": self.certainty,
            "plain_wording": self.plain_wording,
            "personal_evidence": list(self.personal_evidence),
            "findings": [f.to_dict() for f in self.findings],
            "claims": [c.to_dict() for c in self.claims],
            "what_would_change_it": self.what_would_change_it,
            "expected_benefit": self.expected_benefit,
            "score": self.score,
            "in_your_data": self.in_your_data or personal_strength(self.findings),
            "in_research": {"certainty": self.certainty, "claim_id": self.claims[0].id if self.claims else None},
            "summary_of_findings": self.summary_of_findings(),
        }


@lru_cache(maxsize=1)
def default_knowledge_base() -> KnowledgeBase:
    """The package's knowledge base, loaded and validated once per process."""
    return load_knowledge_base()


def describe(finding: Finding) -> str:
    """The finding's summary with its observation count and period, e.g. ``"... (n=12; 2026-09-01 to 2026-10-26)"``."""
    parts = [f"n={finding.n}"]
    if finding.period_start and finding.period_end:
        parts.append(f"{finding.period_start.isoformat()} to {finding.period_end.isoformat()}")
    elif finding.period_start or finding.period_end:
        day = finding.period_start or finding.period_end
        assert day is not None
        parts.append(day.isoformat())
    if finding.interval is not None:
        low, high = finding.interval
        parts.append(f"interval {low:.3g} to {high:.3g}{(' ' + finding.unit) if finding.unit else ''}")
    return f"{finding.summary} ({'; '.join(parts)})"


def rule_matches(rule: Rule, finding: Finding) -> bool:
    """Whether ``finding`` satisfies any trigger of ``rule`` (never when its direction is ``not_enough_data``)."""
    if finding.direction == "not_enough_data":
        return False
    return any(fnmatchcase(finding.id, t.finding) and finding.direction in t.direction for t in rule.triggers)


def _rule_mentions(rule: Rule, finding_id: str) -> bool:
    return any(fnmatchcase(finding_id, t.finding) for t in rule.triggers)


def _is_red_flag(finding: Finding) -> bool:
    """Safety first: any red-flag finding that is not explicitly absent (or undecided) counts."""
    if finding.direction in ("absent", "not_enough_data"):
        return False
    return finding.domain == "red_flag" or finding.id.startswith("red_flag.")


def recommend(
    findings: Sequence[Finding],
    claims: Mapping[str, Claim] | None = None,
    rules: Sequence[Rule] | None = None,
) -> list[Recommendation]:
    """Turn findings into ordered recommendations.

    Parameters
    ----------
    findings
        Findings from the training, symptom, microbiome and data analyses.
    claims, rules
        The knowledge base's claims by id and rules; the package's own when ``None``.

    Returns
    -------
    list of Recommendation
        Red flags first (a ``red_flag`` finding always yields the "see a doctor" item on top), then advice by
        ``expected_benefit x certainty weight``, then "not enough data yet" items.
    """
    kb = default_knowledge_base() if claims is None or rules is None else None
    claim_map: Mapping[str, Claim] = claims if claims is not None else kb.claims  # type: ignore[union-attr]
    rule_list: Sequence[Rule] = rules if rules is not None else kb.rules  # type: ignore[union-attr]

    red_flag_rules = [r for r in rule_list if r.category == "red_flag"]
    if any(_is_red_flag(f) for f in findings) and not red_flag_rules:
        raise ValueError("red-flag findings present but the rules contain no red_flag rule")

    advice: list[Recommendation] = []
    for rule in rule_list:
        if rule.category == "red_flag":
            matched = [f for f in findings if _is_red_flag(f) or rule_matches(rule, f)]
        else:
            matched = [f for f in findings if rule_matches(rule, f)]
        if matched:
            advice.append(_build(rule, matched, claim_map))
    advice.sort(key=lambda r: (r.kind != "red_flag", -r.score, r.id))

    info: list[Recommendation] = []
    for finding in findings:
        if finding.direction != "not_enough_data":
            continue
        related = [r for r in rule_list if _rule_mentions(r, finding.id)]
        if related:
            info.append(_not_enough_data(finding, related, claim_map))
    info.sort(key=lambda r: r.id)
    return advice + info


def _claims_of(rules: Iterable[Rule], claim_map: Mapping[str, Claim]) -> tuple[Claim, ...]:
    out: dict[str, Claim] = {}
    for rule in rules:
        for cid in rule.claims:
            if cid not in claim_map:
                raise ValueError(f"rule {rule.id!r} refers to unknown claim {cid!r}")
            out.setdefault(cid, claim_map[cid])
    return tuple(out.values())


def _build(rule: Rule, matched: list[Finding], claim_map: Mapping[str, Claim]) -> Recommendation:
    cited = _claims_of([rule], claim_map)
    main = cited[0]
    return Recommendation(
        id=rule.id,
        kind="red_flag" if rule.category == "red_flag" else "advice",
        category=rule.category,
        title=rule.title,
        advice=rule.advice,
        certainty=main.certainty,
        plain_wording=main.plain_wording,
        personal_evidence=tuple(describe(f) for f in matched),
        findings=tuple(matched),
        claims=cited,
        what_would_change_it=rule.what_would_change_it,
        expected_benefit=rule.expected_benefit,
        score=rule.expected_benefit * CERTAINTY_WEIGHT[main.certainty],
        in_your_data=personal_strength(matched),
    )


def _not_enough_data(finding: Finding, related: list[Rule], claim_map: Mapping[str, Claim]) -> Recommendation:
    cited = _claims_of(related, claim_map)
    main = cited[0]
    return Recommendation(
        id=f"not-enough-data:{finding.id}",
        kind="info",
        category=related[0].category,
        title="Not enough data yet",
        advice=(
            f"Cannot be judged: {finding.detail.get('why')}; no advice is given on it."
            if finding.detail.get("judged") is False else
            f"Not enough data yet for {finding.id} (n={finding.n}); no advice is given on it. "
            "Keep recording and it will be assessed when there are enough observations."
        ),
        certainty=main.certainty,
        plain_wording=main.plain_wording,
        personal_evidence=(describe(finding),),
        findings=(finding,),
        claims=cited,
        what_would_change_it="More observations.",
        expected_benefit=0,
        score=0.0,
        in_your_data=personal_strength([finding]),
    )


# --------------------------------------------------------------------------------------------------- questions


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            if suffix in ("ing", "ed") and len(word) > 2 and word[-1] == word[-2]:
                word = word[:-1]
            break
    return word


def keywords(text: str) -> set[str]:
    """Lower-cased, stemmed content words of ``text`` (stop words dropped)."""
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOPWORDS}


def answer(query: str, kb: KnowledgeBase | None = None, limit: int | None = None) -> list[Claim]:
    """Rank claims by keyword overlap with ``query``, rarer words counting more.

    For each query word ``w`` found in a claim, the claim scores ``idf(w) = ln(1 + N / df(w))`` (``N`` claims,
    ``df`` the number of claims using ``w``), doubled when ``w`` is one of the claim's tags. Words are
    lower-cased, stemmed and stripped of stop words; ties are broken by claim id. Claims with no overlap are
    left out.
    """
    base = kb if kb is not None else default_knowledge_base()
    words = keywords(query)
    indexed = []
    for claim in base.claims.values():
        tag_words = set().union(*(keywords(t) for t in claim.tags)) if claim.tags else set()
        text_words = keywords(f"{claim.statement} {claim.direct_answer}")
        indexed.append((claim, tag_words, text_words))
    n = len(indexed)
    df = {w: sum(1 for _, tags, text in indexed if w in tags or w in text) for w in words}
    scored: list[tuple[float, str, Claim]] = []
    for claim, tag_words, text_words in indexed:
        score = sum(
            math.log(1 + n / df[w]) * (2 if w in tag_words else 1)
            for w in words
            if w in tag_words or w in text_words
        )
        if score > 0:
            scored.append((round(score, 9), claim.id, claim))
    scored.sort(key=lambda item: (-item[0], item[1]))
    ranked = [claim for _, _, claim in scored]
    return ranked[:limit] if limit is not None else ranked
