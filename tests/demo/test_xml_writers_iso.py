"""The demo's GPX/TCX writers format all timestamps in one numpy call, equal to formatting each one."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gutstride.demo.xml_writers import _iso, _iso_all


@settings(max_examples=100, deadline=None)
@given(t0=st.floats(0, 4e9), times=st.lists(st.floats(0, 1e6), max_size=50))
def test_iso_all_equals_iso_of_each(t0: float, times: list[float]) -> None:
    assert _iso_all(t0, np.asarray(times)) == [_iso(t0 + t) for t in times]
