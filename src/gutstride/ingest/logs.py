"""The daily symptom and lifestyle log: its fields, validation, CSV/JSON import, the template and export.

One :class:`LogEntry` is either a *day entry* (``activity_start is None``) or an entry about one activity
(``activity_start`` = the activity's start time in UTC). Every field is optional except the day.

Scales
------
- GI symptoms are scored 0-10 during and after exercise (on a rest day: that day), the 0-10 severity scale of the
  GI-symptom questionnaires used in exercise studies (0 = none, 10 = the worst imaginable), as two sub-scales kept
  apart: upper GI (nausea, reflux, belching, vomiting) and lower GI (bloating, cramps, urge/diarrhoea,
  flatulence). ``symptom_timing`` says when they happened relative to the session (before, during, within_2h
  after, later_day, next_day).
- Intake during the session: carbohydrate (g/h) and fluid (mL/h); caffeine in the 3 h before (mg); the meal
  before: its FODMAP, lactose and polyol-sweetener load (low, medium, high); race or training; menstrual phase and
  contraception; an n-of-1 experiment's id and the week's arm (with, without).
- Stool form is the Bristol stool form scale (1 = separate hard lumps ... 7 = entirely liquid).
- Sleep quality and perceived stress are 1-5 Likert scores (sleep: 1 = very poor, 5 = very good;
  stress: 1 = very low, 5 = very high).

Validation
----------
:func:`read_log` checks every cell against :data:`FIELDS` and raises one :class:`LogValidationError` listing
every problem with its line (CSV) or entry number (JSON) and its column; nothing is dropped silently: unknown
columns, out-of-range values, bad dates and duplicate (day, activity) rows are all errors.

In CSV, lines starting with ``#`` are comments (the template documents its columns that way), booleans are
``true``/``false`` (also ``yes``/``no``, ``1``/``0``), supplements are separated by ``;`` and an empty cell means
"not recorded". For the red-flag checklist fields (:data:`~gutstride.model.log_entry.RED_FLAG_CHECKLIST`) "not
recorded" means "not screened", never "no": only an explicit ``false`` is a negative answer.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from gutstride.errors import BadInputError, UnsupportedFormatError
from gutstride.model.log_entry import (
    ACTIVITY_COLUMN,
    COLUMNS,
    DAY_COLUMNS,
    FIELD_BY_NAME,
    FIELDS,
    FieldSpec,
    LogEntry,
    format_number,
)

_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}

log = logging.getLogger(__name__)


class LogValidationError(BadInputError):
    """A log failed validation; :attr:`problems` lists every problem (where, column, what)."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{source}: {len(problems)} {noun} in the log\n" + "\n".join(f"  {p}" for p in problems))


def parse_day(value: Any) -> date:
    """A ``YYYY-MM-DD`` date (``ValueError`` otherwise)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def parse_activity_start(value: Any) -> datetime:
    """An ISO date-time converted to UTC (a time without offset is taken as UTC), whole seconds."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO date-time such as 2024-05-01T06:30:00Z") from None
    else:
        raise ValueError(f"{value!r} is not an ISO date-time such as 2024-05-01T06:30:00Z")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def parse_value(spec: FieldSpec, raw: Any) -> Any:
    """Convert one raw cell (CSV text or a JSON value) for ``spec``; ``None`` when empty.

    Raises
    ------
    ValueError
        With a message saying what is wrong (not a number, out of range, not one of the choices...).
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return [] if spec.type == "list" else ("" if spec.type == "text" else None)
    if spec.type == "text":
        if not isinstance(raw, str):
            raise ValueError(f"{raw!r} is not text")
        return raw
    if spec.type == "list":
        items = raw.split(";") if isinstance(raw, str) else raw
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise ValueError(f"{raw!r} is not a list of names")
        cleaned = [item.strip() for item in items if item.strip()]
        if isinstance(raw, list) and any(";" in item for item in cleaned):
            raise ValueError("a supplement name may not contain ';'")
        return cleaned
    if spec.type == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"{raw!r} is not true or false")
    if spec.type == "choice":
        text = str(raw).strip().lower()
        assert spec.range is not None
        if text not in spec.range:
            raise ValueError(f"{raw!r} is not one of {', '.join(str(c) for c in spec.range)}")
        return text
    return _parse_number(spec, raw)


def _parse_number(spec: FieldSpec, raw: Any) -> int | float:
    if isinstance(raw, bool):
        raise ValueError(f"{raw!r} is not a number")
    try:
        number = float(raw.strip()) if isinstance(raw, str) else float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{raw!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{raw!r} is not a finite number")
    assert spec.range is not None
    lo, hi = float(spec.range[0]), float(spec.range[1])
    if spec.type == "int" and number != int(number):
        raise ValueError(f"{raw!r} is not a whole number ({format_number(lo)}-{format_number(hi)})")
    if not lo <= number <= hi:
        raise ValueError(f"{raw!r} is out of range {format_number(lo)}-{format_number(hi)}")
    return int(number) if spec.type == "int" else number


def entry_from_mapping(record: Mapping[str, Any]) -> tuple[LogEntry | None, list[tuple[str, str]]]:
    """Build a :class:`LogEntry` from ``{column: raw value}``; returns the entry and the ``(column, problem)`` list.

    Unknown columns are problems; the entry is ``None`` when there is any problem.
    """
    problems: list[tuple[str, str]] = []
    values: dict[str, Any] = {}
    day_keys = [key for key in record if key in DAY_COLUMNS]
    if len(day_keys) > 1:
        problems.append((day_keys[1], "both 'date' and 'day' given; use one"))
    if not day_keys or record[day_keys[0]] in (None, ""):
        problems.append((day_keys[0] if day_keys else "date", "the date is missing"))
    for key, raw in record.items():
        try:
            if key in DAY_COLUMNS:
                if raw not in (None, ""):
                    values["day"] = parse_day(raw)
            elif key == ACTIVITY_COLUMN:
                if raw not in (None, ""):
                    values["activity_start"] = parse_activity_start(raw)
            elif key in FIELD_BY_NAME:
                values[key] = parse_value(FIELD_BY_NAME[key], raw)
            else:
                problems.append((key, "unknown column"))
        except ValueError as exc:
            problems.append((key, str(exc)))
    if problems:
        return None, problems
    return LogEntry(**values), []


def _is_json(head: bytes, name: str) -> bool:
    lowered = name.lower()
    if lowered.endswith(".json"):
        return True
    if lowered.endswith((".csv", ".txt", ".tsv")):
        return False
    return head.lstrip()[:1] in (b"[", b"{")


#: How many days after today (this computer's date) a log entry may be dated: one, for a time zone ahead of it.
MAX_DAYS_AHEAD = 1


def future_date_problem(day: date, today: date | None = None) -> tuple[str, str] | None:
    """``("error", why)`` for a day more than :data:`MAX_DAYS_AHEAD` after ``today`` (default: the local date),
    ``("warning", why)`` for a day after today but within it, ``None`` otherwise."""
    today = today or date.today()
    ahead = (day - today).days
    if ahead > MAX_DAYS_AHEAD:
        return "error", f"{day} is {ahead} days in the future (at most {MAX_DAYS_AHEAD} day ahead is accepted)"
    if ahead > 0:
        return "warning", f"{day} is after today ({today}); accepted, as it is today in a time zone ahead"
    return None


def read_log(data: bytes, name: str, today: date | None = None) -> list[LogEntry]:
    """Read and validate a log file (CSV or JSON, chosen by extension, else by content).

    JSON is a list of objects (or ``{"entries": [...]}``) with the same keys as the CSV columns. A date in the
    future is refused, or warned about if it is at most a day ahead (:func:`future_date_problem`, against
    ``today``, by default the local date).

    Raises
    ------
    LogValidationError
        (a :class:`~gutstride.errors.BadInputError`) listing every problem with its row and column.
    UnsupportedFormatError
        If the bytes are not text, or not CSV/JSON of a log.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnsupportedFormatError(f"{name}: not a text file (a log must be UTF-8 CSV or JSON)") from None
    if _is_json(data[:64], name):
        rows, problems = _json_rows(text, name), list[str]()
    else:
        rows, problems = _csv_rows(text, name)
    entries: list[LogEntry] = []
    seen: dict[tuple[date, str], str] = {}
    for where, record, positions, row_problem in rows:
        if row_problem is not None:
            problems.append(f"{where}: {row_problem}")
            continue
        entry, errors = entry_from_mapping(record)
        for column, message in errors:
            col = f"column {positions[column]} ({column})" if column in positions else f"column {column}"
            problems.append(f"{where}, {col}: {message}")
        if entry is None:
            continue
        future = future_date_problem(entry.day, today)
        if future is not None and future[0] == "error":
            problems.append(f"{where}: {future[1]}")
            continue
        if future is not None:
            log.warning("%s, %s: %s", name, where, future[1])
        key = (entry.day, entry.activity_ref)
        if key in seen:
            problems.append(f"{where}: same date and activity as {seen[key]} (one entry per day or activity)")
            continue
        seen[key] = where
        entries.append(entry)
    if problems:
        raise LogValidationError(name, problems)
    return entries


#: (where, {column: raw value}, {column: 1-based column number}, a problem with the whole row or None)
_Row = tuple[str, dict[str, Any], dict[str, int], str | None]


def _csv_rows(text: str, name: str) -> tuple[list[_Row], list[str]]:
    """The data rows (unknown columns left out) and the header's problems (each unknown column, once)."""
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    positions: dict[str, int] = {}
    out: list[_Row] = []
    header_problems: list[str] = []
    try:
        for cells in reader:
            if not cells or all(not c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
                continue
            if header is None:
                header = [c.strip().lower() for c in cells]
                positions = {column: i + 1 for i, column in enumerate(header)}
                header_problems = _check_header(header, name, f"line {reader.line_num}")
                continue
            where = f"line {reader.line_num}"
            if len(cells) != len(header):
                out.append((where, {}, positions, f"{len(cells)} cells where the header has {len(header)}"))
            else:
                record = {k: v for k, v in zip(header, cells, strict=True) if _known(k)}
                out.append((where, record, positions, None))
    except csv.Error as exc:
        raise BadInputError(f"{name}: not valid CSV at line {reader.line_num} ({exc})") from None
    if header is None:
        raise BadInputError(f"{name}: empty log (no header row)")
    return out, header_problems


def _known(column: str) -> bool:
    return column in DAY_COLUMNS or column == ACTIVITY_COLUMN or column in FIELD_BY_NAME


def _check_header(header: list[str], name: str, where: str) -> list[str]:
    """Problems of the header that do not stop the rows being checked; raises when rows cannot be read."""
    duplicates = sorted({c for c in header if header.count(c) > 1})
    if duplicates:
        raise LogValidationError(name, [f"{where}: column(s) repeated: {', '.join(duplicates)}"])
    if not any(c in DAY_COLUMNS for c in header):
        hint = "; the file looks ';'-separated: save it as comma-separated CSV" if ";" in header[0] else ""
        raise LogValidationError(name, [f"{where}: no 'date' column (every entry needs its day){hint}"])
    return [
        f"{where}, column {i} ({column or 'empty name'}): unknown column (gutstride log --template lists the columns)"
        for i, column in enumerate(header, start=1)
        if not _known(column)
    ]


def _json_rows(text: str, name: str) -> list[_Row]:
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInputError(f"{name}: not valid JSON ({exc})") from None
    if isinstance(payload, dict) and isinstance(payload.get("entries"), list):
        payload = payload["entries"]
    if not isinstance(payload, list):
        raise UnsupportedFormatError(f"{name}: a JSON log must be a list of entries (or {{\"entries\": [...]}})")
    out: list[_Row] = []
    for i, item in enumerate(payload, start=1):
        where = f"entry {i}"
        if not isinstance(item, dict):
            out.append((where, {}, {}, "not an object"))
            continue
        record = {str(k).strip().lower(): v for k, v in item.items()}
        out.append((where, record, {k: j for j, k in enumerate(record, start=1)}, None))
    return out


def sniff_log(head: bytes, name: str) -> bool:
    """True when ``head`` (the first bytes of a file) looks like a log: a CSV or JSON with a date column and at
    least one known log field."""
    text = head.decode("utf-8-sig", errors="ignore")
    if _is_json(head, name):
        keys = {k.lower() for k in _json_keys_prefix(text)}
    else:
        lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        if not lines:
            return False
        keys = {c.strip().strip('"').lower() for c in lines[0].split(",")}
    return bool(keys & set(DAY_COLUMNS)) and bool(keys & (set(FIELD_BY_NAME) | {ACTIVITY_COLUMN}) - {"notes"})


def _json_keys_prefix(text: str) -> list[str]:
    """Keys of the first JSON object in a possibly truncated text."""
    start = text.find("{", text.find("[") if text.lstrip().startswith("[") else 0)
    if start < 0:
        return []
    return re.findall(r'"([A-Za-z_]+)"\s*:', text[start : start + 4096])


#: The template's example row (fields left out stay empty).
TEMPLATE_EXAMPLE: dict[str, str] = {
    "nausea": "2", "reflux": "0", "bloating": "3", "cramps": "0", "urge_diarrhoea": "4", "flatulence": "1",
    "belching": "0", "vomiting": "0", "symptom_timing": "within_2h", "bristol": "5", "stool_frequency": "2",
    "blood_in_stool": "false", "black_stool": "false", "sleep_hours": "7.5", "sleep_quality": "4", "stress": "2",
    "fluids_l": "2.5", "pre_meal_minutes_before": "90", "pre_meal_fibre": "low", "pre_meal_fat": "low",
    "pre_meal_carb_g": "60", "fodmap_load": "low", "lactose_load": "low", "sweetener_load": "low",
    "caffeine_before_mg": "80", "carb_g_per_h": "40", "fluid_ml_per_h": "400", "session_type": "training",
    "fermented_servings": "1", "fibre_g": "25", "alcohol_units": "0", "caffeine_mg": "150", "nsaid": "false",
    "supplements": "iron;vitamin D", "probiotic": "true", "illness": "false", "antibiotics": "false",
    "notes": "felt fine",
}


def template_csv() -> str:
    """The CSV template: a comment block documenting each column, then the header row."""
    lines = [
        "# gutstride log template. One row per day, or per activity (fill activity_start).",
        "# Leave a cell empty when you did not record it. Lines starting with # are ignored.",
        f"# {DAY_COLUMNS[0]}: the day (YYYY-MM-DD)",
        f"# {ACTIVITY_COLUMN}: start of the activity this row is about (ISO UTC e.g. 2024-05-01T06:30:00Z);"
        " empty for a day entry",
    ]
    lines += [f"# {spec.name}: {spec.describe()}" for spec in FIELDS]
    example = {DAY_COLUMNS[0]: "2024-05-01", ACTIVITY_COLUMN: "2024-05-01T06:30:00Z", **TEMPLATE_EXAMPLE}
    lines.append("# example: " + ",".join(str(example.get(column, "")) for column in COLUMNS))
    lines.append(",".join(COLUMNS))
    return "\n".join(line.replace('"', "'") for line in lines) + "\n"


def _cell(spec: FieldSpec | None, value: Any) -> Any:
    if value is None:
        return ""
    if spec is not None and spec.type == "list":
        return ";".join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return value


def entries_to_csv(entries: Iterable[LogEntry]) -> str:
    """The entries as CSV with the template's columns (no comment block); :func:`read_log` reads it back."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # so that a lone CR in a cell is quoted
    writer.writerow(COLUMNS)
    for entry in entries:
        row = [entry.day.isoformat(), entry.activity_ref]
        row += [_cell(spec, getattr(entry, spec.name)) for spec in FIELDS]
        writer.writerow(row)
    return out.getvalue()


def entry_to_dict(entry: LogEntry) -> dict[str, Any]:
    """One entry as a JSON-ready dict: ``date``, ``activity_start`` (if any) and the recorded fields."""
    out: dict[str, Any] = {DAY_COLUMNS[0]: entry.day.isoformat()}
    if entry.activity_start is not None:
        out[ACTIVITY_COLUMN] = entry.activity_ref
    out.update(entry.data())
    return out


def entries_to_json(entries: Iterable[LogEntry]) -> str:
    """The entries as a JSON list of objects; :func:`read_log` reads it back."""
    return json.dumps([entry_to_dict(e) for e in entries], indent=2, ensure_ascii=False) + "\n"


def entry_from_data(day: date, activity_ref: str, data: Mapping[str, Any]) -> LogEntry:
    """Rebuild an entry from its stored parts (day, activity reference, :meth:`LogEntry.data`)."""
    record: dict[str, Any] = {DAY_COLUMNS[0]: day.isoformat(), **data}
    if activity_ref:
        record[ACTIVITY_COLUMN] = activity_ref
    entry, problems = entry_from_mapping(record)
    if entry is None:
        raise BadInputError(f"stored log entry for {day} is invalid: {problems}")
    return entry

