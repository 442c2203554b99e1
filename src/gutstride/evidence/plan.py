"""A suggested next week of training that keeps to the gut-friendly pattern and to a cautious progression.

Pure: no I/O. The pattern, with the certainty of each part (see the claims in ``data/claims.toml``):

* at least two moderate sessions of 30-45 min at 50-70% HRmax (``moderate-cardio-30-45min-2x-week``: very low
  certainty for any gut benefit; a sensible minimum nonetheless);
* most time at or below 70% HRmax: hard minutes are at most 20% of the week and no hard session is longer than
  45 min (``intensity-70pct-hrmax``, very low: an untested threshold; ``prolonged-strenuous-exercise-gi-injury``,
  moderate: gut injury markers rise with intensity and duration, with a threshold that "appears to be" about 2 h at
  60% VO2max in one review, so no session exceeds 2 h);
* one or two rest days (``rest-and-recovery``, very low);
* a strength or mobility session (``endurance-plus-strength-diversity``, very low);
* progression: planned minutes <= floor(1.10 x mean weekly minutes of the last 4 complete weeks). This "10% rule"
  is a coaching convention, not a tested limit (``load-spike-injury-risk``, very low: team-sport injury data).

The plan follows the person's own symptom findings (``symptoms.trigger.*`` that are "clear" or "likely" in their
data with a risk ratio above 1, and duration or heat findings left "unclear" by adjustment although their crude
association is clear):

* a duration trigger (longer than 90 min / 2 h): no session is longer than its threshold; the minutes that no
  longer fit are split over more sessions, or dropped; long sessions are built back up gradually;
* heat: cooler hours, a shorter session on hot days, and a fluid plan, on every endurance session;
* a meal less than 2 h before: the last meal at least 3 h before key (moderate and hard) sessions;
* high carbohydrate intake during sessions: practise it on easy sessions (gut training) and build up gradually.

Each plan line so changed says which finding it answers, with its numbers.

The plan starts on the Monday after ``today``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from gutstride.errors import BadInputError
from gutstride.model.finding import Finding

#: Planned minutes may be at most this multiple of the recent 4-week average (a convention, not evidence).
PROGRESSION = 1.10
#: Number of recent complete weeks the average is taken over.
WINDOW_WEEKS = 4
MODERATE_MINUTES = (30, 45)
MODERATE_ZONE = (50, 70)
EASY_ZONE = (50, 65)
HARD_ZONE = (70, 85)
STRENGTH_MINUTES = (20, 30)
MIN_SESSION = 20
MAX_SESSION = 120
MAX_HARD_SESSION = 45
MAX_HARD_SHARE = 0.20
#: With a budget above this many minutes the plan uses six training days (one rest day), else five.
ONE_REST_DAY_ABOVE = 450

_REST_DAYS = {1: (6,), 2: (2, 6)}  # weekday indices (Monday = 0) kept for rest


@dataclass(frozen=True)
class PlannedDay:
    """One day of the plan: ``session`` is rest, moderate, easy, strength_mobility, hard (or unplanned)."""

    day: date
    session: str
    minutes: int
    hr_zone_pct: tuple[int, int] | None
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "session": self.session,
            "minutes": self.minutes,
            "hr_zone_pct": list(self.hr_zone_pct) if self.hr_zone_pct else None,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class WeekPlan:
    """Seven planned days, the budget they respect and why."""

    start: date
    days: tuple[PlannedDay, ...]
    recent_average_minutes: float
    budget_minutes: int
    weeks_used: int
    notes: tuple[str, ...]
    claims: tuple[str, ...]

    @property
    def total_minutes(self) -> int:
        return sum(d.minutes for d in self.days)

    @property
    def hard_minutes(self) -> int:
        return sum(d.minutes for d in self.days if d.session == "hard")

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "days": [d.to_dict() for d in self.days],
            "total_minutes": self.total_minutes,
            "hard_minutes": self.hard_minutes,
            "recent_average_minutes": self.recent_average_minutes,
            "budget_minutes": self.budget_minutes,
            "weeks_used": self.weeks_used,
            "notes": list(self.notes),
            "claims": list(self.claims),
        }


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp, without importing pandas
        return value.to_pydatetime().date()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError as exc:
            raise BadInputError(f"week_start {value!r} is not an ISO date") from exc
    raise BadInputError(f"week_start {value!r} is not a date")


def _number(week: Mapping[str, Any], key: str) -> float | None:
    value = week.get(key)
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise BadInputError(f"{key} {value!r} is not a number") from exc
    return None if math.isnan(number) else number


def _hard_share(week: Mapping[str, Any]) -> float | None:
    """Share (0-1) of HR time above 70% HRmax: ``share_above_70pct`` (0-1) or ``pct_above_70`` (0-100)."""
    share = _number(week, "share_above_70pct")
    if share is None:
        pct = _number(week, "pct_above_70")
        share = None if pct is None else pct / 100
    if share is not None and not 0 <= share <= 1:
        raise BadInputError(f"share above 70% HRmax must be between 0 and 1, got {share}")
    return share


def _recent_complete_weeks(recent_weeks: Sequence[Mapping[str, Any]], today: date) -> list[Mapping[str, Any]]:
    complete = []
    for week in recent_weeks:
        start = _as_date(week.get("week_start"))
        days = _number(week, "days")
        if start + timedelta(days=7) <= today and (days is None or days >= 7):  # the week ended before today
            complete.append((start, week))
    complete.sort(key=lambda item: item[0])
    return [week for _, week in complete[-WINDOW_WEEKS:]]


#: Duration triggers and their thresholds in minutes.
DURATION_TRIGGERS = {"symptoms.trigger.duration_90": 90, "symptoms.trigger.duration_120": 120}
HEAT_TRIGGER = "symptoms.trigger.heat"
MEAL_TRIGGER = "symptoms.trigger.meal_within_2h"
CARB_TRIGGER = "symptoms.trigger.carb_intake_high"
#: The claims behind each finding-following rule, added to the plan's claims when the rule applies.
FOLLOWED_CLAIMS = ((HEAT_TRIGGER, "exercise-heat-gi-symptoms"), (HEAT_TRIGGER, "hydration-during-exercise-gi"),
                   (MEAL_TRIGGER, "low-fibre-carb-meal-before-running"), (CARB_TRIGGER, "gut-training-carbohydrate"))
#: Sessions at least this long count as endurance sessions for the heat advice.
ENDURANCE_MINUTES = 30


def finding_brief(finding: Finding) -> str:
    """One line with a trigger finding's numbers: with/without, crude and adjusted risk ratios, the word."""
    d = finding.detail
    text = (f"symptoms after {100 * d['rate_exposed']:.0f}% of sessions {d.get('label', '')} against "
            f"{100 * d['rate_unexposed']:.0f}% of others ({d['events_exposed']}/{d['n_exposed']} vs "
            f"{d['events_unexposed']}/{d['n_unexposed']})")
    crude = d.get("crude") or {}
    if crude.get("ratio") is not None:
        text += f", risk ratio {crude['ratio']:.2g}"
    adjusted = d.get("adjusted")
    if adjusted and adjusted.get("adjusted_for"):
        low, high = adjusted["interval"]
        text += f", adjusted {adjusted['ratio']:.2g} ({low:.2g}-{high:.2g})"
    word = d.get("word", "")
    if word == "unclear":
        return f"{text}: unclear once adjusted, a precaution until an experiment settles it"
    return f"{text}: {word}"


def _followed(findings: Sequence[Finding]) -> dict[str, Finding]:
    """The trigger findings the plan answers: "clear" (direction ``above``) or "likely" with a risk ratio above 1,
    and duration or heat findings that are "unclear" only because they come with another trigger (their crude
    interval excludes 1): cheap precautions are worth taking until an experiment settles which matters."""
    out = {}
    for f in findings:
        if not f.id.startswith("symptoms.trigger.") or f.direction == "not_enough_data":
            continue
        word = f.detail.get("word")
        crude = (f.detail.get("crude") or {}).get("interval") or [0.0, 0.0]
        likely = word == "likely" and (f.value or 0) > 1
        confounded = (f.id in DURATION_TRIGGERS or f.id == HEAT_TRIGGER) and word == "unclear" \
            and crude[0] > 1 and (f.detail.get("adjusted") or {}).get("adjusted_for")
        if f.direction == "above" or likely or confounded:
            out[f.id] = f
    return out


def suggest_next_week(recent_weeks: Sequence[Mapping[str, Any]], today: date,
                      findings: Sequence[Finding] = ()) -> WeekPlan:
    """Suggest the next 7 days of training from the last weeks' summaries and the person's symptom findings.

    Parameters
    ----------
    recent_weeks
        Weekly summaries (the last 4-8 weeks), each with ``week_start`` and ``minutes``; optionally
        ``share_above_70pct`` (0-1) or ``pct_above_70`` (0-100), ``sessions``, ``moderate_sessions``,
        ``rest_days`` and ``days``. Weeks not yet complete on ``today`` are ignored.
    today
        The plan starts on the following Monday.
    findings
        The person's findings; the plan follows the ``symptoms.trigger.*`` ones with direction ``above`` (see the
        module docstring).

    Returns
    -------
    WeekPlan
        Seven days whose total is at most ``floor(1.10 x mean minutes of the last 4 complete weeks)``. Without a
        complete week, seven ``"unplanned"`` days saying there is not enough data yet (``weeks_used == 0``).

    Raises
    ------
    BadInputError
        On negative minutes or malformed values.
    """
    weeks = _recent_complete_weeks(recent_weeks, today)
    start = today + timedelta(days=7 - today.weekday())
    if not weeks:
        reason = "Not enough data yet: no complete week of training to start a plan from."
        return WeekPlan(
            start=start,
            days=tuple(PlannedDay(start + timedelta(days=i), "unplanned", 0, None, (reason,)) for i in range(7)),
            recent_average_minutes=0.0,
            budget_minutes=0,
            weeks_used=0,
            notes=(reason,),
            claims=(),
        )
    minutes = []
    for week in weeks:
        value = _number(week, "minutes")
        if value is None or value < 0:
            raise BadInputError(f"minutes must be a non-negative number, got {week.get('minutes')!r}")
        minutes.append(value)
    average = sum(minutes) / len(minutes)
    budget = math.floor(PROGRESSION * average)
    shares = [s for s in (_hard_share(w) for w in weeks) if s is not None]
    recent_hard = sum(shares) / len(shares) if shares else None

    followed = _followed(findings)
    durations = [(DURATION_TRIGGERS[fid], f) for fid, f in followed.items() if fid in DURATION_TRIGGERS]
    cap_minutes, duration_finding = min(durations, key=lambda item: item[0]) if durations else (MAX_SESSION, None)
    rest_days = 1 if budget > ONE_REST_DAY_ABOVE else 2
    slots = 7 - rest_days
    sessions = _allocate(budget, slots, recent_hard, min(MAX_SESSION, cap_minutes))

    notes = [
        f"Planned total {sum(m for _, m in sessions)} min, at most {budget} min: 110% of your average of "
        f"{average:.0f} min/week over the last {len(weeks)} complete week(s). Limiting increases to about 10% a week "
        "is a coaching convention, not strong evidence.",
        "Heart-rate zones are % of maximum heart rate; an age-based maximum is only approximate.",
    ]
    if len(weeks) < WINDOW_WEEKS:
        notes.append(f"Based on only {len(weeks)} complete week(s); the average is less reliable.")
    if budget < 2 * MODERATE_MINUTES[0] + STRENGTH_MINUTES[0]:
        notes.append(
            "Your recent training load is low, so this week cannot yet fit two 30-min moderate sessions and a "
            "strength session within a 10% increase; build up gradually."
        )
    if recent_hard is not None and recent_hard > MAX_HARD_SHARE:
        notes.append(
            f"Recently {100 * recent_hard:.0f}% of your heart-rate time was above 70% HRmax; this plan keeps "
            f"hard minutes to at most {100 * MAX_HARD_SHARE:.0f}% of the week."
        )
    planned = sum(m for _, m in sessions)
    if planned < budget and budget > ONE_REST_DAY_ABOVE:
        notes.append(
            f"Your recent volume is more than this plan's limits allow (sessions of at most "
            f"{min(MAX_SESSION, cap_minutes)} min on {slots} days), so "
            f"it plans {planned} min; if your current structure causes no gut symptoms, keeping it is reasonable."
        )
    if recent_hard is None:
        notes.append("No heart-rate data in recent weeks, so the plan includes no hard session.")
    if duration_finding is not None:
        notes.append(
            f"No session is longer than {cap_minutes} min. Your data: {finding_brief(duration_finding)}. Minutes that "
            "no longer fit in one session are spread over the others or left out. Once you have had a few weeks "
            "without symptoms, build long sessions back up by about 10 min a week and keep logging."
        )

    rest_idx = _REST_DAYS[rest_days]
    train_idx = [i for i in range(7) if i not in rest_idx]
    # spread the sessions over the training days when there are fewer sessions than days
    spots = [train_idx[round(k * len(train_idx) / len(sessions))] for k in range(len(sessions))] if sessions else []
    placed: dict[int, tuple[str, int]] = dict(zip(spots, sessions, strict=True))
    days = []
    for i in range(7):
        kind, mins = placed.get(i, ("rest", 0))
        days.append(PlannedDay(start + timedelta(days=i), kind, mins, _ZONES[kind], _reasons(kind, mins, cap_minutes)))
    days = _follow_findings(days, followed, duration_finding, cap_minutes)
    return WeekPlan(
        start=start,
        days=tuple(days),
        recent_average_minutes=average,
        budget_minutes=budget,
        weeks_used=len(weeks),
        notes=tuple(notes),
        claims=(
            "moderate-cardio-30-45min-2x-week",
            "intensity-70pct-hrmax",
            "prolonged-strenuous-exercise-gi-injury",
            "rest-and-recovery",
            "endurance-plus-strength-diversity",
            "load-spike-injury-risk",
            *(claim for fid, claim in FOLLOWED_CLAIMS if fid in followed),
        ),
    )


def _follow_findings(days: list[PlannedDay], followed: Mapping[str, Finding], duration: Finding | None,
                     cap: int) -> list[PlannedDay]:
    """Add to each planned day the reasons that answer the person's findings (see the module docstring)."""
    heat, meal, carb = followed.get(HEAT_TRIGGER), followed.get(MEAL_TRIGGER), followed.get(CARB_TRIGGER)
    endurance = [d for d in days if d.session in ("moderate", "easy", "hard") and d.minutes >= ENDURANCE_MINUTES]
    longest = max(endurance, key=lambda d: d.minutes, default=None)
    out = []
    for d in days:
        extra: list[str] = []
        if duration is not None and d in endurance and d.minutes >= cap - 15:
            extra.append(f"At most {cap} min, your duration threshold. Your data: {finding_brief(duration)}.")
        if heat is not None and d in endurance:
            extra.append("If it is hot (25 C or more): go in the cooler hours, shorten it, and drink to a plan "
                         f"(small amounts regularly, as practised). Your data: {finding_brief(heat)}.")
        if meal is not None and (d.session in ("moderate", "hard") or d is longest):
            extra.append(f"Eat your last meal at least 3 h before. Your data: {finding_brief(meal)}.")
        if carb is not None and d.session == "easy" and d is longest:
            extra.append("Practise taking carbohydrate on this easy session (gut training), starting low and "
                         f"building up over weeks. Your data: {finding_brief(carb)}.")
        out.append(replace(d, reasons=(*d.reasons, *extra)) if extra else d)
    return out


def _allocate(budget: int, slots: int, recent_hard: float | None, max_session: int = MAX_SESSION
              ) -> list[tuple[str, int]]:
    """Sessions in placement order (moderate, strength, moderate, hard, easy...), total <= ``budget``.

    No session is longer than ``max_session`` minutes.
    """
    remaining = budget
    moderate: list[int] = []
    strength = 0
    low, high = MODERATE_MINUTES
    if remaining >= 2 * low + STRENGTH_MINUTES[0]:
        each = min(high, (remaining - STRENGTH_MINUTES[0]) // 2)
        moderate = [each, each]
    elif remaining >= 2 * 10:
        moderate = [remaining // 2, remaining // 2]
    elif remaining > 0:
        moderate = [remaining]
    remaining -= sum(moderate)
    if remaining >= STRENGTH_MINUTES[0]:
        strength = min(STRENGTH_MINUTES[1], remaining)
        remaining -= strength
    hard = 0
    fixed = len(moderate) + (strength > 0)
    if recent_hard is not None and recent_hard > 0.05 and fixed < slots:
        hard = min(MAX_HARD_SESSION, max_session, math.floor(MAX_HARD_SHARE * budget), remaining)
        hard = hard if hard >= MIN_SESSION else 0
        remaining -= hard
    free = slots - fixed - (hard > 0)
    easy: list[int] = []
    n_easy = min(free, remaining // MIN_SESSION)
    if n_easy > 0:
        total = min(remaining, n_easy * max_session)
        easy = [total // n_easy + (1 if i < total % n_easy else 0) for i in range(n_easy)]
    total_minutes = sum(moderate) + strength + hard + sum(easy)
    if hard > MAX_HARD_SHARE * total_minutes:  # keep most time easy even when the slots cap the total
        hard = math.floor(MAX_HARD_SHARE * (total_minutes - hard))
        hard = hard if hard >= MIN_SESSION else 0
    order: list[tuple[str, int]] = []
    if moderate:
        order.append(("moderate", moderate[0]))
    if strength:
        order.append(("strength_mobility", strength))
    if len(moderate) > 1:
        order.append(("moderate", moderate[1]))
    if hard:
        order.append(("hard", hard))
    order.extend(("easy", m) for m in easy)
    return order


_ZONES: dict[str, tuple[int, int] | None] = {
    "rest": None,
    "moderate": MODERATE_ZONE,
    "easy": EASY_ZONE,
    "hard": HARD_ZONE,
    "strength_mobility": None,
}


def _reasons(kind: str, minutes: int, cap: int = MAX_SESSION) -> tuple[str, ...]:
    if kind == "moderate":
        out = [
            "One of at least two moderate sessions a week at 50-70% HRmax (a conversational pace); any gut benefit "
            "of this dose is very uncertain, but it is a sensible, low-risk base."
        ]
        if minutes < MODERATE_MINUTES[0]:
            out.append("Shorter than 30 min because your recent load is low; lengthen it gradually.")
        return tuple(out)
    if kind == "strength_mobility":
        return ("Strength or mobility work, not heart-rate guided; whether it changes the gut is very uncertain.",)
    if kind == "hard":
        return (
            "Kept because you already train hard sometimes; capped at 45 min and 20% of the week because gut "
            "stress probably rises with intensity and duration.",
        )
    if kind == "easy":
        if cap < MAX_SESSION:  # the finding's own line says why it is capped
            return ("Easy aerobic time at 50-65% HRmax.",)
        return ("Easy aerobic time at 50-65% HRmax; at most 2 h, about the duration above which gut stress rises.",)
    return ("Rest or gentle movement: exercise-related gut stress is transient, and rest days guard against overload.",)
