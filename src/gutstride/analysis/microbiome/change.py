"""One person's microbiome over time, and the findings the evidence engine reads.

Change between consecutive samples is the genus-level Bray-Curtis distance

.. math:: BC(u, v) = 1 - \\frac{2 \\sum_g \\min(u_g, v_g)}{\\sum_g u_g + \\sum_g v_g}

on relative abundances. Whether a change is large is judged against a reference distribution of distances:
between samples of the same person when the reference cohort has repeated samples, otherwise between different
people; the result always says which one it rests on.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from gutstride.analysis.microbiome.reference import ReferenceCohort, genus_distances, percentiles, sample_metrics
from gutstride.analysis.microbiome.taxa import group_abundances
from gutstride.model.feature_table import FeatureTable
from gutstride.model.finding import Finding

LOW_PERCENTILE = 25.0  # below this, a value is reported as "low for the reference cohort"
LARGE_CHANGE_PERCENTILE = 75.0


def _genus_shares(table: FeatureTable, i: int) -> dict[str, float]:
    from gutstride.analysis.microbiome.taxa import top_genera

    return dict(top_genera(table, i, n=10_000))


def sample_changes(table: FeatureTable, dates: list[date | None],
                   reference: ReferenceCohort | None = None, n_taxa: int = 5) -> list[dict[str, Any]]:
    """Change between each pair of consecutive dated samples (in date order).

    Only dated samples form a series: a sample without a date cannot be placed in time, so with fewer than two
    dated samples there is no change to report (a table of undated samples, e.g. a cohort, is never one
    person's change over time).

    Returns one dict per pair: ``from``/``to`` (sample ids), ``from_date``/``to_date``, ``braycurtis`` (genus level),
    ``top_changes`` (the ``n_taxa`` genera whose share moved most: genus, before, after), and ``compared_with``:
    the reference distribution used, its size and this distance's percentile in it (None without a reference).
    """
    dated = [i for i in range(len(table.sample_ids)) if dates[i] is not None]
    order = sorted(dated, key=lambda i: dates[i] or date.min)
    if len(order) < 2:
        return []
    dm = genus_distances(table)
    out = []
    for a, b in zip(order, order[1:], strict=False):
        before, after = _genus_shares(table, a), _genus_shares(table, b)
        moved = sorted(set(before) | set(after), key=lambda g: -abs(after.get(g, 0.0) - before.get(g, 0.0)))
        compared: dict[str, Any] | None = None
        if reference is not None:
            key = ("within_person_braycurtis" if "within_person_braycurtis" in reference.metrics
                   else "between_person_braycurtis")
            ref = reference.metrics.get(key)
            if ref is not None:
                compared = {
                    "distribution": key, "n_pairs": ref.n, "percentile": ref.percentile(float(dm[a, b])),
                    "rests_on": (
                        f"{ref.n} pairs of samples from the same person in {reference.name}"
                        if key.startswith("within") else
                        f"{ref.n} pairs of samples from different people in {reference.name}; this reference has "
                        "no repeated samples of one person, so typical within-person change is not known here"
                    ),
                }
        out.append({
            "from": table.sample_ids[a], "to": table.sample_ids[b],
            "from_date": dates[a], "to_date": dates[b], "braycurtis": float(dm[a, b]),
            "top_changes": [{"genus": g, "before": before.get(g, 0.0), "after": after.get(g, 0.0)}
                            for g in moved[:n_taxa]],
            "compared_with": compared,
        })
    return out


def microbiome_findings(table: FeatureTable, dates: list[date | None],
                        reference: ReferenceCohort | None) -> list[Finding]:
    """Findings on the latest sample (diversity and butyrate producers vs the reference) and on change over time.

    Ids: ``microbiome.diversity_percentile`` and ``microbiome.butyrate_producers`` (direction ``below`` under the
    25th percentile of the reference, else ``within``), ``microbiome.change_between_samples`` (``above`` past the
    75th percentile of the reference distances). Without a reference or with too few samples the direction is
    ``not_enough_data``.
    """
    n = len(table.sample_ids)
    if n == 0:
        return []
    latest = max(range(n), key=lambda i: (dates[i] is not None, dates[i] or date.min))
    when = dates[latest]
    findings: list[Finding] = []
    values = {k: float(v[latest]) for k, v in sample_metrics(table).items()}
    pct = percentiles(values, reference) if reference is not None else {}
    ref_name = reference.name if reference is not None else "no reference"
    for fid, key, label, claim in (
        ("microbiome.diversity_percentile", "shannon", "Shannon diversity", "microbiome-reference-ranges"),
        ("microbiome.butyrate_producers", "butyrate_producers", "Butyrate producers", "butyrate-producers-guild"),
    ):
        p = pct.get(key, float("nan"))
        value = values.get(key, float("nan"))
        if np.isnan(p) or np.isnan(value):
            findings.append(Finding(fid, "microbiome", f"{label}: not enough data yet to compare with a reference",
                                    direction="not_enough_data", n=1, period_start=when, period_end=when,
                                    claim_id=claim))
            continue
        shown = f"{value:.2f} bits" if key == "shannon" else f"{100 * value:.1f}% of reads"
        findings.append(Finding(
            fid, "microbiome",
            f"{label} {shown} in the sample of {when or 'unknown date'}: percentile {p:.0f} of {ref_name}",
            value=p, threshold=LOW_PERCENTILE, unit="percentile",
            direction="below" if p < LOW_PERCENTILE else "within", n=1, period_start=when, period_end=when,
            claim_id=claim, detail={"raw_value": value, "reference": ref_name},
        ))
    changes = sample_changes(table, dates, reference)
    if changes and changes[-1]["compared_with"] is not None:
        last = changes[-1]
        p = last["compared_with"]["percentile"]
        findings.append(Finding(
            "microbiome.change_between_samples", "microbiome",
            f"Genus-level Bray-Curtis change {last['braycurtis']:.2f} from {last['from_date']} to {last['to_date']}: "
            f"percentile {p:.0f} of {last['compared_with']['rests_on']}",
            value=p, threshold=LARGE_CHANGE_PERCENTILE, unit="percentile",
            direction="above" if p > LARGE_CHANGE_PERCENTILE else "within", n=n,
            period_start=last["from_date"], period_end=last["to_date"], claim_id="microbiome-reference-ranges",
            detail={"changes": changes},
        ))
    else:
        findings.append(Finding(
            "microbiome.change_between_samples", "microbiome",
            "Change over time: not enough data yet (needs two dated samples and a reference)",
            direction="not_enough_data", n=n, claim_id="microbiome-reference-ranges"))
    return findings


def key_taxa_table(table: FeatureTable, reference: ReferenceCohort | None) -> list[dict[str, Any]]:
    """For each sample and key taxon/guild: relative abundance, and the reference's percentile and IQR."""
    shares = group_abundances(table)
    rows = []
    for key, values in shares.items():
        ref = reference.metrics.get(key) if reference is not None else None
        for i, sid in enumerate(table.sample_ids):
            rows.append({
                "sample": sid, "taxon": key, "relative_abundance": float(values[i]),
                "percentile": ref.percentile(float(values[i])) if ref is not None else None,
                "reference_iqr": ref.range() if ref is not None else None,
            })
    return rows
