"""`gutstride evidence`: answers a question with graded, cited claims; lists every claim without one."""

from __future__ import annotations

import json
import subprocess
import sys

from gutstride.evidence.model import load_knowledge_base

ORDER = ["high", "moderate", "low", "very_low"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gutstride", "evidence", *args], capture_output=True, text=True, timeout=120
    )


def test_question_json_returns_the_contested_diversity_claim() -> None:
    out = run("Can exercise improve my gut microbiome?", "--json")
    assert out.returncode == 0, out.stderr
    claims = json.loads(out.stdout)["claims"]
    by_id = {c["id"]: c for c in claims}
    diversity = by_id["exercise-increases-diversity"]
    assert diversity["certainty"] != "high"
    assert diversity["certainty"] in ORDER
    for key in ("statement", "plain_wording", "applies_to", "direct_answer", "what_is_known", "what_is_not_known"):
        assert diversity[key], key
    # the summary-of-findings fields, as in the report
    sof = diversity["summary_of_findings"]
    assert sof == load_knowledge_base().claims["exercise-increases-diversity"].summary_of_findings()
    assert sof["outcome"] and sof["participants"] and sof["effect"] and sof["n_studies"] == 6
    assert {d["domain"] for d in sof["downgrades"]} == {"inconsistency", "indirectness"}
    assert sof["statement"] == diversity["plain_wording"]
    cited = {c["doi"] for c in diversity["citations"]}
    assert "10.1038/s41366-019-0440-y" in cited  # Kern 2020, by DOI as in the verified list
    for citation in diversity["citations"]:
        assert set(citation) >= {"pmid", "doi", "title"}
        assert citation["title"]
        assert citation["pmid"] or citation["doi"] or citation["role"] == "context"


def test_no_query_lists_every_claim_by_certainty() -> None:
    out = run("--json")
    assert out.returncode == 0, out.stderr
    claims = json.loads(out.stdout)["claims"]
    assert len(claims) == len(load_knowledge_base().claims)
    ranks = [ORDER.index(c["certainty"]) for c in claims]
    assert ranks == sorted(ranks)


def test_rich_summary_shows_answer_certainty_and_citations() -> None:
    out = run("Does collagen help leaky gut?", "--limit", "1")
    assert out.returncode == 0, out.stderr
    for text in ("Answer:", "Certainty:", "VERY LOW", "What is known:", "What is not known:", "Citations:"):
        assert text in out.stdout, text
    assert "not a medical device" in out.stdout


def test_unmatched_question_is_a_one_line_error() -> None:
    out = run("zzzz qqqq")
    assert out.returncode == 2
    assert out.stderr.startswith("error: ")


def test_json_cites_a_guideline_by_full_reference_and_official_page() -> None:
    out = run("blood in my stool, should I see a doctor?", "--json", "-n", "1")
    assert out.returncode == 0, out.stderr
    (claim,) = json.loads(out.stdout)["claims"]
    assert claim["id"] == "red-flags-see-a-doctor"
    nice = next(c for c in claim["citations"] if "NG12" in c["reference"])
    assert nice["pmid"] is None and nice["doi"] is None
    assert nice["url"] == "https://www.nice.org.uk/guidance/ng12"
    assert claim["summary_of_findings"]["downgrades"]
