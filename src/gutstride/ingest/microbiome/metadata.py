"""Read sample metadata: a TSV with sample ids in the first column, as QIIME 2 metadata and QIIME 1 mapping files.

The first line is the header (its first cell may be ``#SampleID``, ``sample-id``, ``id``...). Later lines starting
with ``#`` (comments and QIIME 2's ``#q2:types`` directive) and blank lines are skipped. Empty cells are missing
values; rows shorter than the header are padded with missing values.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from gutstride.errors import BadInputError, MissingDataError


def read_sample_metadata(path: Path) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Read a sample-metadata TSV.

    Returns
    -------
    (list of str, dict)
        The column names (without the id column) and, for each sample id, its non-empty values by column.

    Raises
    ------
    MissingDataError
        The file does not exist.
    BadInputError
        Not UTF-8, no header, a row longer than the header, an empty or duplicated sample id.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"{path}: no such file")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    rows = csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    header: list[str] | None = None
    samples: dict[str, dict[str, str]] = {}
    for line_no, row in enumerate(rows, start=1):
        if not row or not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [cell.strip() for cell in row]
            if len(header) < 2:
                raise BadInputError(f"{path}: line {line_no}: the header needs a sample id column and another column")
            continue
        if row[0].startswith("#"):
            continue
        if len(row) > len(header):
            raise BadInputError(f"{path}: line {line_no} has {len(row)} cells but the header has {len(header)}")
        sample = row[0].strip()
        if not sample:
            raise BadInputError(f"{path}: line {line_no} has an empty sample id")
        if sample in samples:
            raise BadInputError(f"{path}: line {line_no}: sample id {sample!r} appears more than once")
        samples[sample] = {header[k]: cell.strip() for k, cell in enumerate(row) if k and cell.strip()}
    if header is None:
        raise BadInputError(f"{path}: empty file, expected a header line")
    return header[1:], samples
