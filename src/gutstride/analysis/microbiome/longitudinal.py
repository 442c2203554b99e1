"""Longitudinal helpers with q2-longitudinal's definitions: change within each subject over time.

For subject ``s`` with samples at times ``t_1 < t_2 < ... < t_m`` (values ``y``, distances ``d``):

- first differences: ``y(t_k) - y(t_{k-1})`` for ``k >= 2``, or ``y(t_k) - y(baseline)`` with a baseline time
  (q2-longitudinal ``first-differences``);
- first distances: ``d(t_k, t_{k-1})``, or ``d(t_k, baseline)`` (``first-distances``);
- distance to baseline: ``d(t_k, t_b)`` with ``t_b`` the given baseline time or, by default, the subject's first
  time;
- paired before/after test: the Wilcoxon signed-rank test of ``y(after) - y(before)`` over the subjects sampled at
  both times (scipy's ``wilcoxon``, two-sided; zero differences dropped, scipy's default ``zero_method="wilcox"``),
  as q2-longitudinal's ``pairwise-differences`` (non-parametric).

Each row is keyed by the later sample. A subject with two samples at one time is an error (q2-longitudinal's
``replicate_handling="error"``); subjects without a sample at the baseline or at both paired times are listed as
left out, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from gutstride.errors import BadInputError, MissingDataError


def _timelines(samples: Sequence[str], subjects: Mapping[str, str], times: Mapping[str, float]
               ) -> dict[str, list[tuple[float, str]]]:
    """Each subject's samples sorted by time; replicates at one time are refused."""
    lines: dict[str, list[tuple[float, str]]] = {}
    for sample in samples:
        lines.setdefault(str(subjects[sample]), []).append((float(times[sample]), sample))
    for subject, line in lines.items():
        line.sort()
        seen = [t for t, _ in line]
        if len(set(seen)) != len(seen):
            raise BadInputError(f"subject {subject} has more than one sample at one time")
    return lines


def _pairs(samples: Sequence[str], subjects: Mapping[str, str], times: Mapping[str, float],
           baseline: float | None, first_as_baseline: bool) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(subject, earlier-or-baseline sample, later sample) pairs, and the subjects without a baseline sample."""
    pairs: list[tuple[str, str, str]] = []
    left_out: list[str] = []
    for subject, line in _timelines(samples, subjects, times).items():
        if baseline is None and not first_as_baseline:
            pairs += [(subject, a, b) for (_, a), (_, b) in zip(line[:-1], line[1:], strict=True)]
            continue
        base_time = line[0][0] if baseline is None else float(baseline)
        base = next((s for t, s in line if t == base_time), None)
        if base is None:
            left_out.append(subject)
            continue
        pairs += [(subject, base, s) for t, s in line if t != base_time]
    return pairs, left_out


def first_differences(values: Mapping[str, float], subjects: Mapping[str, str], times: Mapping[str, float],
                      baseline: float | None = None) -> dict[str, Any]:
    """First differences of ``values`` per subject (to the previous time, or to ``baseline``).

    Returns ``{"rows": [{"sample_id", "subject", "time", "reference", "difference"}], "left_out": [...]}``;
    ``reference`` is the earlier (or baseline) sample.
    """
    pairs, left_out = _pairs(list(values), subjects, times, baseline, False)
    rows = [{"sample_id": b, "subject": s, "time": float(times[b]), "reference": a,
             "difference": float(values[b]) - float(values[a])} for s, a, b in pairs]
    return {"rows": rows, "left_out": left_out}


def first_distances(dm: np.ndarray, ids: Sequence[str], subjects: Mapping[str, str], times: Mapping[str, float],
                    baseline: float | None = None, first_as_baseline: bool = False) -> dict[str, Any]:
    """Distances between each subject's successive samples (or each sample and the baseline sample).

    ``first_as_baseline`` with no ``baseline`` uses each subject's first time as the baseline.
    Returns ``{"rows": [{"sample_id", "subject", "time", "reference", "distance"}], "left_out": [...]}``.
    """
    index = {s: k for k, s in enumerate(ids)}
    missing = [s for s in ids if s not in subjects or s not in times]
    if missing:
        raise MissingDataError(f"{len(missing)} sample(s) have no subject or time, e.g. {missing[0]}")
    pairs, left_out = _pairs(list(ids), subjects, times, baseline, first_as_baseline)
    rows = [{"sample_id": b, "subject": s, "time": float(times[b]), "reference": a,
             "distance": float(dm[index[a], index[b]])} for s, a, b in pairs]
    return {"rows": rows, "left_out": left_out}


def distance_to_baseline(dm: np.ndarray, ids: Sequence[str], subjects: Mapping[str, str],
                         times: Mapping[str, float], baseline: float | None = None) -> dict[str, Any]:
    """Distance from every later sample of each subject to the subject's baseline sample (default: first time)."""
    return first_distances(dm, ids, subjects, times, baseline, first_as_baseline=True)


def paired_wilcoxon(values: Mapping[str, float], subjects: Mapping[str, str], times: Mapping[str, float],
                    before: float, after: float) -> dict[str, Any]:
    """Wilcoxon signed-rank test of ``after - before`` within subjects sampled at both times.

    Returns ``{"test", "n_pairs", "statistic", "p_value", "median_difference", "left_out"}``.

    Raises
    ------
    MissingDataError
        No subject has both times.
    """
    from scipy.stats import wilcoxon

    lines = _timelines(list(values), subjects, times)
    diffs: list[float] = []
    left_out: list[str] = []
    for subject, line in lines.items():
        at = {t: s for t, s in line}
        if float(before) in at and float(after) in at:
            diffs.append(float(values[at[float(after)]]) - float(values[at[float(before)]]))
        else:
            left_out.append(subject)
    if not diffs:
        raise MissingDataError(f"no subject has samples at both {before} and {after}")
    result = wilcoxon(diffs)
    return {"test": "Wilcoxon signed-rank", "n_pairs": len(diffs), "statistic": float(result.statistic),
            "p_value": float(result.pvalue), "median_difference": float(np.median(diffs)), "left_out": left_out}
