"""Personal findings in words: headline lines name triggers that cannot be told apart together, show the literature's
certainty beside the person's numbers, and follow the person's ranking, not the literature's."""

from __future__ import annotations

from gutstride.evidence.personal import personal_lines, timing_text
from gutstride.model.finding import Finding


def trigger(tid: str, label: str, rank: int, claim: str | None, aliased: list[str] | None = None) -> Finding:
    return Finding(
        id=f"symptoms.trigger.{tid}", domain="symptoms", summary="...", value=2.5, direction="above", n=120,
        claim_id=claim, interval=(1.4, 4.4),
        detail={"label": label, "word": "clear", "rank": rank, "events_exposed": 12, "n_exposed": 20,
                "rate_exposed": 0.6, "rate_unexposed": 0.2, "crude": {"ratio": 3.0, "interval": [1.7, 5.3]},
                "adjusted": {"ratio": 2.5, "interval": [1.4, 4.4], "adjusted_for": ["dehydration"]},
                "aliased_with": aliased or []},
    )


def test_lines_follow_the_persons_ranking_and_show_the_certainty_beside() -> None:
    weak_evidence = trigger("caffeine_before", "with 100 mg caffeine or more in the 3 h before", 1, None)
    strong_evidence = trigger("heat", "in heat (average 25 C or more)", 2, "exercise-heat-gi-symptoms")
    dehydration = Finding(id="symptoms.trigger.dehydration", domain="symptoms", summary="", direction="within",
                          detail={"label": "when dehydrated"})
    lines = personal_lines([strong_evidence, dehydration, weak_evidence], [])
    assert len(lines) == 2 and "caffeine" in lines[0] and "heat" in lines[1]
    assert "the science: no graded claim yet" in lines[0] and "the science: low certainty" in lines[1]
    assert "adjusted for when dehydrated" in lines[1] and "12 of 20 sessions (60%) against 20%" in lines[1]


def test_triggers_that_cannot_be_told_apart_are_named_together() -> None:
    heat = trigger("heat", "in heat (average 25 C or more)", 1, "exercise-heat-gi-symptoms", aliased=["dehydration"])
    dehydration = Finding(id="symptoms.trigger.dehydration", domain="symptoms", summary="", direction="within",
                          detail={"label": "when dehydrated"})
    (line,) = personal_lines([heat, dehydration], [])
    assert "in heat (average 25 C or more) or when dehydrated (these come together in your data and cannot be told " \
           "apart)" in line


def test_timing_text_says_which_rule_was_used() -> None:
    assert timing_text({"timing": 0, "same_day": 0}) == ""
    assert timing_text({"timing": 3, "same_day": 0}).startswith("Symptoms were credited to 3 sessions by the timing")
    assert "same-day rule" in timing_text({"timing": 0, "same_day": 5})
