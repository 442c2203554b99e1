"""Shared fixtures: paths to the real third-party files copied into tests/data."""

from __future__ import annotations

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
