"""The SVG charts: valid XML, alt text with the numbers, sizes proportional to the data, safe palette."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from gutstride.report import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.attrib["role"] == "img"
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}desc") is not None
    return root


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, 300) for _ in range(5)], st.integers(0, 100)), min_size=1, max_size=60))
def test_weekly_zone_bars_are_proportional_to_minutes(weeks_raw: list[tuple[int, ...]]) -> None:
    start = date(2026, 1, 5)
    weeks = [{"week_start": start + timedelta(weeks=i), "zone_minutes": list(w[:5]), "no_hr_minutes": w[5]}
             for i, w in enumerate(weeks_raw)]
    root = parse(charts.weekly_zone_chart(weeks))
    rects = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(rects) == 6 * len(weeks)
    heights = [float(r.attrib["height"]) for r in rects]
    minutes = [m for w in weeks for m in (*w["zone_minutes"], w["no_hr_minutes"])]
    busiest = max(sum(w["zone_minutes"]) + w["no_hr_minutes"] for w in weeks)
    if busiest > 0:
        biggest = max(range(len(minutes)), key=minutes.__getitem__)
        scale = heights[biggest] / minutes[biggest]  # the largest bar has the smallest rounding error
        for h, m in zip(heights, minutes, strict=True):
            assert abs(h - m * scale) < 0.1 + 0.05 * m * scale / max(heights[biggest], 1.0)


def test_intensity_chart_states_the_share_above_70_percent_in_its_alt_text() -> None:
    root = parse(charts.intensity_chart([100, 200, 50, 40, 10]))
    desc = root.find(f"{SVG}desc").text or ""
    assert "75% of heart-rate time was at or below 70% of HRmax" in desc
    assert "25% above" in desc
    assert any((t.text or "") == "70% HRmax" for t in root.iter(f"{SVG}text"))


def test_only_palette_colours_are_used() -> None:
    allowed = {c.lower() for c in charts.PALETTE.values()} | {c.lower() for c in charts.ZONE_COLOURS}
    allowed |= {"#e3e3e3", "#d9d9d9", "#333", "#222", "none"}
    svg = charts.taxa_range_chart([{"label": "Akkermansia", "value": 0.02, "iqr": (0.0, 0.01), "percentile": 80.0}])
    svg += charts.symptom_timeline([{"day": date(2026, 1, 1), "minutes": 50, "symptoms": True, "label": "x"},
                                    {"day": date(2026, 2, 1), "minutes": 150, "symptoms": None, "label": "y"}],
                                   date(2026, 1, 1), date(2026, 2, 1))
    used = {c.lower() for c in re.findall(r'(?:fill|stroke)="([^"]+)"', svg)}
    assert used <= allowed, used - allowed


def test_a_long_legend_wraps_inside_the_canvas() -> None:
    items = [(f"level {k} with a long descriptive name", "#000") for k in range(8)]
    svg = charts.Svg("t", "d")
    height = svg.height
    svg.make_room_for_legend(items)
    svg.legend(items)
    xs = [float(x) for x in re.findall(r'<text x="([0-9.]+)"', svg.render())]
    ys = sorted({float(y) for y in re.findall(r'<text x="[0-9.]+" y="([0-9.]+)"', svg.render())})
    widths = [6.2 * len(label) for label, _ in items]
    assert all(x + w <= svg.width for x, w in zip(xs, widths, strict=True))  # no label runs off the right edge
    assert len(ys) > 1 and svg.height == height + charts.LEGEND_ROW * (len(ys) - 1) and ys[-1] == svg.height - 8


def test_cohort_level_names_wrap_on_two_lines_with_an_ellipsis() -> None:
    from gutstride.report.cohort import _label_lines

    assert _label_lines("Daily", 130) == ["Daily"]
    lines = _label_lines("Occasionally 1-2 times/week", 130)
    assert len(lines) == 2 and " ".join(lines) == "Occasionally 1-2 times/week"
    long = _label_lines("a b c d e f g h i j k l m n o p q r s t u v w x y z " * 3, 130)
    assert len(long) == 2 and long[1].endswith("…")


def test_phylum_bars_are_proportional_to_shares_with_palette_colours_and_alt_text() -> None:
    samples = [
        {"label": "A", "phyla": [{"name": "Bacteroidetes", "share": 0.5}, {"name": "Firmicutes", "share": 0.25},
                                 {"name": "other", "share": 0.05}], "unclassified_share": 0.2},
        {"label": "B", "phyla": [{"name": "Firmicutes", "share": 0.7}, {"name": "Bacteroidetes", "share": 0.3}],
         "unclassified_share": 0.0},
    ]
    svg = charts.phylum_chart(samples)
    root = parse(svg)
    desc = root.find(f"{SVG}desc").text or ""
    assert "A: Bacteroidetes 50.0%, Firmicutes 25.0%, other phyla 5.0%; not classified at phylum 20.0%." in desc
    assert "B: Firmicutes 70.0%, Bacteroidetes 30.0%; not classified at phylum 0.0%." in desc
    bars = {(r.find(f"{SVG}title").text or ""): r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None}
    assert set(bars) == {"A: Bacteroidetes 50.0%", "A: Firmicutes 25.0%", "A: other phyla 5.0%",
                         "A: not classified at phylum 20.0%", "B: Firmicutes 70.0%", "B: Bacteroidetes 30.0%"}
    full = sum(float(bars[t].attrib["width"]) for t in bars if t.startswith("B:"))  # a whole bar is 100%
    for title, share in (("A: Bacteroidetes 50.0%", 0.5), ("A: other phyla 5.0%", 0.05), ("B: Firmicutes 70.0%", 0.7)):
        assert abs(float(bars[title].attrib["width"]) - share * full) < 0.1
    # one colour per phylum in every bar, "other" grey, and only the palette (and its light grey)
    assert bars["A: Firmicutes 25.0%"].attrib["fill"] == bars["B: Firmicutes 70.0%"].attrib["fill"]
    assert bars["A: other phyla 5.0%"].attrib["fill"] == charts.PALETTE["grey"]
    fills = {r.attrib["fill"].lower() for r in root.iter(f"{SVG}rect")}
    assert fills <= {c.lower() for c in charts.PALETTE.values()} | {charts.UNCLASSIFIED_COLOUR}


def test_phylum_legend_wraps_inside_the_chart() -> None:
    names = [f"Phylum{i}aceae-like-name" for i in range(12)]
    samples = [{"label": f"S{k}", "phyla": [{"name": n, "share": 1 / 12} for n in names], "unclassified_share": None}
               for k in range(2)]
    root = parse(charts.phylum_chart(samples))
    width = float(root.attrib["viewBox"].split()[2])
    height = float(root.attrib["viewBox"].split()[3])
    legend = [t for t in root.iter(f"{SVG}text") if (t.text or "") in names]
    assert len(legend) == len(names)
    for t in legend:
        assert float(t.attrib["x"]) + 6.2 * len(t.text or "") <= width and float(t.attrib["y"]) <= height
    assert len({t.attrib["y"] for t in legend}) > 1
