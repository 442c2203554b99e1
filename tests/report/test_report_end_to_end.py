"""The main job end to end: the demo athlete from files to report, as a user runs it, and read in a browser."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from gutstride.model.log_entry import LogEntry
from gutstride.report.write import write_report
from gutstride.services.athletes import workspace_athlete
from gutstride.services.logs import add_log_entries
from gutstride.services.report import build_report
from gutstride.store.workspace import Workspace

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def demo(demo_dir: Path) -> Path:
    return demo_dir


def test_demo_writes_a_labelled_self_contained_report(demo: Path) -> None:
    html = (demo / "report.html").read_text()
    assert "DEMO DATA" in html
    assert "Not a medical device; does not diagnose" in html
    # self-contained: no scripts, stylesheets or images fetched from anywhere
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="(?!#)', html)
    for section in ("Training for gut health", "Symptoms and their likely triggers", "Microbiome", "Recommendations",
                    "Next week", "Data used", "Methods"):
        assert f">{section}</h2>" in html
    assert html.count('role="img"') >= 5  # intensity, weekly zones, symptoms, diversity, taxa
    assert html.count("<desc") >= 5


def test_demo_json_has_the_same_content_and_finds_the_planted_triggers(demo: Path) -> None:
    content = json.loads((demo / "report.json").read_text())
    assert content["meta"]["is_demo"] is True
    assert content["red_flags"] == []
    assert len(content["headline"]) == 3
    # all imported through the user's import path: every generated file has an import record and none failed
    files = list((demo / "demo-files" / "activities").iterdir())
    assert content["data_used"]["activities"]["n"] == len(files)
    assert content["data_used"]["import_counts"] == {"ok": len(files) + 2}
    triggers = {t["trigger_id"]: t for t in content["symptoms"]["triggers"]}
    # the planted meal effect is clear; heat and duration come together (the summer long runs), so crude they are
    # clear, adjusted for each other neither is, and an experiment is suggested to tell them apart
    assert triggers["meal_within_2h"]["word"] == "clear" and triggers["meal_within_2h"]["adjusted_interval"][0] > 1
    duration = next(t for t in triggers.values() if t["trigger_id"].startswith("duration_"))
    assert len([t for t in triggers if t.startswith("duration_")]) == 1 and duration["merged"]  # nested: one row
    for planted in (triggers["heat"], duration):
        assert planted["interval"][0] > 1 and planted["adjusted_for"], planted
        assert planted["word"] in ("likely", "unclear"), planted
        assert planted["adjusted_interval"][0] < planted["interval"][0]
    assert "nsaid" not in triggers  # never logged: not enough data yet
    nsaid = next(f for f in content["symptoms"]["findings"] if f["id"] == "symptoms.trigger.nsaid")
    assert nsaid["direction"] == "not_enough_data"
    # the demo ran a duration experiment over its last 8 weeks: its result is shown with its uncertainty, it is not
    # suggested again, and heat (still unclear) is suggested next
    (done,) = content["symptoms"]["experiments"]["tracked"]
    assert done["id"] == "duration_90" and done["status"] == "finished"
    assert done["interval"][0] < done["ratio"] < done["interval"][1] and 0 < done["p_value"] <= 1
    suggested = content["symptoms"]["experiments"]["suggested"]
    assert suggested and "heat" in suggested[0]["title"] and all(e["id"] != "duration_90" for e in suggested)
    assert content["symptoms"]["rest_days"]["n"] > 0
    rule = content["symptoms"]["timing_rule"]
    assert "timing you logged" in rule and "same-day rule" in rule
    # the plan follows the findings: no session over the 90-min threshold, and its lines give the numbers
    days = content["next_week"]["days"]
    assert max(d["minutes"] for d in days) <= 90
    assert any("Your data: symptoms after" in r and "a meal less than 2 h before" in r
               for d in days for r in d["reasons"])
    assert content["headline"][0].startswith("Your gut symptoms follow sessions a meal less than 2 h before (clear")
    assert len(content["microbiome"]["samples"]) == 3
    # the third sample follows the hot long-run block: its 4 weeks before hold prolonged, hot sessions
    around = {a["sample_date"]: a for a in content["training"]["around_samples"]}
    assert around["2026-08-17"]["before"]["prolonged_sessions"] >= 2
    assert around["2026-02-01"]["before"]["prolonged_sessions"] == 0
    assert "Training in the 4 weeks before each sample" in (demo / "report.html").read_text()
    assert {t["taxon"] for t in content["microbiome"]["key_taxa"]} >= {"butyrate_producers", "akkermansia"}
    # the detraining break and the prolonged runs in the heat are seen by the training analysis
    (gap,) = content["training"]["consistency"]["detraining"]
    assert gap["start"] == "2026-02-21" and gap["days"] >= 28
    assert len(content["training"]["prolonged"]) >= 8
    for rec in content["recommendations"]:
        assert rec["certainty"] in ("high", "moderate", "low", "very_low")
        assert rec["claims"], rec["id"]
        for claim in rec["claims"]:
            assert any(c["pmid"] or c["doi"] for c in claim["citations"]), claim["id"]
    assert len(content["next_week"]["days"]) == 7
    html = (demo / "report.html").read_text()
    for cite in [c for c in content["recommendations"][0]["claims"][0]["citations"] if c["pmid"] or c["doi"]]:
        link = f"https://pubmed.ncbi.nlm.nih.gov/{cite['pmid']}/" if cite["pmid"] else f"https://doi.org/{cite['doi']}"
        assert link in html


def test_red_flags_come_first(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", create=True)
    add_log_entries(ws, workspace_athlete(ws), [LogEntry(day=date(2026, 10, 1), blood_in_stool=True)], "test")
    content = _report(ws, tmp_path / "r.html", tmp_path / "r.json", date(2026, 10, 31))
    assert content["red_flags"] and content["red_flags"][0]["id"] == "red_flag.blood_in_stool"
    assert content["headline"][0].startswith("Red flag")
    assert content["recommendations"][0]["category"] == "red_flag"
    html = (tmp_path / "r.html").read_text()
    assert html.index("Red flags: please see a doctor") < html.index("The three things that matter most")


def test_a_positive_checklist_answer_puts_the_red_flag_block_first_in_every_output(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", create=True)
    entry = LogEntry(day=date(2026, 10, 1), persistent_vomiting=True, blood_in_stool=False)
    add_log_entries(ws, workspace_athlete(ws), [entry], "test")
    content = _report(ws, tmp_path / "r.html", tmp_path / "r.json", date(2026, 10, 31), tmp_path / "r.pdf")
    assert [f["id"] for f in content["red_flags"]] == ["red_flag.persistent_vomiting"]
    pdf_text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True,
                              check=True).stdout
    assert pdf_text.index("Red flags: please see a doctor") < pdf_text.index("Not a medical device")
    assert next(iter(json.loads((tmp_path / "r.json").read_text()))) == "red_flags"  # first key of the JSON
    assert content["recommendations"][0]["category"] == "red_flag"
    html = (tmp_path / "r.html").read_text()
    body = html[html.index("<main>"):]
    assert body.index("Red flags: please see a doctor") < body.index("Not a medical device")
    assert "Not screened (never recorded)" in html and "Difficulty swallowing" in html
    out = subprocess.run([sys.executable, "-m", "gutstride", "report", "--workspace", str(tmp_path / "ws"), "-o",
                          str(tmp_path / "cli.html")], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].startswith("RED FLAG: Vomiting")


def test_unanswered_red_flags_read_not_screened(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", create=True)
    add_log_entries(ws, workspace_athlete(ws), [LogEntry(day=date(2026, 10, 1), nausea=4)], "test")
    content = _report(ws, tmp_path / "r.html", None, date(2026, 10, 31))
    assert content["red_flags"] == []
    assert {s["status"] for s in content["red_flag_screening"]} == {"not screened"}
    html = (tmp_path / "r.html").read_text()
    assert html.count("not screened: never recorded") == 9
    assert "gutstride log --checklist" in html


def test_empty_workspace_says_not_enough_data_yet(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", create=True)
    content = _report(ws, tmp_path / "r.html", None, date(2026, 10, 31))
    html = (tmp_path / "r.html").read_text()
    assert "not enough data yet" in html.lower()
    assert content["training"]["n_sessions"] == 0
    assert content["microbiome"]["samples"] == []


@pytest.mark.browser
def test_report_renders_in_chromium_without_console_errors(demo: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "needs Debian's chromium: run .ci/system-packages"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1000, "height": 1400})
        messages: list[str] = []
        page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
        failed: list[str] = []
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.goto((demo / "report.html").resolve().as_uri())
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        charts = page.eval_on_selector_all("svg.chart", "els => els.map(e => e.getBoundingClientRect().width)")
        browser.close()
    assert not [m for m in messages if m.startswith(("error", "pageerror"))], messages
    assert not failed
    assert len(charts) >= 5 and min(charts) > 300
    assert shot.stat().st_size > 50_000


def test_report_command_writes_html_pdf_and_json(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "mine.html"
    run = subprocess.run([sys.executable, "-m", "gutstride", "report", "--workspace", str(demo / "workspace"),
                          "-o", str(out), "--pdf", "--json"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    pdf = out.with_suffix(".pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Not a medical device; does not diagnose" in text
    assert "DEMO DATA" in text and "Recommendations" in text
    assert text.count("\f") >= 5  # pages
    content = json.loads(out.with_suffix(".json").read_text())
    assert set(content) == set(json.loads((demo / "report.json").read_text()))
    assert content["meta"]["disclaimer"] in out.read_text()


def test_a_few_real_files_and_no_profile_give_an_honest_report(tmp_path: Path) -> None:
    from gutstride.services.importing import import_files

    data = Path(__file__).parents[1] / "data" / "activities"
    ws = Workspace(tmp_path / "ws", create=True)
    files = [data / "sweatpy" / "4801048867.fit", data / "fit-fitparse" / "garmin-fenix-5-run.fit"]
    import_files(ws, workspace_athlete(ws), files, workers=1)
    content = _report(ws, tmp_path / "r.html", None, date(2020, 12, 31))
    assert content["training"]["n_sessions"] == 2
    assert content["training"]["hrmax"]["method"] == "unknown"  # no age, too few sessions to measure it
    html = (tmp_path / "r.html").read_text()
    assert "not enough data yet" in html.lower()
    assert content["recommendations"] and all(r["kind"] == "info" for r in content["recommendations"])


def test_each_recommendation_shows_both_labels_and_its_summary_of_findings(demo: Path) -> None:
    content = json.loads((demo / "report.json").read_text())
    html = (demo / "report.html").read_text()
    advice = [r for r in content["recommendations"] if r["kind"] != "info"]
    assert advice
    for rec in advice:
        assert rec["in_your_data"]["level"] and rec["in_research"]["certainty"] == rec["certainty"]
        assert rec["summary_of_findings"] and len(rec["summary_of_findings"]) == len(rec["claims"])
        for row in rec["summary_of_findings"]:
            assert row["outcome"] in html and row["statement"] in html
    assert html.count("In your data:</span>") == len(advice)
    assert html.count("In research:</span>") == len(advice)
    assert html.count("Summary of findings (GRADE)") == len(advice)
    # the planted meal trigger (clear after adjustment): a strong personal pattern beside a very-low-certainty claim
    meal = next(r for r in advice if r["id"] == "symptoms-after-meal")
    assert meal["in_your_data"]["level"] in ("strong", "moderate")
    assert meal["in_research"] == {"certainty": "very_low", "claim_id": "low-fibre-carb-meal-before-running"}


def test_citations_statement_is_true_as_written(demo: Path) -> None:
    content = json.loads((demo / "report.json").read_text())
    html = (demo / "report.html").read_text()
    assert "Only identifiers (PMID, DOI) that were verified are shown" in html
    shown_pmids = set(re.findall(r"PMID (\d+)", html))
    shown_dois = set(re.findall(r"doi:(10\.[^<\s]+)<", html))
    from gutstride.evidence.engine import default_knowledge_base

    studies = default_knowledge_base().studies.values()
    assert shown_pmids <= {s.pmid for s in studies if s.pmid}
    assert shown_dois <= {s.doi for s in studies if s.doi}
    for rec in content["recommendations"]:
        for claim in rec["claims"]:
            for cite in claim["citations"]:
                if not (cite["pmid"] or cite["doi"]):  # cited by its full reference and official page only
                    assert cite["reference"] in html


def test_demo_microbiome_is_honest_about_people_taxonomy_and_uncertainty(demo: Path) -> None:
    content = json.loads((demo / "report.json").read_text())
    html = (demo / "report.html").read_text()
    micro = content["microbiome"]
    samples = micro["samples"]
    # the demo's three profiles are three different American Gut participants: labelled so, change not theirs
    assert [s["person"].split(" (")[0] for s in samples] == ["person 1 of 3", "person 2 of 3", "person 3 of 3"]
    assert len({s["person"] for s in samples}) == 3 and all(s["in_reference"] for s in samples)
    assert all(c["different_people"] and not c["judged"] for c in micro["changes"])
    change = next(f for f in micro["findings"] if f["id"] == "microbiome.change_between_samples")
    assert change["direction"] == "not_enough_data"
    assert not any(r["id"] == "microbiome-changed" for r in content["recommendations"])
    # percentiles: from the reference without the sample itself, with a range over rarefactions
    for s in samples:
        low, high = s["shannon_percentile_range"]
        assert low <= s["shannon_percentile"] <= high
    notes = " ".join(micro["notes"])
    for text in ("under-counts on Greengenes 13_8", "Agathobacter", "without them, never with themselves",
                 "median over 20 rarefactions", "3 different people", "Discuss your results with a clinician"):
        assert text in notes and text in html, text
    assert "What these numbers can and cannot say" in html


def test_personal_strength_text_keeps_its_capitals(demo: Path) -> None:
    html = (demo / "report.html").read_text()
    assert "Holm-adjusted p" in html and "holm-adjusted" not in html


def _report(ws: Workspace, html: Path, json_path: Path | None, today: date,
            pdf_path: Path | None = None) -> dict[str, Any]:
    """Build the report of the workspace's athlete and write it, as ``gutstride report`` does."""
    content = build_report(ws, workspace_athlete(ws), today)
    write_report(content, html, json_path=json_path, pdf_path=pdf_path)
    return content


def test_demo_phylum_summary_is_shown_and_described_not_judged(demo: Path) -> None:
    from gutstride.report.charts import share_text

    content = json.loads((demo / "report.json").read_text())
    html = (demo / "report.html").read_text()
    micro = content["microbiome"]
    summary = micro["phylum_summary"]
    assert [p["sample"] for p in summary] == [s["sample_id"] for s in micro["samples"]]
    section = html[html.index("<h3>Phyla in each sample</h3>"):html.index("</p>", html.index('<table class="phyla">'))]
    assert "Share of reads in each phylum, per sample" in section  # the chart, with its alt text
    for p in summary:
        named = [q["share"] for q in p["phyla"] if q["name"] != "other"]
        assert named == sorted(named, reverse=True) and len(named) <= 6
        assert sum(q["share"] for q in p["phyla"]) + p["unclassified_share"] == pytest.approx(1.0)
        row = "; ".join(f"{'other phyla' if q['name'] == 'other' else q['name']} {share_text(q['share'])}"
                        for q in p["phyla"]).replace("<", "&lt;")
        assert f"<tr><td>{p['sample']}</td><td>{row}</td>" in section
    assert "does not use any phylum share, or a ratio between phyla such as Firmicutes to Bacteroidetes, as a " \
           "judgement of health" in section
    assert "PMID" not in section and "doi" not in section.lower()
