"""The person's profile, HR cleaning, and which HRmax the analysis uses.

HRmax order of preference (the result always says which was used):

1. ``measured-test``: the value the person entered (from a maximal test).
2. ``measured-from-data``: a robust high percentile (99.5th) of artefact-free HR over the last 12 months, only when
   at least :data:`MIN_SESSIONS_FOR_MEASURED` sessions with HR exist. A percentile of everyday training is a lower
   bound of the true maximum when no maximal effort was recorded; the Tanaka estimate is kept in ``detail`` to
   compare.
3. ``estimated-tanaka``: 208 - 0.7 x age (Tanaka, Monahan and Seals, 2001; a population equation whose individual
   error is about +/- 10 bpm).
4. ``unknown``: no age and not enough HR data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any, Literal

import numpy as np

from gutstride.errors import BadInputError

#: Plausible physiological HR range, beats/min; values outside are dropouts or artefacts.
HR_MIN, HR_MAX = 30.0, 230.0
#: A change faster than this (bpm per second) into a sample and back out of it is a spike.
SPIKE_BPM_PER_S = 30.0
#: Each sample counts for its interval to the next sample, capped here, so pauses and gaps add no time.
DT_CAP_S = 10.0
#: Percentile of clean HR used as the measured HRmax.
HRMAX_PERCENTILE = 99.5
MIN_SESSIONS_FOR_MEASURED = 10

Sex = Literal["female", "male"]
HRMaxMethod = Literal["measured-test", "measured-from-data", "estimated-tanaka", "unknown"]

#: Valid ranges of the profile fields (inclusive).
RANGES: dict[str, tuple[float, float]] = {
    "age": (5, 110),
    "mass_kg": (20, 300),
    "height_m": (0.9, 2.5),
    "resting_hr": (25, 120),
    "hrmax": (100, 230),
    "lthr": (80, 225),
}


@dataclass(frozen=True)
class Profile:
    """What the analysis knows about the person (every field optional).

    ``age`` wins over ``birth_year`` when both are given; otherwise age is ``today.year - birth_year`` (it may be one
    year too high before the birthday, which shifts a Tanaka estimate by 0.7 bpm).
    """

    birth_year: int | None = None
    age: float | None = None
    sex: Sex | None = None
    mass_kg: float | None = None
    height_m: float | None = None
    resting_hr: float | None = None
    hrmax: float | None = None
    lthr: float | None = None

    def age_on(self, today: date) -> float | None:
        if self.age is not None:
            return float(self.age)
        if self.birth_year is not None:
            return float(today.year - self.birth_year)
        return None

    @property
    def bmi(self) -> float | None:
        """Body-mass index, mass / height^2 (kg/m^2)."""
        if self.mass_kg is None or self.height_m is None:
            return None
        return self.mass_kg / self.height_m**2

    @property
    def bmi_class(self) -> Literal["lean", "overweight", "obese"] | None:
        """``lean`` below 25, ``overweight`` 25 to under 30, ``obese`` from 30 (WHO adult cut-offs)."""
        bmi = self.bmi
        if bmi is None:
            return None
        return "lean" if bmi < 25 else "overweight" if bmi < 30 else "obese"

    def validated(self, today: date) -> Profile:
        """Return self, or raise :class:`BadInputError` naming the first out-of-range field."""
        values: dict[str, Any] = asdict(self)
        if self.birth_year is not None:
            lo, hi = today.year - RANGES["age"][1], today.year - RANGES["age"][0]
            if not lo <= self.birth_year <= hi:
                raise BadInputError(f"birth year {self.birth_year} out of range {lo:.0f}-{hi:.0f}")
        if self.sex is not None and self.sex not in ("female", "male"):
            raise BadInputError(f"sex must be female or male, not {self.sex!r}")
        for name, (lo, hi) in RANGES.items():
            value = values[name]
            if value is not None and not (np.isfinite(value) and lo <= value <= hi):
                raise BadInputError(f"{name.replace('_', ' ')} {value:g} out of range {lo:g}-{hi:g}")
        if self.resting_hr is not None and self.hrmax is not None and self.resting_hr >= self.hrmax:
            raise BadInputError(f"resting HR {self.resting_hr:g} must be below HRmax {self.hrmax:g}")
        if self.lthr is not None and self.hrmax is not None and self.lthr > self.hrmax:
            raise BadInputError(f"LTHR {self.lthr:g} must not exceed HRmax {self.hrmax:g}")
        return self

    def with_values(self, **changes: Any) -> Profile:
        """A copy with the non-None ``changes`` applied."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self, today: date) -> dict[str, Any]:
        out = asdict(self)
        out["age"] = self.age_on(today)
        out["bmi"] = None if self.bmi is None else round(self.bmi, 1)
        out["bmi_class"] = self.bmi_class
        return out


@dataclass(frozen=True)
class HRMax:
    """The HRmax the analysis uses and where it came from."""

    value: float | None
    method: HRMaxMethod
    n: int = 0
    detail: dict[str, Any] = field(default_factory=dict)


    def describe(self) -> str:
        """One sentence saying which HRmax is used and how it was obtained."""
        tanaka = self.detail.get("tanaka")
        if self.method == "measured-test":
            return f"HRmax {self.value:.0f} bpm, from a test (entered in the profile)"
        if self.method == "measured-from-data":
            text = (f"HRmax {self.value:.0f} bpm, the {self.detail['percentile']:g}th percentile of {self.n:,} "
                    f"artefact-free HR samples from {self.detail['n_sessions_with_hr']} sessions in the last 12 "
                    "months (a lower bound if no maximal effort was recorded)")
            return text + ("" if tanaka is None else f"; the age estimate would be {tanaka:.0f} bpm")
        if self.method == "estimated-tanaka":
            return (f"HRmax {self.value:.0f} bpm, estimated from age as 208 - 0.7 x age (Tanaka); one person's true "
                    "value can differ by about 10 bpm or more")
        return (f"HRmax unknown: no age or test value in the profile and fewer than {MIN_SESSIONS_FOR_MEASURED} "
                "sessions with HR in the last 12 months")


def profile_from_person(person: Any) -> Profile:
    """The :class:`Profile` of a stored person (any object with the ``person`` table's profile attributes)."""
    return Profile(**{name: getattr(person, name, None) for name in PERSON_FIELDS})


#: Profile fields stored in the ``person`` table (age is stored as a birth year).
PERSON_FIELDS = ("birth_year", "sex", "mass_kg", "height_m", "resting_hr", "hrmax", "lthr")


@dataclass(frozen=True)
class HRQuality:
    """What :func:`clean_hr` found in one session's HR.

    ``share`` is the share of session time (capped intervals, see :data:`DT_CAP_S`) with usable HR.
    """

    share: float
    hr_time_s: float
    total_time_s: float
    n_samples: int
    n_missing: int
    n_dropouts: int
    n_spikes: int
    n_gaps: int


def clean_hr(time: np.ndarray, hr: np.ndarray) -> tuple[np.ndarray, HRQuality]:
    """Remove HR artefacts and say how much of the session has usable HR.

    - Dropouts: values outside 30-230 bpm (including the 0 some straps write when they lose contact) become NaN.
    - Spikes: a sample reached at more than 30 bpm/s from the previous valid sample and left at more than 30 bpm/s
      in the opposite direction (a jump that is not sustained) becomes NaN. Runs of spike samples longer than one
      are not detected; a sustained jump (a real rise) is kept.
    - Time: each sample stands for the interval to the next sample, capped at :data:`DT_CAP_S` (10 s), so pauses
      and gaps add no time; the last sample, and negative or missing intervals, count 0 s. Intervals over the cap
      are reported as gaps.

    Parameters
    ----------
    time
        Seconds (epoch), sorted.
    hr
        Beats/min, NaN where missing.

    Returns
    -------
    hr_clean, quality
        The cleaned HR (same length, NaN where unusable) and an :class:`HRQuality`.
    """
    hr_clean, _, quality = clean_hr_weighted(time, hr)
    return hr_clean, quality


def clean_hr_weighted(time: np.ndarray, hr: np.ndarray) -> tuple[np.ndarray, np.ndarray, HRQuality]:
    """:func:`clean_hr`, also returning each sample's weight in seconds (one compiled pass)."""
    from gutstride.analysis.training.kernels import clean_loop

    t = np.ascontiguousarray(time, dtype=float)
    h = np.ascontiguousarray(hr, dtype=float)
    if t.shape != h.shape:
        raise ValueError(f"time and hr differ in length ({t.size} and {h.size})")
    hr_clean, w, counts, total, hr_time = clean_loop(t, h, HR_MIN, HR_MAX, SPIKE_BPM_PER_S, DT_CAP_S)
    quality = HRQuality(
        share=hr_time / total if total > 0 else 0.0,
        hr_time_s=float(hr_time),
        total_time_s=float(total),
        n_samples=int(h.size),
        n_missing=int(counts[0]),
        n_dropouts=int(counts[1]),
        n_spikes=int(counts[2]),
        n_gaps=int(counts[3]),
    )
    return hr_clean, w, quality


def tanaka_hrmax(age: float) -> float:
    """Age-predicted HRmax, 208 - 0.7 x age (Tanaka, Monahan and Seals, 2001)."""
    return 208.0 - 0.7 * age


def resolve_hrmax(
    profile: Profile,
    hr_samples_last_12_months: np.ndarray,
    today: date,
    n_sessions: int | None = None,
) -> HRMax:
    """Choose the HRmax the analysis uses (see the module docstring for the order).

    Parameters
    ----------
    profile
        ``profile.hrmax`` (a test value) wins.
    hr_samples_last_12_months
        HR samples of the last 12 months, ideally already cleaned with :func:`clean_hr`; values outside
        30-230 bpm and NaN are dropped here again.
    today
        Used for the age in the Tanaka equation.
    n_sessions
        How many sessions with HR the samples come from (default 1); the data percentile is used only from
        :data:`MIN_SESSIONS_FOR_MEASURED` sessions.
    """
    age = profile.age_on(today)
    estimate = None if age is None else tanaka_hrmax(age)
    hr = np.asarray(hr_samples_last_12_months, dtype=float).ravel()
    hr = hr[(hr >= HR_MIN) & (hr <= HR_MAX)]
    sessions = 1 if n_sessions is None else n_sessions
    detail: dict[str, Any] = {"tanaka": estimate, "age": age, "n_sessions_with_hr": sessions}
    if profile.hrmax is not None:
        return HRMax(float(profile.hrmax), "measured-test", 0, detail)
    if hr.size and sessions >= MIN_SESSIONS_FOR_MEASURED:
        value = float(np.percentile(hr, HRMAX_PERCENTILE))
        detail["percentile"] = HRMAX_PERCENTILE
        detail["observed_max"] = float(hr.max())
        return HRMax(round(value, 1), "measured-from-data", int(hr.size), detail)
    if estimate is not None:
        detail["reason"] = f"fewer than {MIN_SESSIONS_FOR_MEASURED} sessions with HR in the last 12 months"
        return HRMax(round(estimate, 1), "estimated-tanaka", 0, detail)
    return HRMax(None, "unknown", int(hr.size), detail)
