"""The knowledge base: it loads, it is honest about its sources, and broken copies are rejected."""

from __future__ import annotations

import csv
import re
import shutil
import tomllib
from pathlib import Path

import pytest

from gutstride.errors import BadInputError
from gutstride.evidence.model import KnowledgeBase, default_data_dir, load_knowledge_base

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"
DATA = default_data_dir()
SHARED_STUDIES = REPO.parent / "shared" / "evidence" / "studies.tsv"
SEED_UNCONFIRMED = ("35954878", "39519496", "38069198", "34523250", "29166320")

REQUIRED_CLAIMS = {
    "intensity-70pct-hrmax",
    "moderate-cardio-30-45min-2x-week",
    "rest-and-recovery",
    "prolonged-strenuous-exercise-gi-injury",
    "endurance-plus-strength-diversity",
    "training-effects-reverse-on-stopping",
    "exercise-heat-gi-symptoms",
    "low-fibre-carb-meal-before-running",
    "nsaids-exercise-gi-risk",
    "sleep-7-9-hours",
    "hydration-half-body-weight-ounces",
    "red-flags-see-a-doctor",
    "exercise-increases-diversity",
    "exercise-increases-scfa-lean-not-obese",
    "exercise-depression-gut-brain",
    "exercise-anti-tumour-microbiome",
    "probiotics-leaky-gut",
    "l-glutamine-leaky-gut",
    "collagen-leaky-gut",
    "fermented-foods-diversity",
    "stress-techniques-gut",
    "butyrate-producers-guild",
    "microbiome-reference-ranges",
    "veillonella-athletes",
}

# ------------------------------------------------------------------------------------------------ the good base


def test_package_base_loads_with_required_claims() -> None:
    kb = load_knowledge_base()
    assert len(kb.claims) >= 25
    assert set(kb.claims) >= REQUIRED_CLAIMS
    assert kb.rules


def test_every_claim_has_a_citation_with_an_identifier() -> None:
    kb = load_knowledge_base()
    for claim in kb.claims.values():
        assert claim.citations, claim.id
        assert any(c.pmid or c.doi for c in claim.citations), claim.id
        for c in claim.citations:
            if c.pmid:
                assert c.url == f"https://pubmed.ncbi.nlm.nih.gov/{c.pmid}/"
            elif c.doi:
                assert c.url == f"https://doi.org/{c.doi}"
            else:  # no identifier verified: the full reference and the official page, or nothing to link
                assert c.reference and c.url == (kb.studies[c.study_key].official_url or None), c.study_key


# Hand-written, independent of the validator: the words each certainty must (not) use.
WORDING = {
    "high": (None, re.compile(r"\b(probably|may|might|uncertain)\b", re.I)),
    "moderate": (re.compile(r"\bprobably\b", re.I), re.compile(r"very uncertain|\bmay\b", re.I)),
    "low": (re.compile(r"\b(may|might)\b", re.I), re.compile(r"very uncertain|\bprobably\b", re.I)),
    "very_low": (re.compile(r"very uncertain", re.I), None),
}


def test_plain_wording_matches_certainty() -> None:
    for claim in load_knowledge_base().claims.values():
        must, must_not = WORDING[claim.certainty]
        if must is not None:
            assert must.search(claim.plain_wording), (claim.id, claim.plain_wording)
        if must_not is not None:
            assert not must_not.search(claim.plain_wording), (claim.id, claim.plain_wording)


def test_honest_grades_of_contested_and_animal_claims() -> None:
    claims = load_knowledge_base().claims
    diversity = claims["exercise-increases-diversity"]
    assert diversity.certainty in ("low", "very_low")
    assert {"kern2020", "perezprieto2024"} <= set(diversity.supports) | set(diversity.contradicts)
    assert "perezprieto2024" in diversity.contradicts
    assert claims["exercise-anti-tumour-microbiome"].applies_to.species == "mouse"
    assert claims["exercise-anti-tumour-microbiome"].certainty == "very_low"
    assert claims["collagen-leaky-gut"].certainty == "very_low"
    assert not claims["collagen-leaky-gut"].supports
    assert claims["exercise-increases-scfa-lean-not-obese"].applies_to.population == "lean"
    assert "allen2018" in claims["exercise-increases-scfa-lean-not-obese"].supports
    assert "pugh2017" in claims["l-glutamine-leaky-gut"].supports
    assert "scheiman2019" in claims["veillonella-athletes"].supports
    assert "conflict of interest" in claims["veillonella-athletes"].direct_answer
    # one small trial is low certainty at most
    for cid in ("l-glutamine-leaky-gut", "nsaids-exercise-gi-risk", "fermented-foods-diversity"):
        assert claims[cid].certainty in ("low", "very_low"), cid


def test_every_seed_document_is_covered() -> None:
    seeds = {s for c in load_knowledge_base().claims.values() for s in c.seeds}
    assert {"000", "001", "003"} <= seeds


# -------------------------------------------------------------------------------------------- verified sources


def _tsv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_package_studies_are_a_copy_of_the_verified_list() -> None:
    package = _tsv(DATA / "studies.tsv")
    for row in package:
        assert row["verified_from"].strip(), row["key"]
        assert bool(row["title"]) == bool(row["title_from"]), row["key"]  # a title only with the source it was seen in
        assert row["pmid"] not in SEED_UNCONFIRMED, row["key"]
    if SHARED_STUDIES.exists():
        shared = _tsv(SHARED_STUDIES)
        # each row is a copy of the shared list (unconfirmed PMIDs and DOIs redacted from free text), or a study
        # the project added with the page that tied its identifier to its title
        verified_dois = {r["doi"] for r in shared if r["doi"]}
        shared_rows = {tuple(_redact(v, verified_dois) for v in r.values()) for r in shared}
        shared_ids = ({r["doi"] for r in shared} | {r["pmid"] for r in shared}) - {""}
        for row in package:
            copy = tuple(v for k, v in row.items() if k not in ("key", "title", "title_from", "official_url"))
            if copy in shared_rows:
                continue
            assert not ({row["doi"], row["pmid"]} & shared_ids), f"{row['key']} differs from the shared list"
            # a study the project added: the page tying its identifier to its title must be recorded
            assert WEB_SOURCE_RE.search(row["verified_from"]), f"{row['key']}: no page recorded in verified_from"
            assert row["title"] and WEB_SOURCE_RE.search(row["title_from"]), f"{row['key']}: title needs its page"
            assert row["doi"] and row["doi"] in row["verified_from"], row["key"]


def _redact(text: str, verified_dois: set[str]) -> str:
    for pmid in SEED_UNCONFIRMED:
        text = text.replace(pmid, "[unconfirmed seed PMID]")
    if text not in verified_dois:
        text = DOI_RE.sub(lambda m: m[0] if _is_verified_doi(m[0], verified_dois) else "[unverified DOI]", text)
    return text


def _is_verified_doi(found: str, verified_dois: set[str]) -> bool:
    """A DOI-like string is verified if it is a verified DOI, or a URL path that starts with one
    (a publisher page such as ``.../doi/10.1111/x.y/468786``)."""
    found = found.lower()
    return found in verified_dois or any(found.startswith(doi.lower() + "/") for doi in verified_dois)


WEB_SOURCE_RE = re.compile(r"[a-z0-9-]+\.[a-z]{2,}(?:\.[a-z]{2,})?/\S+")


def _verified_identifiers() -> tuple[set[str], set[str]]:
    """The shared verified list, plus studies the project added with the page that verified them."""
    rows = _tsv(SHARED_STUDIES if SHARED_STUDIES.exists() else DATA / "studies.tsv")
    added = [r for r in _tsv(DATA / "studies.tsv") if WEB_SOURCE_RE.search(r["verified_from"]) and r["title_from"]]
    rows += [r for r in added if (r["doi"] and r["doi"] in r["verified_from"]) or (r["pmid"] and r["pmid"] in
                                                                                   r["verified_from"])]
    return {r["pmid"] for r in rows if r["pmid"]}, {r["doi"].lower() for r in rows if r["doi"]}


DOI_RE = re.compile(r"\b10\.\d{4,9}/[^\s\"'<>;,]+")
PMID_RE = re.compile(r"(?:PMID:?\s*|pubmed(?:\.ncbi\.nlm\.nih\.gov)?/)(\d{6,9})", re.I)
LONG_NUMBER_RE = re.compile(r"\b\d{8}\b")


def test_every_identifier_in_the_evidence_package_is_verified() -> None:
    pmids, dois = _verified_identifiers()
    files = [p for p in DATA.iterdir() if p.is_file()]
    files += list((SRC / "gutstride").rglob("*.py"))
    for path in files:
        text = path.read_text(encoding="utf-8")
        for doi in DOI_RE.findall(text):
            doi = doi.rstrip(".")
            while doi.endswith(")") and doi.count(")") > doi.count("("):
                doi = doi[:-1]
            assert _is_verified_doi(doi, dois), f"{path}: unverified DOI {doi}"
        for pmid in PMID_RE.findall(text):
            assert pmid in pmids, f"{path}: unverified PMID {pmid}"
    for path in (DATA / "claims.toml", DATA / "rules.toml"):
        for number in LONG_NUMBER_RE.findall(path.read_text(encoding="utf-8")):
            assert number in pmids, f"{path.name}: unexplained 8-digit number {number}"


def test_seed_unconfirmed_pmids_appear_nowhere_in_src() -> None:
    for path in SRC.rglob("*"):
        if path.is_file() and path.suffix in (".py", ".toml", ".tsv", ".json", ".html", ".md", ".txt", ".yaml"):
            text = path.read_text(encoding="utf-8", errors="replace")
            for pmid in SEED_UNCONFIRMED:
                assert pmid not in text, f"{path} mentions unconfirmed PMID {pmid}"


# ------------------------------------------------------------------------------------------------ broken copies


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(DATA, folder)
    return folder


def _edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


CLAIM = 'id = "collagen-leaky-gut"\n'
RULE = 'id = "training-load-spike"\n'

BROKEN = [
    ("claims.toml", CLAIM, CLAIM + "colour = 1\n", r"claims\.toml: claim 'collagen-leaky-gut': unknown key.*colour"),
    (
        "claims.toml",
        'what_is_not_known = """Everything',
        'notes = """Everything',
        r"claims\.toml: claim 'collagen-leaky-gut': unknown key.*notes",
    ),
    (
        "claims.toml",
        'certainty = "very_low"\nplain_wording = "It is very uncertain whether collagen',
        'certainty = "very low"\nplain_wording = "It is very uncertain whether collagen',
        r"claims\.toml: claim 'collagen-leaky-gut': certainty must be one of",
    ),
    (
        "claims.toml",
        'certainty = "very_low"\nplain_wording = "It is very uncertain whether collagen',
        'certainty = "high"\nplain_wording = "It is very uncertain whether collagen',
        r"claims\.toml: claim 'collagen-leaky-gut': plain_wording does not match certainty",
    ),
    (
        "claims.toml",
        'plain_wording = "A diet high in fermented foods may increase',
        'plain_wording = "A diet high in fermented foods increases',
        r"claims\.toml: claim 'fermented-foods-diversity': plain_wording does not match certainty",
    ),
    (
        "claims.toml",
        'context = ["costa2017review", "keirns2020"]\napplies_to = { population = "any", training_status = "any", '
        'species = "human" }\ntags = ["collagen"',
        'context = ["costa2017review", "nobody2099"]\napplies_to = { population = "any", training_status = "any", '
        'species = "human" }\ntags = ["collagen"',
        r"claims\.toml: claim 'collagen-leaky-gut': context cites unknown study 'nobody2099'",
    ),
    (
        "claims.toml",
        'context = ["costa2017review", "keirns2020"]\napplies_to = { population = "any", training_status = "any", '
        'species = "human" }\ntags = ["collagen"',
        'context = []\napplies_to = { population = "any", training_status = "any", '
        'species = "human" }\ntags = ["collagen"',
        r"claims\.toml: claim 'collagen-leaky-gut': claim without a citation",
    ),
    (
        "claims.toml",
        'supports = ["phelps2025"]\ncontradicts = []\ncontext = ["boytar2022"]\napplies_to = { population = "any", '
        'training_status = "any", species = "mouse" }',
        'supports = ["phelps2025"]\ncontradicts = []\ncontext = ["boytar2022"]\napplies_to = { population = "any", '
        'training_status = "any", species = "rat" }',
        r"claim 'exercise-anti-tumour-microbiome': applies_to\.species must be one of",
    ),
    (
        "rules.toml",
        'claims = ["load-spike-injury-risk"]\n',
        "claims = []\n",
        r"rules\.toml: rule 'training-load-spike': rule without a claim",
    ),
    (
        "rules.toml",
        'claims = ["load-spike-injury-risk"]\n',
        'claims = ["no-such-claim"]\n',
        r"rules\.toml: rule 'training-load-spike': unknown claim 'no-such-claim'",
    ),
    (
        "rules.toml",
        '{ finding = "training.load_spike", direction = "above" }',
        '{ finding = "training.load_spike", direction = "not_enough_data" }',
        r"rules\.toml: rule 'training-load-spike': trigger direction",
    ),
    (
        "rules.toml",
        RULE,
        RULE + "priority = 3\n",
        r"rules\.toml: rule 'training-load-spike': unknown key.*priority",
    ),
    (
        "rules.toml",
        'expected_benefit = 3\n\n[[rule]]\nid = "data-hr-coverage"',
        'expected_benefit = 9\n\n[[rule]]\nid = "data-hr-coverage"',
        r"rules\.toml: rule 'training-load-spike': expected_benefit must be an integer from 1 to 5",
    ),
    (
        "rules.toml",
        "Consider holding it steady for a week before building again; \\\nsharp jumps may raise injury risk.",
        "Holding it steady for a week prevents injury.",
        r"rules\.toml: rule 'training-load-spike': advice",
    ),
    ("studies.tsv", "10.1038/s41366-019-0440-y", "not-a-doi", r"studies\.tsv: study 'kern2020': malformed DOI"),
    ("studies.tsv", "forskning.ku.dk Pure record export page (title + DOI)", "", r"study 'kern2020': a title needs"),
    ("studies.tsv", "\t40639377\t", "\tPMID40639377\t", r"studies\.tsv: study 'phelps2025': malformed PMID"),
]


@pytest.mark.parametrize(("name", "old", "new", "message"), BROKEN)
def test_broken_copy_is_rejected(data_copy: Path, name: str, old: str, new: str, message: str) -> None:
    load_knowledge_base(data_copy)  # the unbroken copy loads
    _edit(data_copy, name, old, new)
    with pytest.raises(BadInputError, match=message):
        load_knowledge_base(data_copy)


def test_missing_field_is_rejected(data_copy: Path) -> None:
    path = data_copy / "claims.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index('id = "collagen-leaky-gut"')
    line_start = text.index("direct_answer", start)
    line_end = text.index('"""\n', text.index('"""', line_start) + 3) + 4
    path.write_text(text[:line_start] + text[line_end:], encoding="utf-8")
    assert "direct_answer" in tomllib.loads(text[:start] + text[line_end:]).get("claim", [{}])[0]
    with pytest.raises(BadInputError, match=r"claim 'collagen-leaky-gut': missing field.*direct_answer"):
        load_knowledge_base(data_copy)


def test_missing_file_and_bad_toml_are_rejected(data_copy: Path) -> None:
    (data_copy / "rules.toml").write_text("[[rule]\n", encoding="utf-8")
    with pytest.raises(BadInputError, match=r"rules\.toml: not valid TOML"):
        load_knowledge_base(data_copy)
    (data_copy / "claims.toml").unlink()
    with pytest.raises(BadInputError, match=r"claims\.toml: cannot read"):
        load_knowledge_base(data_copy)


def test_duplicate_claim_id_is_rejected(data_copy: Path) -> None:
    _edit(data_copy, "claims.toml", 'id = "sleep-7-9-hours"', 'id = "collagen-leaky-gut"')
    with pytest.raises(BadInputError, match=r"claim 'collagen-leaky-gut': duplicate id"):
        load_knowledge_base(data_copy)


def test_rule_advice_is_no_stronger_than_its_main_claim() -> None:
    kb = load_knowledge_base()
    overstating = re.compile(r"\b(will|proven|prevents|cures|heals|repairs|guarantees?|definitely)\b", re.I)
    hedge = re.compile(r"\b(may|might|could|probably|uncertain|try|consider)\b", re.I)
    for rule in kb.rules:
        certainty = kb.claims[rule.claims[0]].certainty
        assert not overstating.search(rule.advice), rule.id
        if certainty in ("low", "very_low"):
            assert hedge.search(rule.advice), rule.id


# ------------------------------------------------------------------------------- GRADE: outcomes and downgrades


def _raw_claims() -> list[dict[str, object]]:
    with (DATA / "claims.toml").open("rb") as handle:
        return list(tomllib.load(handle)["claim"])


def test_every_claim_below_high_gives_its_reasons_for_downgrading() -> None:
    domains = {"study_design", "risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias"}
    for raw in _raw_claims():
        for key in ("outcome", "participants", "effect"):
            assert str(raw.get(key, "")).strip(), (raw["id"], key)
        if raw["certainty"] == "high":
            continue
        downgrades = raw.get("downgrades")
        assert isinstance(downgrades, list) and downgrades, f"{raw['id']}: no reasons for downgrading"
        for item in downgrades:
            assert isinstance(item, dict) and item["domain"] in domains and str(item["reason"]).strip(), raw["id"]


def test_claim_without_downgrade_reasons_is_rejected(data_copy: Path) -> None:
    path = data_copy / "claims.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index('id = "collagen-leaky-gut"')
    begin = text.index("downgrades = [", start)
    end = text.index("]\n", begin) + 2
    path.write_text(text[:begin] + text[end:], encoding="utf-8")
    with pytest.raises(BadInputError, match=r"claim 'collagen-leaky-gut': a very_low claim needs its reasons"):
        load_knowledge_base(data_copy)


def test_summary_of_findings_counts_the_studies_that_tested_the_claim() -> None:
    for claim in load_knowledge_base().claims.values():
        row = claim.summary_of_findings()
        assert row["n_studies"] == len(set(claim.supports) | set(claim.contradicts)), claim.id
        assert row["statement"] == claim.plain_wording
        assert row["certainty"] == claim.certainty
        assert [d["domain"] for d in row["downgrades"]] == [d.domain for d in claim.downgrades]
        if row["n_studies"] == 0:
            assert "no study" in row["participants"].lower(), claim.id


ISSUE_15_REGRADES = {
    "probiotics-marathon-gi-symptoms": "low",
    "exercise-increases-scfa-lean-not-obese": "low",
    "training-effects-reverse-on-stopping": "low",
    "akkermansia-faecalibacterium-running": "low",
    "butyrate-producers-guild": "low",
    "low-fibre-carb-meal-before-running": "low",
    "load-spike-injury-risk": "low",
    "intensity-70pct-hrmax": "low",
}


def test_issue_15_regrades_carry_their_reason() -> None:
    claims = load_knowledge_base().claims
    for cid, previous in ISSUE_15_REGRADES.items():
        claim = claims[cid]
        assert claim.certainty == "very_low", cid
        assert claim.regraded is not None and claim.regraded.previous == previous, cid
        assert len(claim.regraded.reason) > 30, cid
        assert re.search(r"very low", claim.direct_answer, re.I), cid  # the change is written in the claim itself
    probiotic = claims["probiotics-marathon-gi-symptoms"]
    assert "costa2025" in probiotic.contradicts
    assert "varghese2024" in probiotic.context and "varghese2024" not in probiotic.supports


def test_claims_whose_evidence_differs_by_outcome_are_split() -> None:
    claims = load_knowledge_base().claims
    markers = claims["prolonged-strenuous-exercise-gi-injury"]
    symptoms = claims["prolonged-strenuous-exercise-gi-symptoms"]
    assert markers.certainty == "moderate" and symptoms.certainty == "low"
    assert "symptom" not in markers.plain_wording.lower() and "symptom" in symptoms.plain_wording.lower()
    assert "chantler2021" in markers.supports
    assert re.search(r"duration was not a significant moderator", markers.direct_answer)
    assert re.search(r"""["']appears to be["']""", markers.direct_answer)  # Costa 2017's own hedge
    assert {"tersteege2008", "pfeiffer2012", "snipe2018"} <= set(symptoms.supports)
    heat_markers, heat_symptoms = claims["exercise-heat-gut-injury-markers"], claims["exercise-heat-gi-symptoms"]
    assert heat_markers.certainty == "moderate" and heat_symptoms.certainty == "low"
    assert heat_symptoms.supports == ("snipe2018",)
    glutamine = claims["l-glutamine-leaky-gut"], claims["l-glutamine-gi-symptoms"]
    assert "symptom" not in glutamine[0].plain_wording.lower() and "symptom" in glutamine[1].plain_wording.lower()


def test_study_record_corrections_reach_the_claims() -> None:
    kb = load_knowledge_base()
    assert "about 15 marathon runners" in kb.studies["scheiman2019"].population_n
    for claim in kb.claims.values():
        text = " ".join((claim.direct_answer, claim.what_is_known, claim.participants))
        if "scheiman2019" in claim.supports + claim.context:
            assert "about 10 runners" not in text, claim.id
        assert "karl2017" not in claim.supports, f"{claim.id}: a military ski march is context for running"
    twice = kb.claims["moderate-cardio-30-45min-2x-week"]
    assert "at least 3 sessions a week" in twice.direct_answer and "8 weeks" in twice.direct_answer


def test_statement_and_plain_wording_point_the_same_way() -> None:
    # claims whose statement asserted the opposite of their plain wording, reworded for issue 15
    claims = load_knowledge_base().claims
    assert "not how healthy" in claims["microbiome-reference-ranges"].statement
    assert "misestimates" in claims["hrmax-age-formula"].statement
    assert "rather than training" in claims["diet-confounds-athlete-microbiome"].statement
    assert "falling" not in claims["moderate-exercise-gut-blood-flow"].plain_wording


# ------------------------------------------------------------------------- citations in step with the shared list


def _cited_without_identifier(kb: KnowledgeBase, shared: list[dict[str, str]]) -> list[str]:
    """Citations whose study has a PMID or DOI in the shared verified list but is cited without it.

    A citation's study is matched to the shared rows by identifier, or by first author, year and the journal's first
    word (how a row without identifiers, such as Costa 2025 before its PMID was verified, is found again).
    """
    problems = []
    for claim in kb.claims.values():
        for citation in claim.citations:
            study = kb.studies[citation.study_key]
            journal = study.journal.split()[0]
            for row in shared:
                same_id = (row["pmid"] and row["pmid"] == study.pmid) or (row["doi"] and row["doi"] == study.doi)
                same_paper = (row["first_author"], row["year"][:4], row["journal"].split()[0]) == (
                    study.first_author, study.year[:4], journal)
                if not (same_id or same_paper):
                    continue
                if row["pmid"] and citation.pmid != row["pmid"]:
                    problems.append(f"{claim.id}: {citation.study_key} cited without PMID {row['pmid']}")
                if row["doi"] and citation.doi != row["doi"]:
                    problems.append(f"{claim.id}: {citation.study_key} cited without DOI {row['doi']}")
    return problems


def test_no_citation_leaves_out_an_identifier_the_shared_list_verifies() -> None:
    shared = _tsv(SHARED_STUDIES if SHARED_STUDIES.exists() else DATA / "studies.tsv")
    kb = load_knowledge_base()
    assert _cited_without_identifier(kb, shared) == []
    cited = {c.study_key: c for claim in kb.claims.values() for c in claim.citations}
    for key in ("costa2025", "murray2017", "louis2009", "boytar2023"):  # verified since the last copy (issue 15)
        assert cited[key].pmid or cited[key].doi, key


def test_the_citation_check_catches_a_stale_copy(data_copy: Path) -> None:
    shared = _tsv(DATA / "studies.tsv")
    _edit(data_copy, "studies.tsv", "costa2025\t40195264\t10.1007/s40279-025-02186-6\t", "costa2025\t\t\t")
    problems = _cited_without_identifier(load_knowledge_base(data_copy), shared)
    assert any("costa2025 cited without PMID 40195264" in p for p in problems)
    assert any("costa2025 cited without DOI 10.1007/s40279-025-02186-6" in p for p in problems)


def test_sources_without_identifiers_are_cited_by_full_reference_and_official_page() -> None:
    kb = load_knowledge_base()
    cited = {c.study_key: c for claim in kb.claims.values() for c in claim.citations}
    nice, foster = cited["nice2015"], cited["foster1998"]
    assert nice.pmid is None and nice.doi is None and foster.pmid is None and foster.doi is None
    assert nice.url == "https://www.nice.org.uk/guidance/ng12"
    assert "NG12" in nice.reference and "Suspected cancer: recognition and referral" in nice.reference
    assert foster.url and foster.url.startswith("https://journals.lww.com/acsm-msse/")
    assert "30(7):1164-1168" in foster.reference
    for claim in kb.claims.values():
        for c in claim.citations:
            if not (c.pmid or c.doi):
                assert c.url is None or c.url == kb.studies[c.study_key].official_url, c.study_key


def test_official_url_must_be_a_page_the_verified_list_names(data_copy: Path) -> None:
    _edit(data_copy, "studies.tsv", "\thttps://www.nice.org.uk/guidance/ng12\n", "\thttps://example.org/ng12\n")
    with pytest.raises(BadInputError, match=r"study 'nice2015': official_url .* is not a page the verified list"):
        load_knowledge_base(data_copy)


def test_advice_from_a_test_result_is_to_discuss_it_with_a_clinician() -> None:
    # Porcari 2025: providers should not give post-test therapy advice; the report describes
    kb = load_knowledge_base()
    assert "post-test therapy advice" in kb.studies["porcari2025"].finding
    microbiome = [r for r in kb.rules if r.category == "microbiome"]
    assert microbiome
    for rule in microbiome:
        assert "discuss it with a clinician" in rule.advice, rule.id
        assert not re.search(r"\b(retest|fermented|probiotic|eat|training may)\b", rule.advice, re.I), rule.id
