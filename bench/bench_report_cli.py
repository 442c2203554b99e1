"""``gutstride demo`` and ``gutstride report`` as the user runs them: whole processes, wall and CPU time, memory.

- ``gutstride demo -o DIR``: generate the demo athlete's year, write its FIT/GPX/TCX files, log and BIOM table,
  import them and write the report (goal: under 10 s);
- ``gutstride report --workspace DIR/workspace -o report.html`` on the demo workspace just built (goal: under
  1.5 s), ``--repeat`` times each way, alternating, after one untimed run; medians:

  - *cold*: the athlete's report cache (``athletes/<id>/cache/``) is deleted first, so the report is computed as
    after any change to the workspace (the fingerprint is computed, misses, and the new entry is stored);
  - *cached*: run again on the unchanged workspace, the entry the cold run just stored is reused (what a user gets
    re-running ``report``). The benchmark checks that the cold run wrote an entry and the cached one did not.

  ``gutstride demo`` leaves the cache filled for the real day; the first ``report`` after it is checked to be a hit.

There is no reference program that writes this report. What no change to gutstride's own code can remove is
measured in the same run as a floor: *library imports*, one process that imports, in the order a cold report
imported them, every module of a third-party library (anything under ``site-packages``: SQLAlchemy, pandas, numpy,
pyarrow, SciPy, Jinja2, Typer ...) that a cold report loaded, and nothing else. The cold report's time over that
floor is what gutstride itself spends (its own modules, the store, the analyses, the rendering).

``--baseline CHECKOUT`` runs another checkout's gutstride (its ``src`` first on the path, e.g. the main branch's
worktree) alternating with this one, on the same workspace, so that a change is measured before and after under the
same load (a checkout without the cache is cold every time). Bytecode caching is on, as in an installed package. The
load average (as ``uptime`` prints it) is printed before and after.

Run: ``.venv/bin/python bench/bench_report_cli.py [--repeat 5] [--baseline /work/main]``
"""

from __future__ import annotations

import argparse
import os
import shutil
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


def load() -> str:
    """The 1, 5 and 15-minute load averages, as ``uptime`` prints them."""
    return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def cache_entries(workspace: Path) -> dict[Path, int]:
    """The report cache entries of every athlete in ``workspace``, with their modification times."""
    return {p: p.stat().st_mtime_ns for p in workspace.glob("athletes/*/cache/report-*.entry")}


def clear_cache(workspace: Path) -> None:
    for folder in workspace.glob("athletes/*/cache"):
        shutil.rmtree(folder)


def library_modules(checkout: Path, report: list[str], workspace: Path, folder: Path) -> list[str]:
    """The third-party modules (under ``site-packages``) a cold report of ``checkout`` loads, in import order."""
    listing = folder / "modules.txt"
    clear_cache(workspace)
    src = str(checkout / "src")
    run([sys.executable, "-c",
         f"import atexit, sys; sys.path.insert(0, {src!r})\n"
         f"def dump():\n"
         f"    names = [n for n, m in list(sys.modules.items())\n"
         f"             if 'site-packages' in (getattr(m, '__file__', '') or '')]\n"
         f"    open({str(listing)!r}, 'w').write('\\n'.join(names))\n"
         f"atexit.register(dump)\n"
         f"from gutstride.cli import main; main({report!r})"])
    return listing.read_text().split("\n")


def import_command(modules: list[str]) -> list[str]:
    """A process importing ``modules`` in order (a module that fails to import alone is skipped)."""
    return [sys.executable, "-c", "import importlib\n"
            f"for name in {modules!r}:\n"
            "    try:\n        importlib.import_module(name)\n    except Exception:\n        pass"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another checkout to time alternately (before a change)")
    args = parser.parse_args()
    checkouts = {"gutstride": ROOT} if args.baseline is None else {"this checkout": ROOT, "baseline": args.baseline}
    print(load())
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
        workspace = folder / "demo" / "workspace"
        report = ["report", "--workspace", str(workspace), "-o", str(folder / "report.html")]
        this = checkouts.get("this checkout", ROOT)
        filled = cache_entries(workspace)
        run(gutstride(this, report))  # untimed: the first report after the demo
        after_demo_hit = bool(filled) and cache_entries(workspace) == filled
        for checkout in checkouts.values():
            run(gutstride(checkout, report))
        modules = library_modules(this, report, workspace, folder)
        floor: list[tuple[float, float, float]] = []
        cold: list[tuple[float, float, float]] = []
        cached: list[tuple[float, float, float]] = []
        baseline: list[tuple[float, float, float]] = []
        for _ in range(args.repeat):
            floor.append(run(import_command(modules)))
            clear_cache(workspace)
            cold.append(run(gutstride(this, report)))
            stored = cache_entries(workspace)
            if len(stored) != 1:
                raise SystemExit(f"the cold report stored {len(stored)} cache entries, not 1")
            cached.append(run(gutstride(this, report)))
            if cache_entries(workspace) != stored:
                raise SystemExit("the cached report computed the report again (its cache entry changed)")
            if args.baseline is not None:
                baseline.append(run(gutstride(args.baseline, report)))
        name = "this checkout" if args.baseline is not None else "gutstride"
        if args.baseline is None:  # else the baseline built the demo last
            print(f"the first report after the demo reused the demo's cache entry: {'yes' if after_demo_hit else 'NO'}")
        for label, runs in ((f"{name}: report, cold  ", cold), (f"{name}: report, cached", cached),
                            ("baseline: report      ", baseline)):
            if runs:
                wall, cpu, rss = medians(runs)
                print(f"{label}: wall {wall:6.2f} s  cpu {cpu:6.2f} s  peak {rss:5.0f} MB  "
                      f"(median of {len(runs)}; goal < 1.5 s)")
        floor_wall, floor_cpu, floor_rss = medians(floor)
        cold_wall = medians(cold)[0]
        print(f"library imports alone ({len(modules)} modules a cold report loads): wall {floor_wall:6.2f} s  "
              f"cpu {floor_cpu:6.2f} s  peak {floor_rss:5.0f} MB  (median of {len(floor)})")
        print(f"cold report over the library imports: {cold_wall / floor_wall:.2f}x, "
              f"{cold_wall - floor_wall:.2f} s of gutstride's own work")
    print(load())


if __name__ == "__main__":
    main()
