"""Fuzzing the consumer gut-test reader (uBiome JSON/CSV, abundance profiles) and the QIIME 2 level-N path:
mutated real files and random rows give a FeatureTable or our own one-line error."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gutstride.errors import GutstrideError
from gutstride.ingest.microbiome.read import read_table
from gutstride.model.feature_table import FeatureTable

from .test_consumer import PROFILE, UBIOME

FUZZ = settings(max_examples=80, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
SEEDS = [
    (UBIOME / "sprague-uBiomeJun2014.json").read_bytes()[:6000],
    (UBIOME / "sprague-ubiome-150815.csv").read_bytes()[:5000],
    PROFILE.encode(),
    b"index,k__Bacteria;p__Firmicutes,k__Bacteria;p__Bacteroidetes,AGE,sex\nS1,10,5,65,female\nS2,0,7,41,male\n",
]


def _check(data: bytes, name: str, rank: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            table = read_table(path, rank)
        except GutstrideError as exc:
            assert str(exc) and "\n" not in str(exc)
            return
    assert isinstance(table, FeatureTable)


@FUZZ
@given(st.sampled_from(range(len(SEEDS))), st.integers(0, 6000), st.integers(1, 40), st.binary(max_size=10),
       st.sampled_from(["genus", "phylum", "species", "family"]))
def test_mutated_seeds(seed: int, position: int, length: int, patch: bytes, rank: str) -> None:
    data = SEEDS[seed]
    position %= max(1, len(data))
    _check(data[:position] + patch + data[position + length:], ["u.json", "u.csv", "p.csv", "level-2.csv"][seed],
           rank)


_CELLS = st.sampled_from(["", "1", "-3", "NA", "nan", "inf", "1e400", "genus", "phylum", "no_rank", "x", "0", '"'])


@FUZZ
@given(st.lists(st.lists(_CELLS, min_size=5, max_size=6), max_size=12),
       st.sampled_from(["taxon_id,rank,name,parent,count", "tax_name,tax_rank,count,taxon,parent"]))
def test_random_rows(rows: list[list[str]], header: str) -> None:
    text = header + "\n" + "\n".join(",".join(r) for r in rows)
    _check(text.encode(), "t.csv", "genus")
