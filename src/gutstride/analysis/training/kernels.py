"""One-pass loops over a session's samples (compiled C in ``_gutstride_native``, built at install).

A session is read a few times by numpy for each of a dozen measures; over 3 years of 1 Hz data (5 million
samples) the passes cost more than the arithmetic, so cleaning and the per-sample sums run as single loops.
The rules are documented in :func:`gutstride.analysis.training.profile.clean_hr` and
:func:`gutstride.analysis.training.sessions.analyse_session`; the loops are written out in the C source's
``hr_clean``, ``hr_zones`` and ``weighted_mean``.
"""

from __future__ import annotations

import _gutstride_native as native
import numpy as np


def clean_loop(
    t: np.ndarray, hr: np.ndarray, hr_min: float, hr_max: float, spike_rate: float, dt_cap: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """Clean HR and weigh samples (``t``, ``hr``: contiguous float64 of one length).

    A value is missing (NaN), a dropout (outside ``[hr_min, hr_max]``), or a spike: reached and left at more than
    ``spike_rate`` bpm/s in opposite directions (rates between valid neighbours, before any removal). Each sample
    weighs the seconds to the next one, capped at ``dt_cap`` (a longer step is a gap).

    Returns (clean HR, weights, [n_missing, n_dropouts, n_spikes, n_gaps], total seconds, HR seconds).
    """
    n = hr.size
    h, w = np.empty(n), np.empty(n)
    counts = np.zeros(4, dtype=np.int64)
    total, hr_time = native.hr_clean(t, hr, hr_min, hr_max, spike_rate, dt_cap, h, w, counts,
                                     np.empty(n, dtype=np.int64))
    return h, w, counts, total, hr_time


def zone_loop(
    h: np.ndarray, w: np.ndarray, bounds: np.ndarray, hrmax: float, resting: float, hrr_zones: bool,
    vo2_hr: float, a: float, b: float, a2: float, b2: float,
) -> tuple[np.ndarray, np.ndarray, float, float, float]:
    """Per-sample sums of one session.

    Zone ``z`` of a sample is the number of ``bounds`` at or below its %HRmax (and %HRR). Banister TRIMP:
    ``sum w / 60 * d * (a e^(b d) + a2 e^(b2 d)) / 2`` with ``d = max((HR - resting) / (HRmax - resting), 0)``.

    Returns (zone seconds on %HRmax [6], zone seconds on %HRR if ``hrr_zones`` else the same [6], seconds above
    ``vo2_hr``, sum of w x HR, Banister TRIMP as the mean of the (a, b) and (a2, b2) terms; NaN without
    ``resting``).
    """
    z_max, z_basis = np.zeros(6), np.zeros(6)
    above, hr_sum, trimp = native.hr_zones(
        np.ascontiguousarray(h, dtype=float), np.ascontiguousarray(w, dtype=float),
        np.ascontiguousarray(bounds, dtype=float), hrmax, resting, hrr_zones, vo2_hr, a, b, a2, b2, z_max, z_basis,
    )
    return z_max, z_basis, above, hr_sum, trimp


def weighted_mean(values: np.ndarray, w: np.ndarray) -> float:
    """Sum of w x value over finite values with w > 0, divided by their weight; NaN if none."""
    return float(native.weighted_mean(np.ascontiguousarray(values, dtype=float), np.ascontiguousarray(w, dtype=float)))
