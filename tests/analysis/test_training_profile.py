"""Profile, BMI, HR cleaning and HRmax resolution."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gutstride.analysis.training import Profile, clean_hr, resolve_hrmax, tanaka_hrmax
from gutstride.errors import BadInputError
from gutstride.store.profile import profile_from_person
from gutstride.store.schema import Person

TODAY = date(2026, 6, 1)


@settings(max_examples=50, deadline=None)
@given(st.integers(10, 100))
def test_tanaka(age: int) -> None:
    assert tanaka_hrmax(age) == pytest.approx(208 - 0.7 * age)
    got = resolve_hrmax(Profile(birth_year=TODAY.year - age), np.empty(0), TODAY)
    assert got.method == "estimated-tanaka" and got.value == pytest.approx(208 - 0.7 * age, abs=0.05)


@pytest.mark.parametrize(
    ("mass", "height", "cls"),
    [(60.0, 1.75, "lean"), (76.5, 1.75, "lean"), (76.6, 1.75, "overweight"), (91.8, 1.75, "overweight"),
     (91.9, 1.75, "obese"), (120.0, 1.6, "obese")],
)
def test_bmi_classes(mass: float, height: float, cls: str) -> None:
    # 25 x 1.75^2 = 76.5625 and 30 x 1.75^2 = 91.875: the values either side of each cut-off.
    p = Profile(mass_kg=mass, height_m=height)
    assert p.bmi == pytest.approx(mass / height**2)
    assert p.bmi_class == cls


def test_bmi_unknown() -> None:
    assert Profile(mass_kg=70).bmi is None and Profile(mass_kg=70).bmi_class is None


def test_age_wins_over_birth_year_and_validation() -> None:
    assert Profile(birth_year=1980, age=30).age_on(TODAY) == 30
    assert Profile(birth_year=1980).age_on(TODAY) == 46
    with pytest.raises(BadInputError, match="hrmax"):
        Profile(hrmax=300).validated(TODAY)
    with pytest.raises(BadInputError, match="resting HR"):
        Profile(hrmax=110, resting_hr=115).validated(TODAY)
    with pytest.raises(BadInputError, match="birth year"):
        Profile(birth_year=1800).validated(TODAY)
    with pytest.raises(BadInputError, match="sex"):
        Profile(sex="x").validated(TODAY)  # type: ignore[arg-type]


def test_clean_hr_removes_dropouts_and_single_spikes_but_keeps_real_rises() -> None:
    t = np.arange(0.0, 12.0)
    hr = np.array([120, 121, 0, 122, 190, 123, 124, 160, 161, 162, 250, np.nan], dtype=float)
    clean, q = clean_hr(t, hr)
    assert np.isnan(clean[[2, 4, 10, 11]]).all()  # zero, spike 122->190->123, 250, missing
    assert clean[7] == 160  # sustained jump (124 -> 160 -> 161) is kept
    assert (q.n_dropouts, q.n_spikes, q.n_missing) == (2, 1, 1)
    # 11 intervals of 1 s (last sample weighs 0); samples 2, 4, 10 lose their 1 s each.
    assert q.total_time_s == 11 and q.hr_time_s == 8 and q.share == pytest.approx(8 / 11)


def test_gaps_count_at_most_ten_seconds() -> None:
    t = np.array([0.0, 1.0, 2.0, 602.0, 603.0])
    _, q = clean_hr(t, np.full(5, 130.0))
    assert q.total_time_s == 1 + 1 + 10 + 1 and q.n_gaps == 1


def test_resolve_hrmax_order() -> None:
    rng = np.random.default_rng(1)
    hr = np.concatenate([rng.normal(140, 15, 100_000), [250.0, 0.0, 20.0]])
    clean = hr[(hr >= 30) & (hr <= 230)]
    p = Profile(birth_year=1986)
    got = resolve_hrmax(p, hr, TODAY, n_sessions=12)
    assert got.method == "measured-from-data"
    assert got.value == pytest.approx(np.percentile(clean, 99.5), abs=0.05)
    assert got.n == clean.size and got.detail["tanaka"] == pytest.approx(208 - 0.7 * 40)
    assert resolve_hrmax(p, hr, TODAY, n_sessions=9).method == "estimated-tanaka"
    assert resolve_hrmax(Profile(hrmax=188, birth_year=1986), hr, TODAY, 50).method == "measured-test"
    unknown = resolve_hrmax(Profile(), np.empty(0), TODAY)
    assert unknown.method == "unknown" and unknown.value is None


def test_profile_from_person_and_descriptions() -> None:
    person = Person(birth_year=1986, sex="female", mass_kg=60.0, height_m=1.7, resting_hr=48.0)
    p = profile_from_person(person)
    assert (p.birth_year, p.sex, p.resting_hr, p.hrmax) == (1986, "female", 48.0, None)
    assert "Tanaka" in resolve_hrmax(p, np.empty(0), TODAY).describe()
    assert "test" in resolve_hrmax(Profile(hrmax=190), np.empty(0), TODAY).describe()
    measured = resolve_hrmax(p, np.full(1000, 180.0), TODAY, n_sessions=10).describe()
    assert "99.5th percentile of 1,000" in measured and "10 sessions" in measured and "180" in measured
    assert "unknown" in resolve_hrmax(Profile(), np.empty(0), TODAY).describe()
