"""Beta diversity and UniFrac: gutstride against scikit-bio on the same random table, in the same run.

Data: a random sparse count table, N samples x 3,000 features, about 5% non-zero (counts 1-100), and a random
rooted tree over the features (random pairs of subtrees joined until one is left, branch lengths uniform in
(0.01, 1)). For each metric both tools compute the matrix and write it as a TSV distance matrix, each in a fresh
process after a warm-up call on a tiny table (so numba compilation is not timed, for either tool):

- Bray-Curtis: ``skbio.diversity.beta_diversity("braycurtis", ...)`` (SciPy's pdist) and ``DistanceMatrix.write``;
- unweighted and weighted (unnormalised) UniFrac: scikit-bio with ``skbio.set_config("compute_engine", "fast")``
  (its numba engine) when that setting exists, else its default.

The matrices are checked equal (1e-6) before any time is reported. Times are wall-clock for computing plus
writing, and for computing alone. Memory: each process's maximum resident set size (which also counts building the
random data and the imported libraries) and, with ``--trace-memory``, the peak of numpy allocations traced by
``tracemalloc`` during compute + write (the result and every temporary; allocations inside compiled kernels are not
traced). Tracing slows Python-level code (scikit-bio's writer most), so take times from runs without it.

Run: ``.venv/bin/python bench/bench_beta.py [--samples 2000 5000] [--metrics braycurtis ...] [--trace-memory]``
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import scipy.sparse as sp

N_FEATURES = 3_000
DENSITY = 0.05
SEED = 42
METRICS = ("braycurtis", "unweighted_unifrac", "weighted_unifrac")


def make_data(n_samples: int):  # noqa: ANN201 - (FeatureTable, TreeNode)
    import skbio

    from gutstride.model.feature_table import FeatureTable

    rng = np.random.default_rng(SEED)
    mask = rng.random((n_samples, N_FEATURES)) < DENSITY
    counts = np.where(mask, rng.integers(1, 101, size=mask.shape), 0).astype(np.float64)
    names = [f"f{k}" for k in range(N_FEATURES)]
    nodes = [skbio.TreeNode(name=name, length=float(rng.uniform(0.01, 1.0))) for name in names]
    while len(nodes) > 1:
        i, j = sorted(rng.choice(len(nodes), size=2, replace=False), reverse=True)
        a, b = nodes.pop(i), nodes.pop(j)
        nodes.append(skbio.TreeNode(children=[a, b], length=float(rng.uniform(0.01, 1.0))))
    nodes[0].length = None
    table = FeatureTable(sp.csr_matrix(counts), [f"s{k}" for k in range(n_samples)], names)
    return table, nodes[0]


def run_one(tool: str, metric: str, n_samples: int, folder: str, trace: bool, queue: mp.Queue) -> None:
    """In a fresh process: build the data, warm up, then time compute + write; report via ``queue``."""
    import skbio

    table, tree = make_data(n_samples)
    small_table, small_tree = make_data(6)
    out = Path(folder) / f"{tool}-{metric}-{n_samples}.tsv"
    if tool == "gutstride":
        from gutstride.analysis.microbiome.beta import beta_diversity
        from gutstride.report.research_export import write_distance_matrix

        beta_diversity(small_table, metric, tree=small_tree)
        if trace:
            tracemalloc.start()
        start = time.perf_counter()
        matrix, ids, _ = beta_diversity(table, metric, tree=tree)
        computed = time.perf_counter()
        write_distance_matrix(out, matrix, ids)
    else:
        from skbio.diversity import beta_diversity as sk_beta

        if metric != "braycurtis" and "compute_engine" in skbio.get_config():
            skbio.set_config("compute_engine", "fast")
        kwargs = {} if metric == "braycurtis" else {"taxa": table.feature_ids, "tree": tree}
        small_kwargs = {} if metric == "braycurtis" else {"taxa": small_table.feature_ids, "tree": small_tree}
        sk_beta(metric, small_table.data.toarray(), ids=small_table.sample_ids, **small_kwargs)
        dense = table.data.toarray()
        if trace:
            tracemalloc.start()
        start = time.perf_counter()
        dm = sk_beta(metric, dense, ids=table.sample_ids, **kwargs)
        computed = time.perf_counter()
        dm.write(str(out))
        matrix = dm.data
    written = time.perf_counter()
    traced_mb = tracemalloc.get_traced_memory()[1] / 2**20 if trace else float("nan")
    tracemalloc.stop()
    np.save(out.with_suffix(".npy"), matrix)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(
        {
            "compute": computed - start,
            "total": written - start,
            "peak_mb": peak_mb,
            "traced_mb": traced_mb,
            "npy": str(out),
        }
    )


def measure(tool: str, metric: str, n_samples: int, folder: str, trace: bool) -> dict[str, float]:
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=run_one, args=(tool, metric, n_samples, folder, trace, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, nargs="+", default=[2000])
    parser.add_argument("--metrics", nargs="+", default=list(METRICS), choices=METRICS)
    parser.add_argument("--trace-memory", action="store_true", help="Trace numpy allocations (slows timing).")
    args = parser.parse_args()
    import skbio

    engine = "fast" if "compute_engine" in skbio.get_config() else "default"
    print(f"scikit-bio {skbio.__version__} (UniFrac compute_engine: {engine}); {N_FEATURES} features, {DENSITY:.0%}")
    with tempfile.TemporaryDirectory() as folder:
        for n in args.samples:
            for metric in args.metrics:
                ours = measure("gutstride", metric, n, folder, args.trace_memory)
                theirs = measure("skbio", metric, n, folder, args.trace_memory)
                a = np.load(Path(ours["npy"]).with_suffix(".npy"))
                b = np.load(Path(theirs["npy"]).with_suffix(".npy"))
                diff = float(np.abs(a - b).max())
                assert diff < 1e-6, f"{metric} at {n} samples: matrices differ by {diff}"
                print(
                    f"{metric:>18} n={n}: gutstride {ours['total']:7.2f} s (compute {ours['compute']:6.2f} s, traced "
                    f"{ours['traced_mb']:5.0f} MB, RSS {ours['peak_mb']:5.0f} MB) | skbio {theirs['total']:7.2f} s "
                    f"(compute {theirs['compute']:6.2f} s, traced {theirs['traced_mb']:5.0f} MB, RSS "
                    f"{theirs['peak_mb']:5.0f} MB) | ratio compute+write {theirs['total'] / ours['total']:5.1f}x, "
                    f"compute only {theirs['compute'] / ours['compute']:5.1f}x | max |diff| {diff:.1e}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
