"""Alpha diversity: gutstride's vectorised metrics against scikit-bio's ``alpha_diversity``.

Data: a random sparse count table, 100,000 samples x 3,000 features, about 5% non-zero, counts drawn from a
geometric distribution (mean 5, so there are singletons and doubletons for Chao1). scikit-bio runs on the first
2,000 samples (its per-sample loop would take minutes on all of them); values are checked equal there (1e-6)
before anything is timed. Then gutstride runs on all 100,000 samples; peak memory is reported from tracemalloc
(numpy allocations during that call) and from the process's maximum resident set size.

Run: ``.venv/bin/python bench/bench_alpha.py [--samples N] [--subset M]``
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
import warnings

import numpy as np
import scipy.sparse as sp

from gutstride.analysis.microbiome.alpha import alpha_diversity
from gutstride.model.feature_table import FeatureTable

SKBIO = {
    "observed_features": ("sobs", {}),
    "shannon": ("shannon", {"base": 2}),
    "simpson": ("simpson", {}),
    "pielou_evenness": ("pielou_e", {}),
    "chao1": ("chao1", {}),
}


def make_table(n_samples: int, n_features: int, density: float, seed: int) -> FeatureTable:
    """Each cell is non-zero with probability ``density`` (built in chunks of 5,000 rows to bound memory)."""
    rng = np.random.default_rng(seed)
    chunks = []
    for start in range(0, n_samples, 5_000):
        rows = min(5_000, n_samples - start)
        mask = rng.random((rows, n_features)) < density
        chunk = sp.csr_array(mask.astype(np.float64))
        chunk.data = rng.geometric(0.2, size=chunk.nnz).astype(np.float64)
        chunks.append(chunk)
    matrix = sp.csr_array(sp.vstack(chunks, format="csr"))
    return FeatureTable(matrix, [f"s{i}" for i in range(n_samples)], [f"f{j}" for j in range(n_features)])


def skbio_all(counts: np.ndarray, ids: list[str]) -> dict[str, np.ndarray]:
    from skbio.diversity import alpha_diversity as skbio_alpha

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {ours: skbio_alpha(metric, counts, ids=ids, **kw).to_numpy(dtype=float)
                for ours, (metric, kw) in SKBIO.items()}


def best_of(repeats: int, func, *args):  # noqa: ANN001, ANN201 - tiny timing helper
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = func(*args)
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=3_000)
    parser.add_argument("--density", type=float, default=0.05)
    parser.add_argument("--subset", type=int, default=2_000)
    args = parser.parse_args()

    table = make_table(args.samples, args.features, args.density, seed=42)
    print(f"table: {args.samples:,} samples x {args.features:,} features, {table.data.nnz:,} non-zero "
          f"({table.data.nnz / (args.samples * args.features):.1%})")

    subset = FeatureTable(sp.csr_array(table.data[: args.subset]), table.sample_ids[: args.subset], table.feature_ids)
    counts = subset.data.toarray().astype(np.int64)
    ours_sub = alpha_diversity(subset)
    reference = skbio_all(counts, subset.sample_ids)
    for column, expected in reference.items():
        np.testing.assert_allclose(ours_sub[column].to_numpy(), expected, rtol=1e-6, atol=1e-9, err_msg=column)
    print(f"values checked equal to scikit-bio on {args.subset:,} samples: {', '.join(reference)}")

    t_ours_sub, _ = best_of(3, alpha_diversity, subset)
    t_skbio_sub, _ = best_of(1, skbio_all, counts, subset.sample_ids)
    print(f"{args.subset:,} samples: gutstride {t_ours_sub:.3f} s, scikit-bio {t_skbio_sub:.2f} s, "
          f"ratio {t_skbio_sub / t_ours_sub:.0f}x")

    t_ours_all, _ = best_of(3, alpha_diversity, table)
    print(f"{args.samples:,} samples: gutstride {t_ours_all:.2f} s "
          f"(scikit-bio extrapolated from the subset: {t_skbio_sub * args.samples / args.subset:.0f} s)")

    tracemalloc.start()
    alpha_diversity(table)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    table_bytes = table.data.data.nbytes + table.data.indices.nbytes + table.data.indptr.nbytes
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of alpha_diversity on {args.samples:,} samples: {peak / 2**20:.0f} MiB allocated "
          f"(the CSR table itself: {table_bytes / 2**20:.0f} MiB); process max RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
