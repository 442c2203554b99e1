"""The main job: gather an athlete's data from the workspace, run every analysis, and compose the report content.

Two steps, kept apart so that the second is pure and testable:

1. :func:`gather` reads the store (activities, streams, profile, log, microbiome samples, import records);
2. :func:`compose` runs the analyses, the evidence engine and the plan over those inputs and returns the report
   content as plain JSON-able data (no I/O).

:func:`build_report` runs both for one athlete. Rendering that content (HTML, PDF, JSON) is the presenters' job:
:mod:`gutstride.report.write`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gutstride import __version__
from gutstride.analysis.microbiome.phyla import TOP_PHYLA
from gutstride.model.feature_table import FeatureTable
from gutstride.model.finding import Finding
from gutstride.model.log_entry import LogEntry
from gutstride.store.workspace import Workspace

DISCLAIMER = (
    "gutstride describes patterns in your own data and what published studies say, with how sure they are. It is "
    "not a medical device, does not diagnose, and is no substitute for a doctor. See a doctor about blood in "
    "stool, black stools, unexplained weight loss, a change in bowel habit lasting weeks, anaemia, or GI bleeding "
    "during exercise."
)
RED_FLAG_ADVICE = (
    "These signs can have causes that need a doctor's examination. Please make an appointment with your doctor "
    "soon, and mention what gutstride recorded. Until then, the training advice below is secondary."
)


@dataclass
class ReportInputs:
    """Everything the report reads from the workspace for one person."""

    person: dict[str, Any]
    profile: Any  # gutstride.analysis.training.Profile
    activities: pd.DataFrame
    streams: Mapping[int, dict[str, np.ndarray]]
    log_entries: list[LogEntry]
    microbiome: FeatureTable | None
    sample_dates: list[date | None]
    imports: list[dict[str, Any]]
    today: date
    reference: Any = None  # ReferenceCohort
    #: The format each microbiome sample was read from (a consumer test's own pipeline is flagged in the report).
    sample_formats: list[str] = field(default_factory=list)
    #: Counts at the phylum rank by sample id and phylum, for the samples whose file reported them (consumer tests).
    phylum_counts: dict[str, dict[str, float]] = field(default_factory=dict)


def gather(ws: Workspace, athlete_id: int, today: date | None = None,
           reference_path: Path | None = None) -> ReportInputs:
    """Read ``athlete_id``'s data from ``ws`` (the only function here that does I/O on the store)."""
    from sqlalchemy import select

    from gutstride.analysis.training import STREAM_COLUMNS
    from gutstride.services.reference import load_default_reference, read_reference
    from gutstride.store.activities import load_activities
    from gutstride.store.logs import load_entries
    from gutstride.store.microbiome import load_phylum_counts, load_samples
    from gutstride.store.profile import load_profile
    from gutstride.store.schema import ImportRow

    with ws.session() as session:
        person_row = ws.athlete(session, athlete_id)
        person = {c.name: getattr(person_row, c.name) for c in person_row.__table__.columns}
        imports = [{"path": r.path, "status": r.status, "message": r.message, "kind": r.kind, "format": r.format,
                    "n_items": r.n_items}
                   for r in session.scalars(select(ImportRow).where(ImportRow.person_id == person_row.id)
                                            .order_by(ImportRow.id))]
    activities = load_activities(ws, person["id"])
    with_stream = activities.loc[activities["has_stream"].astype(bool), "id"]
    streams = {int(i): ws.read_stream(athlete_id, int(i), STREAM_COLUMNS) for i in with_stream}
    samples, table = load_samples(ws, person["id"])
    dates = [None if pd.isna(d) else pd.Timestamp(d).date() for d in samples["collection_date"]] if len(samples) else []
    table_id = dict(zip(samples["id"].tolist(), table.sample_ids, strict=True))  # the ids the table gives samples
    phylum_counts: dict[str, dict[str, float]] = {}
    phyla = load_phylum_counts(ws, person["id"])
    for row_id, phylum, count in zip(phyla["sample_row_id"], phyla["phylum"], phyla["count"], strict=True):
        phylum_counts.setdefault(table_id[int(row_id)], {})[str(phylum)] = float(count)
    reference = read_reference(reference_path) if reference_path else load_default_reference()
    return ReportInputs(person=person, profile=load_profile(ws, person["id"]), activities=activities, streams=streams,
                        log_entries=load_entries(ws, person["id"]),
                        microbiome=table if len(samples) else None, sample_dates=dates, imports=imports,
                        today=today or datetime.now(UTC).date(), reference=reference,
                        sample_formats=[str(f) for f in samples["format"]] if len(samples) else [],
                        phylum_counts=phylum_counts)


def _fmt_date(d: Any) -> str | None:
    return None if d is None else str(d)


def _training_section(inputs: ReportInputs, min_obs: int) -> tuple[dict[str, Any], list[Finding], Any]:
    from gutstride.analysis.training import analyse_training

    analysis = analyse_training(inputs.activities, inputs.streams, inputs.profile, inputs.today,
                                min_observations=min_obs, sample_dates=[d for d in inputs.sample_dates if d])
    sessions = analysis.sessions
    weeks = []
    for _, w in analysis.weekly.iterrows():
        zone = [float(w.get(f"z{i}_min", 0.0) or 0.0) for i in range(1, 6)]
        no_hr = max(float(w.get("minutes", 0.0) or 0.0) - sum(zone) - float(w.get("z0_min", 0.0) or 0.0), 0.0)
        weeks.append({"week_start": pd.Timestamp(w["week_start"]).date(), "zone_minutes": zone,
                      "no_hr_minutes": no_hr, "minutes": float(w.get("minutes", 0.0) or 0.0)})
    zone_totals = [sum(w["zone_minutes"][i] for w in weeks) for i in range(5)]
    prolonged = []
    if len(sessions):
        for _, s in sessions[sessions["is_prolonged_strenuous"].fillna(False).astype(bool)].iterrows():
            prolonged.append(f"{s['local_date']}: {s['sport']} for {s['duration_s'] / 60:.0f} min, "
                             f"{100 * (s['share_above_vo2_60'] or 0):.0f}% of the time above the HR equivalent of "
                             f"60% VO2max ({s['vo2_60_hr']:.0f} bpm)")
    training = {
        "n_sessions": int(len(sessions)),
        "hrmax": {"value": analysis.hrmax.value, "method": analysis.hrmax.method,
                  "method_text": analysis.hrmax.describe()},
        "around_samples": analysis.around_samples,
        "weeks": weeks,
        "zone_minutes_total": zone_totals,
        "findings": [f.to_dict() for f in analysis.findings],
        "prolonged": prolonged,
        "consistency": analysis.consistency,
    }
    return training, list(analysis.findings), analysis


def _symptom_section(inputs: ReportInputs, analysis: Any, min_obs: int) -> tuple[dict[str, Any], list[Finding],
                                                                               list[Finding]]:
    from gutstride.analysis.experiments import experiment_results
    from gutstride.analysis.symptoms import (
        PRIMARY_OUTCOME,
        analyse_triggers,
        entry_has_symptoms,
        exposures_from_sessions,
        rest_day_finding,
        screen_red_flags,
        subscale_counts,
        symptom_findings,
        symptom_trend,
    )
    from gutstride.evidence.personal import contraception_counts, experiments_content, timing_text, trigger_rows

    red_flags = screen_red_flags(inputs.log_entries)
    exposures = exposures_from_sessions(analysis.sessions, inputs.activities)
    triggers = analyse_triggers(exposures, inputs.log_entries, min_sessions=min_obs)
    results = triggers.results
    trend = symptom_trend(inputs.log_entries, exposures)
    findings = [f for f in symptom_findings(results, red_flags, trend, min_observations=min_obs)
                if f.domain != "red_flag"]
    primary = [r for r in results if r.outcome == PRIMARY_OUTCOME]
    rows, waiting = trigger_rows(primary, findings)
    section = {
        "rest_days": rest_day_finding(inputs.log_entries, exposures, min_obs).to_dict(),
        "subscales": subscale_counts(exposures, inputs.log_entries, triggers.sessions),
        "contraception": contraception_counts(inputs.log_entries),
        "triggers": rows if inputs.log_entries else [],
        "waiting": waiting,
        "method": primary[0].method_note if primary else "",
        "timing_rule": timing_text(triggers.timing_rules),
        "timing_counts": triggers.timing_rules,
        "experiments": experiments_content(findings, experiment_results(exposures, inputs.log_entries,
                                                                        inputs.today, triggers.sessions)),
        "timeline": _symptom_points(exposures, inputs.log_entries, entry_has_symptoms),
        "findings": [f.to_dict() for f in findings],
    }
    return section, findings, red_flags


def _symptom_points(exposures: pd.DataFrame, entries: list[LogEntry],
                    has_symptoms: Callable[[LogEntry], bool | None]) -> list[dict[str, Any]]:
    """One point per session: its day, minutes and whether GI symptoms >= 3/10 were logged that day."""
    by_day: dict[date, bool] = {}
    for e in entries:
        flag = has_symptoms(e)
        if flag is not None:
            by_day[e.day] = by_day.get(e.day, False) or flag
    points = []
    for row in exposures.itertuples():
        day = pd.Timestamp(row.day).date()
        minutes = float(row.duration_s or 0) / 60.0
        flag = by_day.get(day)
        points.append({"day": day, "minutes": minutes, "symptoms": flag,
                       "label": f"{day} {row.sport} {minutes:.0f} min" + ("; GI symptoms" if flag else "")})
    return points


def _microbiome_section(inputs: ReportInputs) -> tuple[dict[str, Any], list[Finding]]:
    from gutstride.analysis.microbiome.change import key_taxa_table, microbiome_findings, sample_changes
    from gutstride.analysis.microbiome.phyla import PHYLUM_NOTE, phylum_summary
    from gutstride.analysis.microbiome.reference import N_RAREFACTIONS, describe, sample_metrics, sample_percentiles
    from gutstride.analysis.microbiome.taxa import ALL_GROUPS, BUTYRATE_PRODUCERS, GREENGENES_MISSING

    table = inputs.microbiome
    if table is None or not table.sample_ids:
        return {"samples": []}, []
    from gutstride.ingest.microbiome.consumer import OTHER_PIPELINE_FORMATS, PIPELINE_NOTE

    ref = inputs.reference
    formats = inputs.sample_formats or None
    metrics = sample_metrics(table)
    placements = sample_percentiles(table, ref, formats) if ref else None
    placed: list[dict[str, Any] | None] = list(placements) if placements else [None] * len(table.sample_ids)
    hosts = [p["host"] if p else None for p in placed]
    people = len({h for h in hosts if h}) if all(hosts) else 0
    samples = []
    for i, sid in enumerate(table.sample_ids):
        p = placed[i] or {}
        fmt = inputs.sample_formats[i] if i < len(inputs.sample_formats) else ""
        samples.append({
            "pipeline_note": PIPELINE_NOTE.format(who="uBiome" if fmt == "ubiome" else "The testing company")
            if fmt in OTHER_PIPELINE_FORMATS else None,
            "sample_id": sid, "date": _fmt_date(inputs.sample_dates[i]), "depth": float(table.sample_depths()[i]),
            "shannon": p.get("shannon", float(metrics["shannon"][i])),
            "observed_features": float(metrics["observed_features"][i]),
            "shannon_percentile": p.get("shannon_percentile"),
            "shannon_percentile_range": p.get("shannon_percentile_range"),
            "taxonomy": p.get("taxonomy"), "comparable": p.get("comparable"), "note": p.get("note"),
            "in_reference": p.get("in_reference", False),
            "person": (f"person {i + 1} of {people} (reference participant {hosts[i]})" if people > 1
                       else f"reference participant {hosts[i]}" if hosts[i] else "you"),
        })
    labels = {g.id: g.label for g in ALL_GROUPS}
    latest = max(range(len(table.sample_ids)), key=lambda i: inputs.sample_dates[i] or date.min)
    taxa = [{**row, "label": labels[row["taxon"]]} for row in key_taxa_table(table, ref, formats, placements)
            if row["sample"] == table.sample_ids[latest]]
    series = sample_changes(table, inputs.sample_dates, ref)
    findings = microbiome_findings(table, inputs.sample_dates, ref, formats, placements, series)
    changes = [{**c, "from_date": _fmt_date(c["from_date"]), "to_date": _fmt_date(c["to_date"])} for c in series]
    from gutstride.evidence.engine import default_knowledge_base

    kb = default_knowledge_base()
    study, porcari = kb.studies[str(BUTYRATE_PRODUCERS.reference)], kb.studies["porcari2025"]
    greengenes = bool(ref and ref.taxonomy_family == "Greengenes") or any(
        s["taxonomy"] == "Greengenes" for s in samples)
    notes = [s["note"][:1].upper() + s["note"][1:] + f" ({s['sample_id']})." for s in samples if s["note"]]
    if greengenes:
        notes.append(f"The butyrate-producer guild under-counts on Greengenes 13_8 data, including the shipped "
                     f"reference: that taxonomy has no {', '.join(GREENGENES_MISSING)}, so their reads are not "
                     "counted as butyrate producers.")
    if any(s["in_reference"] for s in samples):
        notes.append("Samples that are themselves part of the reference cohort are compared with the reference "
                     "without them, never with themselves.")
    if any(s["shannon_percentile_range"] for s in samples):
        notes.append(f"Diversity is computed after rarefying to {ref.rarefaction_depth:,} reads; a percentile is the "
                     f"median over {N_RAREFACTIONS} rarefactions, with its range (minimum to maximum) "
                     "shown, because one random subsample gives one value among many.")
    if people > 1:
        notes.append(f"These {len(samples)} samples come from {people} different people (each found in the reference "
                     "under its own participant id): differences between them are differences between people, not "
                     "changes in one athlete.")
    elif changes and not any(c["judged"] for c in changes):
        notes.append("No within-person reference: a change between your samples cannot be judged. Only a reference "
                     "with repeated samples of the same people shows how much one person's microbiome moves.")
    notes.append(f"gutstride describes test results and gives no treatment advice from them: experts advise that "
                 f"providers should not give post-test therapy advice ({porcari.first_author} {porcari.year}, "
                 f"PMID {porcari.pmid}). Discuss your results with a clinician before acting on them.")
    section = {
        "samples": samples,
        "reference": describe(ref) if ref else None,
        "key_taxa": taxa,
        "changes": changes,
        "phylum_summary": [shares.to_dict() for shares in phylum_summary(table, inputs.phylum_counts)],
        "phylum_note": PHYLUM_NOTE,
        "notes": notes,
        "guild_note": (f"Butyrate producers: {', '.join(BUTYRATE_PRODUCERS.genera)} and the Eubacterium rectale "
                       f"and E. hallii groups, after {study.first_author} {study.year} (doi:{study.doi}). "
                       f"{BUTYRATE_PRODUCERS.note}"
                       + (" On Greengenes 13_8 data the guild is under-counted (see the notes above)."
                          if greengenes else "") + " No taxon is scored as good or bad."),
        "findings": [f.to_dict() for f in findings],
    }
    return section, findings


def _data_used(inputs: ReportInputs, training: dict[str, Any]) -> dict[str, Any]:
    acts = inputs.activities
    starts = pd.to_datetime(acts["start_time"], utc=True).dropna() if len(acts) else pd.Series(
        dtype="datetime64[ns, UTC]")
    undated = len(acts) - len(starts)
    undated_note = (f" ({undated} activit{'y' if undated == 1 else 'ies'} without a start time, left out of the "
                    "time-based analyses)" if undated else "")
    days = [d for d in ([s.date() for s in starts] + [e.day for e in inputs.log_entries]
                        + [d for d in inputs.sample_dates if d]) if d]
    counts: dict[str, int] = {}
    for r in inputs.imports:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    hr_cov = next((f for f in training.get("findings", []) if f["id"] == "data.hr_coverage"), None)
    n_entries = len(inputs.log_entries)
    n_samples = len(inputs.sample_dates)
    def span(values: list[date]) -> str:
        return f" ({min(values)} to {max(values)})" if values else ""

    summary = (f"{len(inputs.imports)} files read ({', '.join(f'{v} {k}' for k, v in sorted(counts.items()))}); "
               f"{len(acts)} activities{span([s.date() for s in starts])}{undated_note}, "
               f"{n_entries} log entries{span([e.day for e in inputs.log_entries])}, "
               f"{n_samples} microbiome samples{span([d for d in inputs.sample_dates if d])}.")
    if hr_cov:
        summary += f" {hr_cov['summary']}."
    return {
        "summary": summary,
        "first_day": _fmt_date(min(days)) if days else None,
        "last_day": _fmt_date(max(days)) if days else None,
        "activities": {"n": int(len(acts)), "first": _fmt_date(min(starts).date()) if len(starts) else None,
                       "last": _fmt_date(max(starts).date()) if len(starts) else None, "undated": undated},
        "log_entries": n_entries,
        "microbiome_samples": n_samples,
        "import_counts": counts,
        "skipped": [r for r in inputs.imports if r["status"] not in ("ok", "duplicate")],
    }


METHODS = [
    "Heart-rate zones are measured by time (each sample counts for the time to the next one, at most 10 s), on "
    "percentages of HRmax: 50-60, 60-70, 70-80, 80-90 and 90-100%.",
    "HRmax is measured from your own files when there are enough sessions with HR (a high percentile after removing "
    "spikes and dropouts), else estimated with Tanaka's formula 208 - 0.7 x age; the report says which.",
    "\"Prolonged strenuous\" means at least 2 hours with most of the time above the heart rate equivalent of 60% "
    "VO2max, converted through heart-rate reserve; the conversion is uncertain by about 5-10 bpm.",
    "Symptom triggers compare the share of sessions followed by GI symptoms (any score of 3/10 or more) with and "
    "without each possible trigger, as a risk ratio: crude, and adjusted for the other triggers that come with it "
    "(Mantel-Haenszel for one, Firth's penalised logistic regression for several). p-values come from a permutation "
    "test that moves symptoms by whole weeks, adjusted for the number of triggers tested; the report puts them in "
    "words (clear, likely, unclear, no sign) and keeps the numbers behind a toggle and in the JSON. Below 5 "
    "sessions on either side the answer is \"not enough data yet\".",
    "Microbiome diversity is Shannon's index in bits on genus-level counts rarefied to 1,000 reads (as QIIME 2 "
    "reports it), repeated over 20 rarefactions, compared by percentile with a reference cohort of the same "
    "taxonomy that never includes the sample itself; taxa are relative abundances. A change between samples is "
    "judged only against repeated samples of the same people.",
    f"The phylum summary is each sample's share of reads in each phylum (the {TOP_PHYLA} largest, then the rest as "
    "\"other\"): from the test's own phylum counts where its file reported them, else its genera summed by the "
    "phylum in their lineage. It describes the sample and is not used as a judgement of health.",
    "Evidence is graded with GRADE (high, moderate, low, very low) for each outcome, with the reasons for "
    "downgrading, in summary-of-findings tables; statements use GRADE's informative wording (Santesso 2020, "
    "J Clin Epidemiol, PMID 31711912). A PMID or DOI is shown only where it was seen next to the study's title; "
    "a source with no verified identifier (a guideline) is cited by its full reference and official page.",
]


def _headline(red_flags: list[Finding], recommendations: list[dict[str, Any]], training: dict[str, Any],
              micro: dict[str, Any], symptoms: dict[str, Any], symptom_findings: list[Finding] | None = None
              ) -> list[str]:
    """The three most important things, in plain words: red flags, then the person's own triggers ranked by their
    own data (:func:`gutstride.analysis.symptoms.rank_score`), then the top recommendations."""
    lines: list[str] = []
    if red_flags:
        lines.append(f"Red flag in your log ({red_flags[0].summary}): please see a doctor.")
    from gutstride.evidence.personal import experiment_line, personal_lines

    lines += personal_lines(symptom_findings or [], recommendations)[: 3 - len(lines)]
    suggested = symptoms.get("experiments", {}).get("suggested") or []
    if suggested and len(lines) < 3:
        lines.append(experiment_line(suggested[0]))
    for rec in recommendations:
        if len(lines) >= 3:
            break
        if rec.get("category") in ("red_flag", "symptoms") or rec.get("kind") == "info":
            continue
        lines.append(f"{rec['title']}: {rec['advice']}")
    fillers = []
    if training.get("n_sessions") and training.get("hrmax", {}).get("method") == "unknown":
        fillers.append("Heart-rate zones need your HRmax: add your birth year (gutstride profile --birth-year) or a "
                       "measured HRmax (--hrmax).")
    if training.get("n_sessions", 0) == 0:
        fillers.append("No activities imported yet: import your watch files to see your training pattern.")
    if not symptoms.get("triggers"):
        fillers.append("No symptom log yet: a few weeks of `gutstride log` entries let gutstride look for triggers.")
    if not micro.get("samples"):
        fillers.append("No microbiome results yet.")
    for f in fillers:
        if len(lines) < 3:
            lines.append(f)
    if not lines:
        lines.append("Not enough data yet for personal advice: keep importing your files and logging.")
    return lines


def compose(inputs: ReportInputs, min_observations: int = 5) -> dict[str, Any]:
    """Run every analysis over ``inputs`` and return the report content (pure: no I/O)."""
    from gutstride.evidence.engine import recommend
    from gutstride.evidence.plan import suggest_next_week

    training, training_findings, analysis = _training_section(inputs, min_observations)
    symptoms, symptom_findings, red_flags = _symptom_section(inputs, analysis, min_observations)
    micro, micro_findings = _microbiome_section(inputs)
    recs = recommend([*red_flags, *training_findings, *symptom_findings, *micro_findings])
    recommendations = [r.to_dict() for r in recs]
    plan = suggest_next_week(analysis.weekly.tail(8).to_dict("records"), inputs.today, findings=symptom_findings)
    from gutstride.analysis.symptoms import red_flag_screening

    return {  # red flags first, in the JSON as in every other output
        "red_flags": [f.to_dict() for f in red_flags],
        "red_flag_advice": RED_FLAG_ADVICE,
        "red_flag_screening": red_flag_screening(inputs.log_entries),
        "meta": {
            "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "version": __version__,
            "is_demo": bool(inputs.person.get("is_demo")), "today": inputs.today.isoformat(),
            "person": {k: inputs.person.get(k) for k in ("name", "birth_year", "sex", "mass_kg", "height_m",
                                                        "resting_hr", "hrmax")},
            "disclaimer": DISCLAIMER,
        },
        "headline": _headline(red_flags, recommendations, training, micro, symptoms, symptom_findings),
        "training": training,
        "symptoms": symptoms,
        "microbiome": micro,
        "recommendations": recommendations,
        "next_week": plan.to_dict(),
        "data_used": _data_used(inputs, training),
        "methods": METHODS,
    }


def build_report(ws: Workspace, athlete_id: int, today: date | None = None,
                 reference_path: Path | None = None) -> dict[str, Any]:
    """The report content for ``athlete_id``: :func:`gather` then :func:`compose` (see the module docstring)."""
    return compose(gather(ws, athlete_id, today, reference_path), min_observations=int(ws.settings["min_observations"]))
