"""Bray-Curtis, Jaccard and Aitchison against scikit-bio / a direct computation; distance-matrix TSV round trips."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import biom
import numpy as np
import pytest
import scipy.sparse as sp
import skbio
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import pdist, squareform
from skbio.diversity import beta_diversity as sk_beta

from gutstride.analysis.microbiome.beta import beta_diversity
from gutstride.errors import BadInputError, MissingDataError
from gutstride.ingest.microbiome.distance_matrix import read_distance_matrix
from gutstride.model.feature_table import FeatureTable
from gutstride.report.research_export import write_distance_matrix

AG = Path(__file__).resolve().parents[2] / "data" / "microbiome" / "american-gut" / "AG_debug"


@pytest.fixture(scope="module")
def ag_table() -> FeatureTable:
    with gzip.open(AG / "AG_100nt.biom.gz", "rb") as handle:
        loaded = biom.Table.from_json(json.loads(handle.read()))
    return FeatureTable(
        sp.csr_matrix(loaded.matrix_data.T),
        [str(s) for s in loaded.ids()],
        [str(f) for f in loaded.ids("observation")],
    )


@pytest.mark.parametrize("metric", ["braycurtis", "jaccard"])
def test_matches_skbio_on_american_gut(ag_table: FeatureTable, metric: str) -> None:
    before = ag_table.data.copy()
    ours, ids, warns = beta_diversity(ag_table, metric)
    ref = sk_beta(metric, ag_table.data.toarray(), ids=ag_table.sample_ids)
    assert ids == list(ref.ids) and warns == []
    np.testing.assert_allclose(ours, ref.data, rtol=0, atol=1e-6)
    assert (ag_table.data != before).nnz == 0  # the caller's table is untouched


def robust_clr_reference(counts: np.ndarray) -> np.ndarray:
    """rCLR straight from its definition, one sample at a time."""
    out = np.zeros_like(counts, dtype=float)
    for i, row in enumerate(counts):
        nonzero = row > 0
        if nonzero.any():
            logs = np.log(row[nonzero])
            out[i, nonzero] = logs - logs.mean()
    return out


def test_aitchison_matches_direct_computation_on_american_gut(ag_table: FeatureTable) -> None:
    counts = ag_table.data[:60].toarray()
    table = FeatureTable(sp.csr_matrix(counts), ag_table.sample_ids[:60], ag_table.feature_ids)
    ours, _, _ = beta_diversity(table, "aitchison")
    np.testing.assert_allclose(ours, squareform(pdist(robust_clr_reference(counts))), rtol=0, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_samples=st.integers(2, 15),
    n_features=st.integers(1, 30),
    density=st.floats(0.0, 1.0),
    proportions=st.booleans(),
)
def test_random_tables_match_references(
    seed: int, n_samples: int, n_features: int, density: float, proportions: bool
) -> None:
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 1000, size=(n_samples, n_features)).astype(float)
    counts[rng.random(counts.shape) > density] = 0
    counts[:, 0] += 1  # skbio's Bray-Curtis is undefined (0/0) for two empty samples; ours says 0
    if proportions:
        counts = counts / counts.sum(axis=1, keepdims=True)
    ids = [f"s{k}" for k in range(n_samples)]
    table = FeatureTable(sp.csr_matrix(counts), ids, [f"f{k}" for k in range(n_features)])
    chunk = int(rng.integers(1, n_samples + 1))
    references = {metric: sk_beta(metric, counts, ids=ids).data for metric in ("braycurtis", "jaccard")}
    references["aitchison"] = squareform(pdist(robust_clr_reference(counts)))
    for metric, reference in references.items():
        if not reference.any():  # identical samples: an error, never a silent matrix of zeros
            with pytest.raises(BadInputError, match="is 0"):
                beta_diversity(table, metric, chunk_size=chunk)
            continue
        ours, _, _ = beta_diversity(table, metric, chunk_size=chunk)
        np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-6)


def test_aitchison_is_zero_for_proportional_samples_and_symmetric() -> None:
    counts = np.array([[1.0, 2.0, 0.0, 4.0], [10.0, 20.0, 0.0, 40.0], [3.0, 0.0, 1.0, 1.0]])
    table = FeatureTable(sp.csr_matrix(counts), ["a", "b", "c"], ["w", "x", "y", "z"])
    dm, _, _ = beta_diversity(table, "aitchison")
    assert dm[0, 1] < 1e-12 and dm[1, 0] < 1e-12
    np.testing.assert_array_equal(dm, dm.T)
    assert np.all(np.diag(dm) == 0)


def test_float32_and_chunks_agree_with_float64(ag_table: FeatureTable) -> None:
    full, _, _ = beta_diversity(ag_table, "braycurtis")
    small, _, _ = beta_diversity(ag_table, "braycurtis", dtype=np.float32, chunk_size=13)
    assert small.dtype == np.float32
    np.testing.assert_allclose(small, full, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(small, small.T)


def test_bad_requests_are_user_errors(ag_table: FeatureTable) -> None:
    with pytest.raises(BadInputError, match="unknown beta diversity metric"):
        beta_diversity(ag_table, "euclid")
    with pytest.raises(MissingDataError, match="needs a phylogenetic tree"):
        beta_diversity(ag_table, "weighted_unifrac")
    negative = FeatureTable(sp.csr_matrix(np.array([[1.0, -1.0], [1.0, 1.0]])), ["a", "b"], ["x", "y"])
    with pytest.raises(BadInputError, match="non-negative"):
        beta_diversity(negative, "braycurtis")
    with pytest.raises(BadInputError, match="dtype"):
        beta_diversity(ag_table, "braycurtis", dtype=np.int32)


def test_distance_matrix_tsv_round_trip(tmp_path: Path, ag_table: FeatureTable) -> None:
    dm, ids, _ = beta_diversity(ag_table, "braycurtis")
    path = tmp_path / "dm.tsv"
    write_distance_matrix(path, dm, ids)
    assert path.read_text().split("\n", 1)[0] == "\t" + "\t".join(ids)
    back, back_ids = read_distance_matrix(path)
    assert back_ids == ids
    np.testing.assert_array_equal(back, dm)
    theirs = skbio.DistanceMatrix.read(str(path))
    assert list(theirs.ids) == ids
    np.testing.assert_array_equal(theirs.data, dm)
    # skbio's own file reads back the same
    theirs.write(str(tmp_path / "skbio.tsv"))
    again, again_ids = read_distance_matrix(tmp_path / "skbio.tsv")
    assert again_ids == ids
    np.testing.assert_array_equal(again, dm)


def test_distance_matrix_tsv_is_byte_for_byte_scikit_bio(tmp_path: Path, ag_table: FeatureTable) -> None:
    dm, ids, _ = beta_diversity(ag_table, "braycurtis")
    write_distance_matrix(tmp_path / "ours.tsv", dm, ids)
    skbio.DistanceMatrix(dm, ids).write(str(tmp_path / "skbio.tsv"))
    assert (tmp_path / "ours.tsv").read_bytes() == (tmp_path / "skbio.tsv").read_bytes()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=1, max_size=40))
def test_values_are_written_as_python_repr(tmp_path_factory: pytest.TempPathFactory, values: list[float]) -> None:
    """Every float64, whatever its size or sign, is written as Python's repr (scikit-bio's text)."""
    n = len(values)
    matrix = np.tile(np.asarray(values), (n, 1))
    path = tmp_path_factory.mktemp("dm") / "dm.tsv"
    write_distance_matrix(path, matrix, [f"s{k}" for k in range(n)])
    rows = path.read_text().splitlines()[1:]
    assert rows[0].split("\t")[1:] == [repr(v) for v in values]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), min_size=1, max_size=40))
def test_float32_values_are_shortest_and_read_back(
    tmp_path_factory: pytest.TempPathFactory, values: list[float]
) -> None:
    """float32 values: as few significant digits as numpy's shortest unique form, and read back exactly."""
    n = len(values)
    matrix = np.tile(np.asarray(values, dtype=np.float32), (n, 1))
    path = tmp_path_factory.mktemp("dm") / "dm.tsv"
    write_distance_matrix(path, matrix, [f"s{k}" for k in range(n)])
    texts = path.read_text().splitlines()[1].split("\t")[1:]

    def digits(text: str) -> int:
        return len(text.lstrip("-").split("e")[0].replace(".", "").strip("0")) or 1

    for text, value in zip(texts, matrix[0], strict=True):
        assert np.float32(float(text)) == value
        assert digits(text) <= digits(np.format_float_scientific(value, unique=True))


def _near_power_of_ten(k: int, steps: int) -> float:
    """10^k moved ``steps`` representable doubles up or down."""
    value = 10.0**k
    for _ in range(abs(steps)):
        value = float(np.nextafter(value, np.inf if steps > 0 else 0.0))
    return value


#: Values at the edges of the compiled writer's fast path: powers of ten and their neighbours, decimals of 15, 16
#: and 17 significant digits, values next to the 1e-4 and 1e15 (float32: 1e6) bounds, and any float.
EDGE_VALUES = st.one_of(
    st.builds(_near_power_of_ten, st.integers(-6, 17), st.integers(-3, 3)),
    st.integers(15, 17).flatmap(
        lambda p: st.builds(lambda digits, k: float(f"{digits}e{k - p + 1}"), st.integers(10 ** (p - 1), 10**p - 1),
                            st.integers(-6, 16))
    ),
    st.builds(lambda bound, k: float(np.nextafter(bound, np.inf if k > 0 else 0.0)) if k else bound,
              st.sampled_from([1e-4, 1e15, 1e6]), st.integers(-1, 1)),
    st.floats(min_value=1e-5, max_value=1e16),
    st.floats(allow_nan=False, allow_infinity=False),
).map(lambda v: v if v else 0.0)


@pytest.mark.parametrize("width", [64, 32])
@settings(max_examples=150, deadline=None)
@given(values=st.lists(st.tuples(EDGE_VALUES, st.booleans()).map(lambda vs: -vs[0] if vs[1] else vs[0]),
                       min_size=1, max_size=30))
def test_written_values_at_the_edges_of_the_fast_path(
    tmp_path_factory: pytest.TempPathFactory, width: int, values: list[float]
) -> None:
    """float64: Python's repr; float32: the decimal of numpy's shortest float32 form (same digits, same value)."""
    from decimal import Decimal

    dtype = np.float64 if width == 64 else np.float32
    with np.errstate(over="ignore"):
        row = np.asarray(values, dtype=dtype)
    row = row[np.isfinite(row)]
    if not row.size:
        row = np.zeros(1, dtype=dtype)
    n = row.size
    path = tmp_path_factory.mktemp("dm") / "dm.tsv"
    write_distance_matrix(path, np.tile(row, (n, 1)), [f"s{k}" for k in range(n)])
    texts = path.read_text().splitlines()[1].split("\t")[1:]
    if width == 64:
        assert texts == [repr(float(v)) for v in row]
    else:
        assert [Decimal(t) for t in texts] == [Decimal(np.format_float_positional(v, unique=True)) for v in row]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 30), seed=st.integers(0, 2**32 - 1), crlf=st.booleans())
def test_reader_equals_scikit_bio(tmp_path_factory: pytest.TempPathFactory, n: int, seed: int, crlf: bool) -> None:
    """A matrix written by scikit-bio (optionally with CR LF line ends and blank lines) reads back to exactly the
    values scikit-bio reads."""
    rng = np.random.default_rng(seed)
    values = rng.random((n, n)) * 10 ** rng.uniform(-8, 8)
    values = np.triu(values, 1) + np.triu(values, 1).T
    ids = [f"sample {k}" for k in range(n)]
    folder = tmp_path_factory.mktemp("dm")
    skbio.DistanceMatrix(values, ids).write(str(folder / "sk.tsv"))
    text = (folder / "sk.tsv").read_bytes()
    if crlf:
        text = text.replace(b"\n", b"\r\n") + b"\r\n\n"
    (folder / "dm.tsv").write_bytes(text)
    ours, our_ids = read_distance_matrix(folder / "dm.tsv")
    reference = skbio.DistanceMatrix.read(str(folder / "sk.tsv"))
    assert our_ids == list(reference.ids)
    np.testing.assert_array_equal(ours, reference.data)


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 24])
def test_reader_in_small_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    """The file is parsed block by block: any block size gives the same matrix, and errors name the file's line."""
    from gutstride.ingest.microbiome import distance_matrix

    monkeypatch.setattr(distance_matrix, "_BLOCK", block)
    rng = np.random.default_rng(block)
    values = rng.random((9, 9))
    values = np.triu(values, 1) + np.triu(values, 1).T
    ids = [f"s{k}" for k in range(9)]
    skbio.DistanceMatrix(values, ids).write(str(tmp_path / "dm.tsv"))
    ours, our_ids = read_distance_matrix(tmp_path / "dm.tsv")
    assert our_ids == ids
    np.testing.assert_array_equal(ours, values)
    lines = (tmp_path / "dm.tsv").read_text().splitlines()
    lines[7] = lines[7].rsplit("\t", 1)[0] + "\tx"
    (tmp_path / "bad.tsv").write_text("\n".join(lines) + "\n")
    with pytest.raises(BadInputError, match="line 8 has a missing or non-numeric value"):
        read_distance_matrix(tmp_path / "bad.tsv")
    lines[7] = lines[7].rsplit("\t", 1)[0]
    (tmp_path / "short.tsv").write_text("\n".join(lines) + "\n")
    with pytest.raises(BadInputError, match="line 8 has 8 values, expected 9"):
        read_distance_matrix(tmp_path / "short.tsv")


def test_float32_matrix_round_trips_in_float32(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    values = rng.random((5, 5)).astype(np.float32)
    values = (values + values.T) / 2
    np.fill_diagonal(values, 0)
    write_distance_matrix(tmp_path / "dm.tsv", values, list("abcde"))
    back, _ = read_distance_matrix(tmp_path / "dm.tsv")
    np.testing.assert_array_equal(back.astype(np.float32), values)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("\ta\tb\na\t0\t1\nb\t2\t0\n", "not symmetric"),
        ("\ta\tb\na\t0.5\t1\nb\t1\t0\n", "to itself"),
        ("\ta\tb\na\t0\t1\n", "must be square"),
        ("a\tb\na\t0\t1\nb\t1\t0\n", "line 1 must be a tab"),
        ("\ta\tb\na\t0\t1\t3\nb\t1\t0\n", "line 2 has 3 values"),
        ("\ta\tb\na\t0\t1\nb\t1\n", "line 3 has 1 values"),
        ("\ta\tb\na\t0\tx\nb\t1\t0\n", "not a number|non-numeric"),
        ("\ta\tb\nb\t0\t1\na\t1\t0\n", "header says"),
        ("\ta\ta\na\t0\t1\na\t1\t0\n", "more than once"),
        ("\ta\tb\na\t0\t-1\nb\t-1\t0\n", "must be >= 0"),
        ("\ta\tb\na\t0\tnan\nb\tnan\t0\n", "non-numeric|must be >= 0"),
    ],
)
def test_malformed_distance_matrices_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "dm.tsv"
    path.write_text(text)
    with pytest.raises(BadInputError, match=message):
        read_distance_matrix(path)


def test_writer_refuses_mismatched_ids(tmp_path: Path) -> None:
    with pytest.raises(BadInputError):
        write_distance_matrix(tmp_path / "x.tsv", np.zeros((2, 2)), ["a"])
    with pytest.raises(BadInputError):
        write_distance_matrix(tmp_path / "x.tsv", np.zeros((2, 2)), ["a", "b\tc"])
