"""Aitchison PERMANOVA in cohort mode: the Euclidean shortcut against scikit-bio and the tile path, same run.

Data: a random sparse count table, N samples x 1,000 features, 5% non-zero (geometric counts, mean 5), as
``bench_cohort.py``, and a 3-level group assigned in turn. Three computations of the one-way PERMANOVA with the same
permutations and seed:

- ``shortcut``: ``run_cohort(--metric aitchison)`` in this process (``--workers 0``): the robust-CLR coordinates in
  blocks of rows, no distance matrix; the time is its PERMANOVA phase (``coordinates_s`` of run.json);
- ``tiles``: the same with ``--write-distances``: the Aitchison tiles computed, stored (float64) and reduced; the
  time is its ``tiles_s`` phase (distances and PERMANOVA shares);
- ``scikit-bio``: ``skbio.stats.composition.rclr`` (zeros to 0), scipy's Euclidean ``pdist`` and
  ``skbio.stats.distance.permanova`` (numba engine when installed, warmed up on 50 samples first): the reference.

The pseudo-F values are checked equal (1e-9) and the p-values equal before any time is printed. Wall-clock times.

Run: ``.venv/bin/python bench/bench_aitchison.py [--samples 3000] [--permutations 999]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--features", type=int, default=1000)
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--tile", type=int, default=1000)
    args = parser.parse_args()

    import numpy as np
    import scipy.sparse as sp
    import skbio
    from scipy.spatial.distance import pdist, squareform
    from skbio.stats.composition import rclr
    from skbio.stats.distance import permanova as sk_permanova

    from gutstride.ingest.microbiome.metadata import parse_metadata
    from gutstride.model.feature_table import FeatureTable
    from gutstride.report.cohort import COHORT_WRITERS
    from gutstride.services.cohort import CohortOptions, run_cohort

    rng = np.random.default_rng(42)
    n, p = args.samples, args.features
    nnz = int(n * p * 0.05)
    counts = sp.csr_matrix((rng.geometric(0.2, nnz).astype(float), (rng.integers(0, n, nnz), rng.integers(0, p, nnz))),
                           shape=(n, p))
    counts.sum_duplicates()
    ids = [f"S{k}" for k in range(n)]
    table = FeatureTable(counts, ids, [f"f{k}" for k in range(p)])
    groups = ["abc"[k % 3] for k in range(n)]
    meta = parse_metadata("id\tgroup\n" + "".join(f"{s}\t{g}\n" for s, g in zip(ids, groups, strict=True)), "m.tsv")
    sk_permanova(skbio.DistanceMatrix(squareform(pdist(rng.normal(size=(50, 3))))), groups[:50], permutations=9)

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra, phase in (("shortcut", {}, "coordinates_s"),
                                   ("tiles", {"write_distances": True, "float64": True}, "tiles_s")):
            options = CohortOptions(metric="aitchison", column="group", permutations=args.permutations, seed=7,
                                    tile=args.tile, workers=0, **extra)  # type: ignore[arg-type]
            out = run_cohort(table, meta, Path(tmp) / name, options, COHORT_WRITERS)
            results[name] = (out["terms"][0]["f"], out["terms"][0]["p_value"], out["run"]["timings"][phase])
    start = time.perf_counter()
    dm = skbio.DistanceMatrix(squareform(pdist(np.nan_to_num(rclr(counts.toarray()), nan=0.0))), ids)
    theirs = sk_permanova(dm, groups, permutations=args.permutations, seed=7)
    results["scikit-bio"] = (theirs["test statistic"], theirs["p-value"], time.perf_counter() - start)

    f_ref, p_ref, _ = results["scikit-bio"]
    for name, (f, p_value, _) in results.items():
        if abs(f - f_ref) > 1e-9 * abs(f_ref) or p_value != p_ref:
            print(f"{name} differs from scikit-bio: F {f} vs {f_ref}, p {p_value} vs {p_ref}")
            return 1
    print(f"{n} samples x {p} features, {args.permutations} permutations: F = {f_ref:.6g}, p = {p_ref} in all three")
    for name, (_, _, seconds) in results.items():
        print(f"  {name:<11} {seconds:8.2f} s   scikit-bio / this = {results['scikit-bio'][2] / seconds:6.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
