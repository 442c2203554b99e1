"""Benchmark: the report for 3 years of imported data (goal < 3 s), and the demo end to end (goal < 60 s).

There is no reference library that writes this report; the script prints our times against the goals of issue 8.

    .venv/bin/python bench/bench_report.py [--years 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from gutstride.demo.athlete import generate_year
from gutstride.demo.build import DEMO_LAST_DAY, build_demo, write_activity_files, write_log_csv
from gutstride.report.write import write_report
from gutstride.services.athletes import workspace_athlete
from gutstride.services.importing import import_files
from gutstride.services.report import build_report
from gutstride.store.workspace import Workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--years", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gutstride-bench-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        build_demo(root / "demo")
        demo_s = time.perf_counter() - start
        print(f"demo end to end (generate, write files, import, report): {demo_s:.1f} s  (goal < 60 s)")

        year = generate_year(DEMO_LAST_DAY, n_days=365 * args.years)
        files = write_activity_files(year, root / "files")
        log = write_log_csv(year, root / "log.csv")
        ws = Workspace(root / "ws", create=True)
        records = import_files(ws, workspace_athlete(ws), [root / "files", log])
        assert all(r.status == "ok" for r in records), [r for r in records if r.status != "ok"][:3]
        timings = []
        for _ in range(3):
            start = time.perf_counter()
            cpu = time.process_time()
            _report(ws, root / "report.html", root / "report.json", date(2026, 10, 31))
            timings.append((time.perf_counter() - start, time.process_time() - cpu))
        wall, cpu = min(timings)
        print(f"report for {args.years} years ({len(files)} activities, {len(year.log_rows)} log days): "
              f"best of 3 {wall:.2f} s wall, {cpu:.2f} s CPU  (goal < 3 s); load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()


def _report(ws: Workspace, html: Path, json_path: Path | None, today: date) -> dict[str, Any]:
    """Build the report of the workspace's athlete and write it, as ``gutstride report`` does."""
    content = build_report(ws, workspace_athlete(ws), today)
    write_report(content, html, json_path=json_path)
    return content
