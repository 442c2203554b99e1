"""PERMANOVA as the user runs it: ``gutstride permanova`` against a scikit-bio script, whole processes, same run.

Data: Euclidean distances between N random normal points in 5 dimensions (seeded), written once with
``skbio.DistanceMatrix.write`` (the scikit-bio / QIIME 2 TSV), and a metadata TSV (``sample-id`` and a ``group``
column of 3 levels, ``A``/``B``/``C`` assigned in turn). Each tool reads both files and runs one-way PERMANOVA
with 999 permutations, as one process from exec to exit:

- gutstride: ``python -m gutstride permanova DM.tsv META.tsv --column group --permutations 999 --seed 1 --json``;
- scikit-bio: a script that does what a scikit-bio user does: ``DistanceMatrix.read``, ``pandas.read_csv`` of the
  metadata, ``skbio.stats.distance.permanova(dm, metadata, column="group", permutations=999, seed=1)`` (its default
  engine, numba when installed; its compilation is part of the process, as for a user), printing pseudo-F and p.

The pseudo-F values are checked equal (1e-9) before any time is printed. The p-values are printed and compared,
not required equal: both draw ``rng.permutation(n)`` from ``default_rng(1)`` over the samples in the matrix
file's order here, so they agree, but a run whose metadata leaves samples out or reorders them need not.

Each process is started by GNU ``/usr/bin/time`` (``bench/_process.py``), which reports its own peak resident
memory (``%M``); wall time is measured here, CPU time is user + system of the process and its threads. One
untimed warm-up run per tool on a 50-sample matrix comes first (.pyc files, page cache); then the tools alternate,
``--repeat`` times each, and the medians are printed with the ratios (scikit-bio / gutstride) and ``uptime``
before and after.

Run: ``.venv/bin/python bench/bench_permanova_cli.py [--samples 5000] [--permutations 999] [--repeat 1]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _process import run

SKBIO = """
import sys
import pandas as pd
import skbio
from skbio.stats.distance import permanova
dm_path, meta_path, permutations, out = sys.argv[1:5]
dm = skbio.DistanceMatrix.read(dm_path)
meta = pd.read_csv(meta_path, sep="\\t", index_col=0, dtype={"group": str})
result = permanova(dm, meta, column="group", permutations=int(permutations), seed=1)
with open(out, "w") as handle:
    handle.write(f"{float(result['test statistic'])!r}\\t{float(result['p-value'])!r}\\n")
"""


def write_data(n_samples: int, folder: Path) -> tuple[Path, Path]:
    """The distance matrix TSV (scikit-bio's writer) and the metadata TSV for ``n_samples`` samples (seeded)."""
    import numpy as np
    import skbio
    from scipy.spatial.distance import pdist, squareform

    rng = np.random.default_rng(0)
    ids = [f"S{k}" for k in range(n_samples)]
    dm_path, meta_path = folder / f"dm-{n_samples}.tsv", folder / f"meta-{n_samples}.tsv"
    skbio.DistanceMatrix(squareform(pdist(rng.normal(size=(n_samples, 5)))), ids).write(str(dm_path))
    meta_path.write_text("sample-id\tgroup\n" + "".join(f"{i}\t{'ABC'[k % 3]}\n" for k, i in enumerate(ids)))
    return dm_path, meta_path


def uptime() -> str:
    """The ``uptime`` line (load averages over 1, 5 and 15 minutes)."""
    return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    import skbio

    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ours_out, ref_out = folder / "ours.json", folder / "skbio.tsv"

        def commands(dm: Path, meta: Path, permutations: int) -> tuple[list[str], list[str]]:
            ours = [py, "-m", "gutstride", "permanova", str(dm), str(meta), "--column", "group",
                    "--permutations", str(permutations), "--seed", "1", "--json"]
            return ours, [py, "-c", SKBIO, str(dm), str(meta), str(permutations), str(ref_out)]

        warm_dm, warm_meta = write_data(50, folder)
        for command in commands(warm_dm, warm_meta, 9):
            run(command)
        dm, meta = write_data(args.samples, folder)
        ours_command, ref_command = commands(dm, meta, args.permutations)
        print(f"scikit-bio {skbio.__version__}; {args.samples} samples, 3 groups, {args.permutations} permutations; "
              f"matrix TSV {dm.stat().st_size / 1e6:.0f} MB")
        print(f"before: {uptime()}", flush=True)
        ours_runs, ref_runs = [], []
        for _ in range(args.repeat):
            ours_runs.append(run(ours_command, ours_out))
            ref_runs.append(run(ref_command))
        print(f"after:  {uptime()}")
        ours = json.loads(ours_out.read_text())
        ref_f, ref_p = (float(x) for x in ref_out.read_text().split("\t"))
        assert ours["sample_size"] == args.samples, f"gutstride tested {ours['sample_size']} samples"
        assert abs(ours["test_statistic"] - ref_f) <= 1e-9 * abs(ref_f), f"pseudo-F {ours['test_statistic']} vs {ref_f}"
        print(f"pseudo-F equal ({ref_f:.6f}); p-value gutstride {ours['p_value']}, scikit-bio {ref_p}"
              f"{' (equal)' if ours['p_value'] == ref_p else ' (permutation streams differ)'}")
        medians = [tuple(statistics.median(r[k] for r in runs) for k in range(3)) for runs in (ours_runs, ref_runs)]
        print(f"medians of {args.repeat}: {'tool':<11} {'wall s':>8} {'cpu s':>8} {'peak MB':>8}")
        for name, (wall, cpu, peak) in zip(("gutstride", "scikit-bio"), medians, strict=True):
            print(f"{'':<15}{name:<11} {wall:>8.2f} {cpu:>8.2f} {peak:>8.0f}")
        (ours_wall, ours_cpu, ours_peak), (ref_wall, ref_cpu, ref_peak) = medians
        print(f"ratio scikit-bio / gutstride: {ref_wall / ours_wall:.1f}x wall, {ref_cpu / ours_cpu:.1f}x cpu, "
              f"peak memory {ours_peak / ref_peak:.2f} of scikit-bio's")


if __name__ == "__main__":
    main()
