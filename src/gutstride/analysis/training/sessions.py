"""Per-session training metrics: zones by time, intensity, moderate/prolonged flags, heat, sport family, TRIMP.

Time, not sample count
    Every HR sample stands for the interval to the next sample, capped at 10 s
    (:func:`~gutstride.analysis.training.profile.clean_hr`), so 1 Hz and "smart recording" files weigh the
    same and pauses or HR gaps add no time. Zone times therefore sum to the time covered by usable HR.

Zones
    Five zones on %HRmax with bounds 50-60-70-80-90-100% (HR above HRmax is counted in zone 5; time below 50% is
    ``z0``), or on Karvonen %HRR, (HR - HRrest) / (HRmax - HRrest), with the same bounds when
    ``zone_basis="hrr"`` and a resting HR is known. The share above 70% HRmax, the intensity class and Edwards'
    TRIMP always use %HRmax, as the claims they are compared with do.

Sessions without HR
    Classified from RPE (Borg CR10, 0-10) or, only partly, from duration; marked in ``classified_from``. Pace is
    handled across sessions by :func:`classify_from_pace`, which needs the person's own HR sessions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from gutstride.analysis.training.kernels import weighted_mean, zone_loop
from gutstride.analysis.training.profile import HRQuality, clean_hr_weighted
from gutstride.model.profile import Sex

ZONE_BOUNDS = (0.5, 0.6, 0.7, 0.8, 0.9)
ZONE_COLUMNS = tuple(f"z{i}_s" for i in range(6))
MODERATE_MIN_S, MODERATE_MAX_S = 30 * 60.0, 45 * 60.0
PROLONGED_MIN_S = 2 * 3600.0
HEAT_WARM_C, HEAT_HOT_C = 25.0, 30.0
#: Resting VO2 (ml/kg/min, 1 MET) and an assumed VO2max used to turn 60% VO2max into %VO2R (see below).
VO2_REST, ASSUMED_VO2MAX = 3.5, 45.0
#: 60% VO2max as a fraction of VO2 reserve: (0.6 VO2max - VO2rest) / (VO2max - VO2rest) ~ 0.566.
VO2_60_AS_HRR = (0.6 * ASSUMED_VO2MAX - VO2_REST) / (ASSUMED_VO2MAX - VO2_REST)
#: 60% VO2max as %HRmax from Swain's regression %HRmax = 0.64 %VO2max + 37 (used when resting HR is unknown).
VO2_60_AS_HRMAX = (0.64 * 60 + 37) / 100

Family = Literal["endurance", "strength", "mobility", "other"]
IntensityClass = Literal["light", "moderate", "vigorous", "very_hard"]
ClassifiedFrom = Literal["hr", "pace", "rpe", "duration", "none"]

_FAMILIES: dict[str, Family] = {
    **dict.fromkeys(
        ("running", "trail_running", "treadmill_running", "walking", "hiking", "cycling", "indoor_cycling",
         "swimming", "rowing", "skiing"),
        "endurance",
    ),
    "strength": "strength",
    "yoga": "mobility",
    "mobility": "mobility",
}


def sport_family(sport: str | None) -> Family:
    """``endurance``, ``strength``, ``mobility`` (yoga, mobility) or ``other`` for a sport of ``model.SPORTS``.

    ``cross_training`` is ``other``: it may or may not be resistance work.
    """
    return _FAMILIES.get(sport or "other", "other")


def intensity_from_shares(light: float, moderate: float, vigorous: float, very_hard: float) -> IntensityClass:
    """The band holding the most time: <50% (light), 50-70% (moderate), 70-90% (vigorous), >=90% HRmax."""
    shares: dict[IntensityClass, float] = {
        "light": light, "moderate": moderate, "vigorous": vigorous, "very_hard": very_hard,
    }
    return max(shares, key=lambda k: shares[k])


def intensity_from_rpe(rpe: float) -> IntensityClass:
    """Borg CR10: below 3 light, 3-4 moderate, 5-6 vigorous ("hard"), 7 and above very hard."""
    return "light" if rpe < 3 else "moderate" if rpe < 5 else "vigorous" if rpe < 7 else "very_hard"


#: CR10 rating taken as "above 60% VO2max" for sessions without HR ("somewhat hard"); uncertain by about 1 point.
RPE_STRENUOUS = 4.0


@dataclass
class SessionMetrics:
    """What :func:`analyse_session` found; :meth:`to_row` flattens it for the sessions table.

    Booleans are ``None`` when they cannot be decided (no HR and nothing else to go on).
    """

    activity_id: int | None
    start_time: datetime | None
    local_date: date | None
    sport: str
    family: Family
    duration_s: float | None
    hr_time_s: float
    hr_quality: float
    n_spikes: int
    n_dropouts: int
    zone_basis: str
    zone_s: tuple[float, ...]
    share_above_70: float | None
    share_50_70: float | None
    share_above_vo2_60: float | None
    vo2_60_hr: float | None
    mean_hr: float | None
    intensity_class: IntensityClass | None
    classified_from: ClassifiedFrom
    is_moderate_cardio: bool | None
    is_prolonged_strenuous: bool | None
    avg_temp_c: float | None
    heat_class: Literal["none", "warm", "hot"] | None
    trimp_banister: float | None
    trimp_edwards: float | None
    rpe: float | None
    avg_speed_mps: float | None

    def to_row(self) -> dict[str, Any]:
        row = {name: getattr(self, name) for name in _ROW_FIELDS}
        row.update(zip(ZONE_COLUMNS, self.zone_s, strict=True))
        return row


_ROW_FIELDS = tuple(f.name for f in fields(SessionMetrics) if f.name != "zone_s")


def _get(row: Mapping[str, Any] | pd.Series, key: str) -> Any:
    value = row.get(key) if hasattr(row, "get") else None
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    return value


def _mean(values: np.ndarray, w: np.ndarray) -> float | None:
    value = float(weighted_mean(np.ascontiguousarray(values, dtype=float), w))
    return None if math.isnan(value) else value


#: Banister's sex-specific weighting a e^(b dHR).
BANISTER = {"male": (0.64, 1.92), "female": (0.86, 1.67)}


def edwards_trimp(zone_s_hrmax: np.ndarray) -> float:
    """Edwards TRIMP: minutes in the 5 %HRmax zones (50-60 ... 90-100%) weighted 1..5; below 50% counts 0."""
    return float((np.asarray(zone_s_hrmax)[1:6] / 60.0 * np.arange(1, 6)).sum())


def vo2_60_hr(hrmax: float, resting_hr: float | None) -> float:
    """HR equivalent of 60% VO2max.

    With a resting HR: Swain's finding that %HRR tracks %VO2 reserve, so 60% VO2max = ``VO2_60_AS_HRR`` (~57%) of
    HRR for an assumed VO2max of 45 ml/kg/min (56% at 35, 57% at 55). Without: Swain's regression of %HRmax on
    %VO2max, 0.64 x 60 + 37 = 75.4% HRmax. For one person either can be off by about +/- 5-10 bpm (individual
    HR-VO2 relations, HR drift in long or hot sessions, the VO2max assumption).
    """
    if resting_hr is not None:
        return resting_hr + VO2_60_AS_HRR * (hrmax - resting_hr)
    return VO2_60_AS_HRMAX * hrmax


def _duration(summary_row: Mapping[str, Any] | pd.Series, total_time_s: float) -> float | None:
    for key in ("moving_time_s", "duration_s"):
        value = _get(summary_row, key)
        if value is not None and value > 0:
            return float(value)
    return total_time_s if total_time_s > 0 else None


def analyse_session(
    stream: Mapping[str, np.ndarray],
    summary_row: Mapping[str, Any] | pd.Series,
    hrmax: float | None,
    resting_hr: float | None = None,
    sex: Sex | None = None,
    zone_basis: Literal["hrmax", "hrr"] = "hrmax",
    cleaned: tuple[np.ndarray, np.ndarray, HRQuality] | None = None,
) -> SessionMetrics:
    """Metrics of one session.

    Parameters
    ----------
    stream
        Columns ``time`` (epoch s), ``hr``, ``speed``, ``temperature`` (others ignored); may be empty.
    summary_row
        The activity summary (a row of the activities table, or a dict): ``id``, ``sport``, ``start_time``,
        ``local_offset_s``, ``duration_s``, ``moving_time_s``, ``distance_m``, ``avg_temp_c``,
        ``perceived_exertion``.
    hrmax, resting_hr, sex
        From :func:`~gutstride.analysis.training.profile.resolve_hrmax` and the profile. Without ``hrmax`` no
        HR metric is computed.
    zone_basis
        ``"hrmax"`` or ``"hrr"`` (Karvonen; falls back to ``hrmax`` without a resting HR, noted in
        ``zone_basis`` of the result).
    cleaned
        The result of :func:`~gutstride.analysis.training.profile.clean_hr_weighted` on this stream, if already
        computed.

    Notes
    -----
    - Banister TRIMP: sum over samples of (w/60) x dHR x a e^(b dHR), dHR = (HR - HRrest) / (HRmax - HRrest)
      (below 0 counts 0), with a, b = 0.64, 1.92 for men and 0.86, 1.67 for women; with sex unknown, the mean of
      the two terms. None without a resting HR. Edwards TRIMP: see :func:`edwards_trimp`.
    - ``is_moderate_cardio``: an endurance session of 30-45 min (moving time, else elapsed) with at least half its
      HR time at 50-70% HRmax.
    - ``is_prolonged_strenuous``: at least 2 h with more than half the HR time above :func:`vo2_60_hr` (Costa et
      al. 2017 put the rise in gut injury from about 2 h at 60% VO2max).
    - Heat: time-weighted mean stream temperature (else the summary's), ``warm`` from 25 C, ``hot`` from 30 C.
      Wrist devices read several degrees above the air when worn (body heat) and below it in wind or sun
      shade, so this is an indication, not the air temperature.
    """
    time = np.asarray(stream.get("time", np.empty(0)), dtype=float)
    if cleaned is None:
        cleaned = clean_hr_weighted(time, np.asarray(stream.get("hr", np.full(time.shape, np.nan)), dtype=float))
    hr, w, quality = cleaned
    sport = str(_get(summary_row, "sport") or "other")
    family = sport_family(sport)
    duration = _duration(summary_row, quality.total_time_s)
    start = _get(summary_row, "start_time")
    offset = _get(summary_row, "local_offset_s") or 0
    local_date = (pd.Timestamp(start) + timedelta(seconds=int(offset))).date() if start is not None else None
    rpe = _get(summary_row, "perceived_exertion")

    temp = _mean(stream["temperature"], w) if "temperature" in stream else None
    if temp is None:
        temp = _get(summary_row, "avg_temp_c")
    heat: Literal["none", "warm", "hot"] | None = None
    if temp is not None:
        heat = "hot" if temp >= HEAT_HOT_C else "warm" if temp >= HEAT_WARM_C else "none"
    distance, moving = _get(summary_row, "distance_m"), _get(summary_row, "moving_time_s")
    speed = float(distance / moving) if distance and moving else None
    if speed is None and "speed" in stream:
        speed = _mean(stream["speed"], w)

    zones = np.zeros(6)
    basis = zone_basis if (zone_basis == "hrmax" or resting_hr is not None) else "hrmax"
    metrics: dict[str, Any] = dict.fromkeys(
        ("share_above_70", "share_50_70", "share_above_vo2_60", "vo2_60_hr", "mean_hr", "intensity_class",
         "is_moderate_cardio", "is_prolonged_strenuous", "trimp_banister", "trimp_edwards"),
    )
    hr_time = quality.hr_time_s
    if hrmax is not None and hr_time > 0:
        classified: ClassifiedFrom = "hr"
        threshold = vo2_60_hr(hrmax, resting_hr)
        (a, b), (a2, b2) = (BANISTER[sex], BANISTER[sex]) if sex in BANISTER else (BANISTER["male"],
                                                                                BANISTER["female"])
        z_hrmax, zones, above_s, hr_sum, trimp = zone_loop(
            hr, w, np.asarray(ZONE_BOUNDS), float(hrmax), np.nan if resting_hr is None else float(resting_hr),
            basis == "hrr", threshold, a, b, a2, b2,
        )
        share70 = float(z_hrmax[3:].sum()) / hr_time
        share5070 = float(z_hrmax[1:3].sum()) / hr_time
        above_vo2 = above_s / hr_time
        metrics.update(
            share_above_70=share70,
            share_50_70=share5070,
            share_above_vo2_60=above_vo2,
            vo2_60_hr=threshold,
            mean_hr=hr_sum / hr_time,
            intensity_class=intensity_from_shares(
                z_hrmax[0] / hr_time, share5070, float(z_hrmax[3:5].sum()) / hr_time, z_hrmax[5] / hr_time
            ),
            trimp_edwards=edwards_trimp(z_hrmax),
            trimp_banister=None if resting_hr is None else float(trimp),
        )
        in_window = duration is not None and MODERATE_MIN_S <= duration <= MODERATE_MAX_S
        metrics["is_moderate_cardio"] = family == "endurance" and in_window and share5070 >= 0.5
        metrics["is_prolonged_strenuous"] = duration is not None and duration >= PROLONGED_MIN_S and above_vo2 > 0.5
    elif rpe is not None:
        classified = "rpe"
        cls = intensity_from_rpe(float(rpe))
        metrics["intensity_class"] = cls
        in_window = duration is not None and MODERATE_MIN_S <= duration <= MODERATE_MAX_S
        metrics["is_moderate_cardio"] = family == "endurance" and in_window and cls == "moderate"
        metrics["is_prolonged_strenuous"] = (
            duration is not None and duration >= PROLONGED_MIN_S and float(rpe) >= RPE_STRENUOUS
        )
    elif duration is not None:
        classified = "duration"
        # Duration alone rules a session out of the moderate window or the 2-h limit, never in.
        if family != "endurance" or not MODERATE_MIN_S <= duration <= MODERATE_MAX_S:
            metrics["is_moderate_cardio"] = False
        if duration < PROLONGED_MIN_S:
            metrics["is_prolonged_strenuous"] = False
    else:
        classified = "none"

    return SessionMetrics(
        activity_id=None if _get(summary_row, "id") is None else int(_get(summary_row, "id")),
        start_time=start,
        local_date=local_date,
        sport=sport,
        family=family,
        duration_s=duration,
        hr_time_s=hr_time,
        hr_quality=quality.share,
        n_spikes=quality.n_spikes,
        n_dropouts=quality.n_dropouts,
        zone_basis=basis,
        zone_s=tuple(float(z) for z in zones),
        classified_from=classified,
        avg_temp_c=None if temp is None else float(temp),
        heat_class=heat,
        rpe=None if rpe is None else float(rpe),
        avg_speed_mps=speed,
        **metrics,
    )


def sessions_frame(metrics: list[SessionMetrics]) -> pd.DataFrame:
    """The sessions table (one row per :class:`SessionMetrics`), sorted by start time, nullable booleans."""
    columns = [*_ROW_FIELDS, *ZONE_COLUMNS]
    frame = pd.DataFrame([m.to_row() for m in metrics], columns=columns)
    for col in ("is_moderate_cardio", "is_prolonged_strenuous"):
        frame[col] = frame[col].astype("boolean")
    float_cols = [
        "duration_s", "share_above_70", "share_50_70", "share_above_vo2_60", "vo2_60_hr", "mean_hr",
        "avg_temp_c", "trimp_banister", "trimp_edwards", "rpe", "avg_speed_mps",
    ]
    frame[float_cols] = frame[float_cols].astype(float)
    if len(frame):
        frame = frame.sort_values("start_time", kind="stable", na_position="first").reset_index(drop=True)
    return frame


def classify_from_pace(sessions: pd.DataFrame, k: int = 5) -> pd.DataFrame:
    """Classify sessions without HR from their average speed, using the person's own HR sessions of that sport.

    For each session classified from ``rpe``, ``duration`` or ``none`` with a known speed, the ``k`` HR sessions
    of the same sport closest in average speed give the median shares (above 70% HRmax, 50-70%, above the 60%
    VO2max HR), and from those the intensity class and the moderate/prolonged flags; ``classified_from`` becomes
    ``"pace"``. A sport with fewer than ``k`` such HR sessions is left as it was. Terrain, heat and fatigue change
    the pace-HR relation, so these are estimates. Returns a new frame.
    """
    out = sessions.copy()
    todo = out["classified_from"].isin(["rpe", "duration", "none"]) & out["avg_speed_mps"].notna()
    if not todo.any():
        return out
    ref = out[(out["classified_from"] == "hr") & out["avg_speed_mps"].notna()]
    updates: dict[str, list[Any]] = {k: [] for k in ("index", "intensity_class", "is_moderate_cardio",
                                                     "is_prolonged_strenuous")}
    for sport, group in out[todo].groupby("sport"):
        pool = ref[ref["sport"] == sport]
        if len(pool) < k:
            continue
        speeds = pool["avg_speed_mps"].to_numpy()
        shares = pool[["share_above_70", "share_50_70", "share_above_vo2_60"]].to_numpy()
        for idx, speed, dur, family in zip(group.index, group["avg_speed_mps"], group["duration_s"],
                                           group["family"], strict=True):
            s70, s5070, svo2 = np.median(shares[np.argsort(np.abs(speeds - speed), kind="stable")[:k]], axis=0)
            updates["index"].append(idx)
            updates["intensity_class"].append(intensity_from_shares(max(0.0, 1.0 - s70 - s5070), s5070, s70, 0.0))
            updates["is_moderate_cardio"].append(bool(
                family == "endurance" and pd.notna(dur) and MODERATE_MIN_S <= dur <= MODERATE_MAX_S and s5070 >= 0.5
            ))
            updates["is_prolonged_strenuous"].append(bool(pd.notna(dur) and dur >= PROLONGED_MIN_S and svo2 > 0.5))
    index = updates.pop("index")
    if index:
        for col, values in updates.items():
            out.loc[index, col] = values
        out.loc[index, "classified_from"] = "pace"
    return out
