"""Issue 12, defect 4: a cohort table (American Gut: 202 undated samples of different people) was reported as one
person's change over time. Undated or multi-host samples are never a time series; importing a cohort table into an
athlete's workspace needs ``--sample ID`` or is refused, pointing to research mode."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import biom
import numpy as np
import pytest

from gutstride.analysis.microbiome.change import microbiome_findings, sample_changes
from gutstride.errors import BadInputError
from gutstride.ingest.microbiome.layout import build_table
from gutstride.model.feature_table import FeatureTable
from gutstride.services.athletes import workspace_athlete
from gutstride.services.importing import import_files
from gutstride.services.report import build_report
from gutstride.store.microbiome import load_samples, personal_samples
from gutstride.store.workspace import Workspace

AG = Path(__file__).parents[1] / "data" / "microbiome" / "american-gut" / "AG_debug" / "AG_100nt.biom.gz"


def small(meta: dict[str, dict[str, str]]) -> FeatureTable:
    rng = np.random.default_rng(0)
    ids = list(meta)
    return build_table(rng.integers(0, 50, (len(ids), 6)).astype(float), ids, [f"f{i}" for i in range(6)], "t",
                       sample_metadata=meta)


def test_the_ag_cohort_is_refused_then_one_sample_imported(tmp_path: Path) -> None:
    n = len(biom.load_table(str(AG)).ids())
    ws = Workspace(tmp_path / "ws", create=True)
    (record,) = import_files(ws, workspace_athlete(ws), [AG], workers=1)
    assert record.status == "error" and f"holds {n} samples" in record.message
    assert "--sample" in record.message and "research mode" in record.message
    first = biom.load_table(str(AG)).ids()[0]
    out = subprocess.run([sys.executable, "-m", "gutstride", "import", str(AG), "--sample", first, "--workspace",
                          str(ws.path), "--json"], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[0]["n_items"] == 1
    samples, _ = load_samples(ws, workspace_athlete(ws))
    assert list(samples["sample_id"]) == [first]
    content = build_report(ws, workspace_athlete(ws), date(2024, 1, 1))
    assert content["microbiome"]["changes"] == []
    assert "None" not in json.dumps(content["headline"])


def test_personal_samples_rules() -> None:
    dated = {"a": {"collection_date": "2024-01-02"}, "b": {"collection_date": "2024-03-02"}}
    assert personal_samples(small(dated), "t").sample_ids == ["a", "b"]
    with pytest.raises(BadInputError, match="2 different people"):
        personal_samples(small({k: {**v, "host_subject_id": k} for k, v in dated.items()}), "t")
    with pytest.raises(BadInputError, match="1 have no collection date"):
        personal_samples(small({"a": dated["a"], "b": {}}), "t")
    assert personal_samples(small({"a": {}, "b": {}}), "t", sample="b").sample_ids == ["b"]
    assert personal_samples(small({"a": {}}), "t").sample_ids == ["a"]


def test_undated_samples_are_never_a_time_series() -> None:
    table = small({"a": {}, "b": {}, "c": {}})
    assert sample_changes(table, [None, None, None]) == []
    assert sample_changes(table, [None, date(2024, 1, 1), None]) == []
    pairs = sample_changes(table, [date(2024, 5, 1), None, date(2024, 1, 1)])
    assert [(p["from"], p["to"]) for p in pairs] == [("c", "a")]
    change = [f for f in microbiome_findings(table, [None, None, None], None)
              if f.id == "microbiome.change_between_samples"]
    assert change[0].direction == "not_enough_data"
