"""Write demo sessions as GPX 1.1 (Garmin TrackPointExtension v2) and TCX files.

Only what the demo needs: one track or activity per file with time, position, elevation, HR and cadence.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

_HOME = (46.05, 14.50)  # where the demo athlete runs (degrees)


def _positions(distance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A loop of 2 km circumference around home, walked by cumulative distance (metres)."""
    angle = distance / 2000.0 * 2 * np.pi
    radius_deg = 2000.0 / (2 * np.pi) / 111_000.0
    return _HOME[0] + radius_deg * np.sin(angle), _HOME[1] + radius_deg * np.cos(angle) * 1.4


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_all(t0: float, times: np.ndarray) -> list[str]:
    """:func:`_iso` of ``t0 + t`` for every ``t``, in one numpy call: the whole seconds of the time rounded to the
    microsecond (half to even), as ``datetime.fromtimestamp`` rounds it."""
    total = t0 + np.asarray(times, dtype=float)
    whole = np.trunc(total)
    whole += np.round((total - whole) * 1e6) >= 1e6
    seconds = whole.astype(np.int64).astype("datetime64[s]")
    return [text + "Z" for text in np.datetime_as_string(seconds, unit="s").tolist()]


def write_gpx(start: datetime, samples: dict[str, np.ndarray], name: str) -> bytes:
    """GPX 1.1 with ``gpxtpx:TrackPointExtension`` hr/cad/atemp; NaN HR is left out of that point."""
    t0 = start.timestamp()
    lat, lon = (values.tolist() for values in _positions(samples["distance"]))
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<gpx version="1.1" creator="gutstride demo" xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2">',
        f"<metadata><name>{name} (demo data)</name><time>{_iso(t0)}</time></metadata>",
        f"<trk><name>{name} (demo data)</name><type>running</type><trkseg>",
    ]
    hr, temperature = samples["hr"].tolist(), samples["temperature"].tolist()
    cadence, altitude = samples["cadence"].tolist(), samples["altitude"].tolist()
    for i, when in enumerate(_iso_all(t0, samples["time"])):
        hr_xml = "" if hr[i] != hr[i] else f"<gpxtpx:hr>{int(hr[i])}</gpxtpx:hr>"  # NaN HR: no hr element
        lines.append(
            f'<trkpt lat="{lat[i]:.7f}" lon="{lon[i]:.7f}"><ele>{altitude[i]:.1f}</ele>'
            f"<time>{when}</time><extensions><gpxtpx:TrackPointExtension>{hr_xml}"
            f"<gpxtpx:atemp>{temperature[i]:.0f}</gpxtpx:atemp><gpxtpx:cad>{int(cadence[i])}</gpxtpx:cad>"
            "</gpxtpx:TrackPointExtension></extensions></trkpt>"
        )
    lines.append("</trkseg></trk></gpx>")
    return "\n".join(lines).encode()


def write_tcx(start: datetime, samples: dict[str, np.ndarray], sport: str = "Running") -> bytes:
    """TCX with one activity and one lap; Trackpoints carry HR, cadence, distance and position."""
    t0 = start.timestamp()
    lat, lon = (values.tolist() for values in _positions(samples["distance"]))
    hr = samples["hr"]
    duration = float(samples["time"][-1] - samples["time"][0])
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">',
        f'<Activities><Activity Sport="{sport}"><Id>{_iso(t0)}</Id><Lap StartTime="{_iso(t0)}">',
        f"<TotalTimeSeconds>{duration:.0f}</TotalTimeSeconds>"
        f"<DistanceMeters>{samples['distance'][-1]:.1f}</DistanceMeters>",
        f"<AverageHeartRateBpm><Value>{int(np.nanmean(hr))}</Value></AverageHeartRateBpm>",
        f"<MaximumHeartRateBpm><Value>{int(np.nanmax(hr))}</Value></MaximumHeartRateBpm>",
        "<Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod><Track>",
    ]
    hr_values, altitude, distance = hr.tolist(), samples["altitude"].tolist(), samples["distance"].tolist()
    cadence = samples["cadence"].tolist()
    for i, when in enumerate(_iso_all(t0, samples["time"])):
        value = hr_values[i]
        hr_xml = "" if value != value else f"<HeartRateBpm><Value>{int(value)}</Value></HeartRateBpm>"  # NaN: none
        lines.append(
            f"<Trackpoint><Time>{when}</Time><Position><LatitudeDegrees>{lat[i]:.7f}</LatitudeDegrees>"
            f"<LongitudeDegrees>{lon[i]:.7f}</LongitudeDegrees></Position>"
            f"<AltitudeMeters>{altitude[i]:.1f}</AltitudeMeters>"
            f"<DistanceMeters>{distance[i]:.1f}</DistanceMeters>{hr_xml}"
            f"<Cadence>{int(cadence[i] / 2)}</Cadence></Trackpoint>"
        )
    lines.append("</Track></Lap><Notes>demo data</Notes></Activity></Activities></TrainingCenterDatabase>")
    return "\n".join(lines).encode()
