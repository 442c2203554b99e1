"""PERMANOVA: gutstride against scikit-bio on the same distance matrix, in the same run.

Data: Euclidean distances between N random points in 5 dimensions (normal), 3 groups of equal size assigned in
turn, so the matrix is the same for both tools. Both run one-way PERMANOVA with the same number of permutations
and the same seed, after a warm-up call on a 50-sample matrix (so numba compilation is not timed for scikit-bio,
whose default engine is numba when it is installed). The pseudo-F values are checked equal (1e-9) and the
p-values equal (both draw the same permutations from the seed) before any time is reported. Times are
wall-clock and process CPU seconds.

Run: ``.venv/bin/python bench/bench_permanova.py [--samples 5000] [--permutations 999] [--threads T]``
(``--threads`` sets ``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS`` before numpy loads; the default leaves them).
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
            os.environ[name] = str(args.threads)

    import numpy as np
    import skbio
    from scipy.spatial.distance import pdist, squareform
    from skbio.stats.distance import permanova as sk_permanova

    from gutstride.analysis.microbiome.permanova import permanova

    rng = np.random.default_rng(0)
    n = args.samples
    dm = squareform(pdist(rng.normal(size=(n, 5))))
    grouping = [f"g{k % 3}" for k in range(n)]
    small = squareform(pdist(rng.normal(size=(50, 5))))
    sk_permanova(skbio.DistanceMatrix(small), grouping[:50], permutations=9, seed=1)
    permanova(small, grouping[:50], permutations=9, seed=1)
    skdm = skbio.DistanceMatrix(dm)

    def timed(fn):  # noqa: ANN001, ANN202
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        return out, time.perf_counter() - wall, time.process_time() - cpu

    ours, ours_wall, ours_cpu = timed(lambda: permanova(dm, grouping, permutations=args.permutations, seed=7))
    theirs, sk_wall, sk_cpu = timed(
        lambda: sk_permanova(skdm, grouping, permutations=args.permutations, seed=7)
    )
    if abs(ours["test_statistic"] - theirs["test statistic"]) > 1e-9 * abs(theirs["test statistic"]):
        print(f"pseudo-F differs: {ours['test_statistic']} vs {theirs['test statistic']}")
        return 1
    if ours["p_value"] != theirs["p-value"]:
        print(f"p-value differs: {ours['p_value']} vs {theirs['p-value']}")
        return 1
    print(f"PERMANOVA, {n} samples, 3 groups, {args.permutations} permutations (pseudo-F and p equal)")
    print(f"{'tool':<12} {'wall s':>8} {'cpu s':>8}")
    print(f"{'gutstride':<12} {ours_wall:>8.2f} {ours_cpu:>8.2f}")
    print(f"{'scikit-bio':<12} {sk_wall:>8.2f} {sk_cpu:>8.2f}")
    print(f"ratio (scikit-bio / gutstride, wall): {sk_wall / ours_wall:.1f}x; load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
