"""Outputs of ``gutstride cohort`` for people: a methods paragraph and a self-contained summary page.

The page has no scripts and no external resources: inline CSS, the PERMANOVA table, a PCoA plot coloured by the
exposure, and inline SVG charts of alpha diversity against the exposure (a strip chart per group for a categorical
exposure, a scatter plot for a numeric one), drawn with :class:`gutstride.report.charts.Svg`.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np

from gutstride.report.charts import PALETTE, Svg, _nice_max

if TYPE_CHECKING:
    import pandas as pd

    from gutstride.analysis.microbiome.ordination import Ordination
    from gutstride.services.cohort import CohortWriters

#: Alpha metrics drawn on the summary page.
CHART_METRICS = ("shannon", "observed_features")


def _fmt(value: float | None, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "n/a"
    return f"{value:.{digits}g}"


def methods_paragraph(result: dict[str, Any], run: dict[str, Any]) -> str:
    """A methods paragraph (Markdown) with the versions and parameters of the run, ready to paste."""
    v = run["versions"]
    options = run["options"]
    model = f"`{options['formula']}`" if options["formula"] else f"the metadata column `{options['column']}`"
    rarefy = (f"Samples were rarefied to {options['rarefy']} reads (seed {options['seed']}). "
              if options["rarefy"] else "Samples were not rarefied. ")
    strata = f", with permutations restricted within levels of `{options['strata']}`" if options["strata"] else ""
    kind = "sequential (type I)" if result["by"] == "terms" else "marginal"
    terms = "; ".join(
        f"{row['term']}: pseudo-F = {_fmt(row['f'])}, R² = {_fmt(row['r2'], 3)}, p = {_fmt(row['p_value'], 3)}"
        for row in result["terms"]
    )
    skipped = [row["term"] for row in result.get("not_tested", [])]
    if skipped:
        terms += f" ({', '.join(skipped)}: not tested marginally, being contained in an interaction)"
    workers = f"{run['workers'] or 'no'} Dask workers (dask {v['dask']}, distributed {v['distributed']})"
    if run["distance_store"] is None:
        distances = (
            f"Aitchison distances (Euclidean distances between robust centred log-ratio transforms, no pseudo-count) "
            f"between the {run['samples_analysed']} samples with metadata ({run['samples_excluded']} excluded; see "
            f"excluded.tsv) were not computed: PERMANOVA used the Euclidean identity G = Xc Xc' (Gower 1966), "
            f"summing the centred log-ratio coordinates in blocks of rows on {workers}. ")
    else:
        distances = (
            f"Between-sample {options['metric']} distances were computed for the {run['samples_analysed']} samples "
            f"with metadata ({run['samples_excluded']} excluded; see excluded.tsv), in {run['tiles']} tiles on "
            f"{workers}, and stored as {run['dtype']} in Zarr {v['zarr']}. ")
    pairwise = ""
    if result.get("pairwise"):
        pairwise = (f"Each pair of groups was tested by its own PERMANOVA on the pair's samples, with "
                    f"{options['permutations']} permutations, and the p-values of the "
                    f"{len(result['pairwise'])} pairs were adjusted by Benjamini and Hochberg's (1995) false "
                    f"discovery rate (pairwise.tsv, as QIIME 2's beta-group-significance). ")
    return (
        "## Methods\n\n"
        f"{rarefy}Alpha diversity (observed features, Shannon entropy in bits, Simpson, Pielou's evenness, Chao1) "
        f"was computed for {run['samples_in_table']} samples with gutstride {v['gutstride']}. "
        f"{distances}"
        f"The association of the microbiome composition with {model} was tested by PERMANOVA (Anderson 2001) with "
        f"{kind} sums of squares after McArdle and Anderson (2001), as in vegan's adonis2, using "
        f"{options['permutations']} permutations (seed {options['seed']}){strata}: {terms}. {pairwise}"
        f"Software: Python {v['python']}, numpy {v['numpy']}, scipy {v['scipy']}, scikit-bio {v['scikit-bio']}.\n"
    )


def permanova_html(result: dict[str, Any]) -> str:
    """The PERMANOVA table as HTML."""
    rows = "".join(
        f"<tr><td>{escape(str(r['term']))}</td><td>{r['df']}</td><td>{_fmt(r['sum_of_squares'])}</td>"
        f"<td>{_fmt(r['r2'], 3)}</td><td>{_fmt(r['f'])}</td><td>{_fmt(r['p_value'], 3)}</td></tr>"
        for r in result["terms"]
    )
    for name in ("residual", "total"):
        r = result[name]
        rows += (f"<tr><td>{name.title()}</td><td>{r['df']}</td><td>{_fmt(r['sum_of_squares'])}</td>"
                 f"<td>{_fmt(r['r2'], 3)}</td><td></td><td></td></tr>")
    return ("<table><thead><tr><th>term</th><th>df</th><th>sum of squares</th><th>R²</th><th>pseudo-F</th>"
            f"<th>p</th></tr></thead><tbody>{rows}</tbody></table>")


def pairwise_html(rows: list[dict[str, Any]]) -> str:
    """The pairwise PERMANOVA table (``pairwise.tsv``) as HTML."""
    body = "".join(
        f"<tr><td>{escape(str(r['group1']))}</td><td>{escape(str(r['group2']))}</td><td>{r['sample_size']}</td>"
        f"<td>{_fmt(r['pseudo_f'])}</td><td>{_fmt(r['p_value'], 3)}</td><td>{_fmt(r['q_value'], 3)}</td></tr>"
        for r in rows
    )
    return ('<table class="pairs"><thead><tr><th>group 1</th><th>group 2</th><th>samples</th><th>pseudo-F</th>'
            "<th>p</th>"
            f"<th>q (Benjamini-Hochberg)</th></tr></thead><tbody>{body}</tbody></table>")


def alpha_chart(metric: str, values: dict[str, float], exposure: str, groups: dict[str, str], numeric: bool) -> str:
    """Strip chart of ``metric`` per exposure group, or a scatter plot against a numeric exposure."""
    samples = [s for s in values if np.isfinite(values[s]) and s in groups]
    y_values = np.array([values[s] for s in samples])
    top = _nice_max(float(y_values.max())) if y_values.size else 1.0
    colour = PALETTE["blue"]
    if numeric:
        x_values = np.array([float(groups[s]) for s in samples])
        lo, hi = (float(x_values.min()), float(x_values.max())) if x_values.size else (0.0, 1.0)
        span = hi - lo or 1.0
        svg = Svg(f"{metric} against {exposure}",
                  f"Scatter plot of {metric} against {exposure} for {len(samples)} samples; {exposure} from "
                  f"{lo:g} to {hi:g}.")
        svg.y_axis(top, metric)
        for s, x, y in zip(samples, x_values, y_values, strict=True):
            svg.circle(svg.x((x - lo) / span), svg.y(y / top), 2.5, colour, tip=f"{s}: {y:.3g}")
        svg.text(svg.x(0), svg.height - 8, f"{lo:g}", size=10)
        svg.text(svg.x(1), svg.height - 8, f"{hi:g}", anchor="end", size=10)
        svg.text(svg.x(0.5), svg.height - 8, exposure, anchor="middle", size=10)
        return svg.render()
    levels = sorted({groups[s] for s in samples})
    medians = {lv: float(np.median([values[s] for s in samples if groups[s] == lv])) for lv in levels}
    svg = Svg(f"{metric} by {exposure}",
              f"{metric} of {len(samples)} samples by {exposure}; medians: "
              + ", ".join(f"{lv} {medians[lv]:.3g}" for lv in levels) + ".")
    svg.bottom += 12  # room for level names on two lines
    svg.height += 12
    svg.y_axis(top, metric)
    rng = np.random.default_rng(0)  # horizontal jitter only, the same on every run
    width = 1.0 / max(1, len(levels))
    for k, level in enumerate(levels):
        centre = (k + 0.5) * width
        for s in samples:
            if groups[s] == level:
                x = centre + (rng.random() - 0.5) * width * 0.6
                svg.circle(svg.x(x), svg.y(values[s] / top), 2.2, colour, tip=f"{s}: {values[s]:.3g}")
        svg.line(svg.x(centre - width * 0.35), svg.y(medians[level] / top), svg.x(centre + width * 0.35),
                 svg.y(medians[level] / top), stroke=PALETTE["vermillion"], width=2)
        for line, text in enumerate(_label_lines(level, svg.plot_w * width)):
            svg.text(svg.x(centre), svg.y(0) + 14 + 12 * line, text, anchor="middle", size=10)
    return svg.render()


def _label_lines(label: str, width_px: float) -> list[str]:
    """A level's name on at most two lines that fit ``width_px`` (about 5.8 px a character at size 10); a longer
    name ends in an ellipsis (the full name is in the chart's description)."""
    import textwrap

    chars = max(6, int(width_px / 5.8))
    lines = textwrap.wrap(label, chars) or [""]
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), chars, placeholder="…")]
    return lines


#: Colours of categorical levels, in order (Okabe-Ito), then grey for the rest.
LEVEL_COLOURS = ("blue", "orange", "green", "vermillion", "purple", "sky", "yellow", "black")


def pcoa_chart(ordination: Ordination, exposure: str, groups: dict[str, str], numeric: bool) -> str:
    """PC1 against PC2, each sample coloured by the exposure (levels, or a blue-to-orange scale for numbers)."""
    coords = ordination.coordinates
    if coords.shape[1] < 2:
        return "<p>Fewer than two principal coordinates.</p>"
    ids = ordination.sample_ids
    x, y = coords[:, 0], coords[:, 1]
    span_x, span_y = (float(np.ptp(x)) or 1.0), (float(np.ptp(y)) or 1.0)
    pc = [f"PC{k + 1} ({ordination.proportion_explained[k]:.1%})" for k in range(2)]
    svg = Svg(f"PCoA coloured by {exposure}", f"Principal coordinates 1 and 2 of {len(ids)} samples ({pc[0]}, "
              f"{pc[1]} of the variation), coloured by {exposure}.", height=360)
    if numeric:
        values = np.array([float(groups[s]) for s in ids])
        lo, hi = float(values.min()), float(values.max())
        blue, orange = np.array([0x00, 0x72, 0xB2]), np.array([0xE6, 0x9F, 0x00])

        def colour(sample: str) -> str:
            t = (float(groups[sample]) - lo) / ((hi - lo) or 1.0)
            r, g, b = (blue + t * (orange - blue)).round().astype(int)
            return f"#{r:02x}{g:02x}{b:02x}"

        legend = [(f"{exposure} {lo:g}", PALETTE["blue"]), (f"{hi:g}", PALETTE["orange"])]
    else:
        levels = sorted(set(groups[s] for s in ids))
        palette = {lv: PALETTE[LEVEL_COLOURS[k]] if k < len(LEVEL_COLOURS) else PALETTE["grey"]
                   for k, lv in enumerate(levels)}

        def colour(sample: str) -> str:
            return palette[groups[sample]]

        legend = [(lv[:60], palette[lv]) for lv in levels[:8]]
    svg.make_room_for_legend(legend)
    for k, sample in enumerate(ids):
        svg.circle(svg.x((x[k] - x.min()) / span_x), svg.y((y[k] - y.min()) / span_y), 2.5, colour(sample),
                   tip=f"{sample}: {groups[sample]}")
    svg.text(svg.x(0.5), svg.y(0) + 18, pc[0], anchor="middle", size=10)
    svg.text(12, svg.y(0.5), pc[1], size=10)
    svg.legend(legend)
    return svg.render()


def summary_page(result: dict[str, Any], run: dict[str, Any], alpha: pd.DataFrame, exposure: str,
                 groups: dict[str, str], numeric: bool, ordination: Ordination | None = None) -> str:
    """The self-contained summary page of a cohort run."""
    charts = "".join(
        f"<h3>{escape(m)}</h3>{alpha_chart(m, alpha[m].to_dict(), exposure, groups, numeric)}"
        for m in CHART_METRICS if m in alpha.columns
    )
    options = run["options"]
    model = options["formula"] or options["column"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gutstride cohort: {escape(str(model))}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}}
td:first-child,th:first-child,.pairs td:nth-child(2),.pairs th:nth-child(2){{text-align:left}}
svg{{max-width:100%;height:auto}}</style></head><body>
<h1>Cohort summary</h1>
<p>{run['samples_analysed']} samples analysed ({run['samples_excluded']} excluded: see excluded.tsv),
{escape(options['metric'])} distances (statistics from {escape(run['statistics_from'])}), {options['permutations']}
permutations (seed {options['seed']}).
Association is not causation: these are observational comparisons unless the study randomised the exposure.</p>
<h2>PERMANOVA: {escape(str(model))}</h2>
{permanova_html(result)}
{"<h2>Pairwise PERMANOVA</h2>" + pairwise_html(result["pairwise"]) if result.get("pairwise") else ""}
<h2>PCoA ({escape(options['metric'])})</h2>
{pcoa_chart(ordination, exposure, groups, numeric) if ordination is not None else ""}
<h2>Alpha diversity by {escape(exposure)}</h2>
{charts}
</body></html>
"""


def _cohort_writers() -> CohortWriters:
    from gutstride.report.ordination_export import write_ordination
    from gutstride.services.cohort import CohortWriters

    return CohortWriters(write_ordination=write_ordination, methods_paragraph=methods_paragraph,
                         summary_page=summary_page)


#: The writers ``gutstride cohort`` gives :func:`gutstride.services.cohort.run_cohort`.
COHORT_WRITERS = _cohort_writers()
