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

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np

from gutstride.model.profile import Profile

#: Plausible physiological HR range, beats/min; values outside are dropouts or artefacts.
HR_MIN, HR_MAX = 30.0, 230.0
#: A change faster than this (bpm per second) into a sample and back out of it is a spike.
SPIKE_BPM_PER_S = 30.0
#: Each sample counts for its interval to the next sample, capped here, so pauses and gaps add no time.
DT_CAP_S = 10.0
#: Percentile of clean HR used as the measured HRmax.
HRMAX_PERCENTILE = 99.5
MIN_SESSIONS_FOR_MEASURED = 10

HRMaxMethod = Literal["measured-test", "measured-from-data", "estimated-tanaka", "unknown"]

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
