"""Log entries in the workspace: upsert on (person, day, activity), re-import is a no-op."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import func, select

from gutstride.ingest.logs import read_log
from gutstride.model.log_entry import LogEntry
from gutstride.services.athletes import workspace_athlete
from gutstride.store.logs import load_entries, save_counts, save_entries
from gutstride.store.schema import LogEntryRow, Person
from gutstride.store.workspace import Workspace

LOG = (
    b"date,activity_start,cramps,bristol,nsaid,supplements,sleep_hours\n"
    b"2024-01-01,,2,4,false,iron;zinc,7.5\n"
    b"2024-01-01,2024-01-01T06:30:00Z,5,,true,,\n"
    b"2024-01-02,,0,5,,,6\n"
)


def _rows(ws: Workspace) -> list[tuple[date, str, dict, str]]:
    with ws.session() as session:
        rows = session.scalars(select(LogEntryRow).order_by(LogEntryRow.id)).all()
        return [(r.day, r.activity_ref, r.data, r.source) for r in rows]


def test_save_load_and_reimport_changes_nothing(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", create=True)
    entries = read_log(LOG, "log.csv")
    with ws.session() as session:
        assert save_entries(ws, session, ws.athlete(session, workspace_athlete(ws)), entries, "log.csv") == 3
    before = _rows(ws)
    assert [(d, a) for d, a, _, _ in before] == [
        (date(2024, 1, 1), ""), (date(2024, 1, 1), "2024-01-01T06:30:00Z"), (date(2024, 1, 2), ""),
    ]
    assert before[0][2] == {"cramps": 2, "bristol": 4, "nsaid": False, "supplements": ["iron", "zinc"],
                            "sleep_hours": 7.5}
    assert load_entries(ws, workspace_athlete(ws)) == entries
    assert [load_entries(ws, workspace_athlete(ws), last=n) for n in (0, 2, 5)] == [[], entries[-2:], entries]
    # the same file again, even from a new process-like workspace object: nothing changes
    ws2 = Workspace(tmp_path / "ws")
    with ws2.session() as session:
        me = ws2.athlete(session, workspace_athlete(ws2))
        assert save_entries(ws2, session, me, read_log(LOG, "log.csv"), "log.csv") == 0
    assert _rows(ws2) == before


def test_changed_entry_is_updated_in_place(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", create=True)
    with ws.session() as session:
        save_entries(ws, session, ws.athlete(session, workspace_athlete(ws)), read_log(LOG, "a.csv"), "a.csv")
    edited = LOG.replace(b"2024-01-02,,0,5", b"2024-01-02,,3,5") + b"2024-01-03,,1,,,,\n"
    with ws.session() as session:
        counts = save_counts(session, ws.athlete(session, workspace_athlete(ws)), read_log(edited, "b.csv"), "b.csv")
    assert (counts.added, counts.changed, counts.unchanged) == (1, 1, 2)
    rows = _rows(ws)
    assert len(rows) == 4
    assert rows[2][2]["cramps"] == 3 and rows[2][3] == "b.csv" and rows[0][3] == "a.csv"


def test_people_are_kept_apart(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", create=True)
    entry = LogEntry(day=date(2024, 1, 1), activity_start=datetime(2024, 1, 1, 7, tzinfo=UTC), nausea=4)
    me_id = ws.create_athlete()
    with ws.session() as session:
        me = ws.athlete(session, me_id)
        other = Person(name="other")
        session.add(other)
        session.flush()
        assert save_entries(ws, session, me, [entry], "cli") == 1
        assert save_entries(ws, session, other, [entry], "cli") == 1
        other_id = other.id
        assert session.scalar(select(func.count()).select_from(LogEntryRow)) == 2
    assert load_entries(ws, me_id) == [entry]
    assert load_entries(ws, other_id) == [entry]


def test_empty_workspace_loads_nothing(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", create=True)
    assert load_entries(ws, workspace_athlete(ws)) == []


def test_new_fields_are_stored_and_loaded_back(tmp_path: Path) -> None:
    """Entries are a JSON column: the fields added for issue 14 need no migration and round-trip as given."""
    entry = LogEntry(day=date(2026, 5, 3), activity_start=datetime(2026, 5, 3, 6, tzinfo=UTC), belching=3, vomiting=0,
                     symptom_timing="during", carb_g_per_h=72.5, fluid_ml_per_h=500.0, caffeine_before_mg=95.0,
                     menstrual_phase="luteal", contraception="progestin_only", fodmap_load="high",
                     lactose_load="medium", sweetener_load="low", session_type="race", experiment="heat",
                     experiment_arm="with")
    ws = Workspace(tmp_path / "ws", create=True)
    me = workspace_athlete(ws)
    with ws.session() as session:
        save_entries(ws, session, ws.athlete(session, me), [entry], "test")
    assert load_entries(ws, me) == [entry]
