"""The ground rules: version, error handling, settings, fast start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gutstride import __version__
from gutstride.errors import BadInputError, GutstrideError, MissingDataError, UnsupportedFormatError
from gutstride.settings import DEFAULTS, load_settings, workspace_path

HEAVY = ("pandas", "skbio", "fastapi", "scipy", "biom", "numba", "sqlalchemy", "pyarrow", "statsmodels", "numpy",
         "rich")


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gutstride", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_error_hierarchy() -> None:
    for cls in (BadInputError, UnsupportedFormatError, MissingDataError):
        assert issubclass(cls, GutstrideError)
        assert cls("x").exit_code == 2


def test_version() -> None:
    out = run_cli("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"gutstride {__version__}"


@pytest.mark.parametrize("args", [("--help",), ("inspect", "--help")])
def test_start_up_imports_no_heavy_module(args: tuple[str, ...]) -> None:
    code = (
        "import sys; from gutstride.cli import main\n"
        f"try:\n    main({list(args)!r})\nexcept SystemExit:\n    pass\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr


def test_user_error_is_one_line_exit_2(tmp_path: Path) -> None:
    out = run_cli("report", "--workspace", str(tmp_path / "nowhere"))
    assert out.returncode == 2
    assert out.stderr.startswith("error: ")
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_debug_shows_traceback(tmp_path: Path) -> None:
    out = run_cli("--debug", "report", "--workspace", str(tmp_path / "nowhere"))
    assert out.returncode != 0
    assert "Traceback" in out.stderr


def test_workspace_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GUTSTRIDE_WORKSPACE", raising=False)
    monkeypatch.chdir(tmp_path)
    assert workspace_path() == tmp_path / "gutstride-workspace"
    monkeypatch.setenv("GUTSTRIDE_WORKSPACE", str(tmp_path / "env"))
    assert workspace_path() == tmp_path / "env"
    assert workspace_path(tmp_path / "explicit") == tmp_path / "explicit"


def test_config_file_overrides_and_rejects(tmp_path: Path) -> None:
    assert load_settings(tmp_path).values == DEFAULTS
    (tmp_path / "config.toml").write_text("min_observations = 8\n")
    assert load_settings(tmp_path)["min_observations"] == 8
    (tmp_path / "config.toml").write_text("min_observatoins = 8\n")
    with pytest.raises(BadInputError, match="unknown setting"):
        load_settings(tmp_path)
    (tmp_path / "config.toml").write_text("min_observations = 'eight'\n")
    with pytest.raises(BadInputError, match="must be a int"):
        load_settings(tmp_path)
    (tmp_path / "config.toml").write_text("this is [ not toml")
    with pytest.raises(BadInputError, match="not valid TOML"):
        load_settings(tmp_path)


def test_report_date_pins_the_day_of_the_report(tmp_path: Path) -> None:
    from datetime import UTC, date, datetime

    from gutstride.settings import report_day

    assert report_day(load_settings(tmp_path)) == datetime.now(UTC).date()
    (tmp_path / "config.toml").write_text('report_date = "2026-10-31"\n')
    assert report_day(load_settings(tmp_path)) == date(2026, 10, 31)
    (tmp_path / "config.toml").write_text('report_date = "31/10/2026"\n')
    with pytest.raises(BadInputError, match="report_date '31/10/2026' is not a date"):
        load_settings(tmp_path)


@pytest.mark.parametrize("args", [("nosuch",), ("inspect", "--nosuch", "x.fit"), ("report", "--output")])
def test_usage_error_prints_usage_and_exits_2(args: tuple[str, ...]) -> None:
    out = run_cli(*args)
    assert out.returncode == 2, out.stderr
    assert "Error:" in out.stderr  # click's message (with the usage line where click gives one)
    assert args[0] == "report" or "Usage: gutstride" in out.stderr
    assert "internal error" not in out.stderr and "Traceback" not in out.stderr
