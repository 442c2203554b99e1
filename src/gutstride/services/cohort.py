"""``gutstride cohort``: a whole study in one command, in process or on a Dask cluster.

Steps: rarefy (optional) -> alpha diversity of every sample -> match samples with the metadata (the others go to
``excluded.tsv`` with the reason) -> tiles of the distance matrix over the upper triangle, each computed by one
task that writes it (and its mirror) as float32 (float64 with ``float64=True``) into
``OUTDIR/distance/<metric>.zarr`` and returns its share of every PERMANOVA quadratic form for all permutations
(:mod:`gutstride.analysis.cohort`) -> a tree reduction of the shares -> the PERMANOVA table.

No process holds the square matrix: a task holds one tile (and the distances among its two blocks of samples,
``(|I| + |J|)^2`` values); the driver holds the table, the design basis and the permutation indices.

Permutations are drawn once from the seed (:func:`~gutstride.analysis.microbiome.permanova.permutation_batches`),
so the numbers are the same whatever the number of workers or the tile size, and equal to the in-memory
``gutstride permanova`` with the same seed. Shares are reduced in tile order (a fixed tree), never in completion
order. PCoA (randomised, :data:`CohortOptions.pcoa_dimensions` axes) then reads the stored tiles block by block, one
task per block of rows on the cluster;
with a categorical ``--column``, PERMDISP runs on those principal coordinates (as scikit-bio's ``permdisp`` on an
ordination) and is written to ``permdisp.tsv``, and a PERMANOVA of each pair of groups (each with its own
permutations of the pair's samples, drawn from the seed, then Benjamini-Hochberg q-values) is computed from the
stored tiles, the pair's rows and columns selected in each tile, and written to ``pairwise.tsv``.

Aitchison (``--metric aitchison``) takes the Euclidean shortcut by default: the statistics come from the robust-CLR
coordinates in blocks of rows (:mod:`gutstride.analysis.cohort`), with the same labellings as the tiles, so the same
F and p-values, and no distance is computed or stored; PCoA uses ``G X = Xc (Xc' X)`` and PERMDISP and the pairwise
tests follow as above. ``write_distances=True`` (``--write-distances``) takes the tile path instead and writes the
store. ``run.json``'s ``statistics_from`` says which path ran.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gutstride.errors import BadInputError

if TYPE_CHECKING:
    from collections.abc import Callable

    import skbio

    from gutstride.analysis.cohort import PairTest
    from gutstride.analysis.microbiome.ordination import Ordination
    from gutstride.ingest.microbiome.metadata import SampleMetadata
    from gutstride.model.feature_table import FeatureTable

#: Reduction fan-in: shares summed per task of the tree reduction.
_FAN_IN = 8
#: Distances read at once by one PCoA task (rows x n float64 values: 192 MB).
_READ_VALUES = 24_000_000
#: Labels (int32) of the pairwise tests held at once: the pairs run together over the stored tiles (160 MB).
_PAIR_LABELS = 40_000_000
#: Values of one sum ``X' q_pi`` of the Euclidean shortcut (features x labellings x basis columns: 32 MB).
_FORM_VALUES = 4_000_000


@dataclass
class CohortOptions:
    """What ``gutstride cohort`` computes, and where."""

    metric: str
    column: str | None = None
    formula: str | None = None
    by: str = "terms"
    strata: str | None = None
    permutations: int = 999
    seed: int = 0
    rarefy: int | None = None
    float64: bool = False
    tile: int = 1000
    workers: int = 2
    memory_limit: str = "1GiB"
    scheduler: str | None = None
    processes: bool = True
    pcoa_dimensions: int = 10
    write_distances: bool = False


def _tile_task(
    rows_i: FeatureTable, rows_j: FeatureTable | None, metric: str, tree: skbio.TreeNode | None,
    basis: np.ndarray, perms_i: np.ndarray, perms_j: np.ndarray, store: str,
    bounds_i: tuple[int, int], bounds_j: tuple[int, int], dtype: str,
) -> tuple[np.ndarray, list[str]]:
    """Compute one tile, write it (and its mirror) into the Zarr store, return its PERMANOVA shares and warnings."""
    import zarr

    from gutstride.analysis.cohort import tile_distances, tile_partial_sums

    block, warnings = tile_distances(rows_i, rows_j, metric, tree)
    array = zarr.open_array(store, mode="r+")
    array[bounds_i[0]:bounds_i[1], bounds_j[0]:bounds_j[1]] = block.astype(dtype)
    if rows_j is not None:
        array[bounds_j[0]:bounds_j[1], bounds_i[0]:bounds_i[1]] = block.T.astype(dtype)
    return tile_partial_sums(block, basis, perms_i, perms_j, rows_j is None), warnings


def _reduce(*parts: tuple[np.ndarray, list[str]]) -> tuple[np.ndarray, list[str]]:
    """Sum of shares (in the given order) and the union of their warnings."""
    total = parts[0][0].copy()
    for share, _ in parts[1:]:
        total += share
    return total, sorted({w for _, warnings in parts for w in warnings})


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("gutstride", "numpy", "scipy", "scikit-bio", "statsmodels", "dask", "distributed", "zarr"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


@dataclass(frozen=True)
class CohortWriters:
    """How the presenters write the files a cohort run leaves for people: the PCoA in the QIIME 2 ordination
    layout, the methods paragraph and the summary page (see :data:`gutstride.report.cohort.COHORT_WRITERS`)."""

    write_ordination: Callable[[Path, Ordination], None]
    methods_paragraph: Callable[[dict[str, Any], dict[str, Any]], str]
    summary_page: Callable[..., str]


def run_cohort(
    table: FeatureTable,
    meta: SampleMetadata,
    outdir: Path,
    options: CohortOptions,
    writers: CohortWriters,
    tree: skbio.TreeNode | None = None,
    progress: Callable[[int, int], None] | None = None,
    announce: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the cohort analysis and write its outputs into ``outdir``; return the PERMANOVA result and run facts.

    ``options.workers == 0`` (and no scheduler) runs every task in this process; otherwise the tasks run on a
    Dask ``LocalCluster`` of ``workers`` single-threaded workers with ``memory_limit`` each, or on the cluster at
    ``scheduler``. ``progress(done, total)`` is called as tiles (or, on the Euclidean path, blocks of rows)
    finish; ``announce`` receives the dashboard address.
    """
    import pandas as pd

    from gutstride.analysis.cohort import labellings, permanova_of_forms, tile_bounds
    from gutstride.analysis.microbiome.alpha import alpha_diversity
    from gutstride.analysis.microbiome.beta import METRICS
    from gutstride.analysis.microbiome.permanova import build_model
    from gutstride.ingest.microbiome.cohort import subset_samples
    from gutstride.services.research import match_samples, model_columns, model_terms

    if options.metric not in METRICS:
        raise BadInputError(f"unknown metric {options.metric!r}; choose one of {', '.join(METRICS)}")
    if options.tile < 2:
        raise BadInputError("--tile must be at least 2")
    if options.permutations < 0:
        raise BadInputError("permutations must be 0 or more")
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    excluded: list[dict[str, str]] = []
    if options.rarefy is not None:
        from gutstride.analysis.microbiome.rarefy import rarefy

        table, dropped = rarefy(table, options.rarefy, options.seed)
        excluded += [{"id": s, "reason": f"fewer than {options.rarefy} reads (rarefaction)"} for s in dropped]
    alpha = alpha_diversity(table)
    alpha.to_csv(outdir / "alpha.tsv", sep="\t")
    timings["alpha_s"] = time.perf_counter() - clock

    needed = model_columns(meta, options.column, options.formula)
    if options.strata and options.strata not in meta.columns:
        raise BadInputError(f"metadata: no column {options.strata!r}")
    keep, left_out = match_samples(list(table.sample_ids), meta, needed + ([options.strata] if options.strata else []),
                                   what="table")
    rarefied_out = {row["id"] for row in excluded}
    excluded += [row for row in left_out if row["id"] not in rarefied_out]
    pd.DataFrame(excluded, columns=["id", "reason"]).to_csv(outdir / "excluded.tsv", sep="\t", index=False)
    samples = [table.sample_ids[k] for k in keep]
    n = len(samples)
    if n < 3:
        raise BadInputError(f"only {n} sample(s) have a table row and the metadata values: nothing to test")
    table = subset_samples(table, samples)
    terms = model_terms(meta, samples, options.column, options.formula)
    model = build_model(terms, n, options.by)
    strata = [meta.values[s][options.strata] for s in samples] if options.strata else None
    perms = labellings(n, options.permutations, options.seed, strata)
    bounds = tile_bounds(n, options.tile)
    perm_blocks = [np.ascontiguousarray(perms[:, b0:b1]) for b0, b1 in bounds]
    del perms  # the blocks hold the same indices
    grouping = ([str(meta.values[s][options.column]) for s in samples]
                if options.column is not None and not meta.is_numeric(options.column) else None)
    euclidean = options.metric == "aitchison" and not options.write_distances
    _remove_stale_outputs(outdir, options.metric if euclidean else None, grouping is None)
    timings["prepare_s"] = time.perf_counter() - clock - timings["alpha_s"]
    with _cluster(options, announce) as (client, workers, dashboard):
        start = time.perf_counter()
        path: _TilePath | _EuclideanPath = (_EuclideanPath(table, options) if euclidean
                                            else _TilePath(table, options, outdir, samples, tree))
        quad, ss_total, warnings = path.forms(model.basis, perm_blocks, client, progress)
        timings["tiles_s" if path.store is not None else "coordinates_s"] = time.perf_counter() - start
        start = time.perf_counter()
        ordination = path.ordination(ss_total, samples, client)
        timings["pcoa_s"] = time.perf_counter() - start
        pairwise = None
        if grouping is not None:
            start = time.perf_counter()
            pairwise = path.pairwise(grouping, strata, client)
            timings["pairwise_s"] = time.perf_counter() - start
    (outdir / "pcoa").mkdir(exist_ok=True)
    writers.write_ordination(outdir / "pcoa" / f"{options.metric}.tsv", ordination)

    result = permanova_of_forms(model, [name for name, _ in terms], quad, ss_total, n, options.permutations)
    result.update(metric=options.metric, column=options.column, formula=options.formula, strata=options.strata,
                  seed=options.seed, excluded_samples=len(excluded), warnings=warnings)
    if grouping is not None:
        from gutstride.analysis.microbiome.permanova import permdisp_coordinates

        disp = permdisp_coordinates(ordination.coordinates, grouping, options.permutations, options.seed)
        result["permdisp"] = disp
        pd.DataFrame([{k: disp[k] for k in ("method", "test", "f", "p_value", "sample_size", "number_of_groups",
                                            "permutations")}]).to_csv(outdir / "permdisp.tsv", sep="\t", index=False)
        result["pairwise"] = pairwise
        pd.DataFrame(pairwise or [], columns=list(PAIRWISE_COLUMNS)).rename(columns=PAIRWISE_COLUMNS).to_csv(
            outdir / "pairwise.tsv", sep="\t", index=False)
    rows = [{**row} for row in result["terms"]]
    rows.append({"term": "Residual", **result["residual"]})
    rows.append({"term": "Total", **result["total"]})
    pd.DataFrame(rows, columns=["term", "df", "sum_of_squares", "r2", "f", "p_value"]).to_csv(
        outdir / "permanova.tsv", sep="\t", index=False)
    timings["total_s"] = time.perf_counter() - clock
    run = {
        "versions": _versions(),
        "options": asdict(options),
        "samples_in_table": len(alpha), "samples_analysed": n, "samples_excluded": len(excluded),
        "statistics_from": path.description, "tiles": path.tasks, "workers": workers, "dashboard": dashboard,
        "timings": timings,
        "distance_store": str(path.store.relative_to(outdir)) if path.store is not None else None,
        "dtype": path.dtype,
        "pcoa": {"method": ordination.method, "dimensions": int(ordination.coordinates.shape[1]),
                 "proportion_explained": [float(p) for p in ordination.proportion_explained]},
    }
    (outdir / "run.json").write_text(json.dumps(run, indent=2) + "\n")
    (outdir / "methods.md").write_text(writers.methods_paragraph(result, run))
    exposure = options.column or needed[0]
    exposure_values = {s: meta.values[s][exposure] for s in samples}
    (outdir / "summary.html").write_text(
        writers.summary_page(result, run, alpha.loc[samples], exposure, exposure_values, meta.is_numeric(exposure),
                     ordination))
    return {**result, "run": run}


def _remove_stale_outputs(outdir: Path, storeless_metric: str | None, numeric: bool) -> None:
    """Remove what an earlier run left in ``outdir`` and this one will not write again, so that no file there
    describes another run: the distance store of ``storeless_metric`` (a gutstride store only) when this run
    writes none, and ``permdisp.tsv`` and ``pairwise.tsv`` when the exposure is not categorical."""
    import shutil

    from gutstride.ingest.microbiome.distance_store import is_distance_store

    if storeless_metric is not None:
        store = outdir / "distance" / f"{storeless_metric}.zarr"
        if is_distance_store(store):
            shutil.rmtree(store)
    if numeric:
        for name in ("permdisp.tsv", "pairwise.tsv"):
            (outdir / name).unlink(missing_ok=True)


#: Columns of ``pairwise.tsv`` and their headers, as q2-diversity's ``beta-group-significance --p-pairwise``.
PAIRWISE_COLUMNS = {"group1": "Group 1", "group2": "Group 2", "sample_size": "Sample size",
                    "permutations": "Permutations", "pseudo_f": "pseudo-F", "p_value": "p-value",
                    "q_value": "q-value"}


class _TilePath:
    """Statistics from the distance tiles, written into ``OUTDIR/distance/<metric>.zarr`` as they are computed."""

    def __init__(self, table: FeatureTable, options: CohortOptions, outdir: Path, samples: list[str],
                 tree: skbio.TreeNode | None) -> None:
        import zarr

        from gutstride.analysis.cohort import tile_bounds, upper_tiles
        from gutstride.ingest.microbiome.distance_store import FORMAT_KEY, FORMAT_VALUE

        self.table, self.options, self.tree = table, options, tree
        self.n = len(samples)
        self.store: Path | None = outdir / "distance" / f"{options.metric}.zarr"
        self.store.parent.mkdir(parents=True, exist_ok=True)
        self.dtype = "float64" if options.float64 else "float32"
        zarr.create_array(store=str(self.store), shape=(self.n, self.n), chunks=(options.tile, options.tile),
                          dtype=self.dtype, fill_value=0.0, overwrite=True,
                          attributes={"sample_ids": samples, "metric": options.metric, FORMAT_KEY: FORMAT_VALUE,
                                      "complete": False})
        self.bounds = tile_bounds(self.n, options.tile)
        self.tiles = upper_tiles(self.n, options.tile)
        self.tasks = len(self.tiles)
        self.description = "distance tiles"

    def forms(self, basis: np.ndarray, perm_blocks: list[np.ndarray], client: Any,
              progress: Callable[[int, int], None] | None) -> tuple[np.ndarray, float, list[str]]:
        """Compute and store every tile; return the quadratic forms of every labelling, ``SS_total`` and the
        warnings of the distances."""
        import zarr

        from gutstride.analysis.cohort import rows_of

        store, bounds, options = str(self.store), self.bounds, self.options
        blocks: list[Any] = [rows_of(self.table, b) for b in bounds]
        tree: Any = self.tree
        shared_basis: Any = basis
        perms: list[Any] = perm_blocks
        if client is not None:
            tree = client.scatter(tree, broadcast=True) if tree is not None else None
            shared_basis = client.scatter(basis, broadcast=True)
            blocks, perms = client.scatter(blocks), client.scatter(perm_blocks)
        calls = [(_tile_task, blocks[i], None if i == j else blocks[j], options.metric, tree, shared_basis, perms[i],
                  perms[j], store, bounds[i], bounds[j], self.dtype) for i, j in self.tiles]
        total, warnings = _sum_of_tasks(calls, client, progress)
        zarr.open_array(store, mode="r+").attrs["complete"] = True
        return total[:-1].reshape(len(perm_blocks[0]), basis.shape[1]), float(total[-1]) / (2.0 * self.n), warnings

    def ordination(self, ss_total: float, samples: list[str], client: Any) -> Ordination:
        assert self.store is not None
        return _pcoa_from_store(self.store, self.n, self.options.tile, ss_total, samples, self.options, client)

    def pairwise(self, grouping: list[str], strata: list[str] | None, client: Any) -> list[dict[str, Any]]:
        """Pairwise PERMANOVAs read from the stored tiles (float32 unless ``--float64``): each tile is read once
        per group of pairs whose labellings fit in :data:`_PAIR_LABELS` values together."""
        from gutstride.analysis.cohort import pair_tests, pairwise_rows, permanova_of_forms

        options = self.options
        tests: list[PairTest] = []
        results: list[dict[str, Any] | None] = []
        chunk: list[int] = []

        def run_chunk() -> None:
            for k, total in zip(chunk, self._pair_shares([tests[k] for k in chunk], client), strict=True):
                test = tests[k]
                assert test.model is not None
                m = test.members.size
                quad = total[:-1].reshape(-1, test.model.basis.shape[1])
                results[k] = permanova_of_forms(test.model, ["group"], quad, float(total[-1]) / (2.0 * m), m,
                                                options.permutations)
            chunk.clear()

        for test in pair_tests(grouping, options.permutations, options.seed, strata):
            tests.append(test)
            results.append(None)
            if test.model is None:
                continue
            if chunk and sum(tests[k].labellings.size for k in chunk) + test.labellings.size > _PAIR_LABELS:
                run_chunk()
            chunk.append(len(tests) - 1)
        if chunk:
            run_chunk()
        return pairwise_rows(tests, results, options.permutations)

    def _pair_shares(self, tests: list[PairTest], client: Any) -> list[np.ndarray]:
        """Each test's summed tile shares (one pass over the stored tiles)."""
        bases: Any = [t.model.basis for t in tests if t.model is not None]
        sizes = np.cumsum([0] + [t.labellings.shape[0] * (t.model.basis.shape[1] if t.model else 0) + 1
                                 for t in tests])
        rows: list[Any] = [[t.block_rows(b) for t in tests] for b in self.bounds]
        for test in tests:  # the block rows hold the same labels: keep one copy
            test.labellings = test.labellings[:1].copy()
        if client is not None:
            bases = client.scatter(bases, broadcast=True)
            rows = client.scatter(rows)
        calls = [(_pair_tile_task, str(self.store), self.bounds[i], self.bounds[j], rows[i], rows[j], bases)
                 for i, j in self.tiles]
        total, _ = _sum_of_tasks(calls, client, None)
        return [total[a:b] for a, b in zip(sizes[:-1], sizes[1:], strict=True)]


class _EuclideanPath:
    """Statistics of Aitchison distances from the robust-CLR coordinates, with no distance at all (the Euclidean
    shortcut of :mod:`gutstride.analysis.cohort`); PCoA from products with ``Xc Xc'``."""

    def __init__(self, table: FeatureTable, options: CohortOptions) -> None:
        from gutstride.analysis.microbiome.beta import aitchison_coordinates

        clr = aitchison_coordinates(table)
        self.clr = clr[:, np.unique(clr.indices)].tocsr()  # features absent from every sample add nothing
        self.options = options
        self.store: Path | None = None
        self.dtype: str | None = None
        self.tasks = 0
        self.description = "CLR coordinates (Euclidean shortcut, no distance matrix)"

    def forms(self, basis: np.ndarray, perm_blocks: list[np.ndarray], client: Any,
              progress: Callable[[int, int], None] | None) -> tuple[np.ndarray, float, list[str]]:
        """The quadratic forms of every labelling and ``SS_total`` of the whole cohort."""
        from gutstride.analysis.cohort import tile_bounds

        bounds = tile_bounds(self.clr.shape[0], self.options.tile)
        quad, ss_total = self._forms_of(self.clr, bounds, basis, perm_blocks, client, progress)
        if ss_total <= 1e-20 * float(self.clr.multiply(self.clr).sum()):  # zero, up to the rounding of the logs
            raise BadInputError(f"every aitchison distance between the {self.clr.shape[0]} samples is 0: the samples "
                                "are empty or proportional")
        return quad, ss_total, []

    def _forms_of(self, clr: Any, bounds: list[tuple[int, int]], basis: np.ndarray, perm_blocks: list[np.ndarray],
                  client: Any, progress: Callable[[int, int], None] | None) -> tuple[np.ndarray, float]:
        """Quadratic forms (``labellings x w``) and ``SS_total`` of the rows of ``clr`` in blocks ``bounds``, in
        batches of labellings whose sums hold at most about :data:`_FORM_VALUES` values."""
        from gutstride.analysis.cohort import centred_sum_of_squares, forms_of_coordinate_sums

        mean = np.asarray(clr.mean(axis=0)).ravel()
        ss_total = sum(centred_sum_of_squares(clr[b0:b1], mean) for b0, b1 in bounds)
        labellings, width = perm_blocks[0].shape[0], basis.shape[1]
        batch = max(1, _FORM_VALUES // max(1, clr.shape[1] * width))
        blocks: list[Any] = [clr[b0:b1] for b0, b1 in bounds]
        perms: list[Any] = perm_blocks
        shared_basis: Any = basis
        if client is not None:
            blocks, perms = client.scatter(blocks), client.scatter(perm_blocks)
            shared_basis = client.scatter(basis, broadcast=True)
        quad = np.empty((labellings, width))
        batches = range(0, labellings, batch)
        for done, first in enumerate(batches, start=1):
            last = min(labellings, first + batch)
            calls = [(_coordinate_task, block, shared_basis, perm, first, last) for block, perm in
                     zip(blocks, perms, strict=True)]
            total, _ = _sum_of_tasks(calls, client, None)
            quad[first:last] = forms_of_coordinate_sums(total, width)
            self.tasks += len(calls)
            if progress:
                progress(done, len(batches))
        return quad, float(ss_total)

    def ordination(self, ss_total: float, samples: list[str], client: Any) -> Ordination:
        """Randomised PCoA with ``G X = Xc (Xc' X)`` (``Xc`` the centred coordinates), in this process: a product
        costs ``O(nnz k)``."""
        from gutstride.analysis.microbiome.ordination import pcoa_from_products

        clr = self.clr
        mean = np.asarray(clr.mean(axis=0)).ravel()

        def product(x: np.ndarray) -> np.ndarray:
            y = clr.T @ (x - x.mean(axis=0))  # Xc' x = X' (x - mean)
            return np.asarray(clr @ y) - (mean @ y)[None, :]

        return pcoa_from_products(product, clr.shape[0], ss_total, samples,
                                  min(self.options.pcoa_dimensions, clr.shape[0]), seed=self.options.seed)

    def pairwise(self, grouping: list[str], strata: list[str] | None, client: Any) -> list[dict[str, Any]]:
        """Pairwise PERMANOVAs, each from the coordinates of its pair's samples."""
        from gutstride.analysis.cohort import pair_tests, pairwise_rows, permanova_of_forms, tile_bounds

        options = self.options
        tests, results = [], []
        for test in pair_tests(grouping, options.permutations, options.seed, strata):
            result = None
            if test.model is not None:
                m = test.members.size
                bounds = tile_bounds(m, options.tile)
                quad, ss_total = self._forms_of(self.clr[test.members], bounds, test.model.basis,
                                                [test.labellings[:, b0:b1] for b0, b1 in bounds], client, None)
                result = permanova_of_forms(test.model, ["group"], quad, ss_total, m, options.permutations)
            test.labellings = test.labellings[:1].copy()  # no longer needed (a copy: a view would keep them)
            tests.append(test)
            results.append(result)
        return pairwise_rows(tests, results, options.permutations)


def _coordinate_task(rows: Any, basis: np.ndarray, perms: np.ndarray, first: int, last: int
                     ) -> tuple[np.ndarray, list[str]]:
    """One block's share of ``X' q_pi`` for the labellings ``[first, last)`` (no warnings)."""
    from gutstride.analysis.cohort import coordinate_partial_sums

    return coordinate_partial_sums(rows, basis, perms[first:last]), []


def _pair_tile_task(store: str, bounds_i: tuple[int, int], bounds_j: tuple[int, int], rows_i: list[Any],
                    rows_j: list[Any], bases: list[np.ndarray]) -> tuple[np.ndarray, list[str]]:
    """Read one stored tile and return its shares of the pairwise tests (no warnings)."""
    import zarr

    from gutstride.analysis.cohort import pair_tile_partial_sums

    block = np.asarray(zarr.open_array(store, mode="r")[bounds_i[0]:bounds_i[1], bounds_j[0]:bounds_j[1]],
                       dtype=np.float64)
    pairs = [(ri, pi, rj, pj) for (ri, pi), (rj, pj) in zip(rows_i, rows_j, strict=True)]
    return pair_tile_partial_sums(block, bounds_i == bounds_j, pairs, bases), []


def _sum_of_tasks(calls: list[tuple], client: Any, progress: Callable[[int, int], None] | None
                  ) -> tuple[np.ndarray, list[str]]:
    """Run ``calls`` (each ``(function, *arguments)`` returning ``(share, warnings)``) and add their shares.

    In this process the shares are added as they come, in order; on the cluster, in a fixed tree of fan-in
    :data:`_FAN_IN` in call order (never in completion order), so the result does not depend on timing.
    """
    if client is None:
        total: np.ndarray | None = None
        seen: set[str] = set()
        for done, (function, *arguments) in enumerate(calls, start=1):
            share, warnings = function(*arguments)
            total = share.copy() if total is None else total + share
            seen.update(warnings)
            if progress:
                progress(done, len(calls))
        assert total is not None
        return total, sorted(seen)
    from distributed import as_completed

    futures = [client.submit(function, *arguments, pure=False) for function, *arguments in calls]
    if progress:
        for done, _ in enumerate(as_completed(futures), start=1):
            progress(done, len(futures))
    level = futures
    while len(level) > 1:
        level = [client.submit(_reduce, *level[k:k + _FAN_IN], pure=False) for k in range(0, len(level), _FAN_IN)]
    return level[0].result()


def _block_product(store: str, start: int, stop: int, centred: np.ndarray) -> np.ndarray:
    """Rows ``[start, stop)`` of ``(-D∘D / 2) @ centred``, reading those rows of the stored distances."""
    import zarr

    rows = np.asarray(zarr.open_array(store, mode="r")[start:stop, :], dtype=np.float64)
    np.multiply(rows, rows, out=rows)
    return -0.5 * (rows @ centred)


def _pcoa_from_store(
    store: Path, n: int, block: int, trace: float, samples: list[str], options: CohortOptions, client: Any = None,
) -> Ordination:
    """Randomised PCoA (:func:`~gutstride.analysis.microbiome.ordination.pcoa_from_products`) reading the stored
    distances one block of rows at a time (one task per block on the cluster when ``client`` is given):
    ``G X = J (-D∘D / 2) (J X)`` with ``J`` the centring."""
    from gutstride.analysis.cohort import row_ranges
    from gutstride.analysis.microbiome.ordination import pcoa_from_products

    ranges = row_ranges(n, block, _READ_VALUES)

    def product(x: np.ndarray) -> np.ndarray:
        centred = x - x.mean(axis=0)
        if client is None:
            parts = [_block_product(str(store), b0, b1, centred) for b0, b1 in ranges]
        else:
            shared = client.scatter(centred, broadcast=True)
            parts = client.gather([client.submit(_block_product, str(store), b0, b1, shared, pure=False)
                                   for b0, b1 in ranges])
        out = np.vstack(parts)
        return out - out.mean(axis=0)

    return pcoa_from_products(product, n, trace, samples, min(options.pcoa_dimensions, n), seed=options.seed)


@contextmanager
def _cluster(options: CohortOptions, announce: Callable[[str], None] | None) -> Iterator[tuple[Any, int, str | None]]:
    """A Dask client (LocalCluster, or the cluster at ``options.scheduler``), its worker count and dashboard
    address; ``(None, 0, None)`` to run in this process (``workers == 0`` and no scheduler)."""
    if options.workers == 0 and options.scheduler is None:
        yield None, 0, None
        return
    from distributed import Client, LocalCluster

    cluster = None
    if options.scheduler is not None:
        client = Client(options.scheduler)
        has_dashboard = True
    else:
        import importlib.util

        has_dashboard = importlib.util.find_spec("bokeh") is not None  # the dashboard needs bokeh
        # Worker processes talk over TCP on the loopback only; threads (processes=False) use in-process comms.
        where = {"host": "127.0.0.1"} if options.processes else {}
        # Thread workers share this process: a memory limit would measure the whole process (and pause the workers
        # for good once it is past the limit), so it applies to worker processes only.
        limit = options.memory_limit if options.processes else 0
        cluster = LocalCluster(n_workers=options.workers, threads_per_worker=1, memory_limit=limit,
                               processes=options.processes, dashboard_address="127.0.0.1:0", **where)
        client = Client(cluster)
    try:
        dashboard = client.dashboard_link if has_dashboard else None
        if announce and dashboard:
            announce(dashboard)
        yield client, len(client.scheduler_info(n_workers=-1)["workers"]), dashboard
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
