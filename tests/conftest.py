"""Shared fixtures: paths to the real third-party files copied into tests/data."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
ACTIVITIES = DATA / "activities"
MICROBIOME = DATA / "microbiome"


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def workspace_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty workspace folder, also set as $GUTSTRIDE_WORKSPACE."""
    path = tmp_path / "ws"
    monkeypatch.setenv("GUTSTRIDE_WORKSPACE", str(path))
    return path


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output of ``gutstride demo`` (built once per test process): report.html, report.json, workspace/."""
    out = tmp_path_factory.mktemp("demo")
    run = subprocess.run([sys.executable, "-m", "gutstride", "demo", "-o", str(out)], capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert str((out / "report.html").resolve()) in run.stdout
    return out


#: Runs ``gutstride ARGS...`` in this process: ``(exit code, stdout, stderr)``.
CliRun = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CliRun:
    """Run the command line in this process (faster than a subprocess) and capture what it printed."""
    from gutstride.cli import main

    def run(*args: object) -> tuple[int, str, str]:
        code = 0
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = int(exc.code or 0)
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
