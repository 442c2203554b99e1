"""The log model: validation with row and column, unknown columns, template, CSV/JSON round trips."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gutstride.errors import BadInputError, UnsupportedFormatError
from gutstride.ingest.logs import LogValidationError, entries_to_csv, entries_to_json, read_log, sniff_log, template_csv
from gutstride.model.log_entry import COLUMNS, FIELDS, LogEntry


def test_fields_cover_the_model() -> None:
    names = [f.name for f in FIELDS]
    assert len(names) == len(set(names))
    assert set(names) | {"day", "activity_start"} == set(LogEntry.__dataclass_fields__)
    for spec in FIELDS:
        assert spec.help and spec.type in {"int", "float", "bool", "choice", "list", "text"}


def test_every_problem_is_listed_with_row_and_column() -> None:
    data = (
        b"date,nausea,foo,bristol,sleep_quality,pre_meal_fibre\n"
        b"2024-01-01,3,,9,3,low\n"
        b"2024-01-02,11,,x,0,medium\n"
        b"2024-13-40,1,,2,3,high\n"
        b"2024-01-05,1\n"
    )
    with pytest.raises(LogValidationError) as caught:
        read_log(data, "log.csv")
    problems = caught.value.problems
    assert problems == [
        "line 1, column 3 (foo): unknown column (gutstride log --template lists the columns)",
        "line 2, column 4 (bristol): '9' is out of range 1-7",
        "line 3, column 2 (nausea): '11' is out of range 0-10",
        "line 3, column 4 (bristol): 'x' is not a number",
        "line 3, column 5 (sleep_quality): '0' is out of range 1-5",
        "line 3, column 6 (pre_meal_fibre): 'medium' is not one of high, low",
        "line 4, column 1 (date): '2024-13-40' is not a date (YYYY-MM-DD)",
        "line 5: 2 cells where the header has 6",
    ]
    message = str(caught.value)
    assert message.splitlines()[0] == "log.csv: 8 problems in the log"
    assert isinstance(caught.value, BadInputError)


def test_unknown_column_alone_is_rejected() -> None:
    with pytest.raises(LogValidationError, match=r"column 2 \(naussea\): unknown column"):
        read_log(b"date,naussea\n2024-01-01,3\n", "typo.csv")


def test_line_numbers_skip_comments_and_count_quoted_newlines() -> None:
    data = b'# a comment\ndate,notes,bristol\n2024-01-01,"two\nlines",4\n2024-01-02,ok,8\n'
    with pytest.raises(LogValidationError) as caught:
        read_log(data, "x.csv")
    assert caught.value.problems == ["line 5, column 3 (bristol): '8' is out of range 1-7"]


def test_duplicates_and_missing_date_are_errors() -> None:
    data = b"date,activity_start,cramps\n2024-01-01,,1\n2024-01-01,,2\n2024-01-01,2024-01-01T07:00:00Z,2\n,,3\n"
    with pytest.raises(LogValidationError) as caught:
        read_log(data, "d.csv")
    assert caught.value.problems == [
        "line 3: same date and activity as line 2 (one entry per day or activity)",
        "line 5, column 1 (date): the date is missing",
    ]
    with pytest.raises(LogValidationError, match="no 'date' column"):
        read_log(b"cramps\n3\n", "nodate.csv")
    with pytest.raises(LogValidationError, match="looks ';'-separated"):
        read_log(b"date;cramps\n2024-01-01;3\n", "semicolon.csv")


def test_json_problems_name_entry_and_key() -> None:
    data = json.dumps([
        {"date": "2024-01-01", "nausea": 3, "zzz": 1},
        {"date": "2024-01-02", "bristol": 9, "nsaid": "maybe"},
        "not an object",
    ]).encode()
    with pytest.raises(LogValidationError) as caught:
        read_log(data, "log.json")
    assert caught.value.problems == [
        "entry 1, column 3 (zzz): unknown column",
        "entry 2, column 2 (bristol): 9 is out of range 1-7",
        "entry 2, column 3 (nsaid): 'maybe' is not true or false",
        "entry 3: not an object",
    ]


def test_parsing_values() -> None:
    data = (
        b"date,activity_start,nsaid,supplements,bristol,sleep_hours,pre_meal_fibre,menstrual_phase\n"
        b"2024-01-01,2024-01-01T08:30:00+02:00,yes,iron; vitamin D ,4.0,7.25,HIGH,luteal\n"
        b"2024-01-02,,,,,,,\n"
    )
    first, second = read_log(data, "v.csv")
    assert first.activity_start == datetime(2024, 1, 1, 6, 30, tzinfo=UTC)
    assert first.activity_ref == "2024-01-01T06:30:00Z"
    assert first.nsaid is True and first.supplements == ["iron", "vitamin D"]
    assert first.bristol == 4 and isinstance(first.bristol, int) and first.sleep_hours == 7.25
    assert first.pre_meal_fibre == "high" and first.menstrual_phase == "luteal"
    assert second == LogEntry(day=date(2024, 1, 2))
    with pytest.raises(LogValidationError, match="not a whole number"):
        read_log(b"date,bristol\n2024-01-01,4.5\n", "w.csv")
    with pytest.raises(LogValidationError, match="not a finite number"):
        read_log(b"date,fluids_l\n2024-01-01,nan\n", "w.csv")


def test_not_a_log() -> None:
    with pytest.raises(UnsupportedFormatError):
        read_log(b"\xff\xfe\x00\x01binary", "x.csv")
    with pytest.raises(BadInputError, match="not valid JSON"):
        read_log(b"[{", "x.json")
    with pytest.raises(UnsupportedFormatError):
        read_log(b'"text"', "x.json")
    with pytest.raises(BadInputError, match="empty log"):
        read_log(b"# only a comment\n", "x.csv")


def test_template_documents_every_column_and_reads_back() -> None:
    text = template_csv()
    comments = [line for line in text.splitlines() if line.startswith("#")]
    for column in COLUMNS:
        assert any(line.startswith(f"# {column}: ") for line in comments), column
    header = [line for line in text.splitlines() if not line.startswith("#")]
    assert header == [",".join(COLUMNS)]
    assert read_log(text.encode(), "template.csv") == []
    example = next(line for line in comments if line.startswith("# example: ")).removeprefix("# example: ")
    (entry,) = read_log((header[0] + "\n" + example + "\n").encode(), "example.csv")
    assert entry.day == date(2024, 5, 1) and entry.supplements == ["iron", "vitamin D"] and entry.notes == "felt fine"


def test_sniff() -> None:
    assert sniff_log(template_csv().encode(), "t.csv")
    assert sniff_log(b"Date,Bristol\n2024-01-01,4\n", "mine.csv")
    assert sniff_log(b'[{"date": "2024-01-01", "cramps": 3}', "x.json")
    assert not sniff_log(b"date,heart_rate\n2024-01-01,140\n", "hr.csv")
    assert not sniff_log(b"bristol,cramps\n4,3\n", "nodate.csv")
    assert not sniff_log(b'{"type": "FeatureCollection"}', "x.json")


_symptom = st.none() | st.integers(0, 10)
_float = st.none() | st.floats(0, 15, allow_nan=False).map(lambda v: round(v, 3))
_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), include_characters="\n\r,;\"#"),
                max_size=20)
_entries = st.builds(
    LogEntry,
    day=st.dates(date(2000, 1, 1), date.today()),  # future dates are refused (issue 12)
    activity_start=st.none() | st.datetimes(datetime(2000, 1, 1), datetime(2035, 1, 1),
                                            timezones=st.just(timezone(timedelta(hours=2)))),
    nausea=_symptom, cramps=_symptom, urge_diarrhoea=_symptom,
    bristol=st.none() | st.integers(1, 7), blood_in_stool=st.none() | st.booleans(), fluids_l=_float,
    sleep_hours=_float, pre_meal_fibre=st.none() | st.sampled_from(["high", "low"]),
    supplements=st.lists(_text.map(str.strip).filter(lambda s: s and ";" not in s), max_size=3),
    menstrual_phase=st.none() | st.sampled_from(["menstrual", "luteal"]),
    notes=_text.filter(lambda s: s == "" or s.strip() != ""),
)


def _normalise(entry: LogEntry) -> LogEntry:
    """What reading back yields: a UTC start at whole seconds."""
    if entry.activity_start is not None:
        entry.activity_start = entry.activity_start.astimezone(UTC).replace(microsecond=0)
    return entry


@settings(max_examples=50, deadline=None)
@given(st.lists(_entries, max_size=8, unique_by=lambda e: (e.day, e.activity_start is None)))
def test_csv_and_json_round_trip(entries: list[LogEntry]) -> None:
    entries = [_normalise(e) for e in entries]
    assert read_log(entries_to_csv(entries).encode(), "x.csv") == entries
    assert read_log(entries_to_json(entries).encode(), "x.json") == entries
    rows = list(csv.reader(io.StringIO(entries_to_csv(entries))))
    assert rows[0] == list(COLUMNS) and len(rows) == len(entries) + 1


def test_new_fields_are_validated_with_line_and_column() -> None:
    text = ("date,activity_start,symptom_timing,carb_g_per_h,fodmap_load,session_type,experiment_arm\n"
            "2026-05-01,2026-05-01T06:00:00Z,after,250,huge,parkrun,maybe\n"
            "2026-05-02,2026-05-02T06:00:00Z,within_2h,60,high,race,with\n")
    with pytest.raises(LogValidationError) as err:
        read_log(text.encode(), "new.csv")
    problems = err.value.problems
    assert problems == [
        "line 2, column 3 (symptom_timing): 'after' is not one of before, during, within_2h, later_day, next_day",
        "line 2, column 4 (carb_g_per_h): '250' is out of range 0-200",
        "line 2, column 5 (fodmap_load): 'huge' is not one of low, medium, high",
        "line 2, column 6 (session_type): 'parkrun' is not one of training, race",
        "line 2, column 7 (experiment_arm): 'maybe' is not one of with, without",
    ]
    (entry,) = read_log(text.encode().replace(b"2026-05-01,2026-05-01T06:00:00Z,after,250,huge,parkrun,maybe\n", b""),
                        "ok.csv")
    assert (entry.symptom_timing, entry.carb_g_per_h, entry.fodmap_load, entry.session_type, entry.experiment_arm) == (
        "within_2h", 60.0, "high", "race", "with")
