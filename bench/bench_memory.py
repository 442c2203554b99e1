"""Peak resident memory of ``gutstride import`` (the whole process tree, workers included) on the decompression
bombs of issue 12 at the trial's full sizes, and on a real-sized export; the limit is 1 GB for any input.

    python bench/bench_memory.py [--gib 1.0]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "ingest"))

from bombs import write_bombs  # noqa: E402
from memtree import run_measured  # noqa: E402

GB = 10**9


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gib", type=float, default=1.0, help="size of each bomb member (the trial's: 1 GiB)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    worst = 0
    with tempfile.TemporaryDirectory(prefix="gutstride-bench-") as tmp:
        folder = Path(tmp) / "bombs"
        t0 = time.perf_counter()
        kinds = write_bombs(folder, args.gib)
        print(f"bombs written in {time.perf_counter() - t0:.1f} s")
        for name, what in kinds.items():
            run = run_measured([sys.executable, "-m", "gutstride", "import", str(folder / name), "--workspace",
                                str(Path(tmp) / "ws"), "--workers", str(args.workers), "--json"],
                               limit_bytes=GB, timeout=600)
            size = (folder / name).stat().st_size
            print(f"{name:22} {size / 1e6:6.1f} MB ({what}): peak RSS {run.peak_rss / 1e6:6.0f} MB, "
                  f"{run.seconds:5.1f} s{', KILLED over 1 GB' if run.killed else ''}")
            worst = max(worst, run.peak_rss if not run.killed else 2 * GB)
        run = run_measured([sys.executable, "-m", "gutstride", "import", str(folder), "--workspace",
                            str(Path(tmp) / "ws2"), "--workers", str(args.workers), "--json"],
                           limit_bytes=GB, timeout=600)
        print(f"{'all at once':22}: peak RSS {run.peak_rss / 1e6:6.0f} MB, {run.seconds:5.1f} s"
              f"{', KILLED over 1 GB' if run.killed else ''}")
        worst = max(worst, run.peak_rss if not run.killed else 2 * GB)
    print(f"worst peak RSS {worst / 1e6:.0f} MB (limit {GB / 1e6:.0f} MB)")
    return 0 if worst < GB else 1


if __name__ == "__main__":
    sys.exit(main())
