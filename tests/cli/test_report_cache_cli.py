"""``gutstride report`` on an unchanged workspace (issue 18): written from the cache, through a real subprocess,
without importing the analyses' libraries."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

from gutstride.model.log_entry import LogEntry
from gutstride.services.logs import add_log_entries
from gutstride.services.report_cache import cache_prefix
from gutstride.store.workspace import Workspace

HEAVY = ["numpy", "pandas", "scipy", "pyarrow", "jinja2"]


def report_in_subprocess(workspace: Path, output: Path) -> subprocess.CompletedProcess[str]:
    """Run ``gutstride report -w WORKSPACE -o OUTPUT --json`` in a new interpreter; print the heavy modules it
    imported."""
    code = (
        "import sys\nfrom gutstride.cli import main\n"
        f"try:\n    main(['report', '-w', {str(workspace)!r}, '-o', {str(output)!r}, '--json'])\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
        f"print('HEAVY', sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_an_unchanged_workspace_is_written_from_the_cache_without_numpy(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", create=True)
    athlete = ws.create_athlete()
    add_log_entries(ws, athlete, [LogEntry(day=date(2026, 11, 1), nausea=3)], "test")
    first = report_in_subprocess(ws.path, tmp_path / "first.html")
    assert first.returncode == 0, first.stderr
    assert "reused" not in first.stdout and "HEAVY ['jinja2', 'numpy', 'pandas'" in first.stdout  # computed
    second = report_in_subprocess(ws.path, tmp_path / "second.html")
    assert second.returncode == 0, second.stderr
    assert "HEAVY []" in second.stdout, second.stdout + second.stderr
    lines = second.stdout.splitlines()
    assert lines[0].startswith("report unchanged since ") and lines[0].endswith(": reused")
    assert lines[1:3] == [f"wrote {tmp_path / 'second.html'}", f"wrote {tmp_path / 'second.json'}"]
    for suffix in (".html", ".json"):
        assert (tmp_path / f"second{suffix}").read_bytes() == (tmp_path / f"first{suffix}").read_bytes()
    # a change: computed again, and the new entry replaces the old one
    add_log_entries(ws, athlete, [LogEntry(day=date(2026, 11, 2), blood_in_stool=True)], "test")
    third = report_in_subprocess(ws.path, tmp_path / "third.html")
    assert third.returncode == 0, third.stderr
    assert third.stdout.startswith("RED FLAG: ") and "reused" not in third.stdout and "numpy" in third.stdout
    again = report_in_subprocess(ws.path, tmp_path / "again.html")
    assert "HEAVY []" in again.stdout and again.stdout.startswith("RED FLAG: ")  # red flags first, even reused
    assert (tmp_path / "again.json").read_bytes() == (tmp_path / "third.json").read_bytes()
    assert len(ws.storage.list(cache_prefix(athlete))) == 1


def test_the_demo_leaves_its_report_cached_for_the_next_report(demo_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "workspace"
    shutil.copytree(demo_dir / "workspace", copy)
    out = report_in_subprocess(copy, tmp_path / "report.html")
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.splitlines()[:2]
    assert first == "report for 2026-10-31, this workspace's report_date (config.toml)", out.stdout  # the demo's day
    assert second.startswith("report unchanged since ") and "HEAVY []" in out.stdout, out.stdout + out.stderr


def test_the_feature_table_type_and_the_microbiome_store_import_no_scipy() -> None:
    """SciPy's sparse module (with the array-API layer it loads) is imported when a table is made, not with the
    type: the microbiome store and the modules that only name FeatureTable don't pay for it."""
    code = (
        "import sys\nimport gutstride.model.feature_table, gutstride.store.microbiome\n"
        "print('SCIPY', 'scipy' in sys.modules)\n"
        "from gutstride.ingest.microbiome.layout import close_rows\n"
        "print('SPARSE', 'scipy.sparse' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "SCIPY False" in out.stdout and "SPARSE True" in out.stdout, out.stdout + out.stderr
