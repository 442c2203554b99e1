"""``gutstride demo`` and ``gutstride report`` as the user runs them: whole processes, wall and CPU time, memory.

- ``gutstride demo -o DIR``: generate the demo athlete's year, write its FIT/GPX/TCX files, log and BIOM table,
  import them and write the report (goal: under 10 s);
- ``gutstride report --workspace DIR/workspace -o report.html`` on the demo workspace just built (goal: under
  1.5 s), run ``--repeat`` times after one untimed run; medians.

There is no reference program that writes this report. Bytecode caching is on, as in an installed package.

Run: ``.venv/bin/python bench/bench_report_cli.py [--repeat 5]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from _process import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    py = sys.executable
    print(f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="gutstride-bench-") as tmp:
        folder = Path(tmp)
        run([py, "-m", "gutstride", "demo", "-o", str(folder / "warm")])  # .pyc files, page cache
        wall, cpu, rss = run([py, "-m", "gutstride", "demo", "-o", str(folder / "demo")])
        print(f"gutstride demo:   wall {wall:6.2f} s  cpu {cpu:6.2f} s (with its import workers)  "
              f"peak {rss:5.0f} MB  (goal < 10 s)")
        report = [py, "-m", "gutstride", "report", "--workspace", str(folder / "demo" / "workspace"),
                  "-o", str(folder / "report.html")]
        run(report)
        runs = [run(report) for _ in range(args.repeat)]
        wall, cpu, rss = (statistics.median(r[k] for r in runs) for k in range(3))
        print(f"gutstride report: wall {wall:6.2f} s  cpu {cpu:6.2f} s  peak {rss:5.0f} MB  "
              f"(median of {args.repeat}; goal < 1.5 s)")


if __name__ == "__main__":
    main()
