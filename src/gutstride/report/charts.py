"""Charts for the report, as inline SVG: no JavaScript, open offline, print cleanly.

Every chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` (its alt text, stating what the chart
shows in words and numbers). Colours come from the Okabe-Ito palette, which stays distinguishable with the
common colour-vision deficiencies; series are also told apart by position and labels, never by colour alone.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from html import escape

from gutstride.analysis.microbiome.phyla import OTHER

#: Okabe-Ito colour-blind-safe palette.
PALETTE = {
    "blue": "#0072B2", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
    "vermillion": "#D55E00", "purple": "#CC79A7", "grey": "#999999", "black": "#000000",
}
#: Colours of the five %HRmax zones, light to dark as intensity rises.
ZONE_COLOURS = ("#56B4E9", "#009E73", "#F0E442", "#E69F00", "#D55E00")
ZONE_LABELS = ("Z1 50-60%", "Z2 60-70%", "Z3 70-80%", "Z4 80-90%", "Z5 90-100%")


#: Height of one row of a legend, px.
LEGEND_ROW = 14


@dataclass
class Svg:
    """A chart canvas: plot area inside margins, and the SVG elements drawn so far."""

    title: str
    description: str
    width: int = 720
    height: int = 260
    left: int = 56
    right: int = 16
    top: int = 16
    bottom: int = 40
    parts: list[str] = field(default_factory=list)

    @property
    def plot_w(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> float:
        return self.height - self.top - self.bottom

    def x(self, frac: float) -> float:
        return self.left + frac * self.plot_w

    def y(self, frac: float) -> float:
        return self.top + (1.0 - frac) * self.plot_h

    def rect(self, x: float, y: float, w: float, h: float, fill: str, tip: str = "") -> None:
        tip_xml = f"<title>{escape(tip)}</title>" if tip else ""
        self.parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" '
                          f'fill="{fill}">{tip_xml}</rect>')

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str = "#333", width: float = 1,
             dash: str = "") -> None:
        dash_xml = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" '
                          f'stroke-width="{width}"{dash_xml}/>')

    def text(self, x: float, y: float, content: str, anchor: str = "start", size: int = 11,
             colour: str = "#222") -> None:
        self.parts.append(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
                          f'fill="{colour}">{escape(content)}</text>')

    def circle(self, x: float, y: float, r: float, fill: str, tip: str = "", stroke: str = "none") -> None:
        tip_xml = f"<title>{escape(tip)}</title>" if tip else ""
        self.parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{fill}" stroke="{stroke}">'
                          f"{tip_xml}</circle>")

    def y_axis(self, top_value: float, label: str, fmt: str = "{:g}") -> None:
        ticks = 4 if (top_value / 4) == int(top_value / 4) and top_value >= 4 else 5
        for i in range(ticks + 1):
            frac = i / ticks
            self.line(self.left, self.y(frac), self.left + self.plot_w, self.y(frac), "#e3e3e3")
            self.text(self.left - 6, self.y(frac) + 4, fmt.format(top_value * frac), "end", 10)
        self.parts.append(f'<text transform="translate(12,{self.top + self.plot_h / 2:.0f}) rotate(-90)" '
                          f'text-anchor="middle" font-size="11" fill="#222">{escape(label)}</text>')

    def _legend_places(self, items: Sequence[tuple[str, str]]) -> list[tuple[float, int]]:
        """Where each legend item goes: its x and its row (see :func:`_wrapped`)."""
        places = _wrapped([label for label, _colour in items], self.width - self.left - self.right)
        return [(self.left + x, row) for x, row in places]

    def make_room_for_legend(self, items: Sequence[tuple[str, str]]) -> None:
        """Grow the canvas below the plot for the legend's extra rows (call before drawing)."""
        extra = LEGEND_ROW * max((row for _x, row in self._legend_places(items)), default=0)
        self.height += extra
        self.bottom += extra

    def legend(self, items: Sequence[tuple[str, str]], y: float | None = None) -> None:
        places = self._legend_places(items)
        rows = max((row for _x, row in places), default=0)
        y = self.height - 8 - LEGEND_ROW * rows if y is None else y
        for (label, colour), (x, row) in zip(items, places, strict=True):
            self.rect(x, y + LEGEND_ROW * row - 9, 10, 10, colour)
            self.text(x + 14, y + LEGEND_ROW * row, label, size=10)

    def render(self) -> str:
        uid = zlib.crc32(f"{self.title}|{self.description}".encode())  # stable across runs, unique per chart
        return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {self.width} {self.height}" '
                f'aria-labelledby="t{uid} d{uid}" class="chart"><title id="t{uid}">{escape(self.title)}</title>'
                f'<desc id="d{uid}">{escape(self.description)}</desc>{"".join(self.parts)}</svg>')


def _nice_max(value: float) -> float:
    """Round an axis maximum up to 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 1.0
    import math

    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _date_frac(d: date, start: date, end: date) -> float:
    span = max((end - start).days, 1)
    return (d - start).days / span


def _month_ticks(svg: Svg, start: date, end: date, most: int = 12) -> None:
    """Ticks on the first of every month (every 2nd, 3rd... month on long spans, at most ``most`` ticks)."""
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    step = max(1, -(-months // most))
    d = date(start.year, start.month, 1)
    i = 0
    while d <= end:
        if d >= start and i % step == 0:
            x = svg.x(_date_frac(d, start, end))
            svg.line(x, svg.top + svg.plot_h, x, svg.top + svg.plot_h + 4)
            svg.text(x, svg.top + svg.plot_h + 15, d.strftime("%b %y"), "middle", 9)
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        i += 1


def weekly_zone_chart(weeks: Sequence[dict]) -> str:
    """Stacked bars: minutes per week in each %HRmax zone (plus minutes without usable HR, in grey).

    ``weeks``: dicts with ``week_start`` (date), ``zone_minutes`` (5 numbers) and ``no_hr_minutes``.
    """
    total = [sum(w["zone_minutes"]) + w.get("no_hr_minutes", 0.0) for w in weeks]
    busiest = max(total, default=0.0)
    above = sum(sum(w["zone_minutes"][2:]) for w in weeks)
    all_hr = sum(sum(w["zone_minutes"]) for w in weeks) or 1.0
    svg = Svg("Weekly training time by heart-rate zone",
              f"Stacked bars for {len(weeks)} weeks; the busiest week had {busiest:.0f} minutes. Overall "
              f"{100 * above / all_hr:.0f}% of the time with heart rate was above 70% of HRmax (zones 3-5).",
              bottom=48)
    top = _nice_max(busiest)
    svg.y_axis(top, "minutes")
    n = max(len(weeks), 1)
    bar_w = svg.plot_w / n
    for i, week in enumerate(weeks):
        y_frac = 0.0
        stack = [*zip(ZONE_LABELS, ZONE_COLOURS, week["zone_minutes"], strict=True),
                 ("no HR", PALETTE["grey"], week.get("no_hr_minutes", 0.0))]
        for label, colour, minutes in stack:
            h = minutes / top
            svg.rect(svg.x(i / n) + 0.5, svg.y(y_frac + h), max(bar_w - 1, 0.5), h * svg.plot_h, colour,
                     f"week of {week['week_start']}: {minutes:.0f} min {label}")
            y_frac += h
        if i % max(n // 8, 1) == 0:
            svg.text(svg.x((i + 0.5) / n), svg.top + svg.plot_h + 14, week["week_start"].strftime("%d %b"),
                     "middle", 9)
    svg.legend([*zip(ZONE_LABELS, ZONE_COLOURS, strict=True), ("no HR", PALETTE["grey"])])
    return svg.render()


def intensity_chart(zone_minutes: Sequence[float]) -> str:
    """Share of all HR time in each zone, with the 70%-of-HRmax line between zones 2 and 3."""
    total = sum(zone_minutes) or 1.0
    shares = [m / total for m in zone_minutes]
    above = sum(shares[2:])
    svg = Svg("Intensity distribution against the 70% HRmax line",
              f"{100 * (1 - above):.0f}% of heart-rate time was at or below 70% of HRmax and {100 * above:.0f}% "
              "above it. " + "; ".join(f"{lab}: {100 * s:.0f}%" for lab, s in zip(ZONE_LABELS, shares, strict=True)),
              height=220)
    top = _nice_max(max(shares, default=0.0) * 100)
    svg.y_axis(top, "% of HR time")
    n = len(shares)
    for i, (label, colour, share) in enumerate(zip(ZONE_LABELS, ZONE_COLOURS, shares, strict=True)):
        h = share * 100 / top
        x = svg.x(i / n) + 8
        svg.rect(x, svg.y(h), svg.plot_w / n - 16, h * svg.plot_h, colour, f"{label}: {100 * share:.1f}%")
        svg.text(x + (svg.plot_w / n - 16) / 2, svg.y(h) - 4, f"{100 * share:.0f}%", "middle", 10)
        svg.text(svg.x((i + 0.5) / n), svg.top + svg.plot_h + 14, label, "middle", 10)
    line_x = svg.x(2 / n)
    svg.line(line_x, svg.top, line_x, svg.top + svg.plot_h, PALETTE["black"], 2, "6 3")
    svg.text(line_x + 4, svg.top + 10, "70% HRmax", size=10)
    return svg.render()


def symptom_timeline(points: Sequence[dict], start: date, end: date) -> str:
    """Sessions over time (x) by duration (y); filled red-orange where GI symptoms (>= 3/10) were logged.

    ``points``: dicts with ``day`` (date), ``minutes``, ``symptoms`` (bool or None when not logged) and ``label``.
    """
    with_symptoms = sum(1 for p in points if p["symptoms"])
    logged = sum(1 for p in points if p["symptoms"] is not None)
    svg = Svg("GI symptoms over sessions",
              f"{len(points)} sessions from {start} to {end}; {logged} have a log entry and {with_symptoms} of those "
              "had GI symptoms scored 3/10 or more (orange-red dots). Height is session duration.", bottom=48)
    top = _nice_max(max((p["minutes"] for p in points), default=60.0))
    svg.y_axis(top, "minutes")
    _month_ticks(svg, start, end)
    for p in points:
        colour = {True: PALETTE["vermillion"], False: PALETTE["sky"], None: "none"}[p["symptoms"]]
        svg.circle(svg.x(_date_frac(p["day"], start, end)), svg.y(p["minutes"] / top), 3.5 if p["symptoms"] else 2.5,
                   colour, p["label"], stroke=PALETTE["grey"] if p["symptoms"] is None else "none")
    svg.legend([("GI symptoms >= 3/10", PALETTE["vermillion"]), ("no symptoms logged >= 3", PALETTE["sky"])])
    return svg.render()


def diversity_chart(samples: Sequence[dict], weekly_minutes: Sequence[tuple[date, float]], start: date,
                    end: date, one_person: bool = True) -> str:
    """Shannon diversity at each sample date (points, joined by a line only when ``one_person``: samples of
    different people are not a trajectory) over weekly training minutes (grey bars)."""
    desc = "; ".join(f"{s['day']}: Shannon {s['shannon']:.2f} bits" for s in samples)
    whose = "" if one_person else " The samples come from different people, so the points are not joined."
    svg = Svg("Diversity over time, with training",
              f"Weekly training minutes as grey bars; Shannon diversity of each microbiome sample as points. "
              f"{desc}.{whose}", right=56, bottom=48)
    top_min = _nice_max(max((m for _, m in weekly_minutes), default=60.0))
    svg.y_axis(top_min, "training minutes / week")
    bar_w = svg.plot_w * 7 / max((end - start).days, 1)
    for week_start, minutes in weekly_minutes:
        svg.rect(svg.x(_date_frac(week_start, start, end)), svg.y(minutes / top_min), max(bar_w - 1, 1),
                 minutes / top_min * svg.plot_h, "#d9d9d9", f"week of {week_start}: {minutes:.0f} min")
    _month_ticks(svg, start, end)
    top_h = _nice_max(max((s["shannon"] for s in samples), default=1.0))
    for i in range(5):
        svg.text(svg.left + svg.plot_w + 6, svg.y(i / 4) + 4, f"{top_h * i / 4:.1f}", size=10,
                 colour=PALETTE["blue"])
    pts = [(svg.x(_date_frac(s["day"], start, end)), svg.y(s["shannon"] / top_h)) for s in samples]
    for (x1, y1), (x2, y2) in zip(pts, pts[1:], strict=False) if one_person else ():
        svg.line(x1, y1, x2, y2, PALETTE["blue"], 2)
    for (x, y), s in zip(pts, samples, strict=True):
        svg.circle(x, y, 5, PALETTE["blue"], f"{s['day']}: Shannon {s['shannon']:.2f} bits")
    svg.legend([("training minutes", "#d9d9d9"), ("Shannon diversity (bits, right axis)", PALETTE["blue"])])
    return svg.render()


def taxa_range_chart(rows: Sequence[dict]) -> str:
    """Each key taxon: the reference interquartile range (bar) and the person's value (diamond), in %.

    ``rows``: dicts with ``label``, ``value`` (0-1), ``iqr`` ((low, high) 0-1 or None) and ``percentile``.
    """
    desc = "; ".join(
        f"{r['label']} {100 * r['value']:.1f}%" + (f" (percentile {r['percentile']:.0f})" if r["percentile"] is not None
                                                   else "") for r in rows)
    height = 30 + 26 * len(rows) + 40
    svg = Svg("Key taxa against the reference range",
              f"Relative abundance of each key taxon in the latest sample against the reference cohort's middle half "
              f"(25th-75th percentile). {desc}.", height=height, left=150, bottom=40)
    top = _nice_max(max([100 * r["value"] for r in rows] + [100 * r["iqr"][1] for r in rows if r["iqr"]] + [1.0]))
    for i in range(5):
        x = svg.x(i / 4)
        svg.line(x, svg.top, x, svg.top + svg.plot_h, "#e3e3e3")
        svg.text(x, svg.top + svg.plot_h + 14, f"{top * i / 4:g}%", "middle", 10)
    row_h = svg.plot_h / max(len(rows), 1)
    for i, r in enumerate(rows):
        cy = svg.top + (i + 0.5) * row_h
        svg.text(svg.left - 8, cy + 4, r["label"], "end", 11)
        if r["iqr"]:
            lo, hi = (100 * v / top for v in r["iqr"])
            svg.rect(svg.x(lo), cy - 6, svg.x(hi) - svg.x(lo), 12, PALETTE["sky"],
                     f"reference middle half {100 * r['iqr'][0]:.1f}-{100 * r['iqr'][1]:.1f}%")
        x = svg.x(min(100 * r["value"] / top, 1.0))
        svg.parts.append(f'<path d="M{x:.1f} {cy - 7:.1f} L{x + 6:.1f} {cy:.1f} L{x:.1f} {cy + 7:.1f} '
                         f'L{x - 6:.1f} {cy:.1f} Z" fill="{PALETTE["vermillion"]}"><title>{escape(r["label"])}: '
                         f'{100 * r["value"]:.2f}%</title></path>')
    svg.legend([("reference 25th-75th percentile", PALETTE["sky"]), ("your latest sample", PALETTE["vermillion"])])
    return svg.render()


#: Series colours of the phylum bars, in order of the phyla's total share over the samples; Okabe-Ito.
PHYLUM_COLOURS = ("blue", "orange", "sky", "green", "vermillion", "purple", "yellow", "black")
#: Colours whose segments take white labels (dark fills); the others take black.
_DARK = {PALETTE["blue"], PALETTE["vermillion"], PALETTE["black"], PALETTE["green"]}
UNCLASSIFIED_LABEL = "not classified at phylum"
UNCLASSIFIED_COLOUR = "#d9d9d9"


def share_text(share: float | None) -> str:
    """A share (0-1) as a percentage with one decimal; a small non-zero share as "<0.1%", none as "—"."""
    if share is None or share != share:
        return "—"
    return "<0.1%" if 0 < share < 0.0005 else f"{100 * share:.1f}%"


def _shown(name: str) -> str:
    """A phylum summary's name as shown: its pooled "other" entry reads "other phyla"."""
    return "other phyla" if name == OTHER else name


def _wrapped(labels: Sequence[str], width: float) -> list[tuple[float, int]]:
    """Where legend items go, ``(x offset, line)``, wrapping onto new lines within ``width`` (an item is a 10 px
    swatch, a gap and its label at about 6.2 px a character, size 10)."""
    places, x, line = [], 0.0, 0
    for label in labels:
        step = 18 + 6.2 * len(label)
        if x and x + step > width:
            x, line = 0.0, line + 1
        places.append((x, line))
        x += step
    return places


def phylum_chart(samples: Sequence[dict]) -> str:
    """One 100% bar per sample, split into its phyla's shares, then "other" (grey) and the unclassified share.

    ``samples``: dicts with ``label``, ``phyla`` (list of ``{"name", "share"}``, "other" last when present) and
    ``unclassified_share`` (0-1 or None). Each phylum keeps one colour over all the bars, given in order of its total
    share over the samples; beyond the eight Okabe-Ito colours they repeat, so every segment wide enough is also
    labelled with its name or share, and the alt text and the table beside the chart list every share.
    """
    totals: dict[str, float] = {}
    for s in samples:
        for p in s["phyla"]:
            if p["name"] != OTHER:
                totals[p["name"]] = totals.get(p["name"], 0.0) + p["share"]
    order = sorted(totals, key=lambda name: (-totals[name], name))
    colour = {name: PALETTE[PHYLUM_COLOURS[i % len(PHYLUM_COLOURS)]] for i, name in enumerate(order)}
    colour[OTHER] = PALETTE["grey"]
    legend = [(name, colour[name]) for name in order]
    if any(p["name"] == OTHER for s in samples for p in s["phyla"]):
        legend.append((_shown(OTHER), colour[OTHER]))
    if any(s["unclassified_share"] for s in samples):
        legend.append((UNCLASSIFIED_LABEL, UNCLASSIFIED_COLOUR))
    margin, bar_h, row_h = 16, 22, 32
    places = _wrapped([label for label, _ in legend], 720 - 2 * margin)
    legend_h = 16 * (places[-1][1] + 1 if places else 0)
    desc = " ".join(
        f"{s['label']}: " + ", ".join(f"{_shown(p['name'])} {share_text(p['share'])}" for p in s["phyla"])
        + f"; {UNCLASSIFIED_LABEL} {share_text(s['unclassified_share'])}." for s in samples)
    svg = Svg("Share of reads in each phylum, per sample",
              f"One bar per sample, its reads split by phylum, largest first. {desc}", left=170, right=margin,
              height=margin + row_h * len(samples) + 32 + legend_h, bottom=32 + legend_h)
    for i in range(5):
        gx = svg.x(i / 4)
        svg.line(gx, svg.top, gx, svg.top + svg.plot_h, "#e3e3e3")
        svg.text(gx, svg.top + svg.plot_h + 14, f"{25 * i}%", "middle", 10)
    for row, s in enumerate(samples):
        y = svg.top + row * row_h + (row_h - bar_h) / 2
        svg.text(svg.left - 8, y + bar_h / 2 + 4, s["label"] if len(s["label"]) <= 26 else s["label"][:25] + "…",
                 "end", 11)
        segments = [(_shown(p["name"]), p["share"], colour[p["name"]]) for p in s["phyla"]]
        if s["unclassified_share"]:
            segments.append((UNCLASSIFIED_LABEL, s["unclassified_share"], UNCLASSIFIED_COLOUR))
        start = 0.0
        for name, share, fill in segments:
            w = share * svg.plot_w
            svg.rect(svg.x(start), y, w, bar_h, fill, f"{s['label']}: {name} {share_text(share)}")
            text = next((t for t in (f"{name} {share_text(share)}", share_text(share)) if 5.6 * len(t) + 6 <= w), "")
            if text:
                svg.text(svg.x(start) + w / 2, y + bar_h / 2 + 4, text, "middle", 10,
                         "#ffffff" if fill in _DARK else PALETTE["black"])
            start += share
    legend_top = svg.top + svg.plot_h + 24
    for (label, fill), (x, line) in zip(legend, places, strict=True):
        svg.rect(margin + x, legend_top + 16 * line, 10, 10, fill)
        svg.text(margin + x + 14, legend_top + 16 * line + 9, label, size=10)
    return svg.render()
