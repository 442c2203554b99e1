"""Issue 12, defect 3: memory is bounded by the limits, never by the content.

One bomb of each kind the trial found (a zip of large members under the ratio limit, a GPX gzip bomb, a zip of
zeros, a folder of FIT gzip bombs) is refused with a reason, and the peak resident memory of the whole import,
workers included, stays under 1 GB. The bombs here are half the trial's sizes to keep the test short; the
full sizes run in bench/bench_memory.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from gutstride.ingest.activities.dispatch import MAX_ACTIVITY_BYTES

from .bombs import write_bombs
from .memtree import run_measured

GB = 10**9


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bombs")
    write_bombs(folder, gib=0.5)
    return folder


def test_bombs_are_refused_and_peak_memory_of_the_whole_import_stays_under_1_gb(bombs: Path, tmp_path: Path) -> None:
    run = run_measured([sys.executable, "-m", "gutstride", "import", str(bombs), "--workspace", str(tmp_path / "ws"),
                        "--workers", "2", "--json"], limit_bytes=GB, timeout=120)
    assert not run.killed, f"killed at {run.peak_rss / 1e6:.0f} MB of RSS"
    assert run.peak_rss < GB
    records = {r["path"].rsplit("/", 1)[-1]: r for r in json.loads(run.stdout)}
    assert len(records) == 10 and {r["status"] for r in records.values()} == {"error"}
    limit = f"{MAX_ACTIVITY_BYTES >> 20} MiB"
    for i in range(4):
        assert limit in records[f"m{i}.fit"]["message"]
    for name in ["track.gpx.gz", *(f"fit-bomb-{i}.fit.gz" for i in range(1, 5))]:
        assert f"{MAX_ACTIVITY_BYTES} byte limit" in records[name]["message"]
    assert "ratio" in records["zeros.bin"]["message"]


def test_a_microbiome_table_inside_an_export_is_spilled_to_disk_and_read(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    from gutstride.services.athletes import workspace_athlete
    from gutstride.services.importing import import_files
    from gutstride.store.workspace import Workspace

    from .conftest import make_zip

    table = b"#OTU ID\tme\nk__Bacteria;g__Roseburia\t120\nk__Bacteria;g__Bacteroides\t300\n"
    export = tmp_path / "export.zip"
    export.write_bytes(make_zip({"results/my-test.tsv": table}))
    spills = tmp_path / "spills"
    spills.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spills))
    ws = Workspace(tmp_path / "ws", create=True)
    (record,) = import_files(ws, workspace_athlete(ws), [export], workers=1)
    assert (record.kind, record.status, record.n_items) == ("microbiome", "ok", 1), record.message
    assert list(spills.iterdir()) == []  # the spilled member is gone with the import
