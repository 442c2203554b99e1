"""Fuzzing the Apple Health reader: random bytes, random HealthData-ish XML and mutated fixtures give an
ExportBundle or a one-line BadInputError, never another exception."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gutstride.errors import BadInputError
from gutstride.ingest.apple_health import read_apple_health
from gutstride.ingest.bundle import ExportBundle

from .test_apple_health import export_xml, route_gpx

FUZZ = settings(max_examples=60, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
FIXTURE = export_xml().encode()
_TYPES = ["HKQuantityTypeIdentifierHeartRate", "HKCategoryTypeIdentifierBloating",
          "HKCategoryTypeIdentifierSleepAnalysis", "HKQuantityTypeIdentifierRestingHeartRate",
          "HKCategoryTypeIdentifierVomiting", "x"]
_UNITS = st.sampled_from(["min", "s", "?"])
_KINDS = st.sampled_from(["Running", "Cycling", "Nope"])
_ROUTE = '<WorkoutRoute><FileReference path="/workout-routes/r.gpx"/></WorkoutRoute>'
_VALUES = st.sampled_from(["", "1", "-5", "nan", "inf", "1e308", "HKCategoryValueSeverityMild",
                           "HKCategoryValueSleepAnalysisAsleepCore", "abc", "&amp;"])
_DATES = st.sampled_from(["", "2024-01-15 08:00:00 +0100", "2024-13-45 99:99:99 +9999", "2024-01-15", "x",
                          "2024-01-15 08:00:00 -0000"])


def _check(data: bytes, routes: dict | None = None) -> None:
    try:
        bundle = read_apple_health(io.BytesIO(data), routes)
    except BadInputError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(bundle, ExportBundle)
    assert len(bundle.activities) == len(bundle.extras)


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes(data: bytes) -> None:
    _check(data)


@st.composite
def health_xml(draw: st.DrawFn) -> bytes:
    items = []
    for _ in range(draw(st.integers(0, 12))):
        tag = draw(st.sampled_from(["Record", "Workout", "Correlation", "WorkoutStatistics", "Other"]))
        attrs = (f' type="{draw(st.sampled_from(_TYPES))}" startDate="{draw(_DATES)}" endDate="{draw(_DATES)}"'
                 f' value="{draw(_VALUES)}" duration="{draw(_VALUES)}" durationUnit="{draw(_UNITS)}"'
                 f' workoutActivityType="HKWorkoutActivityType{draw(_KINDS)}"')
        inner = _ROUTE if draw(st.booleans()) else ""
        items.append(f"<{tag}{attrs}>{inner}</{tag}>")
    return ("<HealthData>" + "".join(items) + ("</HealthData>" if draw(st.booleans()) else "")).encode()


@FUZZ
@given(health_xml(), st.binary(max_size=300))
def test_health_xml_with_bad_routes(data: bytes, route: bytes) -> None:
    _check(data, {"/workout-routes/r.gpx": lambda: route})


@FUZZ
@given(st.integers(0, len(FIXTURE) - 1), st.integers(1, 40), st.binary(min_size=0, max_size=8))
def test_mutated_fixture(position: int, length: int, patch: bytes) -> None:
    data = FIXTURE[:position] + patch + FIXTURE[position + length:]
    route = route_gpx(datetime(2024, 1, 15, 7, 0, 10, tzinfo=UTC), 5).encode()
    _check(data, {"/workout-routes/route_2024-01-15_8.00am.gpx": lambda: route})
