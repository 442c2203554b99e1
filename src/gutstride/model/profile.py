"""The person's profile: what the analyses know about them, with the plausible range of each field."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date
from math import isfinite
from typing import Any, Literal

from gutstride.errors import BadInputError

Sex = Literal["female", "male"]

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
            if value is not None and not (isfinite(value) and lo <= value <= hi):
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


#: Profile fields stored in the ``person`` table (age is stored as a birth year).
PERSON_FIELDS = ("birth_year", "sex", "mass_kg", "height_m", "resting_hr", "hrmax", "lthr")
