"""Run every benchmark under bench/ in turn (``make bench``); each prints its own figures and ratios.

The two longest run at a smaller size by default (minutes instead of an hour): the Apple Health import on a
0.2 GB export instead of 2 GB, and cohort mode at 2,000 samples instead of 20,000. ``--full`` runs them at the
sizes of their goals (each script's own defaults).

Run: ``.venv/bin/python bench/run_all.py [--full]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

#: script -> arguments that make it smaller unless --full is given
SMALL: dict[str, list[str]] = {
    "bench_apple_health.py": ["--gb", "0.2"],
    "bench_cohort.py": ["--samples", "2000"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true",
                        help="full sizes: Apple Health 2 GB export, cohort 20,000 samples (about an hour more)")
    args = parser.parse_args()
    failed = []
    for script in sorted(Path(__file__).parent.glob("bench_*.py")):
        extra = [] if args.full else SMALL.get(script.name, [])
        print(f"\n=== {script.name} {' '.join(extra)} ===", flush=True)
        if subprocess.run([sys.executable, str(script), *extra]).returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
