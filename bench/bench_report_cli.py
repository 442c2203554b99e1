"""``gutstride demo`` and ``gutstride report`` as the user runs them: whole processes, wall and CPU time, memory.

- ``gutstride demo -o DIR``: generate the demo athlete's year, write its FIT/GPX/TCX files, log and BIOM table,
  import them and write the report (goal: under 10 s);
- ``gutstride report --workspace DIR/workspace -o report.html`` on the demo workspace just built (goal: under
  1.5 s), run ``--repeat`` times after one untimed run; medians.

There is no reference program that writes this report. ``--baseline CHECKOUT`` runs another checkout's gutstride
(its ``src`` first on the path, e.g. the main branch's worktree) alternating with this one, on the same workspace,
so that a change is measured before and after under the same load. Bytecode caching is on, as in an installed
package.

Run: ``.venv/bin/python bench/bench_report_cli.py [--repeat 5] [--baseline /work/main]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from _process import ROOT, run


def gutstride(checkout: Path, args: list[str]) -> list[str]:
    """A command running ``gutstride ARGS`` from ``checkout``'s sources."""
    src = str(checkout / "src")
    return [sys.executable, "-c", f"import sys; sys.path.insert(0, {src!r}); from gutstride.cli import main; "
                                  f"main({args!r})"]


def medians(runs: list[tuple[float, float, float]]) -> tuple[float, ...]:
    return tuple(statistics.median(r[k] for r in runs) for k in range(3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another checkout to time alternately (before a change)")
    args = parser.parse_args()
    checkouts = {"gutstride": ROOT} if args.baseline is None else {"this checkout": ROOT, "baseline": args.baseline}
    print(f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="gutstride-bench-") as tmp:
        folder = Path(tmp)
        for name, checkout in checkouts.items():  # .pyc files, page cache
            run(gutstride(checkout, ["demo", "-o", str(folder / f"warm-{len(name)}")]))
        demo_runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in checkouts}
        for _ in range(1 if args.baseline is None else max(1, args.repeat // 2)):
            for name, checkout in checkouts.items():
                demo_runs[name].append(run(gutstride(checkout, ["demo", "-o", str(folder / "demo")])))
        for name, runs in demo_runs.items():
            wall, cpu, rss = medians(runs)
            print(f"{name}: demo:   wall {wall:6.2f} s  cpu {cpu:6.2f} s (with its import workers)  "
                  f"peak {rss:5.0f} MB  (goal < 10 s; median of {len(runs)})")
        report = ["report", "--workspace", str(folder / "demo" / "workspace"), "-o", str(folder / "report.html")]
        report_runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in checkouts}
        for checkout in checkouts.values():
            run(gutstride(checkout, report))
        for _ in range(args.repeat):
            for name, checkout in checkouts.items():
                report_runs[name].append(run(gutstride(checkout, report)))
        for name, runs in report_runs.items():
            wall, cpu, rss = medians(runs)
            print(f"{name}: report: wall {wall:6.2f} s  cpu {cpu:6.2f} s  peak {rss:5.0f} MB  "
                  f"(median of {args.repeat}; goal < 1.5 s)")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
