"""Garmin Connect's ``Activities.csv`` (the activity list exported from connect.garmin.com): what sets it apart.

The file is read by :mod:`gutstride.ingest.activities.summary_csv`; this module holds what is particular to it:

* **Signature.** A ``Favorite`` column next to ``Activity Type`` and ``Date`` (in the account's language).
* **Nulls.** Garmin writes ``--`` for a value it does not have; such a cell is missing, not an error. A leading
  apostrophe (``'-9``, written so spreadsheets keep the sign) is dropped.
* **Numbers.** English exports group thousands with a comma (``2,992`` calories, a ``1,500`` m swim); Danish and
  German exports use a decimal comma (``5,02`` km) and group thousands with a dot (:func:`decimal_comma`).
* **Pool swims in metres.** The ``Distance`` column is in the account's unit (km or miles), except for pool
  swims, which Garmin lists in metres (or yards): ``843`` is 843 m, not 843 km (:func:`is_pool_swim`).
* **Local times.** ``Date`` is the local time of the start, without an offset.
* **Languages.** The headers and activity types follow the account's language. :data:`HEADER_ALIASES` lists the
  Danish and German spellings (written from Garmin Connect's web interface in those languages; no licensed
  sample export was found to copy), and :data:`SPORT_WORDS` the activity types.
"""

from __future__ import annotations

import re

#: Header spellings of other languages, by field (matched after lower-casing and folding punctuation to spaces).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "start_time": ("dato", "datum"),
    "sport": ("aktivitetstype", "aktivitätstyp", "aktivitatstyp"),
    "duration_s": ("tid", "zeit"),
    "moving_time_s": ("bevægelsestid", "tid i bevægelse", "zeit in bewegung", "bewegungszeit"),
    "distance_m": ("distanz", "strecke"),
    "avg_hr": ("gns puls", "gennemsnitlig puls", "gns hjertefrekvens", "ø herzfrequenz",
               "durchschnittliche herzfrequenz", "ø hf", "durchschn herzfrequenz"),
    "max_hr": ("maks puls", "maksimal puls", "maks hjertefrekvens", "maximale herzfrequenz", "max herzfrequenz",
               "max hf"),
    "ascent_m": ("samlet stigning", "anstieg gesamt", "gesamtanstieg"),
    "name": ("titel",),
}
#: Headers that mark a Garmin Connect list (the "Favorite" column), in any language.
FAVOURITE_HEADERS = frozenset({"favorite", "favorit", "favourite", "favoritt"})
#: Activity types of other languages, mapped onto :data:`gutstride.model.activity.SPORTS`.
SPORT_WORDS: dict[str, str] = {
    "løb": "running", "laufen": "running", "trailløb": "trail_running", "traillauf": "trail_running",
    "løbebånd": "treadmill_running", "laufband": "treadmill_running", "gang": "walking", "gehen": "walking",
    "vandring": "hiking", "wandern": "hiking", "cykling": "cycling", "radfahren": "cycling",
    "indendørs cykling": "indoor_cycling", "indoor radfahren": "indoor_cycling", "svømning": "swimming",
    "poolsvømning": "swimming", "svømning i pool": "swimming", "schwimmen": "swimming",
    "schwimmbadschwimmen": "swimming", "bahnenschwimmen": "swimming", "freiwasserschwimmen": "swimming",
    "styrketræning": "strength", "krafttraining": "strength", "roning": "rowing", "rudern": "rowing",
}
_POOL = re.compile(r"pool|schwimmbad|bahnenschw|bassin|piscin|lap swim", re.IGNORECASE)


def is_garmin_header(keys: list[str]) -> bool:
    """True when normalised header keys hold Garmin's ``Favorite`` column."""
    return bool(FAVOURITE_HEADERS & set(keys))


def decimal_comma(keys: list[str]) -> bool:
    """True when the headers are in a language that writes ``5,02`` for five point zero two (Danish, German)."""
    local = {alias for aliases in HEADER_ALIASES.values() for alias in aliases}
    return any(key in local for key in keys)


def is_pool_swim(sport_text: str | None) -> bool:
    """True for a pool swim ("Pool Swim", "Lap Swimming", "Svømning i pool", "Schwimmbadschwimmen")."""
    return bool(sport_text and _POOL.search(sport_text))


def local_sport(sport_text: str) -> str | None:
    """The sport of a non-English activity type, or None."""
    return SPORT_WORDS.get(sport_text.strip().lower())
