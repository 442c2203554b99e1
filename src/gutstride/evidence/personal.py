"""The person's own symptom findings put into words for the report: trigger rows with the literature's certainty
beside them, headline lines ranked by the person's data, the timing rule used, and the experiments.

Pure: no I/O beyond the package's own knowledge base. The literature's certainty is shown beside each personal
finding and never changes the order, which follows :func:`gutstride.analysis.symptoms.rank_score`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from gutstride.analysis.experiments import ExperimentResult, suggest_experiments
from gutstride.analysis.symptoms import TriggerResult
from gutstride.evidence.engine import default_knowledge_base
from gutstride.model.finding import Finding
from gutstride.model.log_entry import LogEntry


def trigger_rows(primary: Sequence[TriggerResult], findings: Sequence[Finding]) -> tuple[list[dict[str, Any]],
                                                                                       list[str]]:
    """The trigger table's rows in rank order (tested triggers, nested thresholds merged), each with ``science``
    (the certainty of its claim, or ``None``), and the triggers logged but without enough data yet."""
    claims = default_knowledge_base().claims
    by_id = {r.trigger_id: r for r in primary}
    ranked = [by_id[f.id.removeprefix("symptoms.trigger.")] for f in findings if f.id.startswith("symptoms.trigger.")]
    rows = [{**row, "science": claims[row["claim_id"]].certainty if row["claim_id"] in claims else None}
            for row in (r.to_report_row() for r in ranked if r.status == "ok")]
    waiting = [f"{r.label} ({r.n_exposed} with, {r.n_unexposed} without)" for r in ranked
               if r.status != "ok" and r.n_exposed]
    return rows, waiting


def contraception_counts(entries: Iterable[LogEntry]) -> dict[str, int]:
    """How many entries logged each kind of contraception."""
    out: dict[str, int] = {}
    for entry in entries:
        if entry.contraception:
            out[entry.contraception] = out.get(entry.contraception, 0) + 1
    return out


def experiments_content(findings: Sequence[Finding], tracked: Sequence[ExperimentResult]) -> dict[str, Any]:
    """Experiments in the log (with progress or result) and suggestions; one experiment at a time, so nothing new
    is suggested while one runs, and none already in the log is suggested again."""
    running = any(t.status == "running" for t in tracked)
    suggested = [] if running else suggest_experiments(findings, [t.id for t in tracked])
    return {"suggested": [s.to_dict() for s in suggested], "tracked": [t.to_dict() for t in tracked]}


def experiment_line(suggestion: dict[str, Any]) -> str:
    """The headline line for the first suggested experiment."""
    return (f"Your data cannot settle this yet. {suggestion['title']} {suggestion['why']} Try the "
            f"{suggestion['weeks']}-week experiment under \"Symptoms\".")


def personal_lines(symptom_findings: list[Finding], recommendations: list[dict[str, Any]]) -> list[str]:
    """Headline lines for the person's own "clear" triggers, ranked by their own data
    (:func:`gutstride.analysis.symptoms.rank_score`), each with the literature's certainty beside it and the
    matching advice; triggers that cannot be told apart are named together."""
    claims = default_knowledge_base().claims
    above = [f for f in symptom_findings if f.id.startswith("symptoms.trigger.") and f.direction == "above"]
    labels = {f.id.removeprefix("symptoms.trigger."): f.detail.get("label", f.id) for f in symptom_findings
              if f.id.startswith("symptoms.trigger.")}
    advice = {f["id"]: rec["advice"] for rec in recommendations if rec.get("kind") == "advice"
              for f in rec.get("findings", [])}
    lines = []
    for f in sorted(above, key=lambda f: f.detail.get("rank", 999)):
        d = f.detail
        together = [labels.get(a, a) for a in d.get("aliased_with", [])]
        what = d.get("label", f.id) + (f" or {' or '.join(together)} (these come together in your data and cannot "
                                       "be told apart)" if together else "")
        adjusted = d.get("adjusted") or {}
        adj_text = (f", {adjusted['ratio']:.2g} ({adjusted['interval'][0]:.2g}-{adjusted['interval'][1]:.2g}) "
                    "adjusted for " + ", ".join(labels.get(a, a) for a in adjusted["adjusted_for"])
                    if adjusted.get("adjusted_for") else "")
        claim = claims.get(f.claim_id) if f.claim_id else None
        science = (f"the science: {claim.certainty.replace('_', ' ')} certainty" if claim
                   else "the science: no graded claim yet")
        line = (f"Your gut symptoms follow sessions {what} ({d['word']} in your data: {d['events_exposed']} of "
                f"{d['n_exposed']} sessions ({100 * d['rate_exposed']:.0f}%) against {100 * d['rate_unexposed']:.0f}% "
                f"of others, risk ratio {d['crude']['ratio']:.2g}{adj_text}; {science}).")
        if f.id in advice:
            line += f" {advice[f.id]}"
        lines.append(line)
    return lines


def timing_text(counts: dict[str, int]) -> str:
    """Which rule credited symptoms to sessions, in one sentence."""
    timed, same_day = counts.get("timing", 0), counts.get("same_day", 0)
    if not timed and not same_day:
        return ""
    parts = []
    if timed:
        parts.append(f"{timed} sessions by the timing you logged (only symptoms during or within 2 h after a session "
                     "count for it)")
    if same_day:
        parts.append(f"{same_day} sessions by the same-day rule (no timing logged: that day's symptoms count for "
                     "the day's sessions)")
    return "Symptoms were credited to " + "; ".join(parts) + "."
