"""JSON output: NaN as null, dates as ISO strings, numpy values as plain numbers, round-trippable."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from gutstride.jsonout import dumps


def test_nan_dates_and_numpy_values() -> None:
    payload = {"a": float("nan"), "d": date(2026, 1, 2), "t": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
               "n": np.float64(1.5), "i": np.int64(3), "arr": np.array([1.0, np.nan]), "nested": [(float("nan"),)]}
    assert json.loads(dumps(payload)) == {"a": None, "d": "2026-01-02", "t": "2026-01-02T03:04:00+00:00", "n": 1.5,
                                          "i": 3, "arr": [1.0, None], "nested": [[None]]}


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_infinity=False) | st.text(),
                    lambda children: st.lists(children) | st.dictionaries(st.text(), children), max_leaves=20))
def test_any_json_value_round_trips_with_nan_as_null(value: object) -> None:
    def expected(v: object) -> object:
        if isinstance(v, float) and v != v:
            return None
        if isinstance(v, list):
            return [expected(x) for x in v]
        if isinstance(v, dict):
            return {k: expected(x) for k, x in v.items()}
        return v

    assert json.loads(dumps(value)) == expected(value)
