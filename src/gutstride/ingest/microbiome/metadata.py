"""Read sample metadata: QIIME 2 metadata, QIIME 1 mapping files, and CSV/TSV written by R or a spreadsheet.

Layouts read (the delimiter, tab, comma, semicolon or space, is sniffed from the first lines):

- QIIME 2 metadata TSV: the first cell of the header names the id column (``sample-id``, ``#SampleID``, ``id``...);
  a ``#q2:types`` row declares each column ``numeric`` or ``categorical``; other lines starting with ``#`` are
  comments.
- CSV or TSV with a header and sample ids in the first column, whatever its name, or in ``id_column``.
- R's ``write.csv``: the header's first cell is empty (the row-names column).
- R's ``write.table``: the header is one cell shorter than the rows (no cell above the row names); the first
  cell of each row is the sample id.

Quoted cells are unquoted (``"a, b"`` is one cell). Empty cells and ``NA`` (R's missing value) are missing;
rows shorter than the header are padded with missing values.

Column types: a column declared in ``#q2:types`` has that type (a ``numeric`` column with a value that is not a
number is an error). Otherwise a column whose every present value parses as a finite number is ``numeric`` (a
continuous variable) and any other column is ``categorical``, as QIIME 2 infers types.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

from gutstride.errors import BadInputError, MissingDataError

#: Cell values read as missing.
MISSING = frozenset({"", "NA"})
#: Delimiters tried, in order of preference when several fit.
_DELIMITERS = ("\t", ",", ";", " ")


@dataclass
class SampleMetadata:
    """Sample metadata: column names (the id column excluded), values by sample id, and column types."""

    columns: list[str]
    values: dict[str, dict[str, str]]
    types: dict[str, str] = field(default_factory=dict)

    def is_numeric(self, column: str) -> bool:
        """Whether ``column`` is a continuous (numeric) variable."""
        return self.types.get(column) == "numeric"

    def numeric(self, sample: str, column: str) -> float:
        """The value of a numeric column as a float (NaN when missing)."""
        value = self.values.get(sample, {}).get(column)
        return float(value) if value is not None else math.nan


def read_sample_metadata(path: Path, id_column: str | None = None) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Column names (without the id column) and, for each sample id, its present values by column.

    See :func:`read_metadata`, which also gives the column types.
    """
    meta = read_metadata(path, id_column)
    return meta.columns, meta.values


def read_metadata(path: Path, id_column: str | None = None, missing: tuple[str, ...] = ()) -> SampleMetadata:
    """Read a sample-metadata file (see the module docstring for the layouts).

    Parameters
    ----------
    path
        The file.
    id_column
        Name of the column holding sample ids (default: the first column).
    missing
        More cell values to read as missing, besides the empty cell and ``NA`` (e.g. American Gut's ``None``,
        ``no_data``, ``Unknown``).

    Raises
    ------
    MissingDataError
        The file does not exist; ``id_column`` is not a column.
    BadInputError
        Not UTF-8, no header, a row longer than the header, an empty or duplicated sample id, an unknown type or
        a non-number in a column declared ``numeric``.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"{path}: no such file")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return parse_metadata(text, str(path), id_column, missing)


def parse_metadata(
    text: str, source: str, id_column: str | None = None, missing: tuple[str, ...] = ()
) -> SampleMetadata:
    """Parse metadata ``text`` (``source`` names it in error messages); see :func:`read_metadata`."""
    absent = MISSING | set(missing)
    lines = text.splitlines()
    delimiter = _sniff_delimiter(lines)
    rows = csv.reader(lines, delimiter=delimiter, skipinitialspace=delimiter == " ")
    header: list[str] | None = None
    declared: list[str] | None = None
    body: list[tuple[int, list[str]]] = []
    for line_no, row in enumerate(rows, start=1):
        if not row or not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [cell.strip() for cell in row]
            continue
        first = row[0].strip()
        if first.lower() == "#q2:types":
            declared = [cell.strip().lower() for cell in row]
            continue
        if first.startswith("#"):
            continue
        body.append((line_no, [cell.strip() for cell in row]))
    if header is None:
        raise BadInputError(f"{source}: empty file, expected a header line")
    if body and all(len(row) == len(header) + 1 for _, row in body):
        header = [""] + header  # R's write.table: no header cell above the row names
        if declared is not None:
            declared = [""] + declared
    if len(header) < 2:
        raise BadInputError(f"{source}: the header needs a sample id column and another column")
    id_index = 0
    if id_column is not None:
        if id_column not in header:
            raise MissingDataError(f"{source}: no id column {id_column!r}; columns: {', '.join(header[:30])}")
        id_index = header.index(id_column)
    names = [(k, name) for k, name in enumerate(header) if k != id_index and name]
    samples: dict[str, dict[str, str]] = {}
    for line_no, row in body:
        if len(row) > len(header):
            raise BadInputError(f"{source}: line {line_no} has {len(row)} cells but the header has {len(header)}")
        sample = row[id_index] if id_index < len(row) else ""
        if sample in absent:
            raise BadInputError(f"{source}: line {line_no} has an empty sample id")
        if sample in samples:
            raise BadInputError(f"{source}: line {line_no}: sample id {sample!r} appears more than once")
        samples[sample] = {name: row[k] for k, name in names if k < len(row) and row[k] not in absent}
    types = {}
    for k, name in names:
        kind = declared[k] if declared is not None and k < len(declared) and declared[k] else None
        present = [values[name] for values in samples.values() if name in values]
        if kind is None:
            kind = "numeric" if present and all(_is_number(v) for v in present) else "categorical"
        elif kind not in ("numeric", "categorical"):
            raise BadInputError(f"{source}: column {name!r} has unknown type {kind!r} in #q2:types")
        elif kind == "numeric":
            bad = next((v for v in present if not _is_number(v)), None)
            if bad is not None:
                raise BadInputError(f"{source}: column {name!r} is declared numeric but holds {bad!r}")
        types[name] = kind
    return SampleMetadata([name for _, name in names], samples, types)


def _is_number(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def _sniff_delimiter(lines: list[str]) -> str:
    """The first of tab, comma, semicolon, space that splits the first lines consistently.

    Consistent means the header has at least two cells and every other line between two and one more than the
    header (R's ``write.table`` adds the row names; rows may be shorter than the header). Tab (QIIME's format)
    is tried first, so commas inside TSV cells do no harm.
    """
    sample = [line for line in lines[:100] if line.strip() and not line.lstrip().lower().startswith("#q2:")][:20]
    sample = [line for k, line in enumerate(sample) if k == 0 or not line.lstrip().startswith("#")]
    for delimiter in _DELIMITERS:
        parsed = [row for row in csv.reader(sample, delimiter=delimiter, skipinitialspace=delimiter == " ") if row]
        if not parsed:
            continue
        width = len(parsed[0])
        if width >= 2 and all(2 <= len(row) <= width + 1 for row in parsed[1:]):
            return delimiter
    return "\t"
