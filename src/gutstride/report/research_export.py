"""Research exports: files other tools read, in their own layouts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import _gutstride_native as native

from gutstride.errors import BadInputError

if TYPE_CHECKING:
    from collections.abc import Iterable

    import numpy as np


def write_distance_matrix(path: Path, matrix: np.ndarray, ids: list[str]) -> None:
    """Write a square distance matrix as TSV in the scikit-bio / QIIME 2 layout (see :func:`write_distance_rows`).

    Raises
    ------
    BadInputError
        The matrix is not square, does not match ``ids``, or an id contains a tab or a line break.
    """
    import numpy as np

    matrix = np.asarray(matrix)
    n = len(ids)
    if matrix.ndim != 2 or matrix.shape != (n, n):
        raise BadInputError(f"distance matrix of shape {matrix.shape} does not match {n} sample ids")
    write_distance_rows(path, ids, (matrix[start:start + _ROWS_PER_BLOCK] for start in range(0, n, _ROWS_PER_BLOCK)))


def write_distance_rows(path: Path, ids: list[str], blocks: Iterable[np.ndarray]) -> None:
    """Write a distance matrix given as consecutive blocks of rows (each ``rows x n``, read one at a time: the
    square need never be held whole) as TSV in the scikit-bio / QIIME 2 layout.

    The first line is a tab followed by the sample ids; each following line is a sample id and its row of
    distances, tab-separated. Values are written as Python's ``repr`` writes them, as scikit-bio does (the shortest
    text that reads back to the same number; ``0.0`` for zero), so the file is byte for byte scikit-bio's; float32
    rows in float32's shortest form. Rows are formatted :data:`_ROWS_PER_BLOCK` at a time by compiled code
    (``_gutstride_native``, rows in parallel), each block written by a second thread while the next is formatted
    (both release the GIL). The file is read by :func:`skbio.DistanceMatrix.read`, QIIME 2's
    ``DistanceMatrix`` import and :func:`gutstride.ingest.microbiome.distance_matrix.read_distance_matrix`.

    Raises
    ------
    BadInputError
        A block is not ``rows x n``, the blocks do not hold ``n`` rows in all, or an id contains a tab or a line
        break.
    """
    import numpy as np

    n = len(ids)
    bad = next((i for i in ids if any(c in str(i) for c in "\t\r\n")), None)
    if bad is not None:
        raise BadInputError(f"sample id {bad!r} contains a tab or line break and cannot be written to TSV")
    encoded = [str(i).encode("utf-8") for i in ids]
    done = 0
    with Path(path).open("wb") as handle, ThreadPoolExecutor(max_workers=1) as writer:
        pending = writer.submit(handle.write, b"\t" + b"\t".join(encoded) + b"\n")
        for block in blocks:
            block = np.asarray(block)
            if block.ndim != 2 or block.shape[1] != n or done + block.shape[0] > n:
                raise BadInputError(f"rows of shape {block.shape} after {done} rows do not fit {n} sample ids")
            if block.dtype not in (np.float32, np.float64):
                block = block.astype(np.float64)
            single = block.dtype == np.float32
            for start in range(0, block.shape[0], _ROWS_PER_BLOCK):
                rows = np.ascontiguousarray(block[start:start + _ROWS_PER_BLOCK])
                text = native.format_rows(encoded[done:done + rows.shape[0]], rows, n, single)
                pending.result()  # the previous block is written (or its error raised) before the next is queued
                pending = writer.submit(handle.write, text)
                done += rows.shape[0]
        pending.result()
    if done != n:
        raise BadInputError(f"{done} rows written for {n} sample ids")


#: Rows formatted at a time (about 12 MB of text at 5,000 samples; the buffers, under glibc's largest mmap threshold
#: of 32 MB, are reused from one block to the next instead of being mapped and zeroed again).
_ROWS_PER_BLOCK = 128
