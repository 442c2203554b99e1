"""Open the Zarr distance matrix a ``gutstride cohort`` run writes, ``OUTDIR/distance/<metric>.zarr``.

Layout (written by :func:`gutstride.services.cohort.run_cohort`): one Zarr array of shape ``n x n``, float32 or
float64, in square chunks of ``tile`` samples (the tiles of the upper triangle and their mirrors), with the
attributes :data:`FORMAT_KEY` ``= FORMAT_VALUE``, ``sample_ids`` (the row and column order), ``metric`` and
``complete`` (set once every tile is written; a run that stopped half way leaves it false, and the missing tiles
would read as zeros).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gutstride.errors import BadInputError, MissingDataError

#: Attribute that marks a gutstride distance store, and its value.
FORMAT_KEY, FORMAT_VALUE = "gutstride", "distance matrix"


@dataclass
class DistanceStore:
    """An open, read-only distance store: the Zarr array, the sample ids in its order and the metric."""

    array: Any
    sample_ids: list[str]
    metric: str


def open_distance_store(path: Path) -> DistanceStore:
    """Open and check the distance store at ``path``.

    Raises
    ------
    MissingDataError
        Nothing at ``path``.
    BadInputError
        ``path`` is not a Zarr array, not one gutstride wrote (no :data:`FORMAT_KEY` attribute), not square, not
        float32/float64, with sample ids that do not match its shape or repeat, or not complete.
    """
    import numpy as np
    import zarr

    path = Path(path)
    if not path.exists():
        raise MissingDataError(f"{path}: no such distance store")
    what = f"{path} is not a gutstride distance store (OUTDIR/distance/<metric>.zarr of gutstride cohort)"
    try:
        array = zarr.open_array(str(path), mode="r")
    except (OSError, ValueError) as exc:  # zarr's not-found and bad-metadata errors are both
        raise BadInputError(f"{what}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    attrs = dict(array.attrs)
    if attrs.get(FORMAT_KEY) != FORMAT_VALUE:
        raise BadInputError(f"{what}: its attributes do not say {FORMAT_KEY}: {FORMAT_VALUE}")
    listed = attrs.get("sample_ids")
    ids = [i for i in listed if isinstance(i, str)] if isinstance(listed, list) else []
    n = len(ids)
    if array.ndim != 2 or array.shape != (n, n) or not isinstance(listed, list) or len(listed) != n:
        raise BadInputError(f"{what}: shape {array.shape} does not match its list of sample ids")
    if len(set(ids)) != n:
        raise BadInputError(f"{path}: a sample id appears more than once in its sample_ids")
    if array.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise BadInputError(f"{path}: distances of type {array.dtype}, expected float32 or float64")
    if attrs.get("complete") is not True:
        raise BadInputError(f"{path}: incomplete (the cohort run that wrote it did not finish); run it again")
    return DistanceStore(array, ids, str(attrs.get("metric", "")))


def is_distance_store(path: Path) -> bool:
    """Whether ``path`` is a Zarr array that gutstride wrote as a distance store (complete or not)."""
    import zarr

    if not Path(path).is_dir():
        return False
    try:
        return zarr.open_array(str(path), mode="r").attrs.get(FORMAT_KEY) == FORMAT_VALUE
    except (OSError, ValueError):
        return False
