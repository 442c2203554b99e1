"""Training findings: facts with numbers and the claim each relates to; no advice.

Habit findings cover the most recent ``window_weeks`` (12) weeks with data: ending ``today`` when there is a
session in the 12 weeks before it, else ending at the last session (``detail["period_note"]`` says so). The
detraining finding always ends ``today``. Below ``min_observations`` sessions a finding has direction
``not_enough_data`` (the value is still given).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd

from gutstride.analysis.training.profile import HRMax
from gutstride.analysis.training.weekly import consistency as consistency_of
from gutstride.analysis.training.weekly import daily_load, load_series, longest_idle_run, window_measures
from gutstride.model.finding import Direction, Finding

#: % of HR time above 70% HRmax beyond which intensity is "mostly above 70%".
MOSTLY_PCT = 50.0
MODERATE_PER_WEEK = 2.0
REST_DAYS_PER_WEEK = 1.0
DETRAINING_DAYS = 28
ACWR_SPIKE = 1.5
HR_COVERAGE_PCT = 80.0


def _period(sessions: pd.DataFrame, today: date, window_weeks: int) -> tuple[date, date, str]:
    days = window_weeks * 7
    last = pd.to_datetime(sessions["local_date"]).max().date() if len(sessions) else None
    if last is None or last > today - timedelta(days=days):
        return today - timedelta(days=days - 1), today, f"the last {window_weeks} weeks"
    return last - timedelta(days=days - 1), last, f"the last {window_weeks} weeks with data (to {last})"


def _compare(value: float | None, threshold: float, n: int, min_obs: int) -> Direction:
    if n < min_obs or value is None:
        return "not_enough_data"
    return "above" if value >= threshold else "below"


def training_findings(
    sessions: pd.DataFrame,
    weekly: pd.DataFrame,
    today: date,
    hrmax: HRMax | None = None,
    load: pd.DataFrame | None = None,
    consistency: dict[str, Any] | None = None,
    min_observations: int = 5,
    window_weeks: int = 12,
) -> list[Finding]:
    """The training and HR-coverage findings (ids and claims listed in the module's table below).

    ============================================  ==========================================  =================
    id                                            value                                       threshold
    ============================================  ==========================================  =================
    training.share_above_70pct_hrmax              % of HR time at or above 70% HRmax          50 % ("most")
    training.moderate_sessions_per_week           moderate-cardio sessions per week           2
    training.rest_days_per_week                   days without a session per week             1
    training.prolonged_strenuous_sessions         sessions >= 2 h mostly above 60% VO2max     present/absent
    training.sport_variety                        families among endurance/strength/mobility  2 (endurance and
                                                                                              strength present)
    training.detraining_gap                       longest run of days without a session in    28 days
                                                  the last 26 weeks (ongoing runs included)
    training.heat_sessions                        sessions at >= 25 C                         present/absent
    training.load_spike                           highest acute:chronic ratio                 1.5
    data.hr_coverage                              % of session time with usable HR            80 %
    ============================================  ==========================================  =================

    ``weekly`` (from :func:`~gutstride.analysis.training.weekly.weekly_summary`) goes into ``detail["weeks"]``
    of the per-week findings; ``load`` and ``consistency`` are computed if not given.
    """
    start, end, label = _period(sessions, today, window_weeks)
    m = window_measures(sessions, start, end)
    n = m["n_sessions"]
    base: dict[str, Any] = {"period_start": start, "period_end": end, "n": n}
    note = {"period_note": label}
    in_period = sessions[(pd.to_datetime(sessions["local_date"]) >= pd.Timestamp(start))
                         & (pd.to_datetime(sessions["local_date"]) <= pd.Timestamp(end))] if len(sessions) else sessions
    week_rows = weekly[(weekly["week_start"] >= pd.Timestamp(start) - pd.Timedelta(days=6))
                       & (weekly["week_start"] <= pd.Timestamp(end))] if len(weekly) else weekly
    weeks_detail = [
        {"iso_week": r.iso_week, "sessions": int(r.sessions), "moderate_sessions": int(r.moderate_sessions),
         "rest_days": int(r.rest_days), "pct_above_70": None if pd.isna(r.pct_above_70) else float(r.pct_above_70)}
        for r in week_rows.itertuples()
    ]
    out: list[Finding] = []

    pct = m["pct_above_70"]
    n_hr = m["n_with_hr"]
    hr_info = None if hrmax is None else {"hrmax": hrmax.value, "hrmax_method": hrmax.method}
    out.append(Finding(
        id="training.share_above_70pct_hrmax", domain="training", claim_id="intensity-70pct-hrmax",
        summary=("no session with HR in " + label) if pct is None else
        f"{pct:.0f}% of HR time at or above 70% HRmax over {n_hr} sessions with HR in {label}",
        value=None if pct is None else round(pct, 1), threshold=MOSTLY_PCT, unit="% of HR time",
        direction=_compare(pct, MOSTLY_PCT, n_hr, min_observations),
        detail={**note, "hr": hr_info, "weeks": weeks_detail}, **{**base, "n": n_hr},
    ))
    mod = m["moderate_per_week"]
    out.append(Finding(
        id="training.moderate_sessions_per_week", domain="training", claim_id="moderate-cardio-30-45min-2x-week",
        summary=f"{mod:.1f} moderate cardio sessions (30-45 min, mostly 50-70% HRmax) per week in {label}",
        value=round(mod, 2), threshold=MODERATE_PER_WEEK, unit="sessions/week",
        direction=_compare(mod, MODERATE_PER_WEEK, n, min_observations),
        detail={**note, "weeks": weeks_detail,
                "classified_from": in_period["classified_from"].value_counts().to_dict() if n else {}},
        **base,
    ))
    rest = m["rest_days_per_week"]
    out.append(Finding(
        id="training.rest_days_per_week", domain="training", claim_id="rest-and-recovery",
        summary=f"{rest:.1f} days without a session per week in {label}",
        value=round(rest, 2), threshold=REST_DAYS_PER_WEEK, unit="days/week",
        direction=_compare(rest, REST_DAYS_PER_WEEK, n, min_observations),
        detail={**note, "weeks": weeks_detail}, **base,
    ))
    prolonged = in_period[in_period["is_prolonged_strenuous"].fillna(False).astype(bool)] if n else in_period
    n_long_unknown = int(((in_period["duration_s"] >= 7200) & in_period["is_prolonged_strenuous"].isna()).sum()) \
        if n else 0
    out.append(Finding(
        id="training.prolonged_strenuous_sessions", domain="training",
        claim_id="prolonged-strenuous-exercise-gi-injury",
        summary=f"{len(prolonged)} sessions of 2 h or more mostly above the HR of 60% VO2max in {label}"
        + (f"; {n_long_unknown} more of 2 h or more with unknown intensity" if n_long_unknown else ""),
        value=float(len(prolonged)), threshold=None, unit="sessions",
        direction="not_enough_data" if n < min_observations else ("present" if len(prolonged) else "absent"),
        detail={**note, "dates": [str(d) for d in prolonged["local_date"]], "n_long_unknown": n_long_unknown},
        **base,
    ))
    fam = m["families"]
    kinds = sum(1 for f in ("endurance", "strength", "mobility") if fam[f])
    both = fam["endurance"] > 0 and fam["strength"] > 0
    out.append(Finding(
        id="training.sport_variety", domain="training", claim_id="endurance-plus-strength-diversity",
        summary=f"{fam['endurance']} endurance, {fam['strength']} strength, {fam['mobility']} mobility and "
        f"{fam['other']} other sessions in {label}",
        value=float(kinds), threshold=2.0, unit="families",
        direction="not_enough_data" if n < min_observations else ("present" if both else "absent"),
        detail={**note, "families": fam}, **base,
    ))

    cons = consistency if consistency is not None else consistency_of(sessions, end=today)
    since = today - timedelta(days=26 * 7 - 1)
    recent = [g for g in cons["gaps"] if g["end"] >= since]
    first = pd.to_datetime(sessions["local_date"]).min().date() if len(sessions) else today
    longest = longest_idle_run(sessions, max(since, first), today)  # days before the record began are no gap
    n_total = len(sessions)
    out.append(Finding(
        id="training.detraining_gap", domain="training", claim_id="training-effects-reverse-on-stopping",
        summary=f"longest run without a session in the last 26 weeks: {longest} days"
        + (f"; {len(cons['detraining'])} detraining periods of 4+ weeks in the whole record"
           if cons["detraining"] else ""),
        value=float(longest), threshold=float(DETRAINING_DAYS), unit="days",
        direction=_compare(float(longest), DETRAINING_DAYS, n_total, min_observations),
        n=n_total, period_start=since, period_end=today,
        detail={"gaps": recent, "detraining": cons["detraining"],
                "current_streak_weeks": cons["current_streak_weeks"]},
    ))
    temps = in_period["avg_temp_c"].notna() if n else pd.Series(dtype=bool)
    heat = in_period[in_period["heat_class"].isin(["warm", "hot"])] if n else in_period
    n_temp = int(temps.sum()) if n else 0
    n_hot = int((heat["heat_class"] == "hot").sum()) if n else 0
    out.append(Finding(
        id="training.heat_sessions", domain="training", claim_id="exercise-heat-gi-symptoms",
        summary=f"{len(heat)} of {n_temp} sessions with a temperature reading at 25 C or more ({n_hot} at 30 C or "
        f"more) in {label}",
        value=float(len(heat)), threshold=25.0, unit="sessions",
        direction="not_enough_data" if n_temp < min_observations else ("present" if len(heat) else "absent"),
        detail={**note, "n_hot": n_hot, "dates": [str(d) for d in heat["local_date"]],
                "caveat": "device temperature: body heat raises wrist readings above the air temperature"},
        period_start=start, period_end=end, n=n_temp,
    ))

    if load is None and len(sessions):
        load = load_series(daily_load(sessions, first, max(end, first)))
    window = load.loc[pd.Timestamp(start):pd.Timestamp(end)] if load is not None else None
    acwr = window["acwr"].dropna() if window is not None else pd.Series(dtype=float)
    peak = float(acwr.max()) if len(acwr) else None
    spikes = acwr[acwr > ACWR_SPIKE]
    out.append(Finding(
        id="training.load_spike", domain="training", claim_id="rest-and-recovery",
        summary=("no load ratio available in " + label) if peak is None else
        f"highest acute:chronic load ratio {peak:.2f} (Edwards TRIMP, 7- vs 28-day EWMA) in {label}; "
        f"{len(spikes)} days above {ACWR_SPIKE}",
        value=None if peak is None else round(peak, 2), threshold=ACWR_SPIKE, unit="ratio",
        direction=_compare(peak, ACWR_SPIKE, n_hr, min_observations),
        detail={**note, "days_above": [d.date().isoformat() for d in spikes.index],
                "caveat": "ratio shares its acute part with the chronic part; no validated threshold for the gut"},
        **{**base, "n": n_hr},
    ))

    total = float(in_period["duration_s"].fillna(0).sum()) if n else 0.0
    covered = float((in_period["hr_quality"] * in_period["duration_s"].fillna(0)).sum()) if n else 0.0
    cov = 100 * covered / total if total > 0 else None
    out.append(Finding(
        id="data.hr_coverage", domain="data", claim_id=None,
        summary=("no sessions in " + label) if cov is None else
        f"{cov:.0f}% of session time has usable HR; {n_hr} of {n} sessions classified from HR in {label}",
        value=None if cov is None else round(cov, 1), threshold=HR_COVERAGE_PCT, unit="% of session time",
        direction=_compare(cov, HR_COVERAGE_PCT, n, min_observations),
        detail={**note, "classified_from": in_period["classified_from"].value_counts().to_dict() if n else {},
                "n_spikes": int(in_period["n_spikes"].sum()) if n else 0,
                "n_dropouts": int(in_period["n_dropouts"].sum()) if n else 0},
        **base,
    ))
    return out
