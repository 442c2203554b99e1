"""``gutstride beta --from-zarr``: a cohort's Zarr distance store exported as a scikit-bio / QIIME 2 TSV, streamed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
import scipy.sparse as sp
import skbio
import zarr
from skbio.diversity import beta_diversity as sk_beta_diversity

from gutstride.ingest.microbiome.metadata import parse_metadata
from gutstride.model.feature_table import FeatureTable
from gutstride.report.cohort import COHORT_WRITERS
from gutstride.services.cohort import CohortOptions, run_cohort

if TYPE_CHECKING:
    from conftest import CliRun  # the type of the ``cli`` fixture in tests/conftest.py

N = 31


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray, list[str]]:
    """Two cohort runs of one table (float32 and float64 stores, tiles of 7), their folder, counts and ids."""
    rng = np.random.default_rng(3)
    counts = rng.poisson(rng.gamma(0.6, 20, size=(N, 25))).astype(float)
    counts[:, 0] += 1  # no empty sample
    ids = [f"S{k}" for k in range(N)]
    table = FeatureTable(sp.csr_matrix(counts), ids, [f"f{k}" for k in range(25)])
    meta = parse_metadata("id\tgroup\n" + "".join(f"S{k}\t{'ab'[k % 2]}\n" for k in range(N)), "meta.tsv")
    folder = tmp_path_factory.mktemp("cohort")
    for name, float64 in (("f32", False), ("f64", True)):
        run_cohort(table, meta, folder / name, CohortOptions(metric="braycurtis", column="group", permutations=0,
                                                             tile=7, workers=0, float64=float64), COHORT_WRITERS)
    return folder, counts, ids


@pytest.mark.parametrize(("name", "tolerance"), [("f32", 1e-6), ("f64", 1e-12)])
def test_export_equals_skbio_beta_diversity(
    cli: CliRun, tmp_path: Path, runs: tuple[Path, np.ndarray, list[str]], name: str, tolerance: float,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gutstride.services.diversity

    monkeypatch.setattr(gutstride.services.diversity, "_EXPORT_VALUES", 100)  # several blocks per chunk row
    folder, counts, ids = runs
    out = tmp_path / "dm.tsv"
    code, _, err = cli("beta", "--from-zarr", folder / name / "distance" / "braycurtis.zarr", "-o", out)
    assert code == 0, err
    ours = skbio.DistanceMatrix.read(str(out))
    theirs = sk_beta_diversity("braycurtis", counts, ids)
    assert list(ours.ids) == ids
    np.testing.assert_allclose(ours.data, theirs.data, rtol=tolerance, atol=tolerance)


def test_rows_are_read_a_block_at_a_time(runs: tuple[Path, np.ndarray, list[str]],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import gutstride.services.diversity
    from gutstride.services.diversity import distance_store_rows

    monkeypatch.setattr(gutstride.services.diversity, "_EXPORT_VALUES", 100)
    folder, _, _ = runs
    store = folder / "f32" / "distance" / "braycurtis.zarr"
    ids, metric, blocks = distance_store_rows(store)
    parts = list(blocks)
    assert metric == "braycurtis" and len(ids) == N
    assert all(part.shape[0] * N <= 2 * 100 and part.dtype == np.float32 for part in parts)
    np.testing.assert_array_equal(np.vstack(parts), zarr.open_array(str(store), mode="r")[:])


def test_refusals_are_one_line(cli: CliRun, tmp_path: Path, runs: tuple[Path, np.ndarray, list[str]],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    import gutstride.services.diversity

    folder, _, _ = runs
    store = folder / "f32" / "distance" / "braycurtis.zarr"
    out = tmp_path / "dm.tsv"
    (tmp_path / "plain").mkdir()
    (tmp_path / "dm.txt").write_text("\ta\tb\na\t0\t1\nb\t1\t0\n")
    other = tmp_path / "other.zarr"
    zarr.create_array(store=str(other), shape=(2, 2), dtype="float32")
    for path in (tmp_path / "plain", tmp_path / "dm.txt", other):
        code, _, err = cli("beta", "--from-zarr", path, "-o", out)
        assert code == 2 and "not a gutstride distance store" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli("beta", "--from-zarr", tmp_path / "absent.zarr", "-o", out)
    assert code == 2 and "no such distance store" in err
    code, _, err = cli("beta", "table.biom", "--from-zarr", store, "-o", out)
    assert code == 2 and "give no TABLE" in err
    code, _, err = cli("beta", "-o", out)
    assert code == 2 and "give a TABLE and --metric" in err
    monkeypatch.setattr(gutstride.services.diversity, "MAX_TSV_SAMPLES", N - 1)
    code, _, err = cli("beta", "--from-zarr", store, "-o", out)
    assert code == 2 and f"{N} samples, above the {N - 1}" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_an_unfinished_run_is_refused(cli: CliRun, tmp_path: Path, runs: tuple[Path, np.ndarray, list[str]]) -> None:
    import shutil

    folder, _, _ = runs
    store = tmp_path / "braycurtis.zarr"
    shutil.copytree(folder / "f32" / "distance" / "braycurtis.zarr", store)
    zarr.open_array(str(store), mode="r+").attrs["complete"] = False
    code, _, err = cli("beta", "--from-zarr", store, "-o", tmp_path / "dm.tsv")
    assert code == 2 and "incomplete" in err
