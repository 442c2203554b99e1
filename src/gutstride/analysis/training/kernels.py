"""Compiled one-pass loops over a session's samples (numba, cached).

A session is read a few times by numpy for each of a dozen measures; over 3 years of 1 Hz data (5 million
samples) the passes cost more than the arithmetic, so cleaning and the per-sample sums run as single loops.
The rules are documented in :func:`gutstride.analysis.training.profile.clean_hr` and
:func:`gutstride.analysis.training.sessions.analyse_session`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def clean_loop(t, hr, hr_min, hr_max, spike_rate, dt_cap):  # pragma: no cover - run compiled by numba
    """Clean HR and weigh samples.

    Returns (clean HR, weights, [n_missing, n_dropouts, n_spikes, n_gaps], total seconds, HR seconds).
    """
    n = hr.size
    h = np.empty(n)
    w = np.zeros(n)
    counts = np.zeros(4, dtype=np.int64)
    valid = np.empty(n, dtype=np.int64)
    n_valid = 0
    for i in range(n):
        x = hr[i]
        if math.isnan(x):
            counts[0] += 1
            h[i] = np.nan
        elif x < hr_min or x > hr_max:
            counts[1] += 1
            h[i] = np.nan
        else:
            h[i] = x
            valid[n_valid] = i
            n_valid += 1
        if i + 1 < n:
            dt = t[i + 1] - t[i]
            if dt > dt_cap:
                counts[3] += 1
                w[i] = dt_cap
            elif dt > 0:
                w[i] = dt
    # A spike: reached and left at more than spike_rate bpm/s, in opposite directions (rates on the valid values
    # before any removal, so neighbouring spikes do not hide each other).
    for k in range(1, n_valid - 1):
        a, b, c = valid[k - 1], valid[k], valid[k + 1]
        r_in = (hr[b] - hr[a]) / max(t[b] - t[a], 1.0)
        r_out = (hr[c] - hr[b]) / max(t[c] - t[b], 1.0)
        if abs(r_in) > spike_rate and abs(r_out) > spike_rate and (r_in > 0) != (r_out > 0):
            h[b] = np.nan
            counts[2] += 1
    total = 0.0
    hr_time = 0.0
    for i in range(n):
        total += w[i]
        if not math.isnan(h[i]):
            hr_time += w[i]
    return h, w, counts, total, hr_time


@njit(cache=True, nogil=True)
def zone_loop(h, w, bounds, hrmax, resting, hrr_zones, vo2_hr, a, b, a2, b2):  # pragma: no cover - numba
    """Per-sample sums of one session.

    Returns (zone seconds on %HRmax [6], zone seconds on %HRR if ``hrr_zones`` else the same [6], seconds above
    ``vo2_hr``, sum of w x HR, Banister TRIMP as the mean of the (a, b) and (a2, b2) terms; NaN without
    ``resting``).
    """
    z_max = np.zeros(6)
    z_basis = np.zeros(6)
    above = 0.0
    hr_sum = 0.0
    trimp = 0.0
    nb = bounds.size
    for i in range(h.size):
        x = h[i]
        wi = w[i]
        if math.isnan(x) or wi == 0.0:
            continue
        pct = x / hrmax
        z = 0
        while z < nb and pct >= bounds[z]:
            z += 1
        z_max[z] += wi
        if hrr_zones:
            pct_r = (x - resting) / (hrmax - resting)
            zr = 0
            while zr < nb and pct_r >= bounds[zr]:
                zr += 1
            z_basis[zr] += wi
        if x > vo2_hr:
            above += wi
        hr_sum += wi * x
        if not math.isnan(resting):
            d = max((x - resting) / (hrmax - resting), 0.0)
            trimp += wi / 60.0 * d * (a * math.exp(b * d) + a2 * math.exp(b2 * d)) / 2.0
    if not hrr_zones:
        z_basis[:] = z_max
    if math.isnan(resting):
        trimp = np.nan
    return z_max, z_basis, above, hr_sum, trimp


@njit(cache=True, nogil=True)
def weighted_mean(values, w):  # pragma: no cover - run compiled by numba
    """Sum of w x value over finite values with w > 0, divided by their weight; NaN if none."""
    total = 0.0
    acc = 0.0
    for i in range(values.size):
        v = values[i]
        if not math.isnan(v) and not math.isinf(v) and w[i] > 0:
            total += w[i]
            acc += w[i] * v
    return acc / total if total > 0 else np.nan
