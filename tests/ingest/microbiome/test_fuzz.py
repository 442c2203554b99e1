"""Fuzzing the microbiome, tree, distance-matrix and log readers: any bytes give a result or our own error."""

from __future__ import annotations

import contextlib
import io
import tempfile
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gutstride.errors import GutstrideError
from gutstride.ingest.logs import read_log
from gutstride.ingest.microbiome.distance_matrix import read_distance_matrix
from gutstride.ingest.microbiome.newick import read_tree
from gutstride.ingest.microbiome.read import read_table
from gutstride.model.feature_table import FeatureTable

DATA = Path(__file__).parents[2] / "data" / "microbiome"
SEEDS = [
    (DATA / "biom-format-examples" / "rich_sparse_otu_table.biom").read_bytes(),
    (DATA / "american-gut" / "AG_debug" / "AG_100nt.txt").read_bytes()[:4000],
    b"#OTU ID\ts1\ts2\ttaxonomy\nf1\t10\t0\tk__Bacteria; p__Firmicutes\nf2\t3\t7\tk__Bacteria; g__Roseburia\n",
    b"clade_name\tNCBI_tax_id\trelative_abundance\nk__Bacteria\t2\t100.0\nk__Bacteria|s__Eubacterium_rectale\t2|1\t40\n",
    b" 12.50\t125\t125\tU\t0\tunclassified\n 87.50\t875\t5\tR\t1\troot\n"
    b" 80.00\t800\t800\tS\t39485\t  Eubacterium rectale\n",
    b"((a:1,b:2):0.5,c:3);",
    b"\ta\tb\na\t0\t0.5\nb\t0.5\t0\n",
    b"date,cramps,bristol\n2026-01-01,3,4\n",
]
NAMES = ["t.biom", "t.tsv", "t.csv", "t.txt", "t.qza", "t.nwk", "dm.tsv", "log.csv", "log.json"]


def mutate(seed: bytes, edits: list[tuple[int, int]], cut: int) -> bytes:
    data = bytearray(seed)
    for pos, value in edits:
        if data:
            data[pos % len(data)] = value
    return bytes(data[: max(cut, 0) or len(data)])


def qza(payload: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("0d2f/metadata.yaml", "uuid: 0d2f\ntype: FeatureTable[Frequency]\nformat: BIOMV210DirFmt\n")
        z.writestr("0d2f/data/feature-table.biom", payload)
    return buffer.getvalue()


def read_all(data: bytes, name: str) -> None:
    """Every reader on ``data``: only a result or a GutstrideError may come out."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(qza(data) if name.endswith(".qza") else data)
        for reader in (read_table, read_tree, read_distance_matrix):
            try:
                result = reader(path)
            except GutstrideError:
                continue
            if reader is read_table:
                assert isinstance(result, FeatureTable)
                assert result.data.shape == (len(result.sample_ids), len(result.feature_ids))
    with contextlib.suppress(GutstrideError):
        read_log(data, name)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=6),
       st.integers(-50, 5000), st.sampled_from(NAMES))
def test_mutated_inputs_only_raise_our_errors(seed: bytes, edits: list[tuple[int, int]], cut: int, name: str) -> None:
    read_all(mutate(seed, edits, cut), name)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000), st.sampled_from(NAMES))
def test_random_bytes_only_raise_our_errors(data: bytes, name: str) -> None:
    read_all(data, name)
