"""The demo athlete: a year of plausible training and a daily log, generated deterministically.

Everything here is DEMO DATA, made up by this module to show what gutstride does. Nothing is measured. The
year holds:

- a base of easy runs, tempo runs and weekly long runs, with strength and yoga sessions, and a 5 km race about
  every eight weeks (the all-out efforts from which HRmax is measured);
- a block of long runs in the summer heat, after which the log shows GI symptoms;
- a 4-week break with no training (an injury, say);
- a daily log whose symptoms depend on heat, duration and a meal shortly before running. The long runs of the
  summer are also the hot ones, so heat and duration come together; in the last weeks the log carries symptom
  timing, carbohydrate and fluid taken during long runs, caffeine before, the meal's FODMAP, lactose and sweetener
  load, the menstrual phase, races marked as such, and symptoms on rest days (drawn from a second generator, so
  the rest of the year is unchanged);
- an n-of-1 experiment over the last :data:`EXPERIMENT_WEEKS` weeks, just finished: weeks with the usual long run
  and weeks with no run over 90 min, alternating, each entry tagged.

Heart rate follows a target (a share of HRmax) through a first-order lag with noise and cardiac drift
(``dHR/dt = (target - HR) / tau``, tau = 30 s; drift adds 0.08 bpm/min above 30 °C). The functions are pure:
they return numpy arrays and records; :mod:`gutstride.demo.build` writes them to files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

#: The demo athlete's profile.
PROFILE: dict[str, Any] = {
    "birth_year": 1989, "sex": "female", "mass_kg": 61.0, "height_m": 1.68, "resting_hr": 50.0,
}
HRMAX = 187.0  # what the simulated heart can reach; the analysis measures it from the files
LOCAL_OFFSET_S = 3600  # the athlete lives at UTC+1 (no DST, to keep the demo simple)


@dataclass
class DemoSession:
    """One planned session: its kind, start, duration and conditions."""

    kind: str  # "easy" | "tempo" | "long" | "long_heat" | "race" | "strength" | "yoga"
    start: datetime  # UTC
    minutes: float
    target_share: float  # target HR as a share of HRMAX in the main part
    temperature_c: float
    meal_minutes_before: float
    meal_fibre: str
    file_format: str = "fit"
    samples: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def sport(self) -> tuple[str, str | None]:
        return {
            "strength": ("strength", None), "yoga": ("yoga", None),
        }.get(self.kind, ("running", None))


@dataclass
class DemoYear:
    """The generated year: sessions (with 1 Hz samples), daily log rows, and the key dates."""

    first_day: date
    last_day: date
    break_start: date
    break_end: date
    heat_start: date
    heat_end: date
    sessions: list[DemoSession]
    log_rows: list[dict[str, Any]]
    sample_dates: list[date]


#: The demo's experiment: its id (the trigger it tests) and how many weeks it has run by the last day.
EXPERIMENT_ID = "duration_90"
EXPERIMENT_WEEKS = 8
#: Weeks before the last day in which the log carries the newer fields (timing, intake during, meal loads...).
DETAILED_WEEKS = 16

WEEK_PLAN = {  # weekday -> session kind (Saturday is a rest day)
    0: "easy", 1: "strength", 2: "tempo", 3: "yoga", 4: "easy", 6: "long",
}



#: Samples per block of :func:`first_order_lag` (decay**-BLOCK stays far from overflow for tau >= 2).
LAG_BLOCK = 256


def first_order_lag(target: np.ndarray, tau: float, start: float) -> np.ndarray:
    """Heart rate following ``target`` with a first-order lag: ``y[i] = y[i-1] + (target[i] - y[i-1]) / tau``,
    from ``y[-1] = start`` (the filter ``scipy.signal.lfilter([1/tau], [1, -d], target, zi=[d * start])`` with
    ``d = 1 - 1/tau``, without importing scipy.signal, which takes most of a second).

    Within a block of ``B`` samples after ``y_prev``: ``y[j] = d**(j+1) y_prev + d**j sum_{k<=j} d**-k target[k] / tau``
    (a cumulative sum, exact up to rounding while ``d**-B`` is moderate).
    """
    d = 1.0 - 1.0 / tau
    out = np.empty(len(target), dtype=np.float64)
    powers = d ** np.arange(LAG_BLOCK, dtype=np.float64)
    previous = float(start)
    for lo in range(0, len(target), LAG_BLOCK):
        block = np.asarray(target[lo:lo + LAG_BLOCK], dtype=np.float64)
        p = powers[: len(block)]
        out[lo:lo + len(block)] = p * d * previous + p * np.cumsum(block / (tau * p))
        previous = float(out[lo + len(block) - 1])
    return out

def _season_temperature(day: date, rng: np.random.Generator) -> float:
    """Morning running temperature (°C) for a temperate climate, peaking in late July."""
    phase = (day.timetuple().tm_yday - 205) / 365.25 * 2 * np.pi
    return float(12.0 + 10.0 * np.cos(phase) + rng.normal(0, 2.5))


def simulate_session(session: DemoSession, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """1 Hz samples for one session: time, hr, speed, distance, altitude, temperature, cadence.

    Warm-up over the first 10 minutes from rest to the target, a first-order lag towards it, Gaussian noise
    (sd 2 bpm), cardiac drift in heat, and 0.3 % of samples lost (NaN) as a chest strap does.
    """
    n = int(session.minutes * 60)
    t = np.arange(n, dtype=np.float64)
    rest = PROFILE["resting_hr"]
    warm = np.clip(t / 600.0, 0, 1)
    target = rest + 20 + (session.target_share * HRMAX - rest - 20) * warm
    if session.kind == "tempo":  # 3 x 8 min above threshold in the middle
        blocks = ((t // 60) % 12 < 8) & (t > 900) & (t < n - 600)
        target = np.where(blocks, 0.88 * HRMAX, target)
    if session.kind == "race":  # all out, with a final sprint to HRmax
        target = np.where(t > n - 240, 1.02 * HRMAX, target)
    if session.kind == "strength":  # sets and rests
        target = np.where((t // 90) % 2 == 0, 0.72 * HRMAX, 0.55 * HRMAX) * warm + rest * (1 - warm)
    drift = np.maximum(session.temperature_c - 22.0, 0) * 0.02 * (t / 60.0)
    target = target + drift
    hr = first_order_lag(target, tau=30.0, start=rest + 15)
    hr = np.clip(np.round(hr + rng.normal(0, 2.0, n)), 40, HRMAX)
    hr[rng.random(n) < 0.003] = np.nan
    out: dict[str, np.ndarray] = {"time": t, "hr": hr,
                                  "temperature": np.full(n, round(session.temperature_c))}
    if session.sport[0] == "running":
        speed = 2.0 + 2.2 * (np.nan_to_num(hr, nan=130.0) - rest) / (HRMAX - rest) + rng.normal(0, 0.1, n)
        speed = np.clip(speed, 0.5, 6.0)
        out["speed"] = speed
        out["distance"] = np.cumsum(speed)
        out["altitude"] = 120 + np.cumsum(rng.normal(0, 0.15, n))
        out["cadence"] = np.round(80 + 5 * speed)
    return out


def _symptom_probability(s: DemoSession) -> float:
    """Chance of GI symptoms (any score >= 3) after a session: heat, duration and a late meal raise it."""
    p = 0.06
    if s.temperature_c >= 25:
        p += 0.25
    if s.minutes >= 120:
        p += 0.3
    elif s.minutes >= 90:
        p += 0.1
    if s.meal_minutes_before < 120:
        p += 0.15
    return min(p, 0.9)


def generate_year(last_day: date, seed: int = 7, n_days: int = 365) -> DemoYear:
    """The demo athlete's year ending on ``last_day`` (inclusive). Deterministic for a given seed.

    ``n_days`` makes a longer history (the benchmark uses three years); the break and the heat block stay in the
    last year's positions relative to its start and summer.
    """
    rng = np.random.default_rng(seed)
    detail_rng = np.random.default_rng(seed + 1000)  # the newer log fields, so the rest of the year is unchanged
    first_day = last_day - timedelta(days=n_days - 1)
    last_monday = last_day - timedelta(days=last_day.weekday())
    experiment_start = last_monday - timedelta(weeks=EXPERIMENT_WEEKS - 1)
    detailed_from = last_day - timedelta(weeks=DETAILED_WEEKS)
    break_start = last_day - timedelta(days=364 - 112)
    break_end = break_start + timedelta(days=27)
    heat_start = date(last_day.year, 6, 20) if date(last_day.year, 8, 20) <= last_day else date(
        last_day.year - 1, 6, 20)
    heat_end = heat_start + timedelta(days=48)
    sessions: list[DemoSession] = []
    log_rows: list[dict[str, Any]] = []
    day = first_day
    n_files = 0
    while day <= last_day:
        kind = WEEK_PLAN.get(day.weekday())
        if day.weekday() == 5 and (day - first_day).days % 56 < 7:
            kind = "race"
        in_break = break_start <= day <= break_end
        temperature = _season_temperature(day, rng)
        session = None
        if kind and not in_break and rng.random() > 0.08:  # 8% of planned sessions skipped
            in_heat = heat_start <= day <= heat_end
            if kind in ("long", "tempo") and in_heat:
                kind, temperature = "long_heat", max(temperature, 27.0) + rng.uniform(0, 5)
            minutes = {
                "easy": rng.uniform(32, 48), "tempo": rng.uniform(45, 55), "long": rng.uniform(75, 110),
                "long_heat": rng.uniform(125, 160), "race": rng.uniform(24, 28), "strength": rng.uniform(35, 50),
                "yoga": rng.uniform(40, 60),
            }[kind]
            if _experiment_arm(day, experiment_start) == "without" and kind == "long":
                minutes = min(minutes, 85.0)  # the experiment's "without" weeks: no run over 90 min
            share = {"easy": 0.62, "tempo": 0.72, "long": 0.66, "long_heat": 0.8, "race": 0.93, "strength": 0.58,
                     "yoga": 0.48}[kind]
            hour = 7 if kind not in ("strength", "yoga") else 18
            start = datetime(day.year, day.month, day.day, hour, int(rng.integers(0, 50)), tzinfo=UTC)
            start -= timedelta(seconds=LOCAL_OFFSET_S)
            meal = float(rng.choice([45, 90, 150, 180])) if kind != "yoga" else 180.0
            n_files += 1
            fmt = "gpx" if n_files % 9 == 0 else "tcx" if n_files % 13 == 0 else "fit"
            if kind in ("strength", "yoga"):
                fmt = "fit"
            session = DemoSession(kind, start, float(minutes), share, float(temperature), meal,
                                  "high" if rng.random() < 0.3 else "low", fmt)
            session.samples = simulate_session(session, rng)
            sessions.append(session)
        row = _log_row(day, session, rng)
        if day >= detailed_from:
            _add_detail(row, day, session, detail_rng, _experiment_arm(day, experiment_start))
        log_rows.append(row)
        day += timedelta(days=1)
    sample_dates = [break_start - timedelta(days=20), heat_start - timedelta(days=5), heat_end + timedelta(days=10)]
    return DemoYear(first_day, last_day, break_start, break_end, heat_start, heat_end, sessions, log_rows,
                    sample_dates)


def _experiment_arm(day: date, start: date) -> str | None:
    """The experiment's arm on ``day``: weeks alternate from ``start`` (with, without, with...)."""
    if day < start:
        return None
    return "with" if ((day - start).days // 7) % 2 == 0 else "without"


def _add_detail(row: dict[str, Any], day: date, session: DemoSession | None, rng: np.random.Generator,
                arm: str | None) -> None:
    """The newer log fields on one day's row (see the module docstring); only runs get the session fields."""
    cycle_day = (day.toordinal() - 3) % 28
    row["menstrual_phase"] = ("menstrual" if cycle_day < 5 else "follicular" if cycle_day < 13 else
                              "ovulatory" if cycle_day < 16 else "luteal")
    row["contraception"] = "none"
    if session is None:  # a rest day: symptoms are logged too, and are rare
        row["cramps"] = int(rng.integers(3, 5)) if rng.random() < 0.05 else int(rng.integers(0, 2))
        row["bloating"] = int(rng.integers(0, 2))
        return
    if session.sport[0] != "running":
        return
    scored = [row.get(s, 0) for s in ("cramps", "urge_diarrhoea")]
    row["nausea"] = int(rng.integers(0, 2))  # the upper GI items are scored too (the demo's symptoms are lower GI)
    row["reflux"] = 0
    row["symptom_timing"] = str(rng.choice(["during", "within_2h"])) if max(scored) >= 3 else "within_2h"
    row["caffeine_before_mg"] = int(rng.choice([0, 0, 80, 160]))
    for load in ("fodmap_load", "lactose_load", "sweetener_load"):
        row[load] = str(rng.choice(["low", "low", "medium", "high"]))
    row["session_type"] = "race" if session.kind == "race" else "training"
    if session.minutes >= 75:
        row["carb_g_per_h"] = int(rng.choice([20, 30, 45, 60, 75]))
        row["fluid_ml_per_h"] = int(rng.choice([250, 350, 500, 650]))
    if arm is not None:
        row["experiment"] = EXPERIMENT_ID
        row["experiment_arm"] = arm


def _log_row(day: date, session: DemoSession | None, rng: np.random.Generator) -> dict[str, Any]:
    """One day's log: sleep, stress, fluids, diet, and GI symptoms linked to the day's run if any."""
    row: dict[str, Any] = {
        "date": day.isoformat(),
        "sleep_hours": round(float(np.clip(rng.normal(7.3, 0.8), 4.5, 9.5)), 1),
        "sleep_quality": int(rng.integers(2, 6)),
        "stress": int(rng.integers(1, 5)),
        "fluids_l": round(float(np.clip(rng.normal(2.2, 0.5), 0.8, 4.0)), 1),
        "fibre_g": int(rng.integers(15, 40)),
        "fermented_servings": int(rng.integers(0, 3)),
        "bristol": int(rng.choice([3, 4, 4, 4, 5])),
        "notes": "demo data",
    }
    if session is not None and session.sport[0] == "running":
        row["activity_start"] = session.start.strftime("%Y-%m-%dT%H:%M:%SZ")
        row["pre_meal_minutes_before"] = int(session.meal_minutes_before)
        row["pre_meal_fibre"] = session.meal_fibre
        if rng.random() < _symptom_probability(session):
            row["cramps"] = int(rng.integers(3, 7))
            row["urge_diarrhoea"] = int(rng.integers(3, 8))
            row["bristol"] = 6
        else:
            row["cramps"] = int(rng.integers(0, 2))
            row["urge_diarrhoea"] = 0
    return row
