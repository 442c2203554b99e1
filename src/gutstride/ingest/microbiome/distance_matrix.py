"""Read a square distance matrix TSV in the scikit-bio / QIIME 2 layout.

Layout: a header line of a tab followed by the sample ids, then one line per sample: its id and its distances, all
tab-separated. A QIIME 2 ``DistanceMatrix`` artifact (.qza) holds the same file as ``distance-matrix.tsv``.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from gutstride.errors import BadInputError

if TYPE_CHECKING:
    import numpy as np

#: Largest |d_ij - d_ji| and |d_ii| accepted (relative to the largest distance), for values written in float32.
TOLERANCE = 1e-6


def read_distance_matrix(path: Path) -> tuple[np.ndarray, list[str]]:
    """Read a distance matrix written by :func:`gutstride.report.research_export.write_distance_matrix`, scikit-bio or
    QIIME 2 (a ``.tsv`` or a ``DistanceMatrix`` ``.qza``).

    Returns
    -------
    (numpy.ndarray, list of str)
        The float64 ``n x n`` matrix and the sample ids.

    Raises
    ------
    MissingDataError
        The file does not exist.
    BadInputError
        Bad header, a row with the wrong number of values or a non-numeric value, row ids not in header order,
        duplicated ids, negative or non-finite distances, a non-zero diagonal or an asymmetric matrix.
    """
    import numpy as np

    source, size, blocks = _blocks(path)
    header, body = b"", b""
    for block in blocks:  # the header line (long: one id per sample)
        header += block
        if b"\n" in header:
            break
    header, _, body = header.partition(b"\n")
    try:
        ids = header.decode("utf-8-sig").rstrip("\r").split("\t")[1:]
    except UnicodeDecodeError:
        raise BadInputError(f"{source}: line 1 is not UTF-8 text") from None
    if not header.lstrip(b"\xef\xbb\xbf").startswith(b"\t") or not ids:
        raise BadInputError(f"{source}: line 1 must be a tab followed by the sample ids (scikit-bio/QIIME 2 layout)")
    n = len(ids)
    if any(not i for i in ids):
        raise BadInputError(f"{source}: line 1 has an empty sample id")
    if size < 2 * n * n:  # each of the n rows holds n values, each at least one character and a separator
        raise BadInputError(f"{source}: {n} ids in the header but too few bytes for {n} rows of {n} values")
    if len(set(ids)) != n:
        dup = next(i for k, i in enumerate(ids) if i in ids[:k])
        raise BadInputError(f"{source}: sample id {dup!r} appears more than once in the header")
    row_ids, matrix = _parse_rows(body, blocks, n, source)
    if row_ids != ids:
        k = next((k for k, (a, b) in enumerate(zip(row_ids, ids, strict=False)) if a != b), min(len(row_ids), n))
        if len(row_ids) != n:
            raise BadInputError(f"{source}: {n} ids in the header but {len(row_ids)} rows; the matrix must be square")
        raise BadInputError(f"{source}: line {k + 2} is for {row_ids[k]!r} but the header says {ids[k]!r} there")
    if not np.all(np.isfinite(matrix)) or np.any(matrix < 0):
        row, col = np.argwhere(~np.isfinite(matrix) | (matrix < 0))[0]
        raise BadInputError(f"{source}: distance {ids[row]!r}-{ids[col]!r} is {matrix[row, col]}: must be >= 0")
    tol = TOLERANCE * max(float(matrix.max()), 1.0)
    diag = np.abs(np.diag(matrix))
    if np.any(diag > tol):
        k = int(np.argmax(diag))
        raise BadInputError(f"{source}: the distance of {ids[k]!r} to itself is {matrix[k, k]}, not 0")
    step = max(1, 4_000_000 // max(n, 1))  # the symmetry check in blocks of rows: no n x n temporaries
    for start in range(0, n, step):
        asym = np.abs(matrix[start : start + step] - matrix[:, start : start + step].T)
        if np.any(asym > tol):
            row, col = np.unravel_index(int(np.argmax(asym)), asym.shape)
            row += start
            raise BadInputError(
                f"{source}: not symmetric: {ids[row]!r}-{ids[col]!r} is {matrix[row, col]} "
                f"but {ids[col]!r}-{ids[row]!r} is {matrix[col, row]}"
            )
    return matrix, ids


def _blocks(path: Path) -> tuple[str, int, Iterator[bytes]]:
    """The source label, the size in bytes and the content of ``path`` in blocks of :data:`_BLOCK` bytes (a
    ``.qza``'s member in one block), so that a large matrix is parsed without holding its whole text."""
    from gutstride.ingest.microbiome.artifact import read_file_or_artifact

    path = Path(path)
    if path.suffix.lower() == ".qza" or not path.is_file():
        raw, source = read_file_or_artifact(path, ("DistanceMatrix",))
        return source, len(raw), iter([raw])

    def blocks() -> Iterator[bytes]:
        try:
            with path.open("rb") as handle:
                while block := handle.read(_BLOCK):
                    yield block
        except OSError as exc:
            raise BadInputError(f"{path}: cannot read: {exc.strerror}") from None

    return str(path), path.stat().st_size, blocks()


#: Bytes read at a time from a distance-matrix file.
_BLOCK = 1 << 24


def _parse_rows(body: bytes, blocks: Iterator[bytes], n: int, source: str) -> tuple[list[str], np.ndarray]:
    """Row ids and values of the lines after the header (``body``, then the rest of ``blocks``), parsed by
    compiled code (``_gutstride_native.parse_rows``) straight into a preallocated ``n x n`` float64 array, block by
    block. Blank lines are skipped; a line may end in CR LF."""
    import _gutstride_native as native
    import numpy as np

    matrix = np.empty((n, n), dtype=np.float64)
    raw_ids: list[bytes] = []
    first_line = 2  # the file's line number of the first line of ``body``
    pending: Iterator[bytes | None] = chain(blocks, [None])
    while True:
        block = next(pending)
        final = block is None
        if block:
            body += block
            if b"\n" not in block:
                continue
        ids, status, line, used, lines = native.parse_rows(body, n, matrix, len(raw_ids), final)
        if status == _WRONG_COUNT:
            found = body.split(b"\n", line + 1)[line].rstrip(b"\r").count(b"\t")
            raise BadInputError(f"{source}: line {first_line + line} has {found} values, expected {n}")
        if status == _NOT_A_NUMBER:
            raise BadInputError(f"{source}: line {first_line + line} has a missing or non-numeric value")
        if status == _TOO_MANY_ROWS:
            raise BadInputError(f"{source}: {n} ids in the header but more than {n} rows; the matrix must be square")
        raw_ids += ids
        if final:
            break
        body, first_line = body[used:], first_line + lines
    try:
        row_ids = [i.decode("utf-8") for i in raw_ids]
    except UnicodeDecodeError:
        row = next(k for k, i in enumerate(raw_ids) if not _is_utf8(i))
        raise BadInputError(f"{source}: the id of data row {row + 1} is not UTF-8 text") from None
    return row_ids, matrix[: len(row_ids)]


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


#: Status codes of ``_gutstride_native.parse_rows``: a line with a number of values other than n, a value that is
#: not a number, more rows than ids in the header.
_WRONG_COUNT, _NOT_A_NUMBER, _TOO_MANY_ROWS = 1, 2, 3
