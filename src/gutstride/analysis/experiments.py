"""n-of-1 experiments: what to try when the data cannot settle a trigger, and the result of one that was run.

Pure functions (no I/O).

Suggestions
-----------
:func:`suggest_experiments` proposes an experiment for each changeable trigger whose word is "likely" or
"unclear" with an adjusted risk ratio above 1, and for each pair of triggers that come together (they cannot be
told apart, or one adjusts the other and both have a crude association). The design is the classic n-of-1
crossover in blocks of one week: for :data:`PLANNED_WEEKS` weeks, weeks *with* and *without* the factor
alternate, the order within each pair of weeks decided by a coin toss, with symptoms logged after every session
(``symptom_timing``) and each entry tagged with the experiment's id (``experiment``) and the week's arm
(``experiment_arm``). For a confounded pair, the factor that can be changed is varied while the other is held
away.

Tracking and result
-------------------
:func:`experiment_results` reads the tagged sessions. While fewer than :data:`MIN_WEEKS_PER_ARM` weeks of each arm
are logged and the last tagged entry is recent, the experiment is "running" and the report shows its progress.
Once :data:`PLANNED_WEEKS` weeks are logged (or no tagged entry came for :data:`STALE_DAYS` days, "stopped"), the
result is the risk ratio: the symptomatic share of sessions in the "with" weeks over that in the "without" weeks,
with its Katz interval, and a randomisation p-value that permutes the arm
labels between weeks (the unit that was randomised): exact over all relabellings with the same number of "with"
weeks when there are at most 20 000 of them, else 20 000 random ones.

References: Guyatt G et al. Determining optimal therapy: randomized trials in individual patients. N Engl J Med 1986
(n-of-1 trials). Edgington ES, Onghena P. Randomization Tests (randomisation tests for single-case designs).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np

from gutstride.analysis.proportions import katz_rate_ratio
from gutstride.analysis.symptoms import PRIMARY_OUTCOME, session_outcome, session_records
from gutstride.model.finding import Finding
from gutstride.model.log_entry import LogEntry

if TYPE_CHECKING:
    import pandas as pd

PLANNED_WEEKS = 8
MIN_WEEKS_PER_ARM = 3
STALE_DAYS = 14
EXACT_LIMIT = 20_000

#: For each changeable trigger: what the "with" and "without" weeks do.
ARMS: dict[str, tuple[str, str]] = {
    "meal_within_2h": ("the last meal less than 2 h before each run", "the last meal at least 3 h before"),
    "high_fibre_meal": ("your usual higher-fibre meal before", "a low-fibre meal before"),
    "high_fat_meal": ("your usual higher-fat meal before", "a low-fat meal before"),
    "large_carb_meal": ("a meal with 100 g carbohydrate or more before", "a smaller meal before"),
    "caffeine_before": ("your usual caffeine before", "no caffeine in the 3 h before"),
    "high_fodmap": ("your usual meals before", "low-FODMAP meals before"),
    "high_lactose": ("your usual meals before", "lactose-free meals before"),
    "high_sweetener": ("your usual foods before", "no polyol sweeteners before"),
    "dehydration": ("your usual drinking", "at least 2 L of fluid on the day, and well hydrated at the start"),
    "fluid_intake_low": ("your usual drinking during", "about 400-600 mL/h during, as practised"),
    "carb_intake_high": ("60 g/h carbohydrate or more during", "less than 60 g/h during"),
    "heat": ("runs at your usual time", "runs in the coolest hours (below 25 C where you can)"),
    "duration_90": ("your usual long runs", "no run longer than 90 min (split longer ones)"),
    "duration_120": ("your usual long runs", "no run longer than 2 h (split longer ones)"),
    "intensity": ("your usual hard sessions", "easy sessions only (below 70% HRmax)"),
}
#: Triggers never varied on purpose (stopping is the advice; or they cannot be chosen).
NOT_VARIED = {"nsaid", "menstrual", "race", "poor_sleep", "stress"}


@dataclass(frozen=True)
class Suggestion:
    """One proposed n-of-1 experiment."""

    id: str
    trigger_id: str
    title: str
    design: str
    why: str
    weeks: int = PLANNED_WEEKS
    strength: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "trigger_id": self.trigger_id, "title": self.title, "design": self.design,
                "why": self.why, "weeks": self.weeks, "crude_z": self.strength}


def _design(trigger_id: str, hold: str | None = None) -> str:
    with_arm, without_arm = ARMS[trigger_id]
    held = f" Throughout, {ARMS[hold][1]}, so that only one thing changes." if hold else ""
    return (
        f"For {PLANNED_WEEKS} weeks, alternate weeks with {with_arm} and weeks with {without_arm}; toss a coin to "
        f"decide which comes first in each pair of weeks.{held} Log your symptoms after every session (with their "
        f"timing), and tag each entry: experiment = {trigger_id}, experiment_arm = with or without."
    )


#: At most this many experiments are suggested at a time (one at a time is best; a few to choose from).
MAX_SUGGESTIONS = 3


def suggest_experiments(findings: Sequence[Finding], done: Iterable[str] = ()) -> list[Suggestion]:
    """Experiments for the triggers the data cannot settle (see the module docstring), at most
    :data:`MAX_SUGGESTIONS`: those with the most to settle first, i.e. the largest crude association
    (:math:`|\\ln RR| / SE` of the crude risk ratio; for a pair, the mean of the two). Experiments whose id is in
    ``done`` (already in the log) are not suggested again; while one runs, call this not at all (one experiment at a
    time). A pair is proposed when the two cannot be told apart, or when one adjusts the other and both have a
    crude association (crude interval above 1)."""
    triggers = [f for f in findings if f.id.startswith("symptoms.trigger.") and f.direction != "not_enough_data"]
    by_id = {f.id.removeprefix("symptoms.trigger."): f for f in triggers}
    out: list[Suggestion] = []
    seen: set[str] = set()
    paired: set[str] = set()  # triggers already in a "tell apart" experiment
    for f in sorted(triggers, key=lambda f: -_crude_z(f)):
        tid = f.id.removeprefix("symptoms.trigger.")
        word = f.detail.get("word")
        if word not in ("likely", "unclear", "clear"):
            continue
        aliased = [p for p in f.detail.get("aliased_with") or [] if p in by_id]
        adjusted = [p for p in (f.detail.get("adjusted") or {}).get("adjusted_for") or []
                    if p in by_id and _crude_low(f) > 1 and _crude_low(by_id[p]) > 1]
        partners = [p for p in aliased + adjusted if by_id[p].detail.get("word") in ("clear", "likely", "unclear")]
        for partner in partners:
            pair = "+".join(sorted((tid, partner)))
            if pair in seen:
                continue
            vary, hold = _vary_and_hold(tid, partner)
            if vary is None:
                continue
            seen.add(pair)
            paired.update((tid, partner))
            strength = (_crude_z(f) + _crude_z(by_id[partner])) / 2
            first, second = by_id[tid].detail.get("label", tid), by_id[partner].detail.get("label", partner)
            out.append(Suggestion(
                id=f"{vary}", trigger_id=vary,
                title=f"Is it sessions {first} or sessions {second}?",
                design=_design(vary, hold),
                strength=strength,
                why=(f"In your data these come together ({f.detail.get('word')} and "
                     f"{by_id[partner].detail.get('word')} after adjusting for each other), so the data cannot "
                     "say which matters; changing one while holding the other away can."),
            ))
        if word in ("likely", "unclear") and (f.value or 0) > 1 and tid not in NOT_VARIED and tid in ARMS \
                and tid not in paired:
            out.append(Suggestion(
                id=tid, trigger_id=tid, title=f"Do sessions {f.detail.get('label', tid)} matter?", design=_design(tid),
                strength=_crude_z(f),
                why=(f"In your data this is {word}: {f.summary.split(': ', 1)[-1].split('; week-blocked')[0]}. "
                     "An experiment can settle it."),
            ))
    skip = set(done)
    out = sorted((x for x in out if x.id not in skip), key=lambda suggestion: -suggestion.strength)
    return out[:MAX_SUGGESTIONS]


def _crude_low(finding: Finding) -> float:
    interval = (finding.detail.get("crude") or {}).get("interval") or [0.0, 0.0]
    return float(interval[0])


def _crude_z(finding: Finding) -> float:
    """|ln RR| / SE of the finding's crude risk ratio (0 without one)."""
    crude = finding.detail.get("crude") or {}
    ratio, interval = crude.get("ratio"), crude.get("interval")
    if not ratio or not interval or interval[0] <= 0 or interval[1] <= interval[0]:
        return 0.0
    se = (math.log(interval[1]) - math.log(interval[0])) / (2 * 1.959963984540054)
    return abs(math.log(ratio)) / se


def _vary_and_hold(a: str, b: str) -> tuple[str | None, str | None]:
    """Which of two confounded triggers to vary (the more changeable one) and which to hold away."""
    candidates = [t for t in (a, b) if t in ARMS and t not in NOT_VARIED]
    if not candidates:
        return None, None
    order = ["meal_within_2h", "high_fibre_meal", "high_fat_meal", "caffeine_before", "high_fodmap", "high_lactose",
             "high_sweetener", "large_carb_meal", "carb_intake_high", "fluid_intake_low", "dehydration", "heat",
             "duration_90", "duration_120", "intensity"]
    vary = min(candidates, key=lambda t: order.index(t) if t in order else 99)
    hold = b if vary == a else a
    if "heat" in (a, b) and {a, b} & {"duration_90", "duration_120"}:  # vary duration, running in cool hours
        vary = a if a.startswith("duration") else b
        hold = "heat"
    return vary, (hold if hold in ARMS and hold not in NOT_VARIED else None)


@dataclass(frozen=True)
class ExperimentResult:
    """What the log holds of one experiment: progress while running, the result when finished."""

    id: str
    status: str  # "running" | "finished" | "stopped"
    first_day: date
    last_day: date
    weeks_with: int
    weeks_without: int
    sessions_with: int
    events_with: int
    sessions_without: int
    events_without: int
    ratio: float | None = None
    interval: tuple[float, float] | None = None
    p_value: float | None = None
    p_method: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "status": self.status, "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(), "weeks_with": self.weeks_with, "weeks_without": self.weeks_without,
            "sessions_with": self.sessions_with, "events_with": self.events_with,
            "sessions_without": self.sessions_without, "events_without": self.events_without,
            "ratio": self.ratio, "interval": list(self.interval) if self.interval else None,
            "p_value": self.p_value, "p_method": self.p_method, "summary": self.summary,
        }

    @property
    def summary(self) -> str:
        share = (f"symptoms after {self.events_with} of {self.sessions_with} sessions in {self.weeks_with} 'with' "
                 f"weeks and {self.events_without} of {self.sessions_without} in {self.weeks_without} 'without' "
                 "weeks")
        if self.status == "running":
            return (f"Running since {self.first_day} ({self.weeks_with + self.weeks_without} of {PLANNED_WEEKS} "
                    f"weeks logged): {share} so far. No conclusion until it ends.")
        head = "Finished" if self.status == "finished" else f"Stopped early (nothing logged since {self.last_day})"
        if self.ratio is None or self.interval is None:
            return f"{head}: {share}; too few weeks of each arm for a result."
        return (f"{head}: {share}; risk ratio with/without {self.ratio:.2g} (95% CI {self.interval[0]:.2g}-"
                f"{self.interval[1]:.2g}), randomisation p = {self.p_value:.2g} ({self.p_method}).")


def experiment_results(exposures: pd.DataFrame, entries: Iterable[LogEntry], today: date,
                       records: list[dict[str, Any]] | None = None) -> list[ExperimentResult]:
    """Each experiment found in the log (entries tagged ``experiment`` and ``experiment_arm``), by first day.

    ``records`` may give :func:`~gutstride.analysis.symptoms.session_records` of ``exposures`` and ``entries`` when
    already computed.
    """
    sessions = session_records(exposures, entries) if records is None else records
    groups: dict[str, list[tuple[date, bool, bool]]] = {}
    for s in sessions:
        name, arm = s.get("experiment"), s.get("experiment_arm")
        y = session_outcome(s, PRIMARY_OUTCOME)
        if name and arm in ("with", "without") and y is not None:
            groups.setdefault(str(name), []).append((s["day"], arm == "with", y))
    out = []
    for name, rows in groups.items():
        days = [d for d, _, _ in rows]
        first, last = min(days), max(days)
        week_arm: dict[int, bool] = {}
        for d, arm, _ in rows:
            week_arm.setdefault((d - first).days // 7, arm)
        weeks_with = sum(week_arm.values())
        weeks_without = len(week_arm) - weeks_with
        n1 = sum(arm for _, arm, _ in rows)
        a = sum(arm and y for _, arm, y in rows)
        n0 = len(rows) - n1
        c = sum((not arm) and y for _, arm, y in rows)
        if len(week_arm) >= PLANNED_WEEKS:
            status = "finished"
        elif (today - last).days > STALE_DAYS:
            status = "stopped"
        else:
            status = "running"
        ratio = interval = p = None
        method = ""
        if status != "running" and min(weeks_with, weeks_without) >= MIN_WEEKS_PER_ARM and n1 and n0:
            ratio, low, high, _ = katz_rate_ratio(a, n1, c, n0)
            interval = (low, high)
            p, method = _randomisation_p(rows, first)
        out.append(ExperimentResult(name, status, first, last, weeks_with, weeks_without, n1, a, n0, c, ratio,
                                    interval, p, method))
    return sorted(out, key=lambda r: r.first_day)


def _randomisation_p(rows: list[tuple[date, bool, bool]], first: date) -> tuple[float, str]:
    """Two-sided p-value of the difference in symptomatic share, permuting the arm labels of whole weeks."""
    weeks = sorted({(d - first).days // 7 for d, _, _ in rows})
    index = {w: i for i, w in enumerate(weeks)}
    events = np.zeros(len(weeks))
    counts = np.zeros(len(weeks))
    arms = np.zeros(len(weeks), dtype=bool)
    for d, arm, y in rows:
        i = index[(d - first).days // 7]
        events[i] += y
        counts[i] += 1
        arms[i] = arm
    k = int(arms.sum())

    def stat(labels: np.ndarray) -> np.ndarray:
        labels = np.atleast_2d(labels).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            share_with = (labels @ events) / (labels @ counts)
            share_without = ((1 - labels) @ events) / ((1 - labels) @ counts)
        return np.abs(np.nan_to_num(share_with - share_without))

    observed = float(stat(arms)[0])
    total = math.comb(len(weeks), k)
    if total <= EXACT_LIMIT:
        labels = np.zeros((total, len(weeks)))
        for row, chosen in enumerate(combinations(range(len(weeks)), k)):
            labels[row, list(chosen)] = 1
        null = stat(labels)
        return float(np.mean(null >= observed - 1e-12)), f"exact over {total} week relabellings"
    rng = np.random.default_rng(0)
    labels = np.array([rng.permutation(arms) for _ in range(EXACT_LIMIT)])
    null = stat(labels)
    return float((1 + np.sum(null >= observed - 1e-12)) / (EXACT_LIMIT + 1)), f"{EXACT_LIMIT} random relabellings"
