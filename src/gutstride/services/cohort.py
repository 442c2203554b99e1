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
ordination) and is written to ``permdisp.tsv``.
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

    from gutstride.analysis.microbiome.ordination import Ordination
    from gutstride.ingest.microbiome.metadata import SampleMetadata
    from gutstride.model.feature_table import FeatureTable

#: Reduction fan-in: shares summed per task of the tree reduction.
_FAN_IN = 8
#: Distances read at once by one PCoA task (rows x n float64 values: 192 MB).
_READ_VALUES = 24_000_000


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

    ``options.workers == 0`` (and no scheduler) runs every tile in this process; otherwise the tiles run on a
    Dask ``LocalCluster`` of ``workers`` single-threaded workers with ``memory_limit`` each, or on the cluster at
    ``scheduler``. ``progress(done, total)`` is called as tiles finish; ``announce`` receives the dashboard
    address.
    """
    import pandas as pd
    import zarr

    from gutstride.analysis.cohort import rows_of, tile_bounds, upper_tiles
    from gutstride.analysis.microbiome.alpha import alpha_diversity
    from gutstride.analysis.microbiome.beta import METRICS
    from gutstride.analysis.microbiome.permanova import (
        build_model,
        exceedances,
        f_statistics,
        permanova_table,
        permutation_batches,
    )
    from gutstride.ingest.microbiome.cohort import subset_samples
    from gutstride.ingest.microbiome.distance_store import FORMAT_KEY, FORMAT_VALUE
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
    perms = np.vstack([np.arange(n)[None, :]] + list(permutation_batches(
        n, options.permutations, options.seed, strata, max(1, options.permutations)))).astype(np.int32)
    basis = model.basis
    width = basis.shape[1]

    store = outdir / "distance" / f"{options.metric}.zarr"
    store.parent.mkdir(parents=True, exist_ok=True)
    dtype = "float64" if options.float64 else "float32"
    zarr.create_array(store=str(store), shape=(n, n), chunks=(options.tile, options.tile), dtype=dtype,
                      fill_value=0.0, overwrite=True,
                      attributes={"sample_ids": samples, "metric": options.metric, FORMAT_KEY: FORMAT_VALUE,
                                  "complete": False})
    bounds = tile_bounds(n, options.tile)
    tiles = upper_tiles(n, options.tile)

    def arguments(i: int, j: int, blocks: list[Any], perm_blocks: list[Any], shared: tuple[Any, Any]) -> tuple:
        tree_arg, basis_arg = shared
        return (blocks[i], None if i == j else blocks[j], options.metric, tree_arg, basis_arg, perm_blocks[i],
                perm_blocks[j], str(store), bounds[i], bounds[j], dtype)

    timings["prepare_s"] = time.perf_counter() - clock - timings["alpha_s"]
    blocks = [rows_of(table, b) for b in bounds]
    perm_blocks = [np.ascontiguousarray(perms[:, b0:b1]) for b0, b1 in bounds]
    labellings = len(perms)
    del perms  # the blocks hold the same indices
    with _cluster(options, announce) as (client, workers, dashboard):
        start = time.perf_counter()
        if client is None:
            shares = []
            for done, (i, j) in enumerate(tiles, start=1):
                shares.append(_tile_task(*arguments(i, j, blocks, perm_blocks, (tree, basis))))
                if progress:
                    progress(done, len(tiles))
            total, warnings = _reduce(*shares)
        else:
            total, warnings = _tiles_on_dask(client, tiles, arguments, blocks, perm_blocks, tree, basis, progress)
        timings["tiles_s"] = time.perf_counter() - start
        zarr.open_array(str(store), mode="r+").attrs["complete"] = True
        ss_total = float(total[-1]) / (2.0 * n)  # tr(G), also the sum of G's eigenvalues
        start = time.perf_counter()
        ordination = _pcoa_from_store(store, n, options.tile, ss_total, samples, options, client)
        timings["pcoa_s"] = time.perf_counter() - start
    (outdir / "pcoa").mkdir(exist_ok=True)
    writers.write_ordination(outdir / "pcoa" / f"{options.metric}.tsv", ordination)

    quad = total[:-1].reshape(labellings, width)
    f_obs = f_statistics(model, quad[:1], ss_total, n)[0]
    exceed = exceedances(model, quad[1:], ss_total, n, f_obs)
    result = permanova_table(ss_total, n, [name for name, _ in terms], model, quad[0], exceed, options.permutations)
    result.update(metric=options.metric, column=options.column, formula=options.formula, strata=options.strata,
                  seed=options.seed, excluded_samples=len(excluded), warnings=warnings)
    if options.column is not None and not meta.is_numeric(options.column):
        from gutstride.analysis.microbiome.permanova import permdisp_coordinates

        disp = permdisp_coordinates(ordination.coordinates, [meta.values[s][options.column] for s in samples],
                                    options.permutations, options.seed)
        result["permdisp"] = disp
        pd.DataFrame([{k: disp[k] for k in ("method", "test", "f", "p_value", "sample_size", "number_of_groups",
                                            "permutations")}]).to_csv(outdir / "permdisp.tsv", sep="\t", index=False)
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
        "tiles": len(tiles), "workers": workers, "dashboard": dashboard, "timings": timings,
        "distance_store": str(store.relative_to(outdir)), "dtype": dtype,
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


def _tiles_on_dask(
    client: Any, tiles: list[tuple[int, int]], arguments: Callable[..., tuple], blocks: list[Any],
    perm_blocks: list[Any], tree: skbio.TreeNode | None, basis: np.ndarray,
    progress: Callable[[int, int], None] | None,
) -> tuple[np.ndarray, list[str]]:
    """Run the tile tasks on the cluster; reduce their shares in a fixed tree (tile order)."""
    from distributed import as_completed

    shared = (client.scatter(tree, broadcast=True) if tree is not None else None,
              client.scatter(basis, broadcast=True))
    block_futures = client.scatter(blocks)
    perm_futures = client.scatter(perm_blocks)
    futures = [client.submit(_tile_task, *arguments(i, j, block_futures, perm_futures, shared), pure=False)
               for i, j in tiles]
    if progress:
        for done, _ in enumerate(as_completed(futures), start=1):
            progress(done, len(futures))
    level = futures
    while len(level) > 1:
        level = [client.submit(_reduce, *level[k:k + _FAN_IN], pure=False) for k in range(0, len(level), _FAN_IN)]
    total, warnings = level[0].result()
    return total, warnings
