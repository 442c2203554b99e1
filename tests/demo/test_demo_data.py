"""The demo's shipped microbiome profiles are what the documented extraction gives on the real AG table."""

from __future__ import annotations

import json
from datetime import date
from importlib import resources
from pathlib import Path

from gutstride.demo.athlete import generate_year
from gutstride.demo.build import DEMO_SAMPLES_FILE, extract_demo_samples

MICROBIOME = Path(__file__).parents[1] / "data" / "microbiome"

AG = MICROBIOME / "american-gut" / "AG_debug"


def test_shipped_demo_samples_equal_a_fresh_extraction() -> None:
    shipped = json.loads(resources.files("gutstride.demo").joinpath("data", DEMO_SAMPLES_FILE).read_text())
    fresh = extract_demo_samples(AG / "AG_100nt.biom.gz", AG / "AG_100nt.txt")
    assert shipped == fresh
    assert len({s["source"] for s in shipped["samples"]}) == 3


def test_demo_year_has_the_promised_blocks() -> None:
    year = generate_year(date(2026, 10, 31))
    days = {s.start.date() for s in year.sessions}
    # a 4-week break with no sessions
    assert not any(year.break_start <= d <= year.break_end for d in days)
    assert (year.break_end - year.break_start).days >= 27
    heat = [s for s in year.sessions if s.kind == "long_heat"]
    assert len(heat) >= 8 and all(s.minutes >= 120 and s.temperature_c >= 27 for s in heat)
    kinds = {s.kind for s in year.sessions}
    assert {"strength", "yoga", "easy", "long"} <= kinds
    formats = {s.file_format for s in year.sessions}
    assert formats == {"fit", "gpx", "tcx"}
    # GI symptoms are more frequent after the hot long runs than after the other runs
    by_start = {r.get("activity_start"): r for r in year.log_rows if r.get("activity_start")}
    def rate(sessions: list) -> float:
        rows = [by_start[s.start.strftime("%Y-%m-%dT%H:%M:%SZ")] for s in sessions]
        return sum(r["cramps"] >= 3 for r in rows) / len(rows)
    others = [s for s in year.sessions if s.kind in ("easy", "tempo")]
    assert rate(heat) > rate(others) + 0.2
