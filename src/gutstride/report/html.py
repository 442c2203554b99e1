"""Render the report content (see :mod:`gutstride.services.report`) to one self-contained HTML page."""

from __future__ import annotations

from datetime import date
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from gutstride.report import charts

CERTAINTY_TEXT = {"high": "high certainty", "moderate": "moderate certainty", "low": "low certainty",
                  "very_low": "very low certainty", "info": "information"}
DIRECTION_TEXT = {"above": "above", "below": "below", "within": "within", "present": "present", "absent": "absent",
                  "not_enough_data": "not enough data yet"}
SESSION_TEXT = {"rest": "Rest", "moderate": "Moderate cardio", "easy": "Easy aerobic", "hard": "Harder session",
                "strength_mobility": "Strength or mobility", "unplanned": "Not planned yet"}


def _fmt(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    if isinstance(value, int | float):
        return f"{value:,.{digits}f}"
    return str(value)


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def build_charts(c: dict[str, Any]) -> dict[str, str]:
    """The SVG charts the template places, from the report content."""
    out: dict[str, str] = {}
    training = c["training"]
    if training.get("n_sessions") and sum(training["zone_minutes_total"]) > 0:
        out["intensity"] = charts.intensity_chart(training["zone_minutes_total"])
        out["weekly"] = charts.weekly_zone_chart(training["weeks"])
    points = c["symptoms"].get("timeline") or []
    if any(p["symptoms"] is not None for p in points):
        days = [_date(p["day"]) for p in points]
        out["symptoms"] = charts.symptom_timeline([{**p, "day": _date(p["day"])} for p in points], min(days), max(days))
    micro = c["microbiome"]
    dated = [s for s in micro.get("samples", []) if s.get("date") and s.get("shannon") == s.get("shannon")]
    if dated and training.get("weeks"):
        weeks = [(_date(w["week_start"]), w["minutes"]) for w in training["weeks"]]
        all_days = [d for d, _ in weeks] + [_date(s["date"]) for s in dated]
        out["diversity"] = charts.diversity_chart([{"day": _date(s["date"]), "shannon": s["shannon"]} for s in dated],
                                                  weeks, min(all_days), max(all_days),
                                                  one_person=not any(c.get("different_people")
                                                                     for c in micro.get("changes", [])))
    taxa = micro.get("key_taxa") or []
    if taxa:
        out["taxa"] = charts.taxa_range_chart([
            {"label": t["label"], "value": t["relative_abundance"], "percentile": t["percentile"],
             "iqr": t["reference_iqr"]} for t in taxa if t["relative_abundance"] == t["relative_abundance"]])
    phyla = [p for p in micro.get("phylum_summary") or [] if p["phyla"] or p["unclassified_share"]]
    if phyla:
        out["phyla"] = charts.phylum_chart([{**p, "label": p["sample"]} for p in phyla])
    return out


def render_html(content: dict[str, Any]) -> str:
    """The whole report page: inline CSS and SVG, no external resources, no scripts."""
    env = Environment(loader=PackageLoader("gutstride.report", "templates"), autoescape=select_autoescape(["j2"]))
    env.globals.update(
        fmt=_fmt, pct=_pct, share=charts.share_text,
        certainty_text=lambda c: CERTAINTY_TEXT.get(c, str(c)),
        direction_text=lambda f: DIRECTION_TEXT.get(f["direction"], f["direction"]),
        session_text=lambda s: SESSION_TEXT.get(s, s),
        weekday=lambda d: _date(d).strftime("%a %d %b"),
    )
    return env.get_template("report.html.j2").render(c=content, charts=build_charts(content))
