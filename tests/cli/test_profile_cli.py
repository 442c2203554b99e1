"""``gutstride profile``: set fields, print with BMI, reject out-of-range values."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from gutstride.cli import main
from gutstride.services.athletes import workspace_athlete
from gutstride.store.profile import load_profile
from gutstride.store.workspace import Workspace


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gutstride", "profile", *args], capture_output=True, text=True,
                          timeout=120)


def run_here(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the command in this process (fast); returns exit code, stdout, stderr."""
    code = 0
    try:
        main(["profile", *args])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_profile_sets_fields_and_prints_bmi(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "ws"
    out = run("--workspace", str(ws), "--age", "40", "--sex", "female", "--mass-kg", "70", "--height-m", "1.6",
              "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["birth_year"] == date.today().year - 40
    assert data["bmi"] == pytest.approx(round(70 / 1.6**2, 1))
    assert data["bmi_class"] == "overweight"  # 27.3
    code, stdout, err = run_here(capsys, "--workspace", str(ws), "--resting-hr", "52", "--hrmax", "182")
    assert code == 0, err
    assert "overweight" in stdout and "182" in stdout  # earlier fields kept
    stored = load_profile(w := Workspace(ws), workspace_athlete(w))
    assert (stored.sex, stored.mass_kg, stored.resting_hr, stored.hrmax) == ("female", 70.0, 52.0, 182.0)


@pytest.mark.parametrize(
    "args",
    [("--hrmax", "400"), ("--mass-kg", "5"), ("--sex", "robot"), ("--birth-year", "1850"),
     ("--age", "30", "--birth-year", "1990"), ("--resting-hr", "100", "--hrmax", "100")],
)
def test_out_of_range_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    code, _, err = run_here(capsys, "--workspace", str(tmp_path / "ws"), *args)
    assert code == 2
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
