"""The knowledge base: studies, graded claims and recommendation rules, validated when they are loaded.

Three data files live in ``gutstride/evidence/data``:

``studies.tsv``
    A copy of the project's verified study list (``../shared/evidence/studies.tsv``) with three added columns:
    ``key`` (how claims refer to the study), ``title`` and ``title_from`` (filled only where a page showing the
    title next to the study's identifier or bibliographic record was seen, named in ``title_from``; otherwise the
    display text is first author, year and journal), and ``official_url``: for a source with neither identifier
    verified (a guideline, an unindexed paper), the official page that the shared list's ``verified_from`` or
    ``finding`` names, so that it is cited by full reference and official page and never by an invented number.
    In the free-text columns, the seeds' unconfirmed PMIDs and an unverified candidate DOI are redacted.
``claims.toml``
    ``[[claim]]`` tables. Each claim is about one outcome and carries a GRADE certainty (Balshem 2011, J Clin
    Epidemiol, DOI 10.1016/j.jclinepi.2010.07.015) with the reasons it is below high (``downgrades``: study design,
    risk of bias, inconsistency, indirectness, imprecision, publication bias), and a plain-language wording whose
    strength must match it, GRADE's informative statements (Santesso 2020, J Clin Epidemiol, DOI
    10.1016/j.jclinepi.2019.10.014) in which high is "reduces/increases", moderate "probably ...", low
    "may ...", very low "very uncertain whether ...". ``participants`` and ``effect`` give the body of evidence
    as the studies report it, for the summary-of-findings table; the number of studies is counted from
    ``supports`` and ``contradicts``. A claim whose grade was changed says from what and why (``regraded``).
``rules.toml``
    ``[[rule]]`` tables: which findings trigger the rule, the advice, the claims behind it, and what would change it.

Every problem (unknown key, missing field, bad certainty, wording that does not match the certainty, a citation to
an unknown study, a claim without a citation, a rule without a claim) raises
:class:`~gutstride.errors.BadInputError` naming the file and the entry.
"""

from __future__ import annotations

import csv
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from gutstride.errors import BadInputError

Certainty = Literal["high", "moderate", "low", "very_low"]
CERTAINTIES: tuple[str, ...] = ("high", "moderate", "low", "very_low")
#: Weight of each certainty level when recommendations are ordered (expected benefit x weight).
CERTAINTY_WEIGHT: dict[str, float] = {"high": 1.0, "moderate": 0.75, "low": 0.5, "very_low": 0.25}
POPULATIONS = ("lean", "obese", "any")
TRAINING_STATUSES = ("sedentary", "trained", "any")
SPECIES = ("human", "mouse")
DIRECTIONS = ("above", "below", "within", "present", "absent")
#: GRADE's reasons for rating a body of evidence below high (``study_design``: observational studies, narrative
#: reviews or consensus start lower than randomised trials).
DOWNGRADE_DOMAINS = ("study_design", "risk_of_bias", "inconsistency", "indirectness", "imprecision",
                     "publication_bias")
CATEGORIES = ("red_flag", "training", "symptoms", "microbiome", "data", "lifestyle")

STUDY_COLUMNS = (
    "key",
    "pmid",
    "doi",
    "first_author",
    "year",
    "journal",
    "design",
    "population_n",
    "finding",
    "verified_from",
    "title",
    "title_from",
    "official_url",
)
#: The columns of the shared verified list (``studies.tsv`` without ``key``, ``title``, ``title_from`` and
#: ``official_url``).
SHARED_COLUMNS = STUDY_COLUMNS[1:-3]

_CLAIM_REQUIRED = (
    "id",
    "statement",
    "certainty",
    "plain_wording",
    "supports",
    "contradicts",
    "applies_to",
    "what_is_known",
    "what_is_not_known",
    "direct_answer",
    "outcome",
    "participants",
    "effect",
)
_CLAIM_OPTIONAL = ("context", "tags", "seeds", "downgrades", "regraded")
_APPLIES_KEYS = ("population", "training_status", "species")
_RULE_REQUIRED = ("id", "title", "category", "triggers", "advice", "claims", "what_would_change_it", "expected_benefit")
_TRIGGER_KEYS = ("finding", "direction")

_PMID = re.compile(r"^[1-9][0-9]{0,8}$")
_DOI = re.compile(r"^10\.[0-9]{4,9}/\S+$")
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Study:
    """One verified study (a row of ``studies.tsv``)."""

    key: str
    pmid: str
    doi: str
    first_author: str
    year: str
    journal: str
    design: str
    population_n: str
    finding: str
    verified_from: str
    title: str = ""
    title_from: str = ""
    official_url: str = ""

    @property
    def display(self) -> str:
        """The verified title if one was seen, else "first author year, journal"."""
        return self.title or f"{self.first_author} {self.year}, {self.journal}"

    @property
    def reference(self) -> str:
        """The full reference as verified: "First author (year). Title. Journal volume(issue):pages." """
        title = f" {self.title.rstrip('.')}." if self.title else ""
        return f"{self.first_author} ({self.year}).{title} {self.journal}."

    @property
    def url(self) -> str | None:
        """PubMed page for a verified PMID, else the DOI resolver, else the official page, else ``None``."""
        if self.pmid:
            return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"
        if self.doi:
            return f"https://doi.org/{self.doi}"
        return self.official_url or None


@dataclass(frozen=True)
class Citation:
    """A study as cited by a claim, with the role it plays (supports, contradicts or context)."""

    study_key: str
    role: Literal["supports", "contradicts", "context"]
    pmid: str | None
    doi: str | None
    title: str
    url: str | None
    reference: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.study_key,
            "role": self.role,
            "pmid": self.pmid,
            "doi": self.doi,
            "title": self.title,
            "reference": self.reference,
            "url": self.url,
        }


@dataclass(frozen=True)
class AppliesTo:
    """Who a claim applies to."""

    population: str = "any"
    training_status: str = "any"
    species: str = "human"

    def to_dict(self) -> dict[str, str]:
        return {"population": self.population, "training_status": self.training_status, "species": self.species}


@dataclass(frozen=True)
class Downgrade:
    """One reason the certainty of a claim is below high: a GRADE domain and why it applies."""

    domain: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"domain": self.domain, "reason": self.reason}


@dataclass(frozen=True)
class Regrade:
    """A change of a claim's grade: the certainty it had and why it changed."""

    previous: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"from": self.previous, "reason": self.reason}


@dataclass(frozen=True)
class Claim:
    """A graded claim about one outcome: what is asserted, how sure we are, why, and the studies behind it."""

    id: str
    statement: str
    certainty: Certainty
    plain_wording: str
    supports: tuple[str, ...]
    contradicts: tuple[str, ...]
    applies_to: AppliesTo
    what_is_known: str
    what_is_not_known: str
    direct_answer: str
    outcome: str = ""
    participants: str = ""
    effect: str = ""
    downgrades: tuple[Downgrade, ...] = ()
    regraded: Regrade | None = None
    context: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    seeds: tuple[str, ...] = ()
    citations: tuple[Citation, ...] = ()

    @property
    def n_studies(self) -> int:
        """How many studies tested the claim (those that support or contradict it; context is not counted)."""
        return len(self.supports) + len(self.contradicts)

    def summary_of_findings(self) -> dict[str, Any]:
        """One row of a GRADE summary-of-findings table: outcome, studies and participants, effect as reported,
        certainty with the reasons for downgrading, and the informative statement (Santesso 2020)."""
        return {
            "claim_id": self.id,
            "outcome": self.outcome,
            "n_studies": self.n_studies,
            "participants": self.participants,
            "effect": self.effect,
            "certainty": self.certainty,
            "downgrades": [d.to_dict() for d in self.downgrades],
            "regraded": self.regraded.to_dict() if self.regraded else None,
            "statement": self.plain_wording,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "statement": self.statement,
            "certainty": self.certainty,
            "plain_wording": self.plain_wording,
            "citations": [c.to_dict() for c in self.citations],
            "applies_to": self.applies_to.to_dict(),
            "direct_answer": self.direct_answer,
            "what_is_known": self.what_is_known,
            "what_is_not_known": self.what_is_not_known,
            "summary_of_findings": self.summary_of_findings(),
        }


@dataclass(frozen=True)
class Trigger:
    """A condition on one finding: its id (``fnmatch`` pattern such as ``red_flag.*``) and direction(s)."""

    finding: str
    direction: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    """A recommendation rule: it fires when any of its triggers matches a finding."""

    id: str
    title: str
    category: str
    triggers: tuple[Trigger, ...]
    advice: str
    claims: tuple[str, ...]
    what_would_change_it: str
    expected_benefit: int


@dataclass(frozen=True)
class KnowledgeBase:
    """Studies by key, claims by id, and rules in file order."""

    studies: Mapping[str, Study]
    claims: Mapping[str, Claim]
    rules: tuple[Rule, ...] = field(default_factory=tuple)


# --------------------------------------------------------------------------------------------------- wording


def wording_problem(certainty: str, text: str) -> str | None:
    """Say why ``text`` does not match ``certainty`` (``None`` when it does).

    high: no hedge at all; moderate: contains "probably"; low: contains "may" or "might" and neither
    "probably" nor "very uncertain"; very low: contains "very uncertain".
    """
    words = set(_WORD.findall(text.lower()))
    lower = text.lower()
    very_uncertain = "very uncertain" in lower
    may = bool(words & {"may", "might"})
    probably = "probably" in words
    if certainty == "high":
        if very_uncertain or may or probably or "uncertain" in words:
            return "high certainty must be worded without hedges ('reduces', 'increases')"
        return None
    if certainty == "moderate":
        if not probably or very_uncertain:
            return "moderate certainty must be worded 'probably ...'"
        return None
    if certainty == "low":
        if not may or probably or very_uncertain:
            return "low certainty must be worded 'may ...' (not 'probably', not 'very uncertain')"
        return None
    if certainty == "very_low":
        if not very_uncertain:
            return "very low certainty must be worded 'very uncertain whether ...'"
        return None
    return f"unknown certainty {certainty!r}"


#: Words that overstate advice unless the claim behind it is of high certainty.
_OVERSTATING = {"will", "proven", "prevents", "cures", "heals", "repairs", "guarantees", "definitely"}
_HEDGES = {"may", "might", "probably", "uncertain", "try", "consider", "could"}


def advice_problem(certainty: str, advice: str) -> str | None:
    """Say why rule advice is worded more strongly than the certainty of its main claim allows."""
    words = set(_WORD.findall(advice.lower()))
    if certainty != "high" and words & _OVERSTATING:
        return f"advice overstates a {certainty} claim: {sorted(words & _OVERSTATING)}"
    if certainty in ("low", "very_low") and not words & _HEDGES:
        return f"advice backed by a {certainty} claim must be hedged (may/might/try/consider/uncertain)"
    return None


# --------------------------------------------------------------------------------------------------- loading


def default_data_dir() -> Path:
    """The folder holding the package's knowledge-base files."""
    return Path(str(resources.files("gutstride.evidence") / "data"))


def load_studies(path: Path) -> dict[str, Study]:
    """Read and validate ``studies.tsv``."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle, delimiter="\t")
            header = next(reader, None)
            rows = list(reader)
    except OSError as exc:
        raise BadInputError(f"{path.name}: cannot read: {exc}") from exc
    if header is None or tuple(header) != STUDY_COLUMNS:
        raise BadInputError(f"{path.name}: header must be {'/'.join(STUDY_COLUMNS)}, got {header}")
    studies: dict[str, Study] = {}
    for line, row in enumerate(rows, start=2):
        if len(row) != len(STUDY_COLUMNS):
            raise BadInputError(f"{path.name}: line {line}: expected {len(STUDY_COLUMNS)} columns, got {len(row)}")
        study = Study(*[cell.strip() for cell in row])
        where = f"{path.name}: study {study.key or f'on line {line}'!r}"
        if not re.fullmatch(r"[a-z0-9_]+", study.key):
            raise BadInputError(f"{where}: key must be lower-case letters, digits or '_'")
        if study.key in studies:
            raise BadInputError(f"{where}: duplicate key")
        if study.pmid and not _PMID.match(study.pmid):
            raise BadInputError(f"{where}: malformed PMID {study.pmid!r}")
        if study.doi and not _DOI.match(study.doi):
            raise BadInputError(f"{where}: malformed DOI {study.doi!r}")
        for name in ("first_author", "year", "journal", "verified_from"):
            if not getattr(study, name):
                raise BadInputError(f"{where}: missing {name}")
        if study.title and not study.title_from:
            raise BadInputError(f"{where}: a title needs title_from, the source where it was seen")
        if study.official_url:
            page = re.sub(r"^https?://(www\.)?", "", study.official_url)
            if study.pmid or study.doi:
                raise BadInputError(f"{where}: official_url is only for a source with no verified PMID or DOI")
            if page not in f"{study.verified_from} {study.finding}":
                raise BadInputError(
                    f"{where}: official_url {study.official_url!r} is not a page the verified list names"
                )
        if not re.match(r"^(19|20)[0-9]{2}", study.year):
            raise BadInputError(f"{where}: year must start with a 4-digit year, got {study.year!r}")
        studies[study.key] = study
    return studies


def _read_toml(path: Path, table: str) -> list[dict[str, Any]]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise BadInputError(f"{path.name}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise BadInputError(f"{path.name}: not valid TOML: {exc}") from exc
    extra = set(data) - {table}
    if extra:
        raise BadInputError(f"{path.name}: unknown top-level key(s) {sorted(extra)}; expected [[{table}]] tables")
    entries = data.get(table, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise BadInputError(f"{path.name}: '{table}' must be an array of tables ([[{table}]])")
    return entries


def _check_keys(where: str, entry: Mapping[str, Any], required: Iterable[str], optional: Iterable[str] = ()) -> None:
    required = tuple(required)
    unknown = set(entry) - set(required) - set(optional)
    if unknown:
        raise BadInputError(f"{where}: unknown key(s) {sorted(unknown)}")
    missing = [k for k in required if k not in entry]
    if missing:
        raise BadInputError(f"{where}: missing field(s) {missing}")


def _text(where: str, entry: Mapping[str, Any], name: str) -> str:
    value = entry[name]
    if not isinstance(value, str) or not value.strip():
        raise BadInputError(f"{where}: '{name}' must be a non-empty string")
    return " ".join(value.split())


def _strings(where: str, entry: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = entry.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise BadInputError(f"{where}: '{name}' must be a list of non-empty strings")
    return tuple(value)


def _claim(path: Path, entry: Mapping[str, Any], studies: Mapping[str, Study]) -> Claim:
    where = f"{path.name}: claim {entry.get('id', '?')!r}"
    _check_keys(where, entry, _CLAIM_REQUIRED, _CLAIM_OPTIONAL)
    cid = _text(where, entry, "id")
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", cid):
        raise BadInputError(f"{where}: id must be lower-case words joined by '-'")
    certainty = entry["certainty"]
    if certainty not in CERTAINTIES:
        raise BadInputError(f"{where}: certainty must be one of {CERTAINTIES}, got {certainty!r}")
    plain = _text(where, entry, "plain_wording")
    problem = wording_problem(certainty, plain)
    if problem:
        raise BadInputError(f"{where}: plain_wording does not match certainty: {problem}")
    applies = entry["applies_to"]
    if not isinstance(applies, dict):
        raise BadInputError(f"{where}: applies_to must be a table")
    _check_keys(f"{where}: applies_to", applies, _APPLIES_KEYS)
    for key, allowed in zip(_APPLIES_KEYS, (POPULATIONS, TRAINING_STATUSES, SPECIES), strict=True):
        if applies[key] not in allowed:
            raise BadInputError(f"{where}: applies_to.{key} must be one of {allowed}, got {applies[key]!r}")
    citations: list[Citation] = []
    roles = ("supports", "contradicts", "context")
    keys_by_role = {role: _strings(where, entry, role) for role in roles}
    for role in roles:
        for key in keys_by_role[role]:
            study = studies.get(key)
            if study is None:
                raise BadInputError(f"{where}: {role} cites unknown study {key!r}")
            citations.append(
                Citation(key, role, study.pmid or None, study.doi or None, study.display, study.url,  # type: ignore[arg-type]
                         study.reference)
            )
    if not citations:
        raise BadInputError(f"{where}: claim without a citation")
    if not any(c.pmid or c.doi for c in citations):
        raise BadInputError(f"{where}: at least one citation must carry a verified PMID or DOI")
    downgrades = _downgrades(where, entry.get("downgrades", []))
    if certainty != "high" and not downgrades:
        raise BadInputError(f"{where}: a {certainty} claim needs its reasons for downgrading ('downgrades')")
    regraded = _regrade(where, entry.get("regraded"), certainty)
    return Claim(
        id=cid,
        statement=_text(where, entry, "statement"),
        certainty=certainty,
        plain_wording=plain,
        supports=keys_by_role["supports"],
        contradicts=keys_by_role["contradicts"],
        context=keys_by_role["context"],
        applies_to=AppliesTo(**applies),
        what_is_known=_text(where, entry, "what_is_known"),
        what_is_not_known=_text(where, entry, "what_is_not_known"),
        direct_answer=_text(where, entry, "direct_answer"),
        outcome=_text(where, entry, "outcome"),
        participants=_text(where, entry, "participants"),
        effect=_text(where, entry, "effect"),
        downgrades=downgrades,
        regraded=regraded,
        tags=tuple(t.lower() for t in _strings(where, entry, "tags")),
        seeds=_strings(where, entry, "seeds"),
        citations=tuple(citations),
    )


def _downgrades(where: str, raw: Any) -> tuple[Downgrade, ...]:
    if not isinstance(raw, list) or not all(isinstance(d, dict) for d in raw):
        raise BadInputError(f"{where}: 'downgrades' must be a list of tables {{ domain, reason }}")
    out = []
    for item in raw:
        _check_keys(f"{where}: downgrade", item, ("domain", "reason"))
        if item["domain"] not in DOWNGRADE_DOMAINS:
            raise BadInputError(f"{where}: downgrade domain must be one of {DOWNGRADE_DOMAINS}, got {item['domain']!r}")
        out.append(Downgrade(item["domain"], _text(f"{where}: downgrade", item, "reason")))
    return tuple(out)


def _regrade(where: str, raw: Any, certainty: str) -> Regrade | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise BadInputError(f"{where}: 'regraded' must be a table {{ from, reason }}")
    _check_keys(f"{where}: regraded", raw, ("from", "reason"))
    if raw["from"] not in CERTAINTIES or raw["from"] == certainty:
        raise BadInputError(
            f"{where}: regraded.from must be a certainty other than the current one, got {raw['from']!r}"
        )
    return Regrade(raw["from"], _text(f"{where}: regraded", raw, "reason"))


def _rule(path: Path, entry: Mapping[str, Any], claims: Mapping[str, Claim]) -> Rule:
    where = f"{path.name}: rule {entry.get('id', '?')!r}"
    _check_keys(where, entry, _RULE_REQUIRED)
    rid = _text(where, entry, "id")
    category = entry["category"]
    if category not in CATEGORIES:
        raise BadInputError(f"{where}: category must be one of {CATEGORIES}, got {category!r}")
    claim_ids = _strings(where, entry, "claims")
    if not claim_ids:
        raise BadInputError(f"{where}: rule without a claim")
    for cid in claim_ids:
        if cid not in claims:
            raise BadInputError(f"{where}: unknown claim {cid!r}")
    raw_triggers = entry["triggers"]
    if not isinstance(raw_triggers, list) or not raw_triggers:
        raise BadInputError(f"{where}: triggers must be a non-empty list of tables")
    triggers: list[Trigger] = []
    for raw in raw_triggers:
        if not isinstance(raw, dict):
            raise BadInputError(f"{where}: each trigger must be a table")
        _check_keys(f"{where}: trigger", raw, _TRIGGER_KEYS)
        directions = raw["direction"] if isinstance(raw["direction"], list) else [raw["direction"]]
        for direction in directions:
            if direction not in DIRECTIONS:
                raise BadInputError(
                    f"{where}: trigger direction must be one of {DIRECTIONS} "
                    f"(not_enough_data never triggers advice), got {direction!r}"
                )
        if not isinstance(raw["finding"], str) or not raw["finding"]:
            raise BadInputError(f"{where}: trigger finding must be a non-empty string")
        triggers.append(Trigger(raw["finding"], tuple(directions)))
    benefit = entry["expected_benefit"]
    if not isinstance(benefit, int) or isinstance(benefit, bool) or not 1 <= benefit <= 5:
        raise BadInputError(f"{where}: expected_benefit must be an integer from 1 to 5, got {benefit!r}")
    advice = _text(where, entry, "advice")
    main_certainty = claims[claim_ids[0]].certainty
    problem = advice_problem(main_certainty, advice)
    if problem:
        raise BadInputError(f"{where}: {problem}")
    return Rule(
        id=rid,
        title=_text(where, entry, "title"),
        category=category,
        triggers=tuple(triggers),
        advice=advice,
        claims=claim_ids,
        what_would_change_it=_text(where, entry, "what_would_change_it"),
        expected_benefit=benefit,
    )


def load_knowledge_base(data_dir: Path | None = None) -> KnowledgeBase:
    """Load and validate ``studies.tsv``, ``claims.toml`` and ``rules.toml`` from ``data_dir``.

    Parameters
    ----------
    data_dir
        Folder holding the three files; the package's own data folder by default.

    Raises
    ------
    BadInputError
        On any schema problem, naming the file and the entry.
    """
    folder = default_data_dir() if data_dir is None else Path(data_dir)
    studies = load_studies(folder / "studies.tsv")
    claims_path = folder / "claims.toml"
    claims: dict[str, Claim] = {}
    for entry in _read_toml(claims_path, "claim"):
        claim = _claim(claims_path, entry, studies)
        if claim.id in claims:
            raise BadInputError(f"{claims_path.name}: claim {claim.id!r}: duplicate id")
        claims[claim.id] = claim
    rules_path = folder / "rules.toml"
    rules: list[Rule] = []
    for entry in _read_toml(rules_path, "rule"):
        rule = _rule(rules_path, entry, claims)
        if any(r.id == rule.id for r in rules):
            raise BadInputError(f"{rules_path.name}: rule {rule.id!r}: duplicate id")
        rules.append(rule)
    return KnowledgeBase(studies=studies, claims=claims, rules=tuple(rules))
