"""The report cache (issue 18): a report is reused only when nothing it is computed from changed.

Each change a user can make gives a new fingerprint, and the report written after it is computed again (not the
cached one) and differs from it where the change shows in the report. A damaged or missing entry is computed again.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from gutstride.model.log_entry import LogEntry
from gutstride.model.profile import Profile
from gutstride.report.write import workspace_report
from gutstride.services.activities import delete_activity, list_activities
from gutstride.services.importing import import_files
from gutstride.services.logs import add_log_entries
from gutstride.services.profile import set_profile
from gutstride.services.report_cache import (
    cache_prefix,
    entry_key,
    report_fingerprint,
    source_digest,
)
from gutstride.store.workspace import Workspace

DATA = Path(__file__).parents[1] / "data"
FIT = DATA / "activities" / "sweatpy" / "4801048867.fit"
TCX = DATA / "activities" / "tcx-python-tcxparser" / "test.tcx"
UBIOME = DATA / "microbiome" / "ubiome-microbiome-tools" / "sprague-uBiomeJun2014.csv"
REFERENCE = Path(__file__).parents[2] / "src" / "gutstride" / "services" / "data" / "reference_ag_fecal.json"
TODAY = date(2026, 11, 20)


@dataclass
class Athlete:
    ws: Workspace
    id: int
    reference: Path


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with one imported ride, a profile and two log entries (built once, copied by each test)."""
    path = tmp_path_factory.mktemp("template") / "ws"
    ws = Workspace(path, create=True)
    athlete = ws.create_athlete("cache test")
    set_profile(ws, athlete, Profile(birth_year=1985, resting_hr=50), TODAY)
    import_files(ws, athlete, [FIT], workers=1)
    add_log_entries(ws, athlete, [LogEntry(day=date(2026, 11, 1), nausea=2),
                                  LogEntry(day=date(2026, 11, 2), bloating=4)], "test")
    return path


@pytest.fixture
def athlete(template: Path, tmp_path: Path) -> Athlete:
    copy = tmp_path / "ws"
    shutil.copytree(template, copy)
    reference = tmp_path / "reference.json"
    shutil.copyfile(REFERENCE, reference)
    ws = Workspace(copy)
    (athlete_id,) = ws.athlete_ids()
    return Athlete(ws, athlete_id, reference)


def _content(made_json: str) -> dict[str, object]:
    content = json.loads(made_json)
    content["meta"].pop("generated_at")
    return content


def test_an_unchanged_workspace_reuses_the_report(athlete: Athlete) -> None:
    first = workspace_report(athlete.ws, athlete.id, TODAY)
    second = workspace_report(athlete.ws, athlete.id, TODAY)
    assert not first.reused and second.reused
    assert second.report == first.report


def _rename_reference(a: Athlete) -> None:
    data = json.loads(a.reference.read_text())
    data["name"] = data["name"] + " (edited)"
    a.reference.write_text(json.dumps(data))


def _import_another_file(a: Athlete) -> None:
    import_files(a.ws, a.id, [TCX], workers=1)


def _import_microbiome_sample(a: Athlete) -> None:
    import_files(a.ws, a.id, [UBIOME], workers=1)


def _add_log_entry(a: Athlete) -> None:
    add_log_entries(a.ws, a.id, [LogEntry(day=date(2026, 11, 3), cramps=5)], "test")


def _change_log_entry_in_place(a: Athlete) -> None:
    """The same day logged again: its row is replaced in place (same id, same number of rows); a red flag shows."""
    add_log_entries(a.ws, a.id, [LogEntry(day=date(2026, 11, 2), bloating=4, blood_in_stool=True)], "test")


def _change_profile(a: Athlete) -> None:
    set_profile(a.ws, a.id, Profile(birth_year=1975, resting_hr=50), TODAY)


def _remove_activity(a: Athlete) -> None:
    delete_activity(a.ws, a.id, int(list_activities(a.ws, a.id)[0]["id"]))


def _change_setting(a: Athlete) -> None:
    (a.ws.path / "config.toml").write_text("min_observations = 3\n")


#: Each change a user can make to what the report is computed from (besides the day and the reference, below).
CHANGES: dict[str, Callable[[Athlete], None]] = {
    "import": _import_another_file,
    "microbiome sample imported": _import_microbiome_sample,
    "log entry added": _add_log_entry,
    "log entry changed in place": _change_log_entry_in_place,
    "profile": _change_profile,
    "activity removed": _remove_activity,
    "setting": _change_setting,
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_every_change_gives_a_new_fingerprint_and_a_new_report(athlete: Athlete, change: str) -> None:
    before = workspace_report(athlete.ws, athlete.id, TODAY)
    fingerprint = report_fingerprint(athlete.ws, athlete.id, TODAY)
    CHANGES[change](athlete)
    ws = Workspace(athlete.ws.path)  # settings are read when a workspace is opened, as each command does
    assert report_fingerprint(ws, athlete.id, TODAY) != fingerprint
    after = workspace_report(ws, athlete.id, TODAY)
    assert not after.reused
    if change != "setting":  # two log entries are too few for min_observations to matter
        assert _content(after.report.json) != _content(before.report.json)
    assert workspace_report(ws, athlete.id, TODAY).reused
    # the entry of the old fingerprint is gone: one entry per athlete
    assert len([k for k in ws.storage.list(cache_prefix(athlete.id)) if k.endswith(".entry")]) == 1


def test_a_new_day_is_a_new_report(athlete: Athlete) -> None:
    before = workspace_report(athlete.ws, athlete.id, TODAY)
    after = workspace_report(athlete.ws, athlete.id, TODAY + timedelta(days=1))
    assert not after.reused
    assert json.loads(after.report.json)["meta"]["today"] != json.loads(before.report.json)["meta"]["today"]


def test_the_reference_file_and_its_bytes_are_part_of_the_fingerprint(athlete: Athlete) -> None:
    without = report_fingerprint(athlete.ws, athlete.id, TODAY)
    workspace_report(athlete.ws, athlete.id, TODAY, athlete.reference)
    with_reference = report_fingerprint(athlete.ws, athlete.id, TODAY, athlete.reference)
    assert with_reference != without
    _rename_reference(athlete)  # same path, other bytes
    assert report_fingerprint(athlete.ws, athlete.id, TODAY, athlete.reference) != with_reference
    assert not workspace_report(athlete.ws, athlete.id, TODAY, athlete.reference).reused


def test_source_digest_follows_the_bytes_of_the_code(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "__pycache__").mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n")
    (package / "templates").mkdir()
    (package / "templates" / "r.html").write_text("<p>")
    first = source_digest(package)
    (package / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"compiled")
    assert source_digest(package) == first  # bytecode is not the code
    (package / "templates" / "r.html").write_text("<p>!")
    assert source_digest(package) != first


@pytest.mark.parametrize("damage", ["truncated", "not json", "edited html", "other fingerprint", "deleted"])
def test_a_damaged_or_missing_entry_is_computed_again(athlete: Athlete, damage: str) -> None:
    first = workspace_report(athlete.ws, athlete.id, TODAY)
    key = entry_key(athlete.id, report_fingerprint(athlete.ws, athlete.id, TODAY))
    path = athlete.ws.storage.local_path(key)
    text = path.read_text()
    if damage == "truncated":
        path.write_text(text[: len(text) // 2])
    elif damage == "not json":
        path.write_bytes(b"\x00\xff garbage")
    elif damage == "edited html":
        stored = json.loads(text)
        stored["html"] = stored["html"].replace("<body", "<body data-x", 1)
        path.write_text(json.dumps(stored))
    elif damage == "other fingerprint":
        stored = json.loads(text)
        stored["fingerprint"] = "0" * 64
        path.write_text(json.dumps(stored))
    else:
        path.unlink()
    again = workspace_report(athlete.ws, athlete.id, TODAY)
    assert not again.reused
    assert _content(again.report.json) == _content(first.report.json)
    assert workspace_report(athlete.ws, athlete.id, TODAY).reused  # and the entry was written whole again


def test_an_entry_is_written_whole_or_not_at_all(athlete: Athlete, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(_src: str, _dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)  # the rename that puts the temporary file in place
    made = workspace_report(athlete.ws, athlete.id, TODAY)  # the report is still made: caching is not the job
    monkeypatch.undo()
    assert not made.reused and json.loads(made.report.json)["meta"]["today"] == TODAY.isoformat()
    assert athlete.ws.storage.list(cache_prefix(athlete.id)) == []  # no entry, no temporary file left
    assert not workspace_report(athlete.ws, athlete.id, TODAY).reused


def test_a_missing_reference_file_is_the_readers_error(athlete: Athlete) -> None:
    from gutstride.errors import MissingDataError

    with pytest.raises(MissingDataError, match="no such file"):
        workspace_report(athlete.ws, athlete.id, TODAY, athlete.reference.with_name("missing.json"))
