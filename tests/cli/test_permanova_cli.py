"""``gutstride permanova`` with R metadata, continuous exposures, formulas, PERMDISP and pairwise tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest
import skbio
from scipy.spatial.distance import pdist, squareform
from skbio.stats.distance import permanova as sk_permanova
from skbio.stats.distance import permdisp as sk_permdisp
from statsmodels.stats.multitest import multipletests

if TYPE_CHECKING:
    from conftest import CliRun  # the type of the ``cli`` fixture in tests/conftest.py



N = 24



@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, np.ndarray, pd.DataFrame]:
    """A distance matrix TSV and metadata as R's write.csv writes it (empty first header cell, quoted strings)."""
    rng = np.random.default_rng(12)
    ids = [f"S{k:02d}" for k in range(N)]
    frame = pd.DataFrame(
        {
            "VO2_max": np.round(rng.normal(45, 8, N), 1),
            "Groupe": ["athlete", "sedentary", "mixed"] * (N // 3),
            "subject": [f"P{k // 2}" for k in range(N)],
        },
        index=ids,
    )
    points = np.column_stack([frame["VO2_max"] / 10, rng.normal(size=(N, 2))])
    dm = squareform(pdist(points))
    folder = tmp_path_factory.mktemp("permanova")
    dm_path = folder / "dm.tsv"
    skbio.DistanceMatrix(dm, ids).write(str(dm_path))
    meta_path = folder / "metadata.csv"
    frame.to_csv(meta_path, quoting=1)  # csv.QUOTE_ALL, as write.csv quotes strings; header cell 1 is ""
    return dm_path, meta_path, dm, frame


def hat_trace(x: np.ndarray, g: np.ndarray) -> float:
    return float(np.trace(x @ np.linalg.pinv(x.T @ x) @ x.T @ g))


def test_numeric_column_is_a_continuous_term(
    cli: CliRun, study: tuple[Path, Path, np.ndarray, pd.DataFrame]
) -> None:
    dm_path, meta_path, dm, frame = study
    code, out, err = cli("permanova", str(dm_path), str(meta_path), "--column", "VO2_max", "--seed", "1",
                         "--permutations", "99", "--json")
    assert code == 0, err
    result = json.loads(out)
    centre = np.eye(N) - 1.0 / N
    g = centre @ (-0.5 * dm**2) @ centre
    ss = hat_trace(np.column_stack([np.ones(N), frame["VO2_max"]]), g)
    ss_res = float(np.trace(g)) - ss
    assert result["terms"][0]["term"] == "VO2_max" and result["terms"][0]["df"] == 1
    assert result["test_statistic"] == pytest.approx(ss / (ss_res / (N - 2)), rel=1e-10)
    assert result["p_value"] == pytest.approx(0.01) and result["number_of_groups"] is None
    assert result["sample_size"] == N and result["excluded"] == []


def test_formula_by_margin_json_shape(
    cli: CliRun, study: tuple[Path, Path, np.ndarray, pd.DataFrame]
) -> None:
    dm_path, meta_path, dm, frame = study
    code, out, err = cli("permanova", str(dm_path), str(meta_path), "--formula", "VO2_max + Groupe",
                         "--by", "margin", "--permutations", "49", "--seed", "3", "--strata", "subject", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert set(result) >= {"terms", "residual", "total", "sample_size", "permutations", "method"}
    assert [t["term"] for t in result["terms"]] == ["VO2_max", "Groupe"]
    assert set(result["terms"][0]) == {"term", "df", "sum_of_squares", "r2", "f", "p_value"}
    assert set(result["residual"]) == {"df", "sum_of_squares", "r2"} and result["residual"]["df"] == N - 4
    centre = np.eye(N) - 1.0 / N
    g = centre @ (-0.5 * dm**2) @ centre
    one = np.ones(N)
    dummies = pd.get_dummies(frame["Groupe"], drop_first=True).to_numpy(float)
    full = hat_trace(np.column_stack([one, frame["VO2_max"], dummies]), g)
    groupe_margin = full - hat_trace(np.column_stack([one, frame["VO2_max"]]), g)
    assert result["terms"][1]["sum_of_squares"] == pytest.approx(groupe_margin, rel=1e-10)
    code, out, _ = cli("permanova", str(dm_path), str(meta_path), "--formula", "VO2_max + Groupe")
    assert code == 0 and "Groupe" in out and "residual" in out


def test_permdisp_and_pairwise_match_skbio_and_statsmodels(
    cli: CliRun, study: tuple[Path, Path, np.ndarray, pd.DataFrame]
) -> None:
    dm_path, meta_path, dm, frame = study
    code, out, err = cli("permanova", str(dm_path), str(meta_path), "--column", "Groupe", "--permdisp",
                         "--pairwise", "--permutations", "99", "--seed", "5", "--json")
    assert code == 0, err
    result = json.loads(out)
    ids = list(frame.index)
    groups = list(frame["Groupe"])
    theirs = sk_permanova(skbio.DistanceMatrix(dm, ids), groups, permutations=99, seed=5)
    assert result["test_statistic"] == pytest.approx(theirs["test statistic"]) and result["number_of_groups"] == 3
    assert result["p_value"] == theirs["p-value"]
    disp = sk_permdisp(skbio.DistanceMatrix(dm, ids), groups, permutations=99, seed=5)
    assert result["permdisp"]["f"] == pytest.approx(disp["test statistic"], rel=1e-6)
    assert result["permdisp"]["p_value"] == disp["p-value"]
    pairs = result["pairwise"]
    assert len(pairs) == 3
    q = multipletests([p["p_value"] for p in pairs], method="fdr_bh")[1]
    assert [p["q_value"] for p in pairs] == pytest.approx(list(q))


def test_samples_without_metadata_are_left_out_of_the_matrix(
    cli: CliRun, tmp_path: Path, study: tuple[Path, Path, np.ndarray, pd.DataFrame]
) -> None:
    dm_path, _, dm, frame = study
    meta_path = tmp_path / "partial.csv"
    frame.iloc[3:].to_csv(meta_path, quoting=1)
    code, out, err = cli("permanova", str(dm_path), str(meta_path), "--column", "Groupe", "--permutations", "99",
                         "--seed", "2", "--json")
    assert code == 0, err
    result = json.loads(out)
    kept = list(frame.index[3:])
    theirs = sk_permanova(skbio.DistanceMatrix(dm[3:, 3:], kept), list(frame["Groupe"][3:]), permutations=99, seed=2)
    assert result["test_statistic"] == pytest.approx(theirs["test statistic"], rel=1e-10)
    assert result["p_value"] == theirs["p-value"] and result["sample_size"] == N - 3
    assert [e["id"] for e in result["excluded"]] == list(frame.index[:3])


def test_user_errors_exit_2(
    cli: CliRun, study: tuple[Path, Path, np.ndarray, pd.DataFrame]
) -> None:
    dm_path, meta_path, _, _ = study
    code, _, err = cli("permanova", str(dm_path), str(meta_path), "--formula", "VO2_max", "--permdisp")
    assert code == 2 and "categorical" in err
    code, _, err = cli("permanova", str(dm_path), str(meta_path))
    assert code == 2 and "exactly one of --column and --formula" in err
    code, _, err = cli("permanova", str(dm_path), str(meta_path), "--column", "Groupe", "--by", "sideways")
    assert code == 2


def test_pcoa_command_writes_skbio_ordination(
    cli: CliRun, tmp_path: Path, study: tuple[Path, Path, np.ndarray, pd.DataFrame]
) -> None:
    from skbio.stats.ordination import pcoa as sk_pcoa

    dm_path, _, dm, frame = study
    out = tmp_path / "pcoa.txt"
    code, _, err = cli("pcoa", str(dm_path), "-o", str(out), "--dimensions", "3")
    assert code == 0, err
    back = skbio.OrdinationResults.read(str(out))
    theirs = sk_pcoa(skbio.DistanceMatrix(dm, list(frame.index)), dimensions=3)
    np.testing.assert_allclose(back.eigvals.to_numpy(), theirs.eigvals.to_numpy(), rtol=1e-10)
    assert list(back.samples.index) == list(frame.index)


def test_margin_with_an_interaction_tests_only_the_interaction(
    cli: CliRun, study: tuple[Path, Path, np.ndarray, pd.DataFrame]
) -> None:
    dm_path, meta_path, _, _ = study
    code, out, err = cli("permanova", str(dm_path), str(meta_path), "--formula", "VO2_max * Groupe", "--by",
                         "margin", "--permutations", "19", "--seed", "1", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert [t["term"] for t in result["terms"]] == ["VO2_max:Groupe"]
    assert [t["term"] for t in result["not_tested"]] == ["VO2_max", "Groupe"]
    code, out, err = cli("permanova", str(dm_path), str(meta_path), "--formula", "VO2_max * Groupe", "--by",
                         "margin", "--permutations", "19", "--seed", "1")
    assert code == 0, err
    assert "Groupe: not tested (contained in an interaction" in out
