"""Google Fit's TCX files: their ``<Activity>`` segments merged into one session, stale points dropped.

Google Fit writes one session as several ``<Activity>`` segments, the first often holding a stale point up to 2 h
early. :func:`merge_segments` makes one activity of them; :func:`drop_stale_points` drops at most
:data:`STALE_MAX_POINTS` points cut off by a gap over :data:`STALE_GAP_S` at either end.
"""

from __future__ import annotations

import numpy as np

from gutstride.ingest.activities.streams import stream_from_columns, summarise_stream
from gutstride.ingest.activities.tcx import read_tcx
from gutstride.model.activity import STREAM_COLUMNS, Activity, ActivitySummary, DecodedFile

STALE_GAP_S = 1800.0
STALE_MAX_POINTS = 3


def merged_stream(data: bytes, name: str) -> tuple[dict[str, np.ndarray], str | None, list[str]]:
    """The ``<Activity>`` segments of one TCX merged into one time-sorted stream, the sport, and warnings."""
    decoded = read_tcx(data, name)
    warnings = [f"{name}: {decoded.message}"] if decoded.status != "ok" and decoded.message else []
    stream, sport = _merge(decoded)
    return stream, sport, warnings


def _merge(decoded: DecodedFile) -> tuple[dict[str, np.ndarray], str | None]:
    streams = [a.stream for a in decoded.activities if a.stream.get("time") is not None]
    if not streams:
        return stream_from_columns({}, 0), None
    columns = {c: np.concatenate([s[c] for s in streams]) for c in STREAM_COLUMNS}
    sport = next((a.summary.sport for a in decoded.activities if a.summary.sport != "other"), None)
    return stream_from_columns(columns, int(columns["time"].size)), sport


def is_google_fit_tcx(data: bytes) -> bool:
    """True for a TCX written by Google Fit (its ``<Author>`` names it, at the end of the file)."""
    return b"<Name>Google Fit</Name>" in data[-8192:]


def merge_segments(decoded: DecodedFile) -> DecodedFile:
    """A Google Fit TCX read on its own: its segments as one activity, stale points dropped (see the module
    docstring). A file with one segment is returned as it is."""
    if len(decoded.activities) < 2:
        return decoded
    stream, sport = _merge(decoded)
    stream, dropped = drop_stale_points(stream)
    summary = summarise_stream(stream, ActivitySummary(sport=sport or "other", device="Google Fit"))
    note = (f"Google Fit session: {len(decoded.activities)} <Activity> segments merged into one activity"
            + (f", {dropped} stale points dropped" if dropped else ""))
    message = "; ".join(m for m in (decoded.message, note) if m)
    return DecodedFile(format=decoded.format, status=decoded.status, message=message,
                       activities=[Activity(summary=summary, stream=stream)], warnings=decoded.warnings)


def drop_stale_points(stream: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], int]:
    """Drop at most :data:`STALE_MAX_POINTS` points cut off from the rest by a gap over :data:`STALE_GAP_S`, at the
    start and at the end of a time-sorted stream. Returns the stream and how many points were dropped."""
    time = stream["time"]
    lo, hi = 0, int(time.size)
    gaps = np.flatnonzero(np.diff(time) > STALE_GAP_S)
    for gap in gaps:
        if gap + 1 <= STALE_MAX_POINTS and gap + 1 > lo:
            lo = int(gap) + 1
    for gap in gaps[::-1]:
        if time.size - (gap + 1) <= STALE_MAX_POINTS and gap + 1 < hi:
            hi = int(gap) + 1
    if hi - lo < 1:
        return stream, 0
    return {c: v[lo:hi] for c, v in stream.items()}, int(time.size - (hi - lo))
