"""Garmin Connect's ``Activities.csv`` (the activity list exported from connect.garmin.com): what sets it apart.

The file is read by :mod:`gutstride.ingest.activities.summary_csv`; this module holds what is particular to it.
Everything below was checked against real public exports (English 2017 and 2026, Danish 2020 and 2025, German
2022; see *Sources*); none carries a licence that allows copying, so only these facts are taken from them:

* **Signature.** A ``Favorite`` column next to ``Activity Type`` and ``Date`` (``Favorit`` in Danish and German).
* **Nulls.** Garmin writes ``--`` for a value it does not have; such a cell is missing, not an error. A leading
  apostrophe (``'-9``, written so spreadsheets keep the sign) is dropped.
* **Numbers.** They follow the account's number format, not its language. Most exports, Danish and German ones
  included, write a decimal *point* and group thousands with commas (``6.29`` km, ``4,509`` kcal, a ``1,500`` m
  swim); an account set to a decimal comma writes ``3,40`` km, ``6.176`` kcal and ``00:01:39,6`` even under English
  headers. The file's decimal mark is taken from its cells (:func:`decimal_mark`: ``3,40`` or ``0,0`` can only be
  a decimal comma, ``6.29`` only a decimal point; ``1,500`` or ``6.176`` could be either and do not count), and
  every number is read with it (:func:`read_number`); a cell that does not fit is reported as unreadable.
* **Distance unit.** The ``Distance`` header carries no unit: a metric account's export lists km, a US account's
  lists miles (the real English 2017 export: a ``5k`` race is ``3.11``). The runs tell which: their steps
  (average cadence x minutes) times their stride length (metres, in either account) cover the distance, so
  steps x stride / distance is about 1,000 for km and 1,609 for miles (:func:`metres_per_unit`). Elevation columns
  are read as metres, and as feet when the distances are in miles (Garmin's "statute" units go together; not
  checked against a real file whose elevations could be told apart).
* **Distances in metres.** The ``Distance`` column is in the account's unit (km or miles), except for pool swims
  (``Pool Swim``, ``Svøm i pool``) and track runs (``Laufen auf der Bahn``), which Garmin lists in metres: ``843``
  is 843 m, ``2,810`` is 2,810 m (:func:`listed_in_metres`).
* **Local times.** ``Date`` is the local time of the start, without an offset.
* **Durations.** ``Time`` is ``hh:mm:ss`` (or ``mm:ss`` in older exports), with ``Moving Time`` and
  ``Elapsed Time`` beside it in newer ones. The Danish export of 2025 writes ``Tid`` as hours:minutes (``1:02``
  for a run whose ``Tidsforbrug``, elapsed time, is ``01:01:18``): a one-colon time that, read as minutes:seconds,
  would be less than half the row's elapsed time is read as hours:minutes (:func:`hours_minutes`).
* **Languages.** The headers and activity types follow the account's language. :data:`HEADER_ALIASES` lists the
  Danish and German spellings found in the real exports; note that the Danish distance header is ``Distance``, as
  in English. :data:`SPORT_WORDS` lists the activity types seen in them. Other languages are not known here: their
  headers are not recognised, and the file is refused as not an activity summary rather than misread.

Sources (real exports, read for their layout only)
--------------------------------------------------
* English 2026: github.com/keanegleeson/kdf-marathon-2026 @ c7f1b436, ``Activities.csv``
* English 2017: github.com/kennethajensen/Running @ a38de78a, ``Activities.csv``
* English 2025-2026, pool swims only: github.com/23Flo/swimanalyser @ d5b8f9f3, ``Activities.csv``
* English 2019-2026 with decimal commas: github.com/Romain-Thomas-Shef/grunt @ 85a09648, ``Activities.csv`` (MIT;
  13 of its rows are copied in ``tests/data/activities/garmin-connect-grunt``)
* Danish 2020: github.com/HLasse/GarminRunStats @ 3cc462e8, ``Activities.csv``
* Danish 2025: github.com/Bjarke848/AI_TrainingPlanner @ 84a5fe31, ``Activities.csv``
* German 2022: github.com/PhilippPro/Running-App @ 1de66213, ``data/Activities.csv``
* German 2017 (the header row ``... Ø HF,Max. HF,... Positiver Höhenunterschied ...`` and one row, quoted in
  the Garmin-CSV check of a public PHP project, the REGmon training log)
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable

#: Header spellings of other languages, by field (matched after lower-casing and folding punctuation to spaces).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "start_time": ("dato", "datum"),
    "sport": ("aktivitetstype", "aktivitätstyp"),
    "duration_s": ("tid", "zeit"),
    "moving_time_s": ("tid i bevægelse", "zeit in bewegung"),
    "elapsed_s": ("tidsforbrug", "verstrichene zeit"),
    "distance_m": ("distanz",),
    "avg_hr": ("gennemsnitlig puls", "ø herzfrequenz", "ø hf"),
    "max_hr": ("maks puls", "maximale herzfrequenz", "max hf"),
    "ascent_m": ("samlet stigning", "højdeforøgelse", "anstieg gesamt", "positiver höhenunterschied"),
    "name": ("titel",),
}
#: Headers that mark a Garmin Connect list (the "Favorite" column), in English, Danish and German.
FAVOURITE_HEADERS = frozenset({"favorite", "favorit"})
#: Activity types seen in the real exports that :func:`~gutstride.ingest.activities.streams.normalise_sport` does
#: not know (Danish, German, and English "Ultra Running"), mapped onto :data:`gutstride.model.activity.SPORTS`.
SPORT_WORDS: dict[str, str] = {
    "ultra running": "running",
    "løb": "running", "løb terræn": "trail_running", "gang": "walking", "cykling": "cycling",
    "cykling på grusveje": "cycling", "svøm i pool": "swimming", "styrketræning": "strength",
    "laufen": "running", "laufbandtraining": "treadmill_running", "laufen auf der bahn": "running",
    "radfahren": "cycling",
}
#: Header keys of the runs' average stride length (metres) and average cadence (steps per minute). The cadence
#: column is named after the first row's activity type (a Danish export starting with a pool swim calls it
#: "Gennemsnitlig svømmekadence" and lists the runs' step cadence in it).
STRIDE_KEYS = ("avg stride length", "gennemsnitlig skridtlængde", "ø schrittlänge")
CADENCE_KEYS = ("avg run cadence", "avg cadence", "gennemsnit kadence løb", "gennemsnitlig svømmekadence",
                "ø schrittfrequenz")
#: Metres per unit of the ``Distance`` column, by name.
DISTANCE_UNITS = {"km": 1000.0, "miles": 1609.344}
_POOL = re.compile(r"pool|lap swim", re.IGNORECASE)
_TRACK = re.compile(r"track run|auf der bahn", re.IGNORECASE)
_GROUPED = {".": re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d*)?"), ",": re.compile(r"[-+]?\d{1,3}(\.\d{3})+(,\d*)?")}
#: Cells that can only be written with a decimal comma, or only with a decimal point (one, two, four or more digits
#: after the mark, in a number or after the seconds of a time); three digits after it could be a thousands group.
_ONLY = {mark: re.compile(rf"[-+]?\d+{re.escape(mark)}(\d{{1,2}}|\d{{4,}})|\d+:\d\d(:\d\d)?{re.escape(mark)}\d+")
         for mark in ",."}
_HOURS_MINUTES = re.compile(r"(\d+):([0-5]\d)")


def is_garmin_header(keys: list[str]) -> bool:
    """True when normalised header keys hold Garmin's ``Favorite`` column."""
    return bool(FAVOURITE_HEADERS & set(keys))


def decimal_mark(cells: Iterable[str]) -> str:
    """``","`` when more cells can only be read with a decimal comma than with a decimal point, else ``"."``."""
    votes = {",": 0, ".": 0}
    for cell in cells:
        text = cell.strip().lstrip("'")
        for mark, only in _ONLY.items():
            if only.fullmatch(text):
                votes[mark] += 1
    return "," if votes[","] > votes["."] else "."


def read_number(text: str, mark: str = ".") -> float:
    """A Garmin number with decimal ``mark``: ``6.29``, ``4,509``, ``1,234.5`` (``"."``) or ``3,40``, ``6.176``,
    ``1.234,5`` (``","``), the other mark grouping thousands; ValueError otherwise."""
    text = text.strip().lstrip("'")
    group = "," if mark == "." else "."
    if _GROUPED[mark].fullmatch(text):
        text = text.replace(group, "")
    elif group in text:
        raise ValueError(text)
    return float(text.replace(",", "."))


def metres_per_unit(runs: Iterable[tuple[float, float, float, float]]) -> str | None:
    """``"km"`` or ``"miles"``: the unit of the ``Distance`` column, from ``(distance, cadence, minutes, stride)``
    of the rows that have them, or None when fewer than 3 rows do or their median fits neither unit.

    steps x stride / distance = cadence x minutes x stride (m) / distance is the metres per unit of distance; the
    median over the rows is taken as km within 15 % of 1,000 and as miles within 15 % of 1,609.344.
    """
    ratios = [cadence * minutes * stride / distance for distance, cadence, minutes, stride in runs
              if distance > 0 and cadence > 0 and minutes > 0 and stride > 0]
    if len(ratios) < 3:
        return None
    middle = statistics.median(ratios)
    return next((name for name, metres in DISTANCE_UNITS.items() if abs(middle / metres - 1) < 0.15), None)


def is_pool_swim(sport_text: str | None) -> bool:
    """True for a pool swim ("Pool Swim", "Lap Swimming", "Svøm i pool")."""
    return bool(sport_text and _POOL.search(sport_text))


def listed_in_metres(sport_text: str | None) -> bool:
    """True for the activity types whose distance Garmin lists in metres: pool swims and track runs."""
    return is_pool_swim(sport_text) or bool(sport_text and _TRACK.search(sport_text))


def hours_minutes(text: str, elapsed_s: float | None) -> float | None:
    """Seconds of a ``Time`` cell written as hours:minutes, or None when it is not one.

    Only a one-colon time can be: it is hours:minutes when, read as minutes:seconds, it would be less than half of
    the row's elapsed time (``1:02`` beside ``01:01:18``); without an elapsed time it stays minutes:seconds.
    """
    match = _HOURS_MINUTES.fullmatch(text.strip())
    if match is None or elapsed_s is None:
        return None
    first, second = int(match.group(1)), int(match.group(2))
    if first * 60 + second >= elapsed_s / 2:
        return None
    return first * 3600.0 + second * 60.0


def local_sport(sport_text: str) -> str | None:
    """The sport of an activity type listed in :data:`SPORT_WORDS`, or None."""
    return SPORT_WORDS.get(sport_text.strip().lower())
