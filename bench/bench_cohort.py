"""``gutstride cohort`` at scale: wall time and the peak resident memory of every process.

Data: a random sparse count table, N samples x 1,000 features, 5% non-zero (geometric counts, mean 5), written as
BIOM HDF5, and metadata with a 3-level group and a numeric exposure. The command

    gutstride cohort TABLE --metadata META --formula "exposure + group" --metric braycurtis
        --permutations 999 --seed 1 --workers 2 --memory-limit 1GiB -o OUT

runs as a subprocess; every 0.2 s the resident set size (RSS) of it and of each of its descendants (the Dask
scheduler runs in the CLI process, the workers in child processes) is sampled with psutil, and the peak of each
process is reported. Before timing anything else, the PERMANOVA of the run is checked against the in-memory
``permanova_formula`` on the first ``--check`` samples (a separate small run, same seed).

There is no reference implementation to compare with at this size (scikit-bio needs the square matrix: at 20,000
samples 3.2 GB in float64).

``--metric aitchison`` runs the Euclidean shortcut (no distance matrix; see ``bench_aitchison.py``); ``--pairwise``
tests ``--column group`` instead of the formula, which adds PERMDISP and the pairwise tests.

Run: ``.venv/bin/python bench/bench_cohort.py [--samples 20000] [--tile 1000] [--permutations 999] [--metric M]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_inputs(folder: Path, n: int, features: int) -> tuple[Path, Path]:
    import biom
    import h5py
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(42)
    nnz = int(n * features * 0.05)
    rows = rng.integers(0, n, nnz)
    cols = rng.integers(0, features, nnz)
    data = rng.geometric(0.2, nnz).astype(float)
    counts = sp.csr_matrix((data, (rows, cols)), shape=(n, features))
    counts.sum_duplicates()
    ids = [f"S{k}" for k in range(n)]
    table = biom.Table(counts.T.tocsr(), [f"f{k}" for k in range(features)], ids)
    path = folder / "table.biom"
    with h5py.File(path, "w") as handle:
        table.to_hdf5(handle, "bench")
    meta = folder / "metadata.tsv"
    with meta.open("w") as handle:
        handle.write("sample-id\tgroup\texposure\n")
        for k, sample in enumerate(ids):
            handle.write(f"{sample}\t{'abc'[k % 3]}\t{rng.normal(45, 8):.2f}\n")
    return path, meta


def run_cohort(
    table: Path, meta: Path, out: Path, args: argparse.Namespace
) -> tuple[float, dict[str, int], int, float, dict[str, float]]:
    import psutil

    model = ["--column", "group"] if args.pairwise else ["--formula", "exposure + group"]
    command = [sys.executable, "-m", "gutstride", "cohort", str(table), "--metadata", str(meta), *model,
               "--metric", args.metric, "--permutations", str(args.permutations), "--seed", "1",
               "--workers", str(args.workers), "--memory-limit", args.memory_limit, "--tile", str(args.tile),
               "-o", str(out), "--json"]
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    root = psutil.Process(proc.pid)
    peaks: dict[str, int] = {}
    cpu: dict[int, float] = {}
    while proc.poll() is None:
        try:
            for p in [root, *root.children(recursive=True)]:
                key = f"{p.pid} {' '.join(p.cmdline()[1:3])[:40]}"
                peaks[key] = max(peaks.get(key, 0), p.memory_info().rss)
                times = p.cpu_times()
                cpu[p.pid] = times.user + times.system + times.children_user + times.children_system
        except psutil.Error:
            pass
        time.sleep(0.2)
    wall = time.perf_counter() - start
    out_text, err_text = proc.communicate()
    if proc.returncode:
        print(err_text[-3000:])
        raise SystemExit(f"cohort failed with exit code {proc.returncode}")
    run = json.loads((out / "run.json").read_text())
    return wall, peaks, run["tiles"], sum(cpu.values()), run["timings"]


def check(folder: Path, args: argparse.Namespace) -> None:
    """The cohort PERMANOVA on a small table equals the in-memory one (same seed)."""
    import numpy as np
    import pandas as pd

    from gutstride.analysis.design import design_terms
    from gutstride.analysis.microbiome.beta import beta_diversity
    from gutstride.analysis.microbiome.permanova import permanova_formula
    from gutstride.ingest.microbiome.read import read_table

    small = folder / "check"
    small.mkdir()
    table_path, meta_path = make_inputs(small, args.check, 1000)
    saved = (args.tile, args.permutations)
    args.tile, args.permutations = max(2, args.check // 3), 99
    run_cohort(table_path, meta_path, small / "out", args)
    args.tile, args.permutations = saved
    table = read_table(table_path)
    dm, _, _ = beta_diversity(table, args.metric)
    meta = pd.read_csv(meta_path, sep="\t", index_col=0).loc[table.sample_ids]
    expected = permanova_formula(dm, design_terms(meta, "group" if args.pairwise else "exposure + group"),
                                 permutations=99, seed=1)
    got = pd.read_csv(small / "out" / "permanova.tsv", sep="\t")
    for row, exp in zip(got.itertuples(), expected["terms"], strict=False):
        assert np.isclose(row.f, exp["f"], rtol=1e-9) and row.p_value == exp["p_value"], (row, exp)
    print(f"check: cohort PERMANOVA on {args.check} samples equals the in-memory one (F and p)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, nargs="+", default=[20000])
    parser.add_argument("--features", type=int, default=1000)
    parser.add_argument("--tile", type=int, default=1000)
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="1GiB")
    parser.add_argument("--check", type=int, default=300)
    parser.add_argument("--metric", default="braycurtis", help="braycurtis, jaccard or aitchison (no tree)")
    parser.add_argument("--pairwise", action="store_true",
                        help='--column group instead of --formula "exposure + group": adds PERMDISP and the pairwise '
                             "tests (a second pass over the stored tiles)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        check(folder, args)
        for n in args.samples:
            sub = folder / f"n{n}"
            sub.mkdir()
            table, meta = make_inputs(sub, n, args.features)
            wall, peaks, tiles, cpu, timings = run_cohort(table, meta, sub / "out", args)
            print(f"\n{n} samples x {args.features} features, {args.metric}, {tiles} tasks (tile {args.tile}), "
                  f"{args.permutations} "
                  f"permutations, {args.workers} workers, memory limit {args.memory_limit}: {wall:.1f} s wall, "
                  f"{cpu:.0f} s CPU over all processes (sampled; load average {os.getloadavg()[0]:.1f})")
            print("  phases (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
            for key, rss in sorted(peaks.items(), key=lambda kv: -kv[1]):
                print(f"  peak RSS {rss / 2**20:8.0f} MiB  {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
