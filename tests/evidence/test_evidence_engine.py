"""The engine: rules fire exactly on their findings, red flags come first, nothing is said without evidence."""

from __future__ import annotations

from datetime import date

import pytest

from gutstride.evidence.engine import answer, recommend
from gutstride.evidence.model import load_knowledge_base
from gutstride.model.finding import Finding

KB = load_knowledge_base()
ALL_DIRECTIONS = ("above", "below", "within", "present", "absent")
# Finding ids the analysis helpers emit, with the direction that must produce advice (from the issue).
EMITTED = [
    ("training.share_above_70pct_hrmax", "above"),
    ("training.moderate_sessions_per_week", "below"),
    ("training.rest_days_per_week", "below"),
    ("training.prolonged_strenuous_sessions", "above"),
    ("training.sport_variety", "below"),
    ("training.detraining_gap", "present"),
    ("training.heat_sessions", "above"),
    ("training.load_spike", "above"),
    ("data.hr_coverage", "below"),
    *[
        (f"symptoms.trigger.{t}", "above")
        for t in (
            "intensity",
            "duration_90",
            "duration_120",
            "heat",
            "meal_within_2h",
            "high_fibre_meal",
            "nsaid",
            "poor_sleep",
            "dehydration",
        )
    ],
    ("red_flag.blood_in_stool", "present"),
    ("microbiome.butyrate_producers", "below"),
    ("microbiome.diversity_percentile", "below"),
    ("microbiome.change_between_samples", "above"),
]
WEIGHT = {"high": 1.0, "moderate": 0.75, "low": 0.5, "very_low": 0.25}


def finding(fid: str, direction: str, n: int = 12) -> Finding:
    domain = fid.split(".")[0]
    return Finding(
        id=fid,
        domain=domain,  # type: ignore[arg-type]
        summary=f"{fid} measured 42.5",
        value=42.5,
        threshold=30.0,
        unit="%",
        direction=direction,  # type: ignore[arg-type]
        n=n,
        period_start=date(2026, 9, 7),
        period_end=date(2026, 11, 1),
    )


@pytest.mark.parametrize(("fid", "direction"), EMITTED)
def test_every_emitted_finding_has_a_rule(fid: str, direction: str) -> None:
    recs = recommend([finding(fid, direction)])
    advice = [r for r in recs if r.kind != "info"]
    assert advice, fid
    for other in ALL_DIRECTIONS:
        if other == direction:
            continue
        fired = [r for r in recommend([finding(fid, other)]) if r.kind != "info"]
        if fid.startswith("red_flag."):  # safety first: only an explicit "absent" silences a red flag
            assert bool(fired) == (other != "absent"), (fid, other)
        else:
            assert not fired, (fid, other)


@pytest.mark.parametrize("rule", KB.rules, ids=lambda r: r.id)
def test_each_rule_fires_on_its_trigger_and_not_otherwise(rule) -> None:  # type: ignore[no-untyped-def]
    for trigger in rule.triggers:
        fid = trigger.finding.replace("*", "something")
        for direction in ALL_DIRECTIONS:
            fired = rule.id in {r.id for r in recommend([finding(fid, direction)])}
            expected = direction in trigger.direction or (rule.category == "red_flag" and direction != "absent")
            assert fired == expected, (rule.id, fid, direction)
        # never on not_enough_data, and never on an unrelated finding
        assert rule.id not in {r.id for r in recommend([finding(fid, "not_enough_data", n=2)])}
    unrelated = finding("training.unrelated_measure", trigger.direction[0])
    assert recommend([unrelated]) == []


def test_red_flags_outrank_everything() -> None:
    findings = [finding(fid, d) for fid, d in EMITTED if not fid.startswith("red_flag")]
    findings.append(finding("red_flag.black_stools", "present"))
    recs = recommend(findings)
    assert recs[0].id == "red-flag-see-a-doctor"
    assert recs[0].kind == "red_flag"
    assert [r.kind for r in recs].count("red_flag") == 1
    assert "red_flag.black_stools" in recs[0].personal_evidence[0]


def test_a_red_flag_domain_finding_always_yields_the_doctor_item() -> None:
    odd = Finding(id="symptoms.blood_seen", domain="red_flag", summary="Blood in stool on 2026-10-03", n=1)
    recs = recommend([finding("training.load_spike", "above"), odd])
    assert recs[0].id == "red-flag-see-a-doctor"
    assert recs[0].findings == (odd,)


def test_order_is_expected_benefit_times_certainty() -> None:
    recs = [r for r in recommend([finding(fid, d) for fid, d in EMITTED]) if r.kind == "advice"]
    by_id = {r.id: r for r in KB.rules}
    scores = [by_id[r.id].expected_benefit * WEIGHT[KB.claims[by_id[r.id].claims[0]].certainty] for r in recs]
    assert scores == sorted(scores, reverse=True)
    assert len(recs) == len([r for r in KB.rules if r.category != "red_flag"])


def test_every_recommendation_has_claims_citations_and_personal_evidence() -> None:
    findings = [finding(fid, d) for fid, d in EMITTED]
    findings.append(finding("training.load_spike", "not_enough_data", n=2))
    for rec in recommend(findings):
        assert rec.claims, rec.id
        assert all(c.citations for c in rec.claims), rec.id
        assert rec.certainty == rec.claims[0].certainty
        assert rec.what_would_change_it
        for text in rec.personal_evidence:
            assert "n=" in text and "2026-09-07 to 2026-11-01" in text
        payload = rec.to_dict()
        for claim in payload["claims"]:
            for citation in claim["citations"]:
                if citation["pmid"] or citation["doi"]:
                    assert citation["url"].startswith(("https://pubmed.ncbi.nlm.nih.gov/", "https://doi.org/"))
                else:  # no verified identifier: its full reference and, if the verified list names one, official page
                    assert citation["reference"]
                    assert citation["url"] == (KB.studies[citation["key"]].official_url or None)


def test_not_enough_data_gives_information_not_advice() -> None:
    recs = recommend([finding("training.share_above_70pct_hrmax", "not_enough_data", n=3)])
    assert [r.kind for r in recs] == ["info"]
    assert "Not enough data yet" in recs[0].advice
    assert "n=3" in recs[0].personal_evidence[0]
    # info items come after advice
    recs = recommend(
        [finding("training.share_above_70pct_hrmax", "not_enough_data", n=3), finding("training.load_spike", "above")]
    )
    assert [r.kind for r in recs] == ["advice", "info"]


def test_custom_knowledge_base_arguments() -> None:
    rule = next(r for r in KB.rules if r.id == "training-load-spike")
    recs = recommend([finding("training.load_spike", "above")], claims=KB.claims, rules=[rule])
    assert [r.id for r in recs] == ["training-load-spike"]
    assert recommend([finding("training.heat_sessions", "above")], claims=KB.claims, rules=[rule]) == []


def test_answer_ranks_the_diversity_claim_first() -> None:
    top = answer("Can exercise improve my gut microbiome?", KB)
    assert top[0].id == "exercise-increases-diversity"
    assert top[0].certainty != "high"
    assert answer("Does collagen help leaky gut?", KB)[0].id == "collagen-leaky-gut"
    assert answer("Should I take L-glutamine?", KB)[0].id == "l-glutamine-leaky-gut"
    assert answer("What does a low diversity percentile on my test mean?", KB)[0].id == "microbiome-reference-ranges"
    assert answer("Does exercise send more blood to the gut?", KB)[0].id == "moderate-exercise-gut-blood-flow"
    assert answer("Is running in the heat bad for my stomach?", KB)[0].id == "exercise-heat-gi-symptoms"
    assert answer("What should I eat before a run?", KB)[0].id == "low-fibre-carb-meal-before-running"
    assert answer("zzzz qqqq", KB) == []
    assert answer("Can exercise improve my gut microbiome?", KB, limit=2) == top[:2]


# ------------------------------------------------------------------------------ two labels, summary of findings


def _trigger(p_adjusted: float, n: int = 40) -> Finding:
    return Finding("symptoms.trigger.duration_120", "symptoms", "GI symptoms after long sessions", value=3.1,
                   threshold=1.0, unit="rate ratio", direction="above", n=n, interval=(1.6, 6.0),
                   detail={"p_adjusted": p_adjusted})


@pytest.mark.parametrize(("p", "level"), [(0.0004, "strong"), (0.004, "moderate"), (0.04, "weak")])
def test_in_your_data_is_the_strength_of_the_personal_finding(p: float, level: str) -> None:
    (rec,) = [r for r in recommend([_trigger(p)], KB.claims, KB.rules) if r.kind == "advice"]
    data = rec.to_dict()
    assert data["in_your_data"]["level"] == level
    assert f"p = {p:.2g}" in data["in_your_data"]["text"] and "40 sessions" in data["in_your_data"]["text"]
    # the research label is the GRADE certainty of the main claim, never the personal strength
    main = KB.claims[rec.claims[0].id]
    assert data["in_research"] == {"certainty": main.certainty, "claim_id": main.id}
    assert main.id == "prolonged-strenuous-exercise-gi-symptoms" and main.certainty == "low"


def test_personal_strength_of_measurements_samples_and_missing_data() -> None:
    from gutstride.evidence.engine import personal_strength

    assert personal_strength([finding("training.heat_sessions", "above", n=9)])["level"] == "measured"
    assert personal_strength([finding("microbiome.butyrate_producers", "below", n=1)])["level"] == "single sample"
    assert personal_strength([finding("red_flag.blood_in_stool", "present", n=1)])["level"] == "recorded"
    assert personal_strength([finding("symptoms.trigger.heat", "not_enough_data", n=3)])["level"] == "not enough data"
    assert personal_strength([])["level"] == "not enough data"


def test_every_recommendation_has_a_summary_of_findings_row_per_outcome() -> None:
    findings = [finding(fid, d) for fid, d in EMITTED]
    for rec in recommend(findings, KB.claims, KB.rules):
        rows = rec.to_dict()["summary_of_findings"]
        assert [r["claim_id"] for r in rows] == [c.id for c in rec.claims], rec.id
        assert len({r["outcome"] for r in rows}) == len(rows), rec.id  # one row per outcome
        for row in rows:
            claim = KB.claims[row["claim_id"]]
            assert row == claim.summary_of_findings()
            assert row["outcome"] and row["participants"] and row["effect"] and row["statement"]
            assert row["certainty"] == "high" or row["downgrades"], row["claim_id"]


def test_a_change_that_cannot_be_judged_says_so_and_gives_no_advice() -> None:
    why = "no within-person reference: this change cannot be judged"
    change = Finding("microbiome.change_between_samples", "microbiome", f"Bray-Curtis 0.3: {why}", n=2,
                     direction="not_enough_data", detail={"judged": False, "why": why})
    (item,) = recommend([change], KB.claims, KB.rules)
    assert item.kind == "info" and item.advice.startswith(f"Cannot be judged: {why}")
    assert item.to_dict()["in_your_data"] == {"level": "cannot be judged", "text": why}
