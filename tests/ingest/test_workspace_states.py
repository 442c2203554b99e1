"""Issue 12: a property-based stateful test of the workspace. Imports (of new files, again, of byte-identical
copies and of the same activity in another format), log entries, reports and removals run in random orders; after
every step the invariants hold: no activity is stored twice, every stream file belongs to a stored activity and
every stored stream exists, the activity count agrees with the import records, and the report never fails.

(Export and erase are not built yet; when they are, they belong here as rules too.)
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, timedelta
from itertools import combinations
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import select

from gutstride.services.athletes import workspace_athlete
from gutstride.services.importing import import_files
from gutstride.services.report import compose, gather
from gutstride.store.activities import as_utc, remove_activity, same_activity
from gutstride.store.schema import ActivityRow, ImportRow
from gutstride.store.workspace import Workspace

ACT = Path(__file__).parents[1] / "data" / "activities"
FILES = [
    ACT / "sweatpy" / "6449921903_ACTIVITY.fit",
    ACT / "fit-fitparse" / "activity-small-fenix2-run.fit",
    ACT / "tcx-python-tcxparser" / "test.tcx",
    ACT / "sweatpy" / "activity_5039744860.tcx",
    ACT / "sweatpy" / "activity_5039744860.gpx",  # the same walk as the TCX above
    ACT / "fit-fitparse" / "DeveloperData.fit",  # no absolute timestamps: partial
    ACT / "fit-fitparse" / "activity-unexpected-eof.fit",  # truncated: partial
]
TODAY = date(2021, 6, 1)


class WorkspaceStates(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="gutstride-states-"))
        self.ws = Workspace(self.tmp / "ws", create=True)
        self.copies = 0
        self.removed = 0

    def teardown(self) -> None:
        self.ws.engine.dispose()
        shutil.rmtree(self.tmp, ignore_errors=True)

    @rule(picked=st.lists(st.sampled_from(FILES), min_size=1, max_size=3))
    def import_files(self, picked: list[Path]) -> None:
        records = import_files(self.ws, workspace_athlete(self.ws), picked, workers=1)
        assert len(records) == len(picked)
        assert all(r.status != "error" for r in records), [(r.path, r.message) for r in records]

    @rule(source=st.sampled_from(FILES))
    def import_a_byte_identical_copy(self, source: Path) -> None:
        self.copies += 1
        copy = self.tmp / f"copy-{self.copies}-{source.name}"
        shutil.copy(source, copy)
        (record,) = import_files(self.ws, workspace_athlete(self.ws), [copy], workers=1)
        assert record.status in ("ok", "partial", "duplicate")

    @rule(day=st.integers(0, 60), bloating=st.integers(0, 10))
    def log_a_day(self, day: int, bloating: int) -> None:
        self.copies += 1
        path = self.tmp / f"log-{self.copies}.csv"
        path.write_text(f"date,bloating\n{TODAY - timedelta(days=day)},{bloating}\n")
        (record,) = import_files(self.ws, workspace_athlete(self.ws), [path], workers=1)
        # a log identical to one imported before (same day, same score) is that file again: a duplicate
        assert (record.kind, record.status) == ("log", "ok") or record.status == "duplicate", record

    @precondition(lambda self: self._activity_ids())
    @rule(data=st.data())
    def remove_one(self, data: st.DataObject) -> None:
        remove_activity(self.ws, workspace_athlete(self.ws), data.draw(st.sampled_from(self._activity_ids())))
        self.removed += 1

    @rule()
    def report(self) -> None:
        content = compose(gather(self.ws, workspace_athlete(self.ws), today=TODAY))
        assert content["data_used"]["activities"]["n"] == len(self._activity_ids())

    # -- invariants ---------------------------------------------------------------------------------------------
    def _activity_ids(self) -> list[int]:
        with self.ws.session() as session:
            return list(session.scalars(select(ActivityRow.id).order_by(ActivityRow.id)))

    @invariant()
    def no_activity_twice(self) -> None:
        with self.ws.session() as session:
            rows = [(as_utc(r.start_time), r.duration_s) for r in session.scalars(select(ActivityRow))]
        dated = [(s, d) for s, d in rows if s is not None and d is not None]
        for (s1, d1), (s2, d2) in combinations(dated, 2):
            assert not same_activity(s1, d1, s2, d2)

    @invariant()
    def streams_match_rows(self) -> None:
        with self.ws.session() as session:
            with_stream = set(session.scalars(select(ActivityRow.id).where(ActivityRow.has_stream)))
        folder = self.ws.path / "athletes" / str(workspace_athlete(self.ws)) / "streams"
        files = {int(p.name.split(".")[0]) for p in folder.glob("*.parquet")} if folder.is_dir() else set()
        assert with_stream <= files and files <= set(self._activity_ids())

    @invariant()
    def counts_agree_with_the_records(self) -> None:
        with self.ws.session() as session:
            new = sum(r.n_items for r in session.scalars(select(ImportRow).where(ImportRow.kind == "activity")))
        assert len(self._activity_ids()) == new - self.removed


TestWorkspaceStates = WorkspaceStates.TestCase
TestWorkspaceStates.settings = settings(max_examples=4, stateful_step_count=6, deadline=None,
                                        suppress_health_check=[HealthCheck.too_slow])
