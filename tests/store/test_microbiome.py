"""Storing microbiome samples: one row and one Parquet file per sample, dates, no duplicates, loading back."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp

from gutstride.ingest.microbiome.read import read_table
from gutstride.model.feature_table import FeatureTable
from gutstride.services.athletes import workspace_athlete
from gutstride.store.microbiome import collection_date, load_samples, save_table
from gutstride.store.workspace import Workspace

RICH = Path(__file__).parents[1] / "data" / "microbiome" / "biom-format-examples" / "rich_sparse_otu_table.biom"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws", create=True)


def save(ws: Workspace, table: FeatureTable, sha: str, fmt: str = "biom") -> int:
    with ws.session() as session:
        return save_table(ws, session, ws.athlete(session, workspace_athlete(ws)), table, f"{sha}.{fmt}", sha, fmt)


def test_round_trip_of_a_real_table(ws: Workspace) -> None:
    table = read_table(RICH)
    assert save(ws, table, "a" * 64) == 6
    rows, loaded = load_samples(ws, workspace_athlete(ws))
    assert list(rows["sample_id"]) == loaded.sample_ids
    assert sorted(loaded.sample_ids) == sorted(table.sample_ids)
    order = [table.sample_ids.index(s) for s in loaded.sample_ids]
    original = table.data.toarray()[order][:, [table.feature_ids.index(f) for f in loaded.feature_ids]]
    np.testing.assert_array_equal(loaded.data.toarray(), original)
    present = table.data.toarray().any(axis=0)
    assert set(loaded.feature_ids) == {f for f, p in zip(table.feature_ids, present, strict=True) if p}
    fid = loaded.feature_ids[0]
    assert loaded.taxonomy[fid] == table.taxonomy[fid]
    first = int(rows["id"].iloc[0])
    stored = pq.read_table(ws.storage.local_path(ws.microbiome_key(workspace_athlete(ws), first)))
    assert stored.column_names == ["feature_id", "value", "taxonomy"]
    assert rows["depth"].tolist() == loaded.sample_depths().tolist()


def test_reimport_stores_nothing_new(ws: Workspace) -> None:
    table = read_table(RICH)
    assert save(ws, table, "b" * 64) == 6
    assert save(ws, table, "b" * 64) == 0
    assert save(ws, table, "c" * 64) == 6  # another file holding the same sample ids
    rows, loaded = load_samples(ws, workspace_athlete(ws))
    assert len(rows) == 12 and len(set(loaded.sample_ids)) == 12
    assert any(s.startswith("Sample1#") for s in loaded.sample_ids)


def test_collection_dates_order_the_samples(ws: Workspace) -> None:
    data = sp.csr_array(np.array([[1.0, 2.0], [3.0, 0.0], [0.0, 5.0]]))
    table = FeatureTable(
        data=data, sample_ids=["late", "undated", "early"], feature_ids=["x", "y"],
        sample_metadata={"late": {"COLLECTION_TIMESTAMP": "2024-03-05 08:00"}, "undated": {"date": "not provided"},
                         "early": {"collection_date": "2023-12-31"}},
    )
    save(ws, table, "d" * 64, "text")
    rows, loaded = load_samples(ws, workspace_athlete(ws))
    assert loaded.sample_ids == ["early", "late", "undated"]
    assert rows["collection_date"].tolist()[:2] == [date(2023, 12, 31), date(2024, 3, 5)]
    columns = [loaded.feature_ids.index(f) for f in ("x", "y")]
    np.testing.assert_array_equal(loaded.data.toarray()[:, columns], [[0.0, 5.0], [1.0, 2.0], [3.0, 0.0]])


def test_collection_date_keys() -> None:
    assert collection_date({"Collection_Date": "2020-01-02"}) == date(2020, 1, 2)
    assert collection_date({"date": "unknown"}) is None
    assert collection_date({}) is None


def test_mixed_counts_and_proportions_load_as_proportions(ws: Workspace) -> None:
    save(ws, FeatureTable(sp.csr_array(np.array([[3.0, 1.0]])), ["c"], ["x", "y"]), "e" * 64)
    save(ws, FeatureTable(sp.csr_array(np.array([[0.5, 0.5]])), ["p"], ["x", "z"], value_kind="proportions"),
         "f" * 64)
    _, loaded = load_samples(ws, workspace_athlete(ws))
    assert loaded.value_kind == "proportions"
    np.testing.assert_allclose(loaded.sample_depths(), 1.0)


def test_empty_workspace(ws: Workspace) -> None:
    rows, loaded = load_samples(ws, workspace_athlete(ws))
    assert len(rows) == 0 and loaded.shape == (0, 0)
