"""Timing whole processes for the benchmarks: wall time, CPU time and peak memory of one command."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def environment() -> dict[str, str]:
    """This environment with gutstride's sources first on the path and bytecode caching on (an installed package
    has its .pyc files; without them every run would compile the sources again)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def run(command: list[str]) -> tuple[float, float, float]:
    """Run ``command``; return its wall seconds, CPU seconds (user + system, all its threads) and peak resident
    MB (``ru_maxrss`` from ``wait4``). A failing command stops the benchmark with its error output."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment())
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        error = process.stderr.read().decode(errors="replace")[-800:] if process.stderr else ""
        raise SystemExit(f"{' '.join(command[:6])} ... failed: {error}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024
