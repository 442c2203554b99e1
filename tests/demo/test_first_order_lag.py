"""The demo's heart-rate lag equals the linear filter scipy.signal.lfilter computes (the reference, in the test)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import lfilter

from gutstride.demo.athlete import LAG_BLOCK, first_order_lag


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 3 * LAG_BLOCK + 7), tau=st.floats(2.0, 120.0), start=st.floats(30.0, 120.0),
       seed=st.integers(0, 2**32 - 1))
def test_equals_scipy_lfilter(n: int, tau: float, start: float, seed: int) -> None:
    target = np.random.default_rng(seed).uniform(40.0, 200.0, n)
    d = 1.0 - 1.0 / tau
    expected, _ = lfilter([1.0 / tau], [1.0, -d], target, zi=[d * start])
    np.testing.assert_allclose(first_order_lag(target, tau, start), expected, rtol=1e-11, atol=1e-9)
