"""Research exports: files other tools read, in their own layouts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gutstride.errors import BadInputError

if TYPE_CHECKING:
    import numpy as np


def write_distance_matrix(path: Path, matrix: np.ndarray, ids: list[str]) -> None:
    """Write a square distance matrix as TSV in the scikit-bio / QIIME 2 layout.

    The first line is a tab followed by the sample ids; each following line is a sample id and its row of
    distances, tab-separated. Values are written in the shortest form that reads back to the same number (float32
    matrices in float32's shortest form). The file is read by :func:`skbio.DistanceMatrix.read`, QIIME 2's
    ``DistanceMatrix`` import and :func:`gutstride.ingest.microbiome.distance_matrix.read_distance_matrix`.

    Raises
    ------
    BadInputError
        The matrix is not square, does not match ``ids``, or an id contains a tab or a line break.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    matrix = np.asarray(matrix)
    n = len(ids)
    if matrix.ndim != 2 or matrix.shape != (n, n):
        raise BadInputError(f"distance matrix of shape {matrix.shape} does not match {n} sample ids")
    bad = next((i for i in ids if any(c in str(i) for c in "\t\r\n")), None)
    if bad is not None:
        raise BadInputError(f"sample id {bad!r} contains a tab or line break and cannot be written to TSV")
    columns = [pa.array([str(i) for i in ids], type=pa.string())]
    columns += [pa.array(matrix[:, k]) for k in range(n)]
    table = pa.Table.from_arrays(columns, names=[f"c{k}" for k in range(n + 1)])
    path = Path(path)
    with path.open("wb") as handle:
        handle.write(("\t" + "\t".join(str(i) for i in ids) + "\n").encode("utf-8"))
        pacsv.write_csv(
            table, handle, pacsv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none")
        )
