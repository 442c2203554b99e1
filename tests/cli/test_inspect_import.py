"""``gutstride inspect`` and ``gutstride import`` through a real subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import fitdecode
import pytest

ACT = Path(__file__).parents[1] / "data" / "activities"
FIT = ACT / "sweatpy" / "4801048867.fit"
GPX = ACT / "sweatpy" / "activity_4801048867.gpx"
TCX = ACT / "tcx-python-tcxparser" / "test.tcx"
LICENSE = ACT / "sweatpy" / "LICENSE"
FIELDS = {
    "path", "status", "message", "format", "sport", "start_time", "end_time", "duration_s", "n_records", "n_hr",
    "avg_hr", "max_hr", "distance_m",
}
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "250"}  # wide tables: no folded file names
    return subprocess.run(
        [sys.executable, "-m", "gutstride", *map(str, args)], capture_output=True, text=True, timeout=180, env=env
    )


def fitdecode_hr(path: Path) -> tuple[int, list[float]]:
    """Record messages and the heart rates above 0 in them, as fitdecode reads them."""
    n_records, hrs = 0, []
    with fitdecode.FitReader(str(path)) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "record":
                n_records += 1
                hr = frame.get_value("heart_rate", fallback=None)
                if hr is not None and hr > 0:
                    hrs.append(float(hr))
    return n_records, hrs


def test_inspect_json_fields_types_and_values() -> None:
    out = run_cli("inspect", FIT, GPX, TCX, LICENSE, "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert isinstance(rows, list) and len(rows) == 4
    for row in rows:
        assert set(row) == FIELDS
        assert row["status"] in ("ok", "partial", "error")
        assert isinstance(row["message"], str)
        assert isinstance(row["n_records"], int) and isinstance(row["n_hr"], int)
    fit, gpx, tcx, bad = rows
    assert [fit["format"], gpx["format"], tcx["format"]] == ["fit", "gpx", "tcx"]
    assert fit["path"] == str(FIT) and bad["status"] == "error" and bad["message"]
    for row in (fit, gpx, tcx):
        assert row["status"] == "ok"
        assert ISO_Z.match(row["start_time"]) and ISO_Z.match(row["end_time"])
        for key in ("duration_s", "avg_hr", "max_hr", "distance_m"):
            assert isinstance(row[key], float)
        assert row["end_time"] > row["start_time"]
    n_records, hrs = fitdecode_hr(FIT)
    assert fit["n_records"] == n_records
    assert fit["n_hr"] == len(hrs)
    assert fit["max_hr"] == max(hrs)
    assert fit["avg_hr"] == pytest.approx(sum(hrs) / len(hrs))
    assert fit["start_time"] == gpx["start_time"]  # the same run, recorded as FIT and exported as GPX


def test_inspect_table_and_all_failed_exit_code(tmp_path: Path) -> None:
    out = run_cli("inspect", FIT)
    assert out.returncode == 0 and "4801048867.fit" in out.stdout
    empty = tmp_path / "empty.fit"
    empty.write_bytes(b"")
    out = run_cli("inspect", LICENSE, empty, tmp_path / "missing.gpx", "--json")
    assert out.returncode == 2
    rows = json.loads(out.stdout)
    assert [r["status"] for r in rows] == ["error"] * 3
    assert "Traceback" not in out.stderr


def test_inspect_imports_no_store_or_heavy_modules() -> None:
    # The FIT decoder's loops are compiled C (_gutstride_native): no numba, no scipy, nothing the store needs.
    code = (
        "import sys\nfrom gutstride.cli import main\n"
        f"try:\n    main(['inspect', {str(FIT)!r}, {str(GPX)!r}, '--json'])\nexcept SystemExit:\n    pass\n"
        "heavy = ['pandas', 'sqlalchemy', 'pyarrow', 'numba', 'scipy', 'pydantic', 'typer']\n"
        "print('HEAVY', sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "HEAVY []" in out.stdout, out.stdout[-500:] + out.stderr


def test_inspect_of_a_fit_ride_imports_no_numpy() -> None:
    """Issue 18: a well-formed FIT file is summarised by compiled code; numpy was half of the command's start-up."""
    code = (
        "import sys\nfrom gutstride.cli import main\n"
        f"try:\n    main(['inspect', {str(FIT)!r}, '--json'])\nexcept SystemExit:\n    pass\n"
        "print('NUMPY', 'numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "NUMPY False" in out.stdout, out.stdout[-500:] + out.stderr


def test_import_json_then_reimport_adds_nothing(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    folder = tmp_path / "in"
    folder.mkdir()
    for src in (FIT, GPX, LICENSE):
        (folder / src.name).write_bytes(src.read_bytes())
    out = run_cli("import", folder, "--workspace", ws, "--json", "--workers", "1")
    assert out.returncode == 0, out.stderr
    records = json.loads(out.stdout)
    status = {Path(r["path"]).name: r["status"] for r in records}
    assert status == {"4801048867.fit": "ok", "activity_4801048867.gpx": "duplicate", "LICENSE": "skipped"}
    assert set(records[0]) == {"path", "status", "message", "kind", "format", "sha256", "n_items"}
    again = json.loads(run_cli("import", folder, "--workspace", ws, "--json", "--workers", "1").stdout)
    assert {Path(r["path"]).name: r["status"] for r in again} == {
        "4801048867.fit": "duplicate", "activity_4801048867.gpx": "duplicate", "LICENSE": "skipped"
    }
    table = run_cli("import", FIT, "--workspace", ws)
    assert table.returncode == 0 and "duplicate" in table.stdout and "already imported" in table.stdout


def test_import_missing_path_and_empty_folder(tmp_path: Path) -> None:
    out = run_cli("import", tmp_path / "nope", "--workspace", tmp_path / "ws")
    assert out.returncode == 2
    assert out.stderr.startswith("error: ") and len(out.stderr.strip().splitlines()) == 1
    (tmp_path / "empty").mkdir()
    out = run_cli("import", tmp_path / "empty", "--workspace", tmp_path / "ws")
    assert out.returncode == 0
    assert f"no files found in {tmp_path / 'empty'}" in out.stderr
    out = run_cli("import", tmp_path / "empty", "--json")
    assert out.returncode == 0 and json.loads(out.stdout) == []


def test_inspect_file_with_several_activities_gives_one_object_each() -> None:
    chained = ACT / "fit-fitparse" / "activity-activity-filecrc.fit"
    with fitdecode.FitReader(str(chained), check_crc=fitdecode.CrcCheck.DISABLED) as reader:
        n_files = sum(isinstance(frame, fitdecode.FitHeader) for frame in reader)
    rows = json.loads(run_cli("inspect", chained, "--json").stdout)
    assert n_files == 2 and len(rows) == n_files
    assert all(row["path"] == str(chained) and row["status"] != "error" and row["n_records"] > 0 for row in rows)


def test_inspect_tcx_with_four_activities(tmp_path: Path) -> None:
    """Issue 12, defect 11: ``inspect`` described only the first of 4 activities that ``import`` stores."""
    import xml.etree.ElementTree as ET

    text = TCX.read_text()
    start, end = text.index("<Activity "), text.index("</Activity>") + len("</Activity>")
    block = text[start:end]
    sports = ["Running", "Biking", "Other", "Running"]
    blocks = [block.replace('Sport="Running"', f'Sport="{sport}"', 1) for sport in sports]
    four = tmp_path / "four.tcx"
    four.write_text(text[:start] + "\n".join(blocks) + text[end:])
    ns = {"t": "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"}
    n_activities = len(ET.parse(four).getroot().findall("t:Activities/t:Activity", ns))
    (single,) = json.loads(run_cli("inspect", TCX, "--json").stdout)
    rows = json.loads(run_cli("inspect", four, TCX, "--json").stdout)
    assert n_activities == 4 and len(rows) == 5
    assert [row["path"] for row in rows] == [str(four)] * 4 + [str(TCX)]
    assert [row["sport"] for row in rows[:4]] == ["running", "cycling", "other", "running"]
    for row in rows[:4]:
        assert {k: v for k, v in row.items() if k not in ("path", "sport")} == {
            k: v for k, v in single.items() if k not in ("path", "sport")}


DAYLIO = "full_date,date,weekday,time,mood,activities,note_title,note\n2024-05-10,May 10,Friday,21:13,good,run,,\n"


def test_import_exits_2_when_every_file_was_skipped_naming_why(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "daylio_export.csv").write_text(DAYLIO)
    (folder / "LICENSE").write_bytes(LICENSE.read_bytes())
    out = run_cli("import", folder, "--workspace", tmp_path / "ws", "--json", "--workers", "1")
    assert out.returncode == 2, out.stderr
    records = json.loads(out.stdout)
    assert [r["status"] for r in records] == ["skipped", "skipped"]
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert "daylio_export.csv: not a file gutstride reads (a Daylio mood diary (CSV))" in out.stderr
    assert "LICENSE: not a file gutstride reads (text)" in out.stderr
    # The same file through alpha: the same reason.
    alpha = run_cli("alpha", folder / "daylio_export.csv", "--json")
    assert alpha.returncode == 2
    reason = next(r["message"] for r in records if r["path"].endswith("daylio_export.csv"))
    assert alpha.stderr.strip() == f"error: daylio_export.csv: {reason}"


def test_alpha_and_import_give_one_reason_for_a_csv_that_is_not_a_table(tmp_path: Path) -> None:
    bad = tmp_path / "notes.csv"
    bad.write_text("what,where,who\nrun,park,me\nswim,pool,me\n")
    out = run_cli("import", bad, "--workspace", tmp_path / "ws", "--json", "--workers", "1")
    assert out.returncode == 2
    reason = json.loads(out.stdout)[0]["message"]
    alpha = run_cli("alpha", bad, "--json")
    assert alpha.returncode == 2 and alpha.stderr.strip() == f"error: notes.csv: {reason}"


def test_inspect_usage_errors_are_usage_errors() -> None:
    """Outside the plain ``inspect FILE... [--json]`` form, typer parses: a wrong option is click's usage error (exit
    2), not an internal error, and the typer route gives the same JSON as the direct one."""
    out = run_cli("inspect", "--jsn", FIT)
    assert out.returncode == 2 and "No such option: --jsn" in out.stderr and "internal error" not in out.stderr
    out = run_cli("inspect")
    assert out.returncode == 2 and "Missing argument" in out.stderr
    direct = run_cli("inspect", FIT, "--json")
    through_typer = run_cli("--debug", "inspect", FIT, "--json")
    assert direct.returncode == through_typer.returncode == 0
    assert json.loads(direct.stdout) == json.loads(through_typer.stdout)
