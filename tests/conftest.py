"""Shared fixtures: paths to the real third-party files copied into tests/data."""

from __future__ import annotations

import subprocess
import sys
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
