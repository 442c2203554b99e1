"""Whole-process start-up and one-file decoding: ``gutstride inspect`` against garmin-fit-sdk, in the same run.

What is timed: each command as a whole process, from exec to exit, as a user runs it:

- ``gutstride --help`` (goal: under 0.3 s);
- ``gutstride inspect RIDE.fit --json`` on one real 100-200 KB ride, against a Python process that imports
  garmin-fit-sdk and decodes the same file with ``Decoder(Stream.from_file(path)).read()`` (its defaults: scale and
  offset, components, HR merging, type names), then prints the number of records (goal: at least 2x faster,
  under 100 MB);
- the same on the 30 largest real FIT files under tests/data/activities that garmin-fit-sdk reads without error
  (goal: at least 30x).

Runs alternate between the tools; each is run once first (to warm the page cache and write .pyc files; timings
are taken with bytecode caching on, as in an installed package) and then ``--repeat`` times; medians are printed,
of wall time and of CPU time (user + system, steadier on a shared machine), with each process's peak resident
memory (``ru_maxrss`` from ``wait4``). The ratio is computed within the run.

Run: ``.venv/bin/python bench/bench_inspect.py [--repeat 5]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

from _process import ROOT, run

ACTIVITIES = ROOT / "tests" / "data" / "activities"
RIDE = ACTIVITIES / "sweatpy" / "4801048867.fit"  # a 161 KB Garmin ride with HR, power and GPS

SDK = (
    "import sys\nfrom garmin_fit_sdk import Decoder, Stream\n"
    "for path in sys.argv[1:]:\n"
    "    messages, errors = Decoder(Stream.from_file(path)).read()\n"
    "    if errors:\n        raise SystemExit(f'{path}: {errors[0]}')\n"
    "    print(path, len(messages.get('record_mesgs', [])))\n"
)


def compare(title: str, commands: dict[str, list[str]], repeat: int) -> dict[str, tuple[float, float, float]]:
    for command in commands.values():
        run(command)  # warm-up
    samples: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            samples[name].append(run(command))
    medians = {name: tuple(statistics.median(s[k] for s in runs) for k in range(3)) for name, runs in samples.items()}
    print(f"\n{title}")
    for name, (wall, cpu, rss) in medians.items():
        print(f"  {name:28s} wall {wall:6.3f} s   cpu {cpu:6.3f} s   peak {rss:6.1f} MB")
    return medians  # type: ignore[return-value]


def corpus(count: int) -> list[Path]:
    """The ``count`` largest real FIT files that garmin-fit-sdk decodes without error."""
    from garmin_fit_sdk import Decoder, Stream

    chosen = []
    for path in sorted(ACTIVITIES.rglob("*"), key=lambda p: p.stat().st_size, reverse=True):
        if path.suffix.lower() != ".fit":
            continue
        try:
            messages, errors = Decoder(Stream.from_file(str(path))).read()
        except Exception:  # noqa: BLE001 - a file the reference cannot read is left out
            continue
        if not errors and messages.get("record_mesgs"):
            chosen.append(path)
        if len(chosen) == count:
            break
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    py = sys.executable
    print(f"load average {os.getloadavg()[0]:.1f}; {args.repeat} runs each, medians")
    help_ = compare("gutstride --help", {"gutstride --help": [py, "-m", "gutstride", "--help"]}, args.repeat)
    print(f"  goal < 0.3 s: {'met' if help_['gutstride --help'][0] < 0.3 else 'NOT met'}")
    one = compare(
        f"one ride, {RIDE.name} ({RIDE.stat().st_size / 1e3:.0f} KB)",
        {
            "gutstride inspect --json": [py, "-m", "gutstride", "inspect", str(RIDE), "--json"],
            "garmin-fit-sdk Decoder": [py, "-c", SDK, str(RIDE)],
        },
        args.repeat,
    )
    files = corpus(30)
    many = compare(
        f"{len(files)} real FIT files ({sum(p.stat().st_size for p in files) / 1e6:.1f} MB)",
        {
            "gutstride inspect --json": [py, "-m", "gutstride", "inspect", *map(str, files), "--json"],
            "garmin-fit-sdk Decoder": [py, "-c", SDK, *map(str, files)],
        },
        max(1, args.repeat // 2),
    )
    for title, result, goal in (("one ride", one, 2.0), ("30 files", many, 30.0)):
        ours, theirs = result["gutstride inspect --json"], result["garmin-fit-sdk Decoder"]
        print(
            f"{title}: gutstride is {theirs[0] / ours[0]:.1f}x faster by wall time, {theirs[1] / ours[1]:.1f}x by "
            f"CPU time (goal {goal:.0f}x); peak {ours[2]:.0f} MB (goal < 100 MB)"
        )


if __name__ == "__main__":
    main()
