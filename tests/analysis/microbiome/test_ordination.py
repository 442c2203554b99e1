"""PCoA against scikit-bio: eigenvalues, proportions and coordinates (up to each axis's sign); the file format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import skbio
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import pdist, squareform
from skbio.stats.ordination import pcoa as sk_pcoa

from gutstride.analysis.microbiome.ordination import pcoa
from gutstride.report.ordination_export import write_ordination


def same_axes(ours: np.ndarray, theirs: np.ndarray, atol: float) -> None:
    for k in range(ours.shape[1]):
        sign = 1.0 if np.dot(ours[:, k], theirs[:, k]) >= 0 else -1.0
        np.testing.assert_allclose(sign * ours[:, k], theirs[:, k], atol=atol)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(5, 40), metric=st.sampled_from(["euclidean", "braycurtis"]))
def test_eigh_equals_skbio(seed: int, n: int, metric: str) -> None:
    rng = np.random.default_rng(seed)
    dm = squareform(pdist(rng.gamma(1.0, 1.0, size=(n, 6)), metric))
    ids = [f"s{k}" for k in range(n)]
    theirs = sk_pcoa(skbio.DistanceMatrix(dm, ids), warn_neg_eigval=False)
    ours = pcoa(dm, ids)
    np.testing.assert_allclose(ours.eigenvalues, theirs.eigvals.to_numpy(), atol=1e-10)
    np.testing.assert_allclose(ours.proportion_explained, theirs.proportion_explained.to_numpy(), atol=1e-10)
    distinct = np.flatnonzero(np.abs(np.diff(ours.eigenvalues[:4])) > 1e-6 * ours.eigenvalues[0])
    axes = int(distinct[0]) + 1 if distinct.size else 1  # axes with well-separated eigenvalues are unique
    same_axes(ours.coordinates[:, :axes], theirs.samples.to_numpy()[:, :axes], atol=1e-8)
    three = pcoa(dm, ids, dimensions=3)
    sk_three = sk_pcoa(skbio.DistanceMatrix(dm, ids), dimensions=3, warn_neg_eigval=False)
    np.testing.assert_allclose(three.proportion_explained, sk_three.proportion_explained.to_numpy(), atol=1e-10)


def test_randomised_pcoa_matches_exact_on_structured_data() -> None:
    rng = np.random.default_rng(1)
    latent = rng.normal(size=(300, 3)) * np.array([5.0, 3.0, 2.0])
    points = np.hstack([latent, 0.05 * rng.normal(size=(300, 20))])
    dm = squareform(pdist(points))
    ids = [f"s{k}" for k in range(300)]
    exact = pcoa(dm, ids, dimensions=3)
    fast = pcoa(dm, ids, dimensions=3, method="fsvd", seed=2)
    np.testing.assert_allclose(fast.eigenvalues, exact.eigenvalues, rtol=1e-8)
    np.testing.assert_allclose(fast.proportion_explained, exact.proportion_explained, rtol=1e-8)
    same_axes(fast.coordinates, exact.coordinates, atol=1e-6)


def test_written_file_reads_back_in_skbio(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    dm = squareform(pdist(rng.normal(size=(12, 4))))
    ids = [f"sample.{k}" for k in range(12)]
    result = pcoa(dm, ids, dimensions=4)
    path = tmp_path / "pcoa.txt"
    write_ordination(path, result)
    back = skbio.OrdinationResults.read(str(path))
    assert list(back.samples.index) == ids
    np.testing.assert_array_equal(back.samples.to_numpy(), result.coordinates)
    np.testing.assert_array_equal(back.eigvals.to_numpy(), result.eigenvalues)
    np.testing.assert_array_equal(back.proportion_explained.to_numpy(), result.proportion_explained)


def test_fsvd_needs_dimensions() -> None:
    from gutstride.errors import BadInputError

    with pytest.raises(BadInputError, match="dimensions"):
        pcoa(np.zeros((3, 3)), ["a", "b", "c"], method="fsvd")
