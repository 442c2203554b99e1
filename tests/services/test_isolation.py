"""Two athletes in one store: every service and every store read, called as the other athlete (or as nobody), finds
nothing of the first athlete, or raises a not-found error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gutstride.errors import GutstrideError, MissingDataError
from gutstride.model.log_entry import LogEntry
from gutstride.model.profile import Profile
from gutstride.services import activities, export, logs, profile, report
from gutstride.services.importing import import_files
from gutstride.store.activities import load_activities, load_stream
from gutstride.store.logs import load_entries
from gutstride.store.microbiome import load_samples
from gutstride.store.profile import load_profile
from gutstride.store.storage import athlete_prefix
from gutstride.store.workspace import Workspace

DATA = Path(__file__).parents[1] / "data"
FIT = DATA / "activities" / "sweatpy" / "4801048867.fit"
TABLE = DATA / "microbiome" / "biom-format-examples" / "rich_sparse_otu_table_hdf5.biom"
TODAY = date(2026, 11, 29)


@dataclass
class Store:
    ws: Workspace
    owner: int
    other: int
    activity_id: int


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    ws = Workspace(tmp_path_factory.mktemp("two") / "ws", create=True)
    owner, other = ws.create_athlete("owner"), ws.create_athlete("other")
    log = tmp_path_factory.mktemp("log") / "log.csv"
    log.write_text("date,bloating,blood_in_stool\n2026-11-01,4,true\n")
    records = import_files(ws, owner, [FIT, TABLE, log], workers=1, sample="Sample1")
    assert [r.status for r in records] == ["ok", "ok", "ok"], records
    profile.set_profile(ws, owner, Profile(birth_year=1980, resting_hr=50), TODAY)
    (activity_id,) = load_activities(ws, owner)["id"]
    ws.write_rr(owner, int(activity_id), np.array([0.8, 0.81, 0.79]))
    return Store(ws, owner, other, int(activity_id))


#: Reads that must come back empty for an athlete who owns nothing.
EMPTY_READS: dict[str, Callable[[Store, int], Any]] = {
    "services.list_activities": lambda s, a: activities.list_activities(s.ws, a),
    "services.list_log_entries": lambda s, a: logs.list_log_entries(s.ws, a),
    "services.red_flags_on": lambda s, a: logs.red_flags_on(s.ws, a, {date(2026, 11, 1)}),
    "store.load_activities": lambda s, a: load_activities(s.ws, a).to_dict("records"),
    "store.load_entries": lambda s, a: load_entries(s.ws, a),
    "store.load_samples": lambda s, a: load_samples(s.ws, a)[0].to_dict("records"),
    "storage.list": lambda s, a: s.ws.storage.list(athlete_prefix(a)),
    "workspace.read_rr": lambda s, a: None if (rr := s.ws.read_rr(a, s.activity_id)) is None else list(rr),
}

#: Calls naming the owner's activity that must raise not-found for anyone else.
FOREIGN_OBJECT_CALLS: dict[str, Callable[[Store, int], Any]] = {
    "services.activity_stream": lambda s, a: activities.activity_stream(s.ws, a, s.activity_id),
    "services.delete_activity": lambda s, a: activities.delete_activity(s.ws, a, s.activity_id),
    "store.load_stream": lambda s, a: load_stream(s.ws, a, s.activity_id),
    "workspace.read_stream": lambda s, a: s.ws.read_stream(a, s.activity_id),
}

#: Every service, to be refused for an athlete id that does not exist (and for no id at all).
ALL_CALLS: dict[str, Callable[[Store, Any], Any]] = {
    **EMPTY_READS,
    **FOREIGN_OBJECT_CALLS,
    "services.get_profile": lambda s, a: profile.get_profile(s.ws, a),
    "services.set_profile": lambda s, a: profile.set_profile(s.ws, a, Profile(mass_kg=70), TODAY),
    "services.add_log_entries": lambda s, a: logs.add_log_entries(s.ws, a, [LogEntry(day=TODAY, nausea=1)], "t"),
    "services.build_report": lambda s, a: report.build_report(s.ws, a, TODAY),
    "services.export_athlete": lambda s, a: export.export_athlete(s.ws, a, s.ws.path.parent / "x.zip"),
    "services.erase_athlete": lambda s, a: export.erase_athlete(s.ws, a),
    "services.import_files": lambda s, a: import_files(s.ws, a, [FIT], workers=1),
    "store.load_profile": lambda s, a: load_profile(s.ws, a),
}
ALL_CALLS.pop("storage.list")  # a prefix of an unknown id simply holds nothing (checked in EMPTY_READS)
ALL_CALLS.pop("workspace.read_rr")


@pytest.mark.parametrize("name", sorted(EMPTY_READS))
def test_other_athlete_reads_nothing(store: Store, name: str) -> None:
    result = EMPTY_READS[name](store, store.other)
    assert not result, f"{name} returned the owner's data to the other athlete: {result!r}"
    assert EMPTY_READS[name](store, store.owner), f"{name} returns nothing for the owner either: test is void"


@pytest.mark.parametrize("name", sorted(FOREIGN_OBJECT_CALLS))
def test_other_athlete_cannot_reach_the_owners_activity(store: Store, name: str) -> None:
    with pytest.raises(MissingDataError):
        FOREIGN_OBJECT_CALLS[name](store, store.other)
    assert load_stream(store.ws, store.owner, store.activity_id)["time"].size > 0  # still there for the owner


@pytest.mark.parametrize("athlete", [999_999, None])
@pytest.mark.parametrize("name", sorted(ALL_CALLS))
def test_unknown_or_missing_athlete_is_refused(store: Store, name: str, athlete: int | None) -> None:
    with pytest.raises(GutstrideError):
        ALL_CALLS[name](store, athlete)


def test_the_other_athletes_writes_and_erasure_leave_the_owner_alone(store: Store, tmp_path: Path) -> None:
    ws, owner, other = store.ws, store.owner, store.other
    before = (load_activities(ws, owner).to_dict("records"), load_entries(ws, owner), load_profile(ws, owner),
              ws.storage.list(athlete_prefix(owner)))
    profile.set_profile(ws, other, Profile(birth_year=1999), TODAY)
    logs.add_log_entries(ws, other, [LogEntry(day=date(2026, 11, 1), bloating=9)], "other")
    # the same file imported by the other athlete is theirs, not a duplicate of the owner's
    (record,) = import_files(ws, other, [FIT], workers=1)
    assert record.status == "ok"
    other_content = report.build_report(ws, other, TODAY)
    assert other_content["red_flags"] == []  # the owner's blood-in-stool entry is not theirs
    assert other_content["meta"]["person"]["birth_year"] == 1999
    summary = export.export_athlete(ws, other, tmp_path / "other.zip")
    assert summary.counts["log_entries"] == 1 and summary.counts["microbiome_samples"] == 0
    export.erase_athlete(ws, other)
    after = (load_activities(ws, owner).to_dict("records"), load_entries(ws, owner), load_profile(ws, owner),
             ws.storage.list(athlete_prefix(owner)))
    assert after == before
    with pytest.raises(MissingDataError):
        profile.get_profile(ws, other)
