"""One person's microbiome over time, and the findings the evidence engine reads.

Change between consecutive samples is the genus-level Bray-Curtis distance

.. math:: BC(u, v) = 1 - \\frac{2 \\sum_g \\min(u_g, v_g)}{\\sum_g u_g + \\sum_g v_g}

on relative abundances. Whether a change is large can only be judged against distances between repeated samples
of the same person: a reference cohort with repeated samples per person (``within_person_braycurtis``). Distances
between different people say nothing about how much one person's microbiome moves, so without a within-person
reference the change is reported and "cannot be judged". Two samples that belong to different people (found in the
reference under different hosts, as the demo's American Gut samples are) are never presented as one person's
change.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from gutstride.analysis.microbiome.reference import (
    ReferenceCohort,
    genus_distances,
    sample_fingerprint,
    sample_percentiles,
)
from gutstride.analysis.microbiome.taxa import GREENGENES_MISSING, group_abundances
from gutstride.model.feature_table import FeatureTable
from gutstride.model.finding import Finding

LOW_PERCENTILE = 25.0  # below this, a value is reported as "low for the reference cohort"
LARGE_CHANGE_PERCENTILE = 75.0
NO_WITHIN_PERSON = "no within-person reference: this change cannot be judged"


def sample_hosts(table: FeatureTable, reference: ReferenceCohort | None) -> list[str | None]:
    """The reference host of each sample that is one of the reference's members (else ``None``)."""
    if reference is None:
        return [None] * len(table.sample_ids)
    found = [reference.member(sample_fingerprint(table, i)) for i in range(len(table.sample_ids))]
    return [m.host if m else None for m in found]


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
    ``top_changes`` (the ``n_taxa`` genera whose share moved most: genus, before, after), ``compared_with``: the
    within-person distribution of the reference, its size and this distance's percentile in it (``None`` without
    one), ``judged`` and ``judgement`` (why it cannot be judged: :data:`NO_WITHIN_PERSON`, or samples of different
    people), and ``different_people`` when the two samples are known to come from different hosts.
    """
    dated = [i for i in range(len(table.sample_ids)) if dates[i] is not None]
    order = sorted(dated, key=lambda i: dates[i] or date.min)
    if len(order) < 2:
        return []
    dm = genus_distances(table)
    hosts = sample_hosts(table, reference)
    out = []
    for a, b in zip(order, order[1:], strict=False):
        before, after = _genus_shares(table, a), _genus_shares(table, b)
        moved = sorted(set(before) | set(after), key=lambda g: -abs(after.get(g, 0.0) - before.get(g, 0.0)))
        compared: dict[str, Any] | None = None
        different = hosts[a] is not None and hosts[b] is not None and hosts[a] != hosts[b]
        ref = reference.metrics.get("within_person_braycurtis") if reference is not None else None
        if different:
            judgement = (f"these samples come from two different people (hosts {hosts[a]} and {hosts[b]} of the "
                         "reference): this is not a change in one person")
        elif ref is None:
            judgement = NO_WITHIN_PERSON
        else:
            assert reference is not None
            judgement = None
            compared = {
                "distribution": "within_person_braycurtis", "n_pairs": ref.n,
                "percentile": ref.percentile(float(dm[a, b])),
                "rests_on": f"{ref.n} pairs of samples from the same person in {reference.name}",
            }
        out.append({
            "from": table.sample_ids[a], "to": table.sample_ids[b],
            "from_date": dates[a], "to_date": dates[b], "braycurtis": float(dm[a, b]),
            "top_changes": [{"genus": g, "before": before.get(g, 0.0), "after": after.get(g, 0.0)}
                            for g in moved[:n_taxa]],
            "compared_with": compared, "judged": compared is not None, "judgement": judgement,
            "different_people": different,
        })
    return out


def microbiome_findings(table: FeatureTable, dates: list[date | None], reference: ReferenceCohort | None,
                        formats: list[str] | None = None,
                        placements: list[dict[str, Any]] | None = None,
                        changes: list[dict[str, Any]] | None = None) -> list[Finding]:
    """Findings on the latest sample (diversity and butyrate producers vs the reference) and on change over time.

    Ids: ``microbiome.diversity_percentile`` and ``microbiome.butyrate_producers`` (direction ``below`` under the
    25th percentile of the reference, else ``within``; the diversity percentile is the median over repeated
    rarefactions, with their range as its interval), ``microbiome.change_between_samples`` (``above`` past the
    75th percentile of a within-person reference). Without a reference, with a sample from another taxonomy than
    the reference's, with too few samples, or without a within-person reference for change, the direction is
    ``not_enough_data`` and ``detail`` says why (``judged: False``, ``why``). ``placements`` are
    ``sample_percentiles(table, reference, formats)`` when the caller has them already (they take a few
    rarefactions to compute), and ``changes`` likewise :func:`sample_changes` ``(table, dates, reference)``.
    """
    n = len(table.sample_ids)
    if n == 0:
        return []
    latest = max(range(n), key=lambda i: (dates[i] is not None, dates[i] or date.min))
    when = dates[latest]
    findings: list[Finding] = []
    ref_name = reference.name if reference is not None else "no reference"
    if reference is not None and placements is None:
        placements = sample_percentiles(table, reference, formats)
    placed = placements[latest] if reference is not None and placements is not None else None
    guild = float(group_abundances(table)["butyrate_producers"][latest])
    under_count = (f"under-counted on Greengenes data: Greengenes 13_8 has no {', '.join(GREENGENES_MISSING)}"
                   if "Greengenes" in (placed["taxonomy"] if placed else "", reference.taxonomy if reference else "")
                   else None)
    for fid, label, claim in (
        ("microbiome.diversity_percentile", "Shannon diversity", "microbiome-reference-ranges"),
        ("microbiome.butyrate_producers", "Butyrate producers", "butyrate-producers-guild"),
    ):
        shannon = fid.endswith("diversity_percentile")
        p = (placed["shannon_percentile"] if shannon else placed["percentiles"].get("butyrate_producers")) \
            if placed else None
        value = placed["shannon"] if shannon and placed else guild
        if p is None or np.isnan(p) or np.isnan(value):
            why = (placed["note"] if placed and placed["note"] else
                   "no reference to compare with" if reference is None else "not enough reads to compare")
            findings.append(Finding(fid, "microbiome", f"{label}: no percentile ({why})",
                                    direction="not_enough_data", n=1, period_start=when, period_end=when,
                                    claim_id=claim, detail={"judged": False, "why": why}))
            continue
        assert placed is not None
        shown = f"{value:.2f} bits" if shannon else f"{100 * value:.1f}% of reads"
        low_high = placed["shannon_percentile_range"] if shannon else None
        spread = (f" (range {low_high[0]:.0f}-{low_high[1]:.0f} over {placed['n_rarefactions']} rarefactions)"
                  if low_high else "")
        excluded = "; this sample is one of the reference's and was left out of it" if placed["in_reference"] else ""
        caveat = f"; {under_count}" if under_count and not shannon else ""
        findings.append(Finding(
            fid, "microbiome",
            f"{label} {shown} in the sample of {when or 'unknown date'}: percentile {p:.0f}{spread} of "
            f"{ref_name}{excluded}{caveat}",
            value=p, threshold=LOW_PERCENTILE, unit="percentile", interval=low_high,
            direction="below" if p < LOW_PERCENTILE else "within", n=1, period_start=when, period_end=when,
            claim_id=claim, detail={"raw_value": value, "reference": ref_name, "in_reference": placed["in_reference"],
                                    "under_count": None if shannon else under_count},
        ))
    if changes is None:
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
    elif changes:
        last = changes[-1]
        findings.append(Finding(
            "microbiome.change_between_samples", "microbiome",
            f"Genus-level Bray-Curtis change {last['braycurtis']:.2f} from {last['from_date']} to {last['to_date']}: "
            f"{last['judgement']}",
            direction="not_enough_data", n=n, period_start=last["from_date"], period_end=last["to_date"],
            claim_id="microbiome-sample-variability", detail={"judged": False, "why": last["judgement"]}))
    else:
        findings.append(Finding(
            "microbiome.change_between_samples", "microbiome",
            "Change over time: not enough data yet (needs two dated samples)",
            direction="not_enough_data", n=n, claim_id="microbiome-sample-variability"))
    return findings


def key_taxa_table(table: FeatureTable, reference: ReferenceCohort | None,
                   formats: list[str] | None = None,
                   placements: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """For each sample and key taxon/guild: relative abundance, and the reference's percentile and IQR.

    The percentile is left out (``None``) for a sample that cannot be compared with the reference (another
    taxonomy, a shotgun profile), and a sample that is one of the reference's members is compared with the
    reference without it (:func:`~gutstride.analysis.microbiome.reference.sample_percentiles`, whose result
    ``placements`` the caller may pass when it has it: only its ``comparable`` and ``in_reference`` are read).
    """
    shares = group_abundances(table)
    fair: list[ReferenceCohort | None] = [None] * len(table.sample_ids)
    if reference is not None:
        if placements is None:
            placements = sample_percentiles(table, reference, formats, n_rarefactions=1)
        for i, placed in enumerate(placements):
            if placed["comparable"]:
                fair[i] = reference.without(sample_fingerprint(table, i)) if placed["in_reference"] else reference
    rows = []
    for key, values in shares.items():
        for i, sid in enumerate(table.sample_ids):
            compared = fair[i]
            ref = compared.metrics.get(key) if compared is not None else None
            rows.append({
                "sample": sid, "taxon": key, "relative_abundance": float(values[i]),
                "percentile": ref.percentile(float(values[i])) if ref is not None else None,
                "reference_iqr": ref.range() if ref is not None else None,
            })
    return rows
