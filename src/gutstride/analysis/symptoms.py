"""Within-person (n-of-1) symptom analysis: red-flag screening, candidate triggers, and the trend over time.

Pure functions: no I/O, no printing.

Joining sessions to the log
---------------------------
``exposures`` has one row per training session with at least ``start_time`` (UTC), ``day`` (the session's
local date), ``share_above_70pct_hrmax`` (0-1), ``duration_s`` and ``avg_temp_c``; an optional boolean
``dehydrated`` column flags sessions known to have ended dehydrated. The training sessions table's names
``local_date`` and ``share_above_70`` are accepted for ``day`` and ``share_above_70pct_hrmax``; without a day
column, the UTC date of the start is used. Each session takes the log fields of

1. the entry linked to it (``activity_start`` within :data:`LINK_TOLERANCE_S` of the session's start), over
2. the day entry of its day.

Sleep logged on day D is the night before D. When several sessions share a day, a day entry's symptoms count for
each of them.

Symptom timing: an entry whose ``symptom_timing`` is ``during`` or ``within_2h`` (after) credits its symptoms to the
session; ``before``, ``later_day`` and ``next_day`` do not (the session then counts as without symptoms from that
entry). An entry without timing keeps the same-day rule above. :func:`analyse_triggers` counts the sessions
credited under each rule, and the report says which were used.

Candidate triggers
------------------
``intensity``: share of time above 70% HRmax >= 0.5; ``duration_90`` / ``duration_120``: longer than 90 min / 2 h
(nested thresholds of one variable, reported once); ``heat``: average temperature >= 25 C; ``meal_within_2h``:
last meal < 120 min before; ``high_fibre_meal`` / ``high_fat_meal``: that meal was high in fibre / fat;
``large_carb_meal``: it held >= 100 g carbohydrate; ``nsaid``: an NSAID that day (on a logged session an unmarked
field counts as no NSAID); ``poor_sleep``: < 6 h or quality <= 2 the night before; ``dehydration``: fluids
< 1.5 L that day or the session's ``dehydrated`` flag; ``stress``: stress 4-5 of 5; ``caffeine_before``: >= 100 mg
in the 3 h before; ``carb_intake_high``: >= 60 g/h carbohydrate during; ``fluid_intake_low``: < 400 mL/h during;
``high_fodmap`` / ``high_lactose`` / ``high_sweetener``: a high load in the meal before; ``menstrual``: during
menstruation; ``race``: a race. Each is tested once it has ``min_sessions`` sessions with and without it.

Outcome
-------
A session is *symptomatic* when any GI symptom (upper: nausea, reflux, belching, vomiting; lower: bloating, cramps,
urge/diarrhoea, flatulence) is scored >= :data:`SYMPTOM_THRESHOLD` (3 of 10, "moderate" on the 0-10 scales of
exercise GI questionnaires) on it, outcome id ``gi_any``. The upper and lower sub-scales (``upper_gi``,
``lower_gi``) and each symptom are also analysed alone (same threshold). Sessions with no symptom recorded are
left out (their outcome is unknown), and each trigger uses only the sessions where that trigger is known.

Statistics
----------
The primary outcome's triggers are also adjusted for each other, tested with a week-blocked permutation test and
put in words (:mod:`gutstride.analysis.adjusted`). The crude figures below are kept beside them.

For each trigger with ``a`` symptomatic of ``n1`` exposed sessions and ``c`` of ``n0`` unexposed:

- rates ``a / n1`` and ``c / n0``; risk ratio :math:`RR = (a/n_1) / (c/n_0)`;
- its interval is the Katz log interval,
  :math:`\\exp(\\ln RR \\pm z_{1-\\alpha/2}\\sqrt{1/a - 1/n_1 + 1/c - 1/n_0})`, with 0.5 added to all four cells
  (and so 1 to ``n1`` and ``n0``) when any cell is zero (Haldane-Anscombe correction); the point estimate
  reported is computed from the same (corrected) cells. It is a (1 - alpha) interval, *not* adjusted for
  multiplicity;
- the p-value is Fisher's exact test, two-sided, on the 2 x 2 table;
- p-values are adjusted with Holm's step-down method, which controls the family-wise error rate at ``alpha`` under
  any dependence between the tests. The families are: the triggers tested for ``gi_any``, and, separately, all
  trigger x sub-scale and trigger x single-symptom tests. Only triggers with enough data enter a family, and
  :attr:`TriggerResult.n_tested` says how many did;
- a trigger is tested only with at least ``min_sessions`` exposed *and* ``min_sessions`` unexposed sessions;
  otherwise its status is "not enough data yet".

References
----------
Katz D, Baptista J, Azen SP, Pike MC. Obtaining confidence intervals for the risk ratio in cohort studies.
Biometrics, 1978. Holm S. A simple sequentially rejective multiple test procedure. Scandinavian Journal of
Statistics, 1979. Fisher's exact test: any statistics textbook (e.g. Agresti, Categorical Data Analysis).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from statistics import NormalDist, median
from typing import TYPE_CHECKING, Any

import numpy as np

from gutstride.analysis.adjusted import PERMUTATIONS, Adjusted, adjust_triggers
from gutstride.analysis.proportions import clopper_pearson, fisher_exact_two_sided, holm_adjust, katz_rate_ratio
from gutstride.model.finding import Direction, Finding
from gutstride.model.log_entry import LOWER_GI, RED_FLAG_CHECKLIST, SYMPTOMS, UPPER_GI, LogEntry, format_utc

if TYPE_CHECKING:
    import pandas as pd

SYMPTOM_THRESHOLD = 3
LINK_TOLERANCE_S = 900.0
PRIMARY_OUTCOME = "gi_any"
RED_FLAG_CLAIM = "red-flags-see-a-doctor"
NOT_ENOUGH = "not enough data yet"

# Bowel-habit rule (see :func:`screen_red_flags`).
BOWEL_MIN_BASELINE_DAYS = 14
BOWEL_MIN_WEEK_DAYS = 3
BOWEL_WEEKS = 3
BRISTOL_SHIFT = 2.0


@dataclass(frozen=True)
class Trigger:
    """A candidate trigger: how to tell, for one session, whether it was present (``None`` = unknown).

    ``family`` groups nested thresholds of one variable (merged into the best-supported one); ``changeable`` says
    how much the person can change it (2 = a choice on the day, 1 = with planning, 0 = not really), used to break
    ties in the ranking; ``claim_id`` is the graded claim about it, when the evidence base has one.
    """

    id: str
    label: str
    claim_id: str | None
    exposed: Callable[[dict[str, Any]], bool | None]
    family: str = ""
    changeable: int = 1

    @property
    def group(self) -> str:
        return self.family or self.id


def _missing(value: Any) -> bool:
    """True for None, NaN, NaT and pandas' NA."""
    if value is None:
        return True
    try:
        return bool(value != value)
    except TypeError:  # pd.NA: its comparisons are NA, which has no truth value
        return True


def _num(value: Any) -> float | None:
    return None if _missing(value) else float(value)


def _threshold(key: str, test: Callable[[float], bool]) -> Callable[[dict[str, Any]], bool | None]:
    def exposed(session: dict[str, Any]) -> bool | None:
        value = _num(session.get(key))
        return None if value is None else test(value)

    return exposed


def _choice(key: str, values: tuple[str, ...]) -> Callable[[dict[str, Any]], bool | None]:
    def exposed(session: dict[str, Any]) -> bool | None:
        value = session.get(key)
        return None if _missing(value) or value in ("", None) else value in values

    return exposed


def _nsaid(session: dict[str, Any]) -> bool | None:
    # On a logged session an unmarked NSAID field counts as "no NSAID": people tick it when they took one.
    return bool(session.get("nsaid"))


def _poor_sleep(session: dict[str, Any]) -> bool | None:
    hours, quality = _num(session.get("sleep_hours")), _num(session.get("sleep_quality"))
    if hours is None and quality is None:
        return None
    return (hours is not None and hours < 6.0) or (quality is not None and quality <= 2)


def _dehydration(session: dict[str, Any]) -> bool | None:
    fluids = _num(session.get("fluids_l"))
    flag = session.get("dehydrated")
    flag = None if _missing(flag) else bool(flag)
    if fluids is None and flag is None:
        return None
    return bool(flag) or (fluids is not None and fluids < 1.5)


_STRENUOUS = "prolonged-strenuous-exercise-gi-symptoms"
_MEAL = "low-fibre-carb-meal-before-running"

#: The candidate triggers, in reporting order. The last ten come from log fields that are often left empty: each
#: is tested once it has ``min_sessions`` sessions with and without it.
TRIGGERS: tuple[Trigger, ...] = (
    Trigger("intensity", "at least half the time above 70% HRmax", _STRENUOUS,
            _threshold("share_above_70pct_hrmax", lambda v: v >= 0.5)),
    Trigger("duration_90", "longer than 90 min", _STRENUOUS, _threshold("duration_s", lambda v: v > 90 * 60),
            family="duration"),
    Trigger("duration_120", "longer than 2 h", _STRENUOUS, _threshold("duration_s", lambda v: v > 120 * 60),
            family="duration"),
    Trigger("heat", "in heat (average 25 C or more)", "exercise-heat-gi-symptoms",
            _threshold("avg_temp_c", lambda v: v >= 25.0)),
    Trigger("meal_within_2h", "a meal less than 2 h before", _MEAL,
            _threshold("pre_meal_minutes_before", lambda v: v < 120.0), changeable=2),
    Trigger("high_fibre_meal", "a high-fibre meal before", _MEAL, _choice("pre_meal_fibre", ("high",)), changeable=2),
    Trigger("high_fat_meal", "a high-fat meal before", _MEAL, _choice("pre_meal_fat", ("high",)), changeable=2),
    Trigger("nsaid", "after taking an NSAID", "nsaids-exercise-gi-risk", _nsaid, changeable=2),
    Trigger("poor_sleep", "after poor sleep (< 6 h or quality 1-2)", "sleep-7-9-hours", _poor_sleep),
    Trigger("dehydration", "when dehydrated (fluids < 1.5 L or flagged)", "hydration-half-body-weight-ounces",
            _dehydration, changeable=2),
    Trigger("stress", "on high-stress days (stress 4-5 of 5)", "stress-techniques-gut",
            _threshold("stress", lambda v: v >= 4)),
    Trigger("large_carb_meal", "a meal with 100 g carbohydrate or more before", _MEAL,
            _threshold("pre_meal_carb_g", lambda v: v >= 100), changeable=2),
    Trigger("caffeine_before", "with 100 mg caffeine or more in the 3 h before", None,
            _threshold("caffeine_before_mg", lambda v: v >= 100), changeable=2),
    Trigger("carb_intake_high", "taking 60 g/h carbohydrate or more during", "gut-training-carbohydrate",
            _threshold("carb_g_per_h", lambda v: v >= 60), changeable=2),
    Trigger("fluid_intake_low", "drinking less than 400 mL/h during", "hydration-during-exercise-gi",
            _threshold("fluid_ml_per_h", lambda v: v < 400), changeable=2),
    Trigger("high_fodmap", "a high-FODMAP meal before", None, _choice("fodmap_load", ("high",)), changeable=2),
    Trigger("high_lactose", "a high-lactose meal before", None, _choice("lactose_load", ("high",)), changeable=2),
    Trigger("high_sweetener", "a meal high in polyol sweeteners before", None, _choice("sweetener_load", ("high",)),
            changeable=2),
    Trigger("menstrual", "during menstruation", None, _choice("menstrual_phase", ("menstrual",)), changeable=0),
    Trigger("race", "in races", None, _choice("session_type", ("race",)), changeable=0),
)
TRIGGER_BY_ID: dict[str, Trigger] = {t.id: t for t in TRIGGERS}


@dataclass(frozen=True)
class TriggerResult:
    """One trigger against one outcome: the 2 x 2 table, the crude risk ratio, its interval and the tests.

    ``p_value`` and ``p_adjusted`` are the crude Fisher test and its Holm adjustment. For the primary outcome,
    ``adjusted`` holds the estimate adjusted for associated triggers, the week-blocked permutation p-value (Holm-
    adjusted too) and the word (see :mod:`gutstride.analysis.adjusted`); ``significant`` is then true for the word
    "clear" only, the one reading whose family-wise error rate is controlled at ``alpha``.
    """

    trigger_id: str
    label: str
    claim_id: str | None
    outcome: str
    n: int
    n_exposed: int
    n_unexposed: int
    events_exposed: int
    events_unexposed: int
    rate_exposed: float
    rate_unexposed: float
    rate_ratio: float
    interval: tuple[float, float]
    status: str  # "ok" | "not enough data yet"
    p_value: float | None = None
    p_adjusted: float | None = None
    significant: bool = False
    n_tested: int = 0
    adjustment: str = "holm"
    continuity_corrected: bool = False
    period_start: date | None = None
    period_end: date | None = None
    alpha: float = 0.05
    adjusted: Adjusted | None = None
    last_exposed: date | None = None

    @property
    def word(self) -> str:
        """"clear", "likely", "unclear", "no sign" (primary outcome), or "not enough data yet"."""
        if self.status != "ok":
            return NOT_ENOUGH
        if self.adjusted is not None:
            return self.adjusted.word
        return "clear" if self.significant else "no sign"

    @property
    def method_note(self) -> str:
        """How this result was computed, in one paragraph for the report."""
        if self.outcome != PRIMARY_OUTCOME:
            return (
                f"Risk ratios have Katz log {100 * (1 - self.alpha):.0f}% intervals; p-values are Fisher's exact "
                f"test, Holm-adjusted over the {self.n_tested} trigger x symptom tests with enough data."
            )
        return (
            f"A session counts as symptomatic when any GI symptom was scored {SYMPTOM_THRESHOLD}/10 or more. The "
            "crude risk ratio compares the share of sessions with symptoms with and without the trigger (Katz log "
            f"{100 * (1 - self.alpha):.0f}% interval, 0.5 added to every cell when one is zero). The adjusted risk "
            "ratio accounts for the other triggers that tend to come with it: Mantel-Haenszel over one, Firth's "
            "penalised logistic regression standardised to a risk ratio over several. Its p-value is a permutation "
            "test that moves the symptoms by whole weeks (symptoms cluster in weeks), Holm-adjusted over the "
            f"{self.n_tested} triggers with enough data. Words: clear (adjusted p < {self.alpha:g} and the adjusted "
            "interval excludes 1), likely (adjusted p < 0.15), unclear (p < 0.2 before adjusting for the number "
            "of triggers, or a ratio of 1.5 or more the data cannot confirm), no sign. Nested duration thresholds "
            "are reported once, at the "
            "best-supported threshold. This is an association in your own data, not proof of cause."
        )

    def to_report_row(self) -> dict[str, Any]:
        """Display texts and numbers for the report's trigger table: crude and adjusted side by side, the word."""
        def share(k: int, n: int) -> str:
            return f"{k}/{n} ({100 * k / n:.0f}%)" if n else "0/0"

        def ratio(r: float, low: float, high: float) -> str:
            return f"{format_ratio(r)} ({format_ratio(low)}-{format_ratio(high)})"

        label = self.label if self.outcome == PRIMARY_OUTCOME else f"{self.label} ({self.outcome.replace('_', '/')})"
        ok = self.status == "ok"
        adj = self.adjusted
        est = adj.estimate if adj is not None else None
        word = self.word
        if not ok:
            reading = NOT_ENOUGH
        elif word in ("clear", "likely"):
            reading = f"{word}: {'more' if (est.ratio if est else self.rate_ratio) > 1 else 'fewer'} symptoms with it"
        elif word == "unclear":
            reading = "unclear: the data cannot tell yet"
        else:
            reading = "no sign of an effect"
        adjusted_for = list(est.adjusted_for) if est is not None else []
        p_adj = adj.p_adjusted if adj is not None else self.p_adjusted
        return {
            "trigger_id": self.trigger_id, "outcome": self.outcome, "label": label[:1].upper() + label[1:],
            "with_text": share(self.events_exposed, self.n_exposed),
            "without_text": share(self.events_unexposed, self.n_unexposed),
            "ratio_text": ratio(self.rate_ratio, *self.interval) if ok else "-",
            "adjusted_text": ratio(est.ratio, est.low, est.high) if ok and est is not None else "-",
            "adjusted_for": [TRIGGER_BY_ID[a].label for a in adjusted_for if a in TRIGGER_BY_ID],
            "adjusted_method": est.method if ok and est is not None else None,
            "adjusted_n": est.n if ok and est is not None else None,
            "p_text": "-" if p_adj is None else f"{p_adj:.2g}", "reading": reading, "word": word,
            "n": self.n, "status": self.status,
            "rate_ratio": self.rate_ratio if ok else None,
            "interval": list(self.interval) if ok else None,
            "adjusted_ratio": est.ratio if ok and est is not None else None,
            "adjusted_interval": [est.low, est.high] if ok and est is not None else None,
            "p_value": adj.p_value if adj is not None else self.p_value, "p_adjusted": p_adj,
            "crude_p_fisher": self.p_value, "crude_p_fisher_holm": self.p_adjusted, "n_tested": self.n_tested,
            "test": "week-blocked permutation" if adj is not None else "fisher-exact-two-sided",
            "permutations": adj.permutations if adj is not None else None,
            "aliased_with": [TRIGGER_BY_ID[a].label for a in adj.aliased_with] if adj is not None else [],
            "aliased_ids": list(adj.aliased_with) if adj is not None else [],
            "merged": [TRIGGER_BY_ID[m].label for m in adj.merged] if adj is not None else [],
            "merged_into": adj.merged_into if adj is not None else None,
            "claim_id": self.claim_id,
        }


def format_ratio(value: float) -> str:
    """A ratio with two significant digits, without an exponent (``150`` rather than ``1.5e+02``)."""
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.2g}"


def entry_has_symptoms(entry: LogEntry) -> bool | None:
    """Whether any GI symptom on ``entry`` is >= :data:`SYMPTOM_THRESHOLD`; ``None`` when none was scored."""
    score = entry.max_symptom()
    return None if score is None else score >= SYMPTOM_THRESHOLD


# -- red flags -----------------------------------------------------------------------------------------------------
def screen_red_flags(entries: Iterable[LogEntry]) -> list[Finding]:
    """Screen the whole log for red flags; each returned finding outranks every other finding.

    Findings (domain ``red_flag``, claim ``red-flags-see-a-doctor``, ``detail["dates"]`` = the days involved):

    - ``red_flag.blood_in_stool``: any entry with blood in the stool;
    - ``red_flag.black_stool``: any entry with black stool;
    - ``red_flag.gi_bleeding_during_exercise``: blood in the stool on a day with an entry linked to an activity;
    - ``red_flag.bowel_habit_change``: a sustained change in bowel habit. Days are grouped in 7-day weeks counted
      from the first day with a Bristol score or stool frequency. A week is *changed* when it has at least
      3 days with that measure and either its median Bristol score differs by >= 2 from the baseline median, or
      its mean stool frequency is at least double (and >= 1/day more) or at most half (and >= 1/day less) the
      baseline mean. The baseline is every day before the run, and needs at least 14 recorded days. The flag
      is raised when 3 consecutive weeks (>= 3 weeks) are changed; a week without enough records breaks the run;
    - ``red_flag.<field>`` for every other item of the red-flag checklist answered "yes" on any entry
      (:data:`~gutstride.model.log_entry.RED_FLAG_CHECKLIST`: weight loss, anaemia, vomiting, difficulty swallowing,
      symptoms at night or on rest days), and ``red_flag.bowel_habit_change_reported`` for a change in bowel habit
      the person reported.
    """
    entries = sorted(entries, key=lambda e: (e.day, e.activity_ref))
    blood = sorted({e.day for e in entries if e.blood_in_stool})
    black = sorted({e.day for e in entries if e.black_stool})
    exercise_days = {e.day for e in entries if e.activity_start is not None}
    out: list[Finding] = []
    if blood:
        out.append(_flag("red_flag.blood_in_stool", "Blood in stool recorded", blood))
    if black:
        out.append(_flag("red_flag.black_stool", "Black stool recorded", black))
    bleeding = [d for d in blood if d in exercise_days]
    if bleeding:
        out.append(_flag("red_flag.gi_bleeding_during_exercise", "Blood in stool on a training day", bleeding))
    runs = _bowel_changes(entries)
    if runs:
        days = sorted({d for run in runs for d in run["dates"]})
        finding = _flag("red_flag.bowel_habit_change", "Bowel habit changed for 3 weeks or more", days)
        summary = finding.summary + "; " + "; ".join(run["summary"] for run in runs)
        shown = [{**run, "dates": [d.isoformat() for d in run["dates"]]} for run in runs]
        out.append(replace(finding, summary=summary, detail={**finding.detail, "runs": shown}))
    for name, question in RED_FLAG_CHECKLIST:
        if name in ("blood_in_stool", "black_stool"):
            continue  # flagged above
        days = sorted({e.day for e in entries if getattr(e, name)})
        if days:
            flag_id = "red_flag.bowel_habit_change_reported" if name == "bowel_habit_change" else f"red_flag.{name}"
            out.append(_flag(flag_id, f"{question} reported", days))
    return out


def red_flag_screening(entries: Iterable[LogEntry]) -> list[dict[str, Any]]:
    """The state of each red-flag checklist item over the whole log: a blank is "not screened", not "no".

    Returns one dict per item of :data:`~gutstride.model.log_entry.RED_FLAG_CHECKLIST`: ``field``, ``question``,
    ``status`` (``"positive"`` if ever answered yes, ``"negative"`` if answered and never yes, ``"not screened"``
    if never recorded), ``last_answered`` (ISO date or ``None``), ``positive_days`` and a ``text`` for reports.
    """
    entries = list(entries)
    out = []
    for name, question in RED_FLAG_CHECKLIST:
        answered = sorted(e.day for e in entries if getattr(e, name) is not None)
        positive = sorted({e.day for e in entries if getattr(e, name)})
        if positive:
            status, text = "positive", f"yes, recorded on {', '.join(d.isoformat() for d in positive[:5])}"
        elif answered:
            status, text = "negative", f"no (last answered {answered[-1].isoformat()})"
        else:
            status, text = "not screened", "not screened: never recorded"
        out.append({"field": name, "question": question, "status": status, "text": text,
                    "last_answered": answered[-1].isoformat() if answered else None,
                    "positive_days": [d.isoformat() for d in positive]})
    return out


def _flag(flag_id: str, what: str, days: Sequence[date]) -> Finding:
    shown = ", ".join(d.isoformat() for d in days[:10]) + (" ..." if len(days) > 10 else "")
    noun = "day" if len(days) == 1 else "days"
    return Finding(
        id=flag_id, domain="red_flag", summary=f"{what} on {len(days)} {noun} ({shown})", value=float(len(days)),
        unit="days", direction="present", n=len(days), period_start=days[0], period_end=days[-1],
        claim_id=RED_FLAG_CLAIM, detail={"dates": [d.isoformat() for d in days]},
    )


def _daily(entries: Sequence[LogEntry], name: str) -> dict[date, float]:
    by_day: dict[date, list[float]] = {}
    for entry in entries:
        value = getattr(entry, name)
        if value is not None:
            by_day.setdefault(entry.day, []).append(float(value))
    return {day: median(values) for day, values in by_day.items()}


def _bowel_changes(entries: Sequence[LogEntry]) -> list[dict[str, Any]]:
    bristol, frequency = _daily(entries, "bristol"), _daily(entries, "stool_frequency")
    days = sorted(set(bristol) | set(frequency))
    if not days:
        return []
    first = days[0]
    n_weeks = (days[-1] - first).days // 7 + 1
    # per measure, (week, value) in the days' order and the values of each week, computed once
    measures = []
    for series, kind in ((bristol, "bristol"), (frequency, "frequency")):
        pairs = [((d - first).days // 7, v) for d, v in series.items()]
        by_week: dict[int, list[float]] = {}
        for week, value in pairs:
            by_week.setdefault(week, []).append(value)
        measures.append((kind, pairs, by_week))

    def baseline(start: int) -> list[tuple[int, float]]:
        """Per measure, the number of days before week ``start`` and their median (Bristol) or mean (frequency)."""
        out = []
        for kind, pairs, _ in measures:
            base = [v for week, v in pairs if week < start]
            out.append((len(base), (median(base) if kind == "bristol" else sum(base) / len(base)) if base else 0.0))
        return out

    def changed(week: int, base: list[tuple[int, float]]) -> str | None:
        """Why ``week`` differs from the baseline ``base`` (of all days before the run; None if it does not)."""
        reasons = []
        for (kind, _, by_week), (n_base, b) in zip(measures, base, strict=True):
            this = by_week.get(week, [])
            if n_base < BOWEL_MIN_BASELINE_DAYS or len(this) < BOWEL_MIN_WEEK_DAYS:
                continue
            if kind == "bristol":
                w = median(this)
                if abs(w - b) >= BRISTOL_SHIFT:
                    reasons.append(f"median Bristol {w:g} vs {b:g} before")
            else:
                w = sum(this) / len(this)
                if (w >= 2 * b and w - b >= 1) or (w <= b / 2 and b - w >= 1):
                    reasons.append(f"{w:.1f} stools/day vs {b:.1f} before")
        return "; ".join(reasons) or None

    runs: list[dict[str, Any]] = []
    start = 1
    while start + BOWEL_WEEKS <= n_weeks:
        base = baseline(start)
        reasons = [changed(w, base) for w in range(start, start + BOWEL_WEEKS)]
        if all(reasons):
            end = start + BOWEL_WEEKS
            while end < n_weeks and changed(end, base):
                end += 1
            run_days = [d for d in days if start <= (d - first).days // 7 < end]
            period = f"{first + timedelta(weeks=start)} to {first + timedelta(weeks=end, days=-1)}"
            runs.append({"dates": run_days, "weeks": end - start, "summary": f"{period}: {reasons[0]}"})
            start = end
        else:
            start += 1
    return runs


# -- triggers ------------------------------------------------------------------------------------------------------
#: Symptom timings that count for the session (during it, or within 2 h after it).
COUNTING_TIMINGS = ("during", "within_2h")
#: Key of a session record saying which rule credited its symptoms: "timing" or "same_day".
TIMING_RULE = "timing_rule"
#: Column names of the training sessions table accepted in place of the documented ones.
COLUMN_ALIASES = {"local_date": "day", "share_above_70": "share_above_70pct_hrmax"}


def _sessions_table(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the documented column names (renaming :data:`COLUMN_ALIASES`) and ``day`` as dates."""
    renames = {old: new for old, new in COLUMN_ALIASES.items() if old in frame and new not in frame}
    out = frame.rename(columns=renames)
    if "day" not in out:  # no local date: the UTC date of the start
        stamps = [_epoch(t) for t in out.get("start_time", [None] * len(out))]
        out = out.assign(day=[None if t != t else datetime.fromtimestamp(t, UTC).date() for t in stamps])
    return out.assign(day=[_as_date(d) for d in out["day"]])


def _as_date(value: Any) -> date | None:
    if _missing(value):
        return None
    return value.date() if isinstance(value, datetime) else value


def session_records(exposures: pd.DataFrame, entries: Iterable[LogEntry]) -> list[dict[str, Any]]:
    """One dict per session: its exposure columns overlaid with its day entry, then its linked entry."""
    entries = list(entries)
    day_entries = {e.day: e for e in entries if e.activity_start is None}
    linked = [e for e in entries if e.activity_start is not None]
    records = _sessions_table(exposures).to_dict("records")
    starts = [_epoch(r.get("start_time")) for r in records]
    order = sorted((i for i, t in enumerate(starts) if t == t), key=starts.__getitem__)
    ordered = [starts[i] for i in order]
    links: dict[int, LogEntry] = {}
    for entry in linked:
        assert entry.activity_start is not None
        when = entry.activity_start.timestamp()
        at = bisect_left(ordered, when)
        near = [j for j in (at - 1, at) if 0 <= j < len(ordered)]
        best = min(near, key=lambda j: abs(ordered[j] - when), default=None)
        if best is not None and abs(ordered[best] - when) <= LINK_TOLERANCE_S:
            links[order[best]] = entry
    overlays: dict[int, dict[str, Any]] = {}  # per entry (by id), the fields it lays over a session

    def overlay(source: LogEntry) -> dict[str, Any]:
        if id(source) not in overlays:
            fields = source.data()
            if source.max_symptom() is not None:  # scored symptoms replace the day's, as a set
                counts = source.symptom_timing is None or source.symptom_timing in COUNTING_TIMINGS
                fields.update({s: getattr(source, s) if counts else 0 for s in SYMPTOMS})
                fields[TIMING_RULE] = "same_day" if source.symptom_timing is None else "timing"
            overlays[id(source)] = fields
        return overlays[id(source)]

    out = []
    for i, record in enumerate(records):
        session = dict(record)
        for source in (day_entries.get(record["day"]), links.get(i)):
            if source is not None:
                session.update(overlay(source))
        out.append(session)
    return out


def _epoch(value: Any) -> float:
    """Seconds since the epoch of a (naive = UTC) datetime or Timestamp; NaN when missing."""
    if _missing(value):
        return math.nan
    moment = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
    return datetime.fromisoformat(format_utc(moment).replace("Z", "+00:00")).timestamp()


#: Outcomes analysed besides ``gi_any``: the upper and lower GI sub-scales, kept apart, then each symptom.
SECONDARY_OUTCOMES: tuple[str, ...] = ("upper_gi", "lower_gi", *SYMPTOMS)
_OUTCOME_ITEMS: dict[str, tuple[str, ...]] = {PRIMARY_OUTCOME: SYMPTOMS, "upper_gi": UPPER_GI, "lower_gi": LOWER_GI}


def session_outcome(session: dict[str, Any], outcome: str) -> bool | None:
    """Whether a session record (from :func:`session_records`) is symptomatic for ``outcome`` (``gi_any``,
    ``upper_gi``, ``lower_gi`` or one symptom); ``None`` when none of its symptoms was scored."""
    names = _OUTCOME_ITEMS.get(outcome, (outcome,))
    scores = [session[s] for s in names if session.get(s) is not None]
    return None if not scores else max(scores) >= SYMPTOM_THRESHOLD


def _indicators(sessions: list[dict[str, Any]]) -> tuple[dict[str, list[bool | None]], dict[str, list[bool | None]]]:
    """Per trigger and per outcome, one value per session (``None`` = unknown)."""
    outcomes = {o: [session_outcome(s, o) for s in sessions] for o in (PRIMARY_OUTCOME, *SECONDARY_OUTCOMES)}
    exposures = {t.id: [t.exposed(s) for s in sessions] for t in TRIGGERS}
    return exposures, outcomes


def exposures_from_sessions(sessions: pd.DataFrame, activities: pd.DataFrame | None = None) -> pd.DataFrame:
    """The ``exposures`` table from the training sessions table (and the activities table for missing values).

    Columns out: ``activity_id``, ``start_time``, ``day``, ``sport``, ``share_above_70pct_hrmax``, ``duration_s``,
    ``avg_temp_c`` (plus ``dehydrated`` when the sessions have it). A session without a temperature takes its
    activity's ``avg_temp_c`` (matched on ``activity_id`` = ``id``).
    """
    import pandas as pd

    table = _sessions_table(sessions)
    out = pd.DataFrame({
        "activity_id": table.get("activity_id", pd.Series([None] * len(table), index=table.index)),
        "start_time": table.get("start_time", pd.Series([None] * len(table), index=table.index)),
        "day": table["day"],
        "sport": table.get("sport", pd.Series([None] * len(table), index=table.index)),
    })
    for column in ("share_above_70pct_hrmax", "duration_s", "avg_temp_c"):
        out[column] = table.get(column, pd.Series(float("nan"), index=table.index)).astype(float)
    if "dehydrated" in table:
        out["dehydrated"] = table["dehydrated"]
    if activities is not None and len(activities) and {"id", "avg_temp_c"} <= set(activities):
        temps = dict(zip(activities["id"], activities["avg_temp_c"].astype(float), strict=True))
        fill = out["activity_id"].map(temps).astype(float)
        out["avg_temp_c"] = out["avg_temp_c"].fillna(fill)
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class TriggerAnalysis:
    """Every trigger result plus how the symptoms were credited to sessions, and the session records used (from
    :func:`session_records`, to be passed on to :func:`subscale_counts` and
    :func:`~gutstride.analysis.experiments.experiment_results` rather than joined again)."""

    results: list[TriggerResult]
    timing_rules: dict[str, int]  # sessions with scored symptoms credited by "timing" and by "same_day"
    sessions: list[dict[str, Any]] = field(default_factory=list)


def trigger_analysis(
    exposures: pd.DataFrame, entries: Iterable[LogEntry], min_sessions: int = 5, alpha: float = 0.05,
    permutations: int = PERMUTATIONS, seed: int = 0,
) -> list[TriggerResult]:
    """Symptom rate with and without each candidate trigger, for one person (see the module docstring).

    Parameters
    ----------
    exposures
        One row per session: ``start_time`` (UTC), ``day``, ``share_above_70pct_hrmax``, ``duration_s``,
        ``avg_temp_c``, optionally ``dehydrated``.
    entries
        The person's log.
    min_sessions
        Minimum exposed and minimum unexposed sessions for a trigger to be tested.
    alpha
        Family-wise error rate of the Holm-adjusted tests, and 1 - level of the intervals.
    permutations, seed
        Of the week-blocked permutation test (:mod:`gutstride.analysis.adjusted`).

    Returns
    -------
    list of TriggerResult
        The ``gi_any`` results in :data:`TRIGGERS` order (with their adjusted readings), then trigger x
        single-symptom results.
    """
    return analyse_triggers(exposures, entries, min_sessions, alpha, permutations, seed).results


def analyse_triggers(
    exposures: pd.DataFrame, entries: Iterable[LogEntry], min_sessions: int = 5, alpha: float = 0.05,
    permutations: int = PERMUTATIONS, seed: int = 0,
) -> TriggerAnalysis:
    """:func:`trigger_analysis`, plus the count of sessions whose symptoms were credited by each timing rule."""
    sessions = session_records(exposures, entries)
    xs, ys = _indicators(sessions)
    days = [s["day"] for s in sessions]
    # each indicator as (known, true) arrays, built once for the 220 tables
    x_arrays, y_arrays = ({name: _known_true(v) for name, v in d.items()} for d in (xs, ys))

    def result(trigger: Trigger, outcome: str) -> TriggerResult:
        return _result(trigger, outcome, x_arrays[trigger.id], y_arrays[outcome], days, min_sessions, alpha)

    primary = _holm([result(t, PRIMARY_OUTCOME) for t in TRIGGERS], alpha)
    tested = [r.trigger_id for r in primary if r.status == "ok"]
    adjusted = adjust_triggers(xs, ys[PRIMARY_OUTCOME], days, tested, {t.id: t.group for t in TRIGGERS},
                               min_sessions, alpha, permutations, seed)
    primary = [
        replace(r, adjusted=adjusted[r.trigger_id], significant=adjusted[r.trigger_id].word == "clear")
        if r.trigger_id in adjusted else r
        for r in primary
    ]
    per_symptom = [result(t, s) for s in SECONDARY_OUTCOMES for t in TRIGGERS]
    rules = {"timing": 0, "same_day": 0}
    for session in sessions:
        if session.get(TIMING_RULE) in rules:
            rules[session[TIMING_RULE]] += 1
    return TriggerAnalysis(primary + _holm(per_symptom, alpha), rules, sessions)


def _known_true(values: list[bool | None]) -> tuple[np.ndarray, np.ndarray]:
    """Whether each value is known, and whether it is true (``None`` = unknown)."""
    return np.array([v is not None for v in values], dtype=bool), np.array([bool(v) for v in values], dtype=bool)


def _result(trigger: Trigger, outcome: str, x: tuple[np.ndarray, np.ndarray], y: tuple[np.ndarray, np.ndarray],
            all_days: list[date], min_sessions: int, alpha: float) -> TriggerResult:
    """The 2 x 2 table of ``trigger`` and ``outcome`` over the sessions where both are known, and its statistics.

    ``x`` and ``y`` are (known, true) arrays of the trigger and the outcome (:func:`_known_true`), ``all_days``
    the sessions' days.
    """
    used = x[0] & y[0]
    exposed, unexposed = used & x[1], used & ~x[1]
    n1, n0 = int(np.count_nonzero(exposed)), int(np.count_nonzero(unexposed))
    a, c = int(np.count_nonzero(exposed & y[1])), int(np.count_nonzero(unexposed & y[1]))

    def day(index: np.ndarray, pick: Callable[..., date | None]) -> date | None:
        return pick([all_days[i] for i in np.flatnonzero(index)], default=None)

    ratio, low, high, corrected = katz_rate_ratio(a, n1, c, n0, alpha)
    enough = n1 >= min_sessions and n0 >= min_sessions
    p_value = fisher_exact_two_sided(a, n1, c, n0) if enough else None
    return TriggerResult(
        trigger_id=trigger.id, label=trigger.label, claim_id=trigger.claim_id, outcome=outcome, n=n1 + n0,
        n_exposed=n1, n_unexposed=n0, events_exposed=a, events_unexposed=c,
        rate_exposed=a / n1 if n1 else math.nan, rate_unexposed=c / n0 if n0 else math.nan, rate_ratio=ratio,
        interval=(low, high), status="ok" if enough else NOT_ENOUGH, p_value=p_value,
        continuity_corrected=corrected, period_start=day(used, min), period_end=day(used, max),
        alpha=alpha, last_exposed=day(exposed, max),
    )


def _holm(results: list[TriggerResult], alpha: float) -> list[TriggerResult]:
    tested = [i for i, r in enumerate(results) if r.p_value is not None]
    adjusted = holm_adjust([results[i].p_value or 0.0 for i in tested])
    out = [replace(r, n_tested=len(tested)) for r in results]
    for i, p_adj in zip(tested, adjusted, strict=True):
        out[i] = replace(out[i], p_adjusted=p_adj, significant=p_adj < alpha)
    return out


# -- trend ---------------------------------------------------------------------------------------------------------
TREND_COLUMNS = ("period_start", "period_end", "days_logged", "symptom_days", "symptom_rate", "sessions",
                 "long_sessions", "intensity_share")


def symptom_trend(entries: Iterable[LogEntry], sessions: pd.DataFrame) -> pd.DataFrame:
    """Symptom rate and training per 4-week period (28 days from the first log or session day).

    Columns: ``period_start``, ``period_end``, ``days_logged`` (days with any symptom scored), ``symptom_days``
    (days with a symptom >= 3), ``symptom_rate`` (their ratio, NaN with no logged day), ``sessions``,
    ``long_sessions`` (> 90 min) and ``intensity_share`` (duration-weighted mean share of time above 70% HRmax,
    NaN without heart-rate data).
    """
    import pandas as pd

    worst: dict[date, bool] = {}  # per logged day: any symptomatic entry
    for entry in entries:
        flag = entry_has_symptoms(entry)
        if flag is not None:
            worst[entry.day] = worst.get(entry.day, False) or flag
    sessions = _sessions_table(sessions)
    session_days = list(sessions["day"])
    all_days = list(worst) + [d for d in session_days if d is not None]
    if not all_days:
        return pd.DataFrame({name: [] for name in TREND_COLUMNS})
    first = min(all_days)
    n_periods = (max(all_days) - first).days // 28 + 1
    rows = []
    logged_by_period: list[list[bool]] = [[] for _ in range(n_periods)]
    for d, s in worst.items():
        logged_by_period[(d - first).days // 28].append(s)
    period = np.array([-1 if d is None else (d - first).days // 28 for d in session_days], dtype=np.int64)
    nan = np.full(len(sessions), np.nan)
    share_all = np.asarray(sessions.get("share_above_70pct_hrmax", nan), dtype=float)
    duration_all = np.asarray(sessions.get("duration_s", nan), dtype=float)
    known_all = ~np.isnan(share_all) & (duration_all > 0)  # NaN > 0 is False
    for k in range(n_periods):
        start = first + timedelta(days=28 * k)
        logged = logged_by_period[k]
        hits = sum(logged)
        in_period = period == k
        known = in_period & known_all
        share, duration = share_all[known], duration_all[known]
        intensity = float((share * duration).sum() / duration.sum()) if known.any() else np.nan
        rows.append({
            "period_start": start, "period_end": start + timedelta(days=27), "days_logged": len(logged),
            "symptom_days": hits, "symptom_rate": hits / len(logged) if logged else np.nan,
            "sessions": int(in_period.sum()), "long_sessions": int((duration_all[in_period] > 90 * 60).sum()),
            "intensity_share": intensity,
        })
    return pd.DataFrame(rows, columns=list(TREND_COLUMNS))


# -- findings ------------------------------------------------------------------------------------------------------
def symptom_findings(
    results: Sequence[TriggerResult], red_flags: Sequence[Finding], trend: pd.DataFrame, min_observations: int = 5
) -> list[Finding]:
    """Findings for the report: red flags first, then ``symptoms.rate``, then one ``symptoms.trigger.<id>`` each.

    A trigger's direction is ``above`` when its word is "clear" with an adjusted risk ratio > 1, the one reading
    whose family-wise error rate is controlled, so the only one that triggers advice ("likely" ones lead to an
    experiment instead; ``detail["word"]`` holds the word) (or,
    without an adjusted reading, when its Holm-adjusted test rejects at ``alpha`` with a ratio > 1), ``within``
    otherwise, and ``not_enough_data`` when it was not tested or rests on fewer than ``min_observations``
    sessions. A duration threshold merged into a better-supported one yields no finding of its own. Trigger findings
    come ranked (see :func:`rank_score`), with ``detail["rank"]`` from 1. ``symptoms.rate`` is the share of logged
    days with a GI symptom >= 3 with its Clopper-Pearson (exact binomial) 95% interval; direction
    ``present``/``absent``, or ``not_enough_data``.
    """
    out = list(red_flags)
    out.append(_rate_finding(trend, min_observations))
    primary = [r for r in results if r.outcome == PRIMARY_OUTCOME
               and (r.adjusted is None or r.adjusted.merged_into is None)]
    today = max((r.period_end for r in primary if r.period_end), default=None)
    triggers = [_trigger_finding(r, min_observations, today) for r in primary]
    triggers.sort(key=lambda f: (f.direction == "not_enough_data", -f.detail["rank_score"]))
    out += [replace(f, detail={**f.detail, "rank": i}) for i, f in enumerate(triggers, start=1)]
    return out


#: Order of the words in the ranking.
WORD_LEVEL = {"clear": 3, "likely": 2, "unclear": 1, "no sign": 0, NOT_ENOUGH: -1}
#: Half-life (days) of the recency weight in :func:`rank_score`.
RECENCY_HALF_LIFE_DAYS = 180


def rank_score(r: TriggerResult, today: date | None) -> float:
    """How high the trigger ranks in the headline: the person's own adjusted effect, its precision, its recency.

    :math:`z = \\ln RR_{adj} / SE` with :math:`SE = (\\ln high - \\ln low) / (2 z_{0.975})` (effect over its
    uncertainty), times a recency weight :math:`0.5 + 0.5 \\cdot 2^{-d/180}` where ``d`` is the number of days
    from the last session with the trigger to the end of the data; then ``+ 100 x`` the word's level (clear 3,
    likely 2, unclear 1, no sign 0) so that a clearer finding always ranks higher, and ``+ 0.01 x`` how
    changeable it is (0-2), which only breaks ties. The literature's certainty plays no part.
    """
    est = r.adjusted.estimate if r.adjusted is not None else None
    level = WORD_LEVEL.get(r.word, -1)
    if r.status != "ok" or est is None or not (est.low > 0 and math.isfinite(est.high) and est.high > est.low):
        return 100.0 * level
    se = (math.log(est.high) - math.log(est.low)) / (2 * NormalDist().inv_cdf(0.975))
    z = math.log(est.ratio) / se
    days = (today - r.last_exposed).days if today and r.last_exposed else 0
    recency = 0.5 + 0.5 * 2 ** (-days / RECENCY_HALF_LIFE_DAYS)
    changeable = TRIGGER_BY_ID[r.trigger_id].changeable if r.trigger_id in TRIGGER_BY_ID else 0
    return 100.0 * level + z * recency + 0.01 * changeable


def subscale_counts(exposures: pd.DataFrame, entries: Iterable[LogEntry],
                    records: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Sessions with symptoms on each sub-scale, kept apart: ``outcome`` (``upper_gi``, ``lower_gi``), ``items``,
    ``sessions`` (with that sub-scale scored) and ``symptomatic`` (an item >= :data:`SYMPTOM_THRESHOLD`).

    ``records`` may give :func:`session_records` of ``exposures`` and ``entries`` when already computed.
    """
    if records is None:
        records = session_records(exposures, entries)
    out = []
    for outcome in ("upper_gi", "lower_gi"):
        values = [v for v in (session_outcome(r, outcome) for r in records) if v is not None]
        out.append({"outcome": outcome, "items": list(_OUTCOME_ITEMS[outcome]), "sessions": len(values),
                    "symptomatic": sum(values)})
    return out


def rest_day_finding(entries: Iterable[LogEntry], exposures: pd.DataFrame, min_observations: int = 5,
                     alpha: float = 0.05) -> Finding:
    """``symptoms.rest_days``: symptoms on logged rest days against logged training days.

    A day counts when any GI symptom was scored on it (any entry); it is symptomatic when one is >=
    :data:`SYMPTOM_THRESHOLD`, and a training day when a session started on it. ``value`` is the risk ratio
    training days / rest days with its Katz interval; the p-value is Fisher's exact test. Direction ``above`` when
    training days are more often symptomatic (p < ``alpha``), ``within`` otherwise: symptoms as frequent on rest
    days point away from exercise as their cause. ``not_enough_data`` below ``min_observations`` days of either kind.
    """
    worst: dict[date, bool] = {}
    for entry in entries:
        flag = entry_has_symptoms(entry)
        if flag is not None:
            worst[entry.day] = worst.get(entry.day, False) or flag
    training = set(_sessions_table(exposures)["day"]) if len(exposures) else set()
    n1 = sum(1 for d in worst if d in training)
    a = sum(1 for d, flag in worst.items() if flag and d in training)
    n0 = len(worst) - n1
    c = sum(1 for d, flag in worst.items() if flag and d not in training)
    days = sorted(d for d in worst if d not in training)
    if min(n1, n0) < min_observations:
        return Finding(id="symptoms.rest_days", domain="symptoms", direction="not_enough_data", n=n1 + n0,
                       summary=(f"Symptoms on rest days: {NOT_ENOUGH} ({n0} rest days and {n1} training days with "
                                f"symptoms scored; at least {min_observations} of each needed)"),
                       detail={"rest_days": n0, "training_days": n1})
    ratio, low, high, _ = katz_rate_ratio(a, n1, c, n0, alpha)
    p_value = fisher_exact_two_sided(a, n1, c, n0)
    return Finding(
        id="symptoms.rest_days", domain="symptoms",
        summary=(f"GI symptoms on {c} of {n0} logged rest days ({100 * c / n0:.0f}%) and {a} of {n1} training days "
                 f"({100 * a / n1:.0f}%); risk ratio training/rest {format_ratio(ratio)} ({100 * (1 - alpha):.0f}% "
                 f"CI {format_ratio(low)}-{format_ratio(high)}), Fisher p = {p_value:.2g}"),
        value=ratio, threshold=1.0, unit="risk ratio", direction="above" if p_value < alpha and ratio > 1 else "within",
        n=n1 + n0, period_start=days[0] if days else None, period_end=days[-1] if days else None,
        interval=(low, high),
        detail={"rest_days": n0, "rest_days_symptomatic": c, "training_days": n1, "training_days_symptomatic": a,
                "p_fisher": p_value},
    )


def _rate_finding(trend: pd.DataFrame, min_observations: int) -> Finding:
    n, k = int(trend["days_logged"].sum()), int(trend["symptom_days"].sum())
    low, high = clopper_pearson(k, n) if n else (0.0, 1.0)
    rate = k / n if n else None
    enough = n >= min_observations
    summary = (
        f"GI symptoms (a score of {SYMPTOM_THRESHOLD}+ of 10) on {k} of {n} logged days"
        + (f" ({100 * k / n:.0f}%, 95% CI {100 * low:.0f}-{100 * high:.0f}%)" if n else "")
        + ("" if enough else f"; not enough data yet (need {min_observations} logged days)")
    )
    periods = trend.assign(period_start=trend["period_start"].astype(str), period_end=trend["period_end"].astype(str))
    return Finding(
        id="symptoms.rate", domain="symptoms", summary=summary, value=rate, unit="share of logged days",
        direction=("present" if k else "absent") if enough else "not_enough_data", n=n,
        period_start=trend["period_start"].min() if len(trend) else None,
        period_end=trend["period_end"].max() if len(trend) else None, interval=(low, high),
        detail={"trend": periods.to_dict("records"), "threshold_score": SYMPTOM_THRESHOLD},
    )


def _trigger_finding(r: TriggerResult, min_observations: int, today: date | None = None) -> Finding:
    enough = r.status == "ok" and r.n >= min_observations
    adj = r.adjusted
    est = adj.estimate if adj is not None else None
    direction: Direction
    if not enough:
        direction = "not_enough_data"
        summary = (f"Sessions {r.label}: {NOT_ENOUGH} ({r.n_exposed} with, {r.n_unexposed} without; "
                   f"at least {min_observations} of each needed)")
    elif adj is not None and est is not None:
        direction = "above" if r.word == "clear" and est.ratio > 1 else "within"
        adjusted = ("no other trigger to adjust for" if not est.adjusted_for else
                    f"adjusted for {', '.join(TRIGGER_BY_ID[a].label for a in est.adjusted_for)} "
                    f"{est.ratio:.2g} ({est.low:.2g}-{est.high:.2g}, n = {est.n})")
        aliased = ("; cannot be told apart from " + ", ".join(TRIGGER_BY_ID[a].label for a in adj.aliased_with)
                   if adj.aliased_with else "")
        summary = (
            f"{r.word[:1].upper()}{r.word[1:]}: GI symptoms after {r.events_exposed} of {r.n_exposed} sessions "
            f"{r.label} ({100 * r.rate_exposed:.0f}%) vs {r.events_unexposed} of {r.n_unexposed} without "
            f"({100 * r.rate_unexposed:.0f}%); risk ratio {r.rate_ratio:.2g} "
            f"({100 * (1 - r.alpha):.0f}% CI {r.interval[0]:.2g}-{r.interval[1]:.2g}), {adjusted}; week-blocked "
            f"permutation p = {adj.p_value:.2g}, Holm-adjusted {adj.p_adjusted:.2g} over {r.n_tested} triggers"
            f"{aliased}"
        )
    else:
        direction = "above" if r.significant and r.rate_ratio > 1 else "within"
        summary = (
            f"GI symptoms after {r.events_exposed} of {r.n_exposed} sessions {r.label} "
            f"({100 * r.rate_exposed:.0f}%) vs {r.events_unexposed} of {r.n_unexposed} without "
            f"({100 * r.rate_unexposed:.0f}%); risk ratio {r.rate_ratio:.2g} "
            f"({100 * (1 - r.alpha):.0f}% CI {r.interval[0]:.2g}-{r.interval[1]:.2g}), Holm-adjusted p = "
            f"{r.p_adjusted:.2g} over {r.n_tested} triggers tested"
        )
    trigger = TRIGGER_BY_ID.get(r.trigger_id)
    return Finding(
        # below the minimum the (corrected) ratio and interval say nothing, so the finding carries neither
        id=f"symptoms.trigger.{r.trigger_id}", domain="symptoms", summary=summary,
        value=(est.ratio if est is not None else r.rate_ratio) if enough else None, threshold=1.0,
        unit="risk ratio", direction=direction, n=r.n, period_start=r.period_start, period_end=r.period_end,
        claim_id=r.claim_id, interval=((est.low, est.high) if est is not None else r.interval) if enough else None,
        detail={
            "label": r.label, "word": r.word, "rank_score": rank_score(r, today),
            "changeable": trigger.changeable if trigger else 0,
            "last_exposed": r.last_exposed.isoformat() if r.last_exposed else None,
            "n_exposed": r.n_exposed, "n_unexposed": r.n_unexposed, "events_exposed": r.events_exposed,
            "events_unexposed": r.events_unexposed, "rate_exposed": r.rate_exposed,
            "rate_unexposed": r.rate_unexposed,
            "crude": {"ratio": r.rate_ratio, "interval": list(r.interval), "interval_method": "katz-log",
                      "continuity_corrected": r.continuity_corrected, "p_fisher": r.p_value,
                      "p_fisher_holm": r.p_adjusted},
            "adjusted": est.to_dict() if est is not None else None,
            "p_value": adj.p_value if adj is not None else r.p_value,
            "p_adjusted": adj.p_adjusted if adj is not None else r.p_adjusted,
            "test": "week-blocked permutation (CMH score)" if adj is not None else "fisher-exact-two-sided",
            "permutations": adj.permutations if adj is not None else None,
            "adjustment": r.adjustment, "n_tested": r.n_tested,
            "aliased_with": list(adj.aliased_with) if adj is not None else [],
            "merged_thresholds": list(adj.merged) if adj is not None else [],
            "outcome": f"any GI symptom >= {SYMPTOM_THRESHOLD}",
        },
    )
