"""Research exports: files other tools read, in their own layouts."""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from gutstride.errors import BadInputError

if TYPE_CHECKING:
    import numpy as np


def write_distance_matrix(path: Path, matrix: np.ndarray, ids: list[str]) -> None:
    """Write a square distance matrix as TSV in the scikit-bio / QIIME 2 layout.

    The first line is a tab followed by the sample ids; each following line is a sample id and its row of
    distances, tab-separated. Values are written in the shortest form that reads back to the same number (float32
    matrices in float32's shortest form). Blocks of rows are formatted on several threads and written in order.
    The file is read by :func:`skbio.DistanceMatrix.read`, QIIME 2's ``DistanceMatrix`` import and
    :func:`gutstride.ingest.microbiome.distance_matrix.read_distance_matrix`.

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
    bad = next((i for i in ids if any(c in str(i) for c in "\t\r\n")), None)
    if bad is not None:
        raise BadInputError(f"sample id {bad!r} contains a tab or line break and cannot be written to TSV")
    if matrix.dtype not in (np.float32, np.float64):
        matrix = matrix.astype(np.float64)
    workers = max(1, min(4, os.cpu_count() or 1))
    with Path(path).open("wb") as handle, ThreadPoolExecutor(workers) as pool:
        handle.write(("\t" + "\t".join(str(i) for i in ids) + "\n").encode("utf-8"))
        pending: deque[Future[bytes]] = deque()  # blocks formatted in parallel (Arrow releases the GIL), in order
        for start in range(0, n, _ROWS_PER_BLOCK):
            stop = min(n, start + _ROWS_PER_BLOCK)
            pending.append(pool.submit(_tsv_lines, [str(i) for i in ids[start:stop]], matrix[start:stop]))
            if len(pending) > workers:
                handle.write(pending.popleft().result())
        while pending:
            handle.write(pending.popleft().result())


#: Rows formatted per block by :func:`write_distance_matrix` (at most one block per thread, plus one, in memory).
_ROWS_PER_BLOCK = 256


def _tsv_lines(ids: list[str], rows: np.ndarray) -> bytes:
    """``id<TAB>v1<TAB>...<TAB>vn<LF>`` for each row, formatted by Arrow's shortest round-trip float formatting."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n_rows, n_cols = rows.shape
    text = pa.large_string()
    values = pc.cast(pa.array(np.ascontiguousarray(rows).ravel()), text)
    offsets = pa.array(np.arange(0, n_rows * n_cols + 1, n_cols, dtype=np.int64))
    joined = pc.binary_join(pa.LargeListArray.from_arrays(offsets, values), pa.scalar("\t", text))
    lines = pc.binary_join_element_wise(pa.array(ids, type=text), joined, pa.scalar("\t", text))
    lines = pc.binary_join_element_wise(lines, pa.scalar("", text), pa.scalar("\n", text))
    bounds = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset : lines.offset + n_rows + 1]
    return lines.buffers()[2].to_pybytes()[int(bounds[0]) : int(bounds[-1])]
