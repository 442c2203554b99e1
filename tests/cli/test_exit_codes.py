"""Issue 12, defect 10: exit codes and messages of the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from gutstride.services.athletes import workspace_athlete
from gutstride.services.importing import import_files
from gutstride.services.report import build_report
from gutstride.store.workspace import Workspace

ACT = Path(__file__).parents[1] / "data" / "activities"
FIT = ACT / "sweatpy" / "4801048867.fit"
GPX = ACT / "sweatpy" / "activity_4801048867.gpx"


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    return subprocess.run([sys.executable, "-m", "gutstride", *map(str, args)], capture_output=True, text=True,
                          timeout=180, env=env)


def test_import_exits_2_when_every_file_failed(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "empty.fit").write_bytes(b"")
    (folder / "cut.fit").write_bytes(FIT.read_bytes()[:5])
    out = run_cli("import", folder, "--workspace", tmp_path / "ws", "--json")
    assert out.returncode == 2
    assert [r["status"] for r in json.loads(out.stdout)] == ["error", "error"]
    assert out.stderr.startswith("error: nothing imported") and len(out.stderr.splitlines()) == 1
    (folder / "good.fit").write_bytes(FIT.read_bytes())
    assert run_cli("import", folder, "--workspace", tmp_path / "ws", "--json").returncode == 0


def test_unwritable_output_and_workspace_are_one_line_user_errors(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run_cli("import", FIT, "--workspace", ws).returncode == 0
    for args in (("report", "--workspace", ws, "-o", "/proc/nope/report.html"),
                 ("import", FIT, "--workspace", "/proc/nope/ws")):
        out = run_cli(*args)
        assert out.returncode == 2, out.stderr
        assert out.stderr.startswith("error: /proc/nope") and len(out.stderr.splitlines()) == 1, out.stderr
        assert "internal error" not in out.stderr


def test_unreadable_file_argument_is_a_one_line_user_error() -> None:
    """As root (who reads every file), the command runs as user nobody; otherwise as the current user."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="gutstride-perm-", dir="/tmp"))
    try:
        folder.chmod(0o777)
        locked = folder / "locked.fit"
        shutil.copy(FIT, locked)
        locked.chmod(0)
        src = Path(__file__).parents[2] / "src"
        drop = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"] if os.geteuid() == 0 else []
        out = subprocess.run(
            [*drop, sys.executable, "-m", "gutstride", "import", str(locked), "--workspace", str(folder / "ws")],
            capture_output=True, text=True, timeout=180, env={**os.environ, "PYTHONPATH": str(src)},
        )
        assert out.returncode == 2
        assert out.stderr.startswith("error: ") and "not readable" in out.stderr and len(out.stderr.splitlines()) == 1
    finally:
        shutil.rmtree(folder)


def test_unreadable_subfolder_gets_a_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "in"
    (folder / "locked").mkdir(parents=True)
    (folder / "a.fit").write_bytes(FIT.read_bytes())
    real_scandir = os.scandir

    def scandir(path: object = ".") -> object:
        if Path(str(path)).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    records = import_files(w := Workspace(tmp_path / "ws", create=True), workspace_athlete(w), [folder], workers=1)
    assert [(Path(r.path).name, r.status) for r in records] == [("a.fit", "ok"), ("locked", "error")]
    assert records[1].message == "cannot read folder (Permission denied)"


def test_plain_wide_table_when_not_a_terminal(tmp_path: Path) -> None:
    deep = tmp_path / ("a-rather-long-folder-name-" * 4) / "another-long-name-for-the-file-4801048867.fit"
    deep.parent.mkdir()
    deep.write_bytes(FIT.read_bytes())
    out = run_cli("import", deep, "--workspace", tmp_path / "ws")
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    assert any(str(deep) in line and "imported" in line and "activity" in line for line in lines), out.stdout
    assert not any(ch in out.stdout for ch in "┏━│")


def test_report_and_import_agree_on_duplicates(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.fit").write_bytes(FIT.read_bytes())
    (folder / "b-copy.fit").write_bytes(FIT.read_bytes())  # byte-identical
    (folder / "c.gpx").write_bytes(GPX.read_bytes())  # the same run, another format
    ws = Workspace(tmp_path / "ws", create=True)
    records = import_files(ws, workspace_athlete(ws), [folder], workers=1)
    assert [r.status for r in records] == ["ok", "duplicate", "duplicate"]
    content = build_report(ws, workspace_athlete(ws), date(2021, 3, 1))
    assert content["data_used"]["import_counts"] == {"ok": 1, "duplicate": 2}
    import_files(ws, workspace_athlete(ws), [folder], workers=1)  # importing again records nothing new
    assert build_report(ws, workspace_athlete(ws), date(2021, 3, 1))["data_used"]["import_counts"] == {
        "ok": 1, "duplicate": 2}


def test_log_dates_in_the_future(tmp_path: Path) -> None:
    from datetime import timedelta

    from gutstride.errors import BadInputError
    from gutstride.ingest.logs import read_log

    today = date(2025, 6, 10)
    ok = read_log(b"date,bloating\n2025-06-10,2\n2025-06-11,3\n", "log.csv", today=today)
    assert [e.day for e in ok] == [today, today + timedelta(days=1)]  # tomorrow: a time zone ahead; warned
    with pytest.raises(BadInputError, match=r"line 3: 2025-06-12 is 2 days in the future"):
        read_log(b"date,bloating\n2025-06-10,2\n2025-06-12,3\n", "log.csv", today=today)
    ws = tmp_path / "ws"
    far = (date.today() + timedelta(days=30)).isoformat()
    out = run_cli("log", "--workspace", ws, "--date", far, "--bloating", "2")
    assert out.returncode == 2 and "30 days in the future" in out.stderr and len(out.stderr.splitlines()) == 1
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    out = run_cli("log", "--workspace", ws, "--date", tomorrow, "--bloating", "2")
    assert out.returncode == 0 and out.stderr.startswith("warning: ") and "after today" in out.stderr


def test_table_errors_say_what_is_wrong(tmp_path: Path) -> None:
    missing = tmp_path / "missing.biom"
    missing.write_text('{"id": "x", "format": "Biological Observation Matrix 1.0.0", "rows": [], '
                       '"matrix_type": "sparse", "data": []}')
    deep = tmp_path / "deep.biom"
    deep.write_text('{"format": "Biological Observation Matrix 1.0.0", "data": ' + "[" * 100_000 + "]" * 100_000 + "}")
    for path, reason in ((missing, "the required field 'columns' is missing"), (deep, "nested too deeply")):
        out = run_cli("alpha", path, "--json")
        assert out.returncode == 2 and reason in out.stderr, out.stderr
        assert "Error:" not in out.stderr and "KeyError" not in out.stderr and "RecursionError" not in out.stderr
