"""Timing whole processes for the benchmarks: wall time, CPU time and peak memory of one command."""

from __future__ import annotations

import os
import resource
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


def run(command: list[str], output: Path | None = None) -> tuple[float, float, float]:
    """Run ``command`` (its standard output to the file ``output``, or discarded); return its wall seconds, CPU
    seconds (user + system, all its threads and the children it waited for) and peak resident MB.

    The command is started by GNU ``/usr/bin/time``, which reports the peak (``%M``): Linux carries a process's
    peak resident size across ``fork`` and ``exec``, so a command started directly by this (larger) Python process
    would report this process's size when its own is smaller. A failing command stops the benchmark.
    """
    with open(output, "wb") if output else open(os.devnull, "wb") as stdout:
        started = time.perf_counter()
        process = subprocess.Popen(["/usr/bin/time", "-f", "MAXRSS_KB %M", *command], stdout=stdout,
                                   stderr=subprocess.PIPE, env=environment())
        _, err = process.communicate()
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime - _cpu_seen[0]
    _cpu_seen[0] = usage.ru_utime + usage.ru_stime
    text = err.decode(errors="replace")
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command[:6])} ... failed: {text[-800:]}")
    peak_kb = int(text.rstrip().rsplit("MAXRSS_KB", 1)[1])
    return wall, cpu, peak_kb / 1024


_cpu_seen = [0.0]  # CPU time of the children reaped so far (RUSAGE_CHILDREN only grows)
