"""Beta diversity as the user runs it: ``gutstride beta`` against a scikit-bio script, whole processes, same run.

Data: a random count table, N samples x 3,000 features, about 5% non-zero (counts 1-100), written as a BIOM 2.1
HDF5 file, and a random rooted tree over the features (random pairs of subtrees joined until one is left; branch
lengths uniform in 0.01-1) written as Newick, with underscores in the tip names (``f_12``). For each metric and
size both tools read the files, compute and write the distance matrix TSV, each as one process from exec to exit:

- gutstride: ``python -m gutstride beta TABLE.biom --metric M [--tree TREE.nwk] -o OUT.tsv``;
- scikit-bio: a script that reads the table with ``biom.load_table``, the tree with
  ``skbio.TreeNode.read(..., convert_underscores=False)``, computes ``skbio.diversity.beta_diversity`` (UniFrac
  with ``compute_engine = "fast"``, its numba engine) and writes ``DistanceMatrix.write``.

The two TSV files are read back with scikit-bio and checked equal to 1e-9 before any time is printed. Printed:
wall time, CPU time (user + system of the process and its threads) and peak resident memory of each process
(``ru_maxrss`` from ``wait4``), and the ratio of wall times (goal: at least 5x at every size from 500 to 5,000
samples). Bytecode caching is on, as in an installed package; one untimed warm-up run per tool comes first.

With ``--floor`` (no scikit-bio run), gutstride's whole process is compared instead with the floor of issue #18:
python start-up (``python -c pass``) + the read (a process that loads the BIOM's CSR arrays and ids with h5py, minus
the start-up) + the compute (the issue's 1.9 s for Bray-Curtis and 3.7 s for unweighted UniFrac at 5,000 samples,
scaled by n^2; for UniFrac also the measured time of one dense float64 product ``(P diag(l)) P^T`` of the node
table's shape, printed beside) + the write (the issue's 1.65 s for 492 MB of TSV, scaled to gutstride's file).
Every time is the median of 3 runs; the ratio gutstride / floor is printed (goal: at most 1.5 at 5,000 samples).

Run: ``.venv/bin/python bench/bench_beta_cli.py [--samples 500 1000 2000 5000] [--metrics ...] [--floor]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from _process import run

N_FEATURES = 3_000
DENSITY = 0.05
METRICS = ("braycurtis", "jaccard", "unweighted_unifrac", "weighted_unifrac")

SKBIO = """
import sys, biom, skbio
from skbio.diversity import beta_diversity
table_path, metric, tree_path, out = sys.argv[1:5]
table = biom.load_table(table_path)
kwargs = {}
if metric.endswith("unifrac"):
    if "compute_engine" in skbio.get_config():
        skbio.set_config("compute_engine", "fast")
    tree = skbio.TreeNode.read(tree_path, convert_underscores=False)
    kwargs = {"taxa": [str(i) for i in table.ids("observation")], "tree": tree}
dm = beta_diversity(metric, table.matrix_data.T.toarray(), ids=[str(i) for i in table.ids()], **kwargs)
dm.write(out)
"""


def write_data(n_samples: int, folder: Path) -> tuple[Path, Path]:
    """The BIOM table and the Newick tree for ``n_samples`` samples (seeded)."""
    import biom
    import h5py
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(42)
    mask = rng.random((n_samples, N_FEATURES)) < DENSITY
    counts = np.where(mask, rng.integers(1, 101, size=mask.shape), 0).astype(np.float64)
    names = [f"f_{k}" for k in range(N_FEATURES)]
    table = biom.Table(sp.csr_matrix(counts.T), names, [f"s{k}" for k in range(n_samples)])
    table_path = folder / f"table-{n_samples}.biom"
    with h5py.File(table_path, "w") as handle:
        table.to_hdf5(handle, "bench_beta_cli")
    nodes = [f"{name}:{rng.uniform(0.01, 1.0)!r}" for name in names]
    while len(nodes) > 1:
        i, j = sorted(rng.choice(len(nodes), size=2, replace=False), reverse=True)
        a, b = nodes.pop(i), nodes.pop(j)
        nodes.append(f"({a},{b}):{rng.uniform(0.01, 1.0)!r}")
    tree_path = folder / f"tree-{n_samples}.nwk"
    tree_path.write_text(nodes[0].rsplit(":", 1)[0] + ";\n")
    return table_path, tree_path


#: The issue's floor at 5,000 samples: compute seconds per metric, and seconds to write 492 MB of TSV.
ISSUE_COMPUTE_5000 = {"braycurtis": 1.9, "unweighted_unifrac": 3.7}
ISSUE_WRITE_SECONDS, ISSUE_WRITE_BYTES = 1.65, 492e6

READ = """
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    arrays = [np.asarray(f[name][...]) for name in ("sample/matrix/data", "sample/matrix/indices",
                                                    "sample/matrix/indptr", "sample/ids", "observation/ids")]
"""

NODE_PRODUCT = """
import sys, time
from pathlib import Path
import numpy as np
from gutstride.analysis.microbiome.phylo import node_table
from gutstride.ingest.microbiome.read import read_table
from gutstride.services.diversity import metric_tree
nodes = node_table(read_table(Path(sys.argv[1])), metric_tree("unweighted_unifrac", Path(sys.argv[2])))
presence = (nodes.counts.toarray() > 0).astype(np.float64)
started = time.perf_counter()
(presence * nodes.lengths) @ presence.T
print(time.perf_counter() - started, *presence.shape)
"""


def median_run(command: list[str], output: Path | None = None) -> tuple[float, float, float]:
    """Median wall, CPU and peak memory of 3 runs of ``command``."""
    runs = [run(command, output) for _ in range(3)]
    return tuple(statistics.median(r[k] for r in runs) for k in range(3))  # type: ignore[return-value]


def node_product(table: Path, tree: Path, output: Path) -> tuple[float, str]:
    """Seconds of one dense product of the node table of ``table`` on ``tree`` (a separate process), and its shape."""
    run([sys.executable, "-c", NODE_PRODUCT, str(table), str(tree)], output)
    seconds, rows, columns = output.read_text().split()
    return float(seconds), f"{rows}x{columns}"


def floor_report(sizes: list[int], metrics: list[str], folder: Path) -> None:
    """gutstride's whole process against the floor of issue #18, for each size and metric (see the module text)."""
    py = sys.executable
    small_table, small_tree = write_data(20, folder)
    run([py, "-m", "gutstride", "beta", str(small_table), "--metric", "unweighted_unifrac", "--tree", str(small_tree),
         "-o", str(folder / "warm.tsv")])  # warm-up: .pyc files, page cache
    startup = median_run([py, "-c", "pass"])[0]
    for n in sizes:
        table, tree = write_data(n, folder)
        read = median_run([py, "-c", READ, str(table)])[0] - startup
        print(f"n={n}: start-up {startup:.2f} s, read {read:.2f} s (h5py process minus start-up); "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)
        for metric in metrics:
            out = folder / f"ours-{metric}-{n}.tsv"
            tree_args = ["--tree", str(tree)] if metric.endswith("unifrac") else []
            ours = median_run([py, "-m", "gutstride", "beta", str(table), "--metric", metric, *tree_args,
                               "-o", str(out)])
            write = ISSUE_WRITE_SECONDS * out.stat().st_size / ISSUE_WRITE_BYTES
            compute = ISSUE_COMPUTE_5000[metric] * (n / 5000) ** 2
            floor = startup + read + compute + write
            line = (f"{metric:>18} n={n:5d}: gutstride {ours[0]:6.2f} s (cpu {ours[1]:6.2f} s, {ours[2]:5.0f} MB) | "
                    f"floor {floor:5.2f} s = start-up {startup:.2f} + read {read:.2f} + compute {compute:.2f} "
                    f"(issue) + write {write:.2f} ({out.stat().st_size / 1e6:.0f} MB) | ratio {ours[0] / floor:.2f}")
            if metric == "unweighted_unifrac":
                products = [node_product(table, tree, folder / "product.txt") for _ in range(3)]
                measured = statistics.median(seconds for seconds, _ in products)
                shape = products[0][1]
                line += (f" | with the measured dense product of the node table ({shape}, {measured:.2f} s) as "
                         f"compute: floor {floor - compute + measured:.2f} s, ratio "
                         f"{ours[0] / (floor - compute + measured):.2f}")
            print(line + f" | load {os.getloadavg()[0]:.1f}", flush=True)
            out.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, nargs="+", default=[500, 1000, 2000])
    parser.add_argument("--metrics", nargs="+", default=None, choices=METRICS)
    parser.add_argument("--floor", action="store_true",
                        help="compare with the floor of issue #18 (Bray-Curtis, unweighted UniFrac), not scikit-bio")
    args = parser.parse_args()
    if args.floor:
        metrics = [m for m in args.metrics or ISSUE_COMPUTE_5000 if m in ISSUE_COMPUTE_5000]
        with tempfile.TemporaryDirectory() as tmp:
            floor_report(args.samples, metrics, Path(tmp))
        return
    args.metrics = args.metrics or list(METRICS)
    import numpy as np
    import skbio

    py = sys.executable
    print(f"scikit-bio {skbio.__version__}; {N_FEATURES} features, {DENSITY:.0%} non-zero; "
          f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        small_table, small_tree = write_data(20, folder)
        for tool_command in (
            [py, "-m", "gutstride", "beta", str(small_table), "--metric", "unweighted_unifrac", "--tree",
             str(small_tree), "-o", str(folder / "warm.tsv")],
            [py, "-c", SKBIO, str(small_table), "unweighted_unifrac", str(small_tree), str(folder / "warm.tsv")],
        ):
            run(tool_command)  # warm-up: .pyc files, page cache
        for n in args.samples:
            table, tree = write_data(n, folder)
            for metric in args.metrics:
                ours_out, ref_out = folder / f"ours-{metric}-{n}.tsv", folder / f"skbio-{metric}-{n}.tsv"
                tree_args = ["--tree", str(tree)] if metric.endswith("unifrac") else []
                ours = run([py, "-m", "gutstride", "beta", str(table), "--metric", metric, *tree_args,
                            "-o", str(ours_out)])
                theirs = run([py, "-c", SKBIO, str(table), metric, str(tree), str(ref_out)])
                a = skbio.DistanceMatrix.read(str(ours_out))
                b = skbio.DistanceMatrix.read(str(ref_out))
                assert list(a.ids) == list(b.ids), f"{metric} at {n}: sample ids differ"
                diff = float(np.abs(a.data - b.data).max())
                assert diff <= 1e-9, f"{metric} at {n} samples: matrices differ by {diff}"
                same_bytes = ours_out.read_bytes() == ref_out.read_bytes()
                print(
                    f"{metric:>18} n={n:5d}: gutstride {ours[0]:7.2f} s (cpu {ours[1]:6.2f} s, {ours[2]:5.0f} MB) | "
                    f"scikit-bio {theirs[0]:7.2f} s (cpu {theirs[1]:6.2f} s, {theirs[2]:5.0f} MB) | "
                    f"{theirs[0] / ours[0]:5.1f}x wall, {theirs[1] / ours[1]:5.1f}x cpu | max |diff| {diff:.0e}"
                    f"{', same bytes' if same_bytes else ''}",
                    flush=True,
                )
                ours_out.unlink()
                ref_out.unlink()


if __name__ == "__main__":
    main()
