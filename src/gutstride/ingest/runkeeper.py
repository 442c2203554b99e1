"""Runkeeper's data export: ``cardioActivities.csv`` and the GPX files it names.

The csv has one row per activity (``Activity Id``, ``Date``, ``Type``, ``Distance (km)``, ``Duration``,
``Average Heart Rate (bpm)``, ``Climb (m)``, ``Calories Burned``, ``GPX File``...). Its ``Date`` is the local time
of the start, without an offset; the GPX files hold the same runs with UTC times. Read apart, the local time taken
as UTC misses the GPX duplicate by the zone's offset and each run is stored twice.

So each row is joined to its GPX through the ``GPX File`` column: one activity, with the csv's values (read by
:func:`gutstride.ingest.activities.summary_csv.read_summary_csv`, local times in the workspace's zone) and the
GPX's stream. Where the GPX starts more than :data:`START_CHECK_S` from the csv's start, the workspace time zone is
probably not the one the runs were recorded in: counted and reported. GPX files no row names are activities of
their own.

The layout was checked against a real export (mrsbighead/running-data @ f683a4a6, ``cardioActivities.csv``, read for
its header only): older exports have no ``Activity Id`` column (``Date,Type,Route Name,Distance (km),Duration,...,
GPX File``), durations are ``mm:ss`` or ``h:mm:ss``, rows without a track leave ``GPX File`` empty, and the GPX files
are named ``YYYY-MM-DD-HHMM.gpx`` after the local start.
"""

from __future__ import annotations

import csv
import io
from datetime import tzinfo
from typing import Any

import numpy as np

from gutstride.errors import BadInputError
from gutstride.ingest.activities.gpx import read_gpx
from gutstride.ingest.activities.streams import summarise_stream
from gutstride.ingest.activities.summary_csv import parse_local_time, read_summary_csv
from gutstride.ingest.bundle import ExportBundle
from gutstride.ingest.container import Container, base_name
from gutstride.model.activity import Activity, ActivitySummary
from gutstride.settings import zone_label

FORMAT = "runkeeper"
CSV_NAME = "cardioActivities.csv"
START_CHECK_S = 300.0


def is_runkeeper(names: list[str]) -> bool:
    """True when the names hold Runkeeper's ``cardioActivities.csv``."""
    return any(base_name(n) == CSV_NAME for n in names)


def _gpx_by_start(text: str, zone: tzinfo) -> dict[float, str]:
    """``{start (epoch s): GPX file name}`` from the csv's ``Date`` and ``GPX File`` columns."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    out: dict[float, str] = {}
    try:
        for row in reader:
            gpx, when = (row.get("GPX File") or "").strip(), (row.get("Date") or "").strip()
            if gpx and when:
                try:
                    out[parse_local_time(when, zone)[0].timestamp()] = gpx
                except ValueError:
                    continue
    except csv.Error:
        pass  # read_summary_csv reports the broken line; rows after it have no activity to join
    return out


def read_runkeeper(container: Container, zone: tzinfo) -> ExportBundle:
    """Read a Runkeeper export (see the module docstring)."""
    out = ExportBundle(FORMAT)
    names = container.names()
    csv_name = next(n for n in names if base_name(n) == CSV_NAME)
    data = container.read(csv_name)
    decoded = read_summary_csv(data, CSV_NAME, zone)
    out.warnings += [w for w in decoded.warnings if w.startswith("line ")]
    gpx_of = _gpx_by_start(data.decode("utf-8-sig", errors="replace"), zone)
    by_base = {base_name(n): n for n in names if n.lower().endswith(".gpx")}
    used: set[str] = set()
    joined = off = 0
    for activity in decoded.activities:
        summary = activity.summary
        extra: dict[str, Any] = {}
        gpx = gpx_of.get(summary.start_time.timestamp()) if summary.start_time is not None else None
        member = by_base.get(gpx or "")
        if member is not None:
            used.add(member)
            stream = _gpx_stream(container, member, out)
            if stream is not None:
                activity.stream = stream
                joined += 1
                first = float(stream["time"][0])
                if summary.start_time is not None and abs(first - summary.start_time.timestamp()) > START_CHECK_S:
                    off += 1
                    extra["gpx_start_differs_s"] = round(first - summary.start_time.timestamp())
                summarise_stream(stream, summary)
        out.activities.append(activity)
        out.extras.append(extra)
    alone = 0
    for member in sorted(set(by_base.values()) - used):
        stream = _gpx_stream(container, member, out)
        if stream is not None:
            out.activities.append(Activity(summary=summarise_stream(stream, ActivitySummary()), stream=stream))
            out.extras.append({"note": "Runkeeper GPX that no cardioActivities.csv row names"})
            alone += 1
    if off:
        out.warnings.append(
            f"{off} GPX files start more than {START_CHECK_S / 60:.0f} min from their csv row read in "
            f"{zone_label(zone)}: is time_zone in config.toml the zone the runs were recorded in?"
        )
    out.counts = {"rows": len(decoded.activities), "gpx_joined": joined, "gpx_alone": alone, "start_off": off}
    out.headline = (f"Runkeeper: {len(decoded.activities)} activities from {CSV_NAME} (local times in "
                    f"{zone_label(zone)}), {joined} joined to their GPX through 'GPX File', {alone} GPX on their own")
    return out


def _gpx_stream(container: Container, member: str, out: ExportBundle) -> dict[str, np.ndarray] | None:
    try:
        decoded = read_gpx(container.read(member), base_name(member))
    except BadInputError as exc:
        out.warnings.append(str(exc))
        return None
    if not decoded.activities or decoded.activities[0].stream["time"].size == 0:
        out.warnings.append(f"{base_name(member)}: {decoded.message or 'no timed point'}")
        return None
    return decoded.activities[0].stream
