"""Issue 12, defect 8: a 2-minute ride stored as FIT (113 s) and TCX (126 s, same start second) was kept twice.
Durations now match within max(5 %, 20 s)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from gutstride.store.activities import DURATION_TOLERANCE, DURATION_TOLERANCE_S, same_activity
from gutstride.store.workspace import Workspace

from .test_activities import make_activity, save

T0 = datetime(2023, 5, 1, 7, 0, tzinfo=UTC)


def test_the_two_minute_ride_is_kept_once(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", create=True)
    new, _ = save(ws, make_activity(T0, 113, 113, 113, sport="cycling"), "fit", "a" * 64)
    again, duplicates = save(ws, make_activity(T0, 126, 40, 40, sport="cycling"), "tcx", "b" * 64)
    assert len(new) == 1 and again == [] and duplicates == [f"duplicate of activity {new[0]} (kept the richer FIT)"]


def test_short_edges() -> None:
    assert DURATION_TOLERANCE_S == 20.0
    assert same_activity(T0, 100, T0, 120)  # 20 s apart: same
    assert not same_activity(T0, 100, T0, 120.5)
    assert not same_activity(T0, 60, T0 + timedelta(seconds=61), 60)  # the start rule is unchanged


@given(st.floats(1, 50_000), st.floats(1, 50_000), st.integers(-90, 90))
def test_rule_is_max_of_relative_and_absolute(d1: float, d2: float, shift: int) -> None:
    expected = abs(shift) <= 60 and abs(d1 - d2) <= max(DURATION_TOLERANCE * max(d1, d2), DURATION_TOLERANCE_S)
    assert same_activity(T0, d1, T0 + timedelta(seconds=shift), d2) == expected
    assert same_activity(T0 + timedelta(seconds=shift), d2, T0, d1) == expected
