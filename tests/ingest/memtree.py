"""Peak resident memory of a command and every process it starts (issue 12: the whole import, workers included)."""

from __future__ import annotations

import contextlib
import subprocess
import time
from dataclasses import dataclass

import psutil


@dataclass
class TreeRun:
    returncode: int
    stdout: str
    stderr: str
    peak_rss: int  # bytes: the largest sum of RSS over the process and its descendants seen at one time
    seconds: float
    killed: bool  # stopped because it went over the limit


def run_measured(args: list[str], limit_bytes: int | None = None, timeout: float = 300, interval: float = 0.01,
                 env: dict[str, str] | None = None) -> TreeRun:
    """Run ``args``, sampling the RSS of its process tree every ``interval`` s; kill the tree above ``limit_bytes``.

    Sums RSS, so pages shared by forked workers are counted once per process (an upper bound of real use).
    """
    start = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    root = psutil.Process(proc.pid)
    peak, killed = 0, False
    while proc.poll() is None:
        tree = [root]
        try:
            tree += root.children(recursive=True)
        except psutil.NoSuchProcess:
            break
        total = 0
        for p in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                total += p.memory_info().rss
        peak = max(peak, total)
        if (limit_bytes is not None and total > limit_bytes) or time.monotonic() - start > timeout:
            killed = True
            for p in reversed(tree):
                with contextlib.suppress(psutil.NoSuchProcess):
                    p.kill()
            break
        time.sleep(interval)
    stdout, stderr = proc.communicate()
    return TreeRun(proc.returncode, stdout, stderr, peak, time.monotonic() - start, killed)
