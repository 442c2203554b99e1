"""``gutstride first-differences``, ``first-distances`` and ``pairwise-differences``: q2-longitudinal's definitions,
checked by hand (subtraction, distances read with scikit-bio) and against ``scipy.stats.wilcoxon``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import biom
import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import pdist, squareform
from scipy.stats import wilcoxon
from skbio import DistanceMatrix
from skbio.diversity import alpha_diversity as sk_alpha

if TYPE_CHECKING:
    from conftest import CliRun  # the type of the ``cli`` fixture in tests/conftest.py

# Subjects A-F sampled at weeks 0 and 4, A-C also at week 8; F has no week-0 value of score; G only at week 8.
WEEKS = {"A": (0, 4, 8), "B": (0, 4, 8), "C": (0, 4, 8), "D": (0, 4), "E": (0, 4), "F": (0, 4), "G": (8,)}


def study(tmp_path: Path) -> tuple[pd.DataFrame, Path]:
    """The study metadata (score as numbers) and its file, in the QIIME 2 layout with ``#q2:types``."""
    rng = np.random.default_rng(4)
    rows = [{"id": f"{p}{w}", "person": p, "week": w, "score": round(float(rng.normal(5, 1)), 3)}
            for p, weeks in WEEKS.items() for w in weeks]
    frame = pd.DataFrame(rows).set_index("id")
    path = tmp_path / "meta.tsv"
    lines = ["sample-id\tperson\tweek\tscore", "#q2:types\tcategorical\tnumeric\tnumeric"]
    lines += [f"{s}\t{r.person}\t{r.week}\t{'' if s == 'F0' else r.score}" for s, r in frame.iterrows()]
    path.write_text("\n".join(lines) + "\n")
    return frame, path


def score(frame: pd.DataFrame, sample: str) -> float:
    return float(frame.loc[sample, "score"])


def test_first_differences_equal_subtraction(cli: CliRun, tmp_path: Path) -> None:
    frame, path = study(tmp_path)
    out = tmp_path / "diff.tsv"
    code, stdout, err = cli("first-differences", path, "--metric", "score", "--subject", "person", "--time", "week",
                            "-o", out, "--json")
    assert code == 0, err
    result = json.loads(stdout)
    expected = {}
    for p, weeks in WEEKS.items():
        for w0, w1 in zip(weeks[:-1], weeks[1:], strict=False):
            if f"{p}{w0}" != "F0":
                expected[f"{p}{w1}"] = (p, w1, score(frame, f"{p}{w1}") - score(frame, f"{p}{w0}"), f"{p}{w0}")
    got = {r["sample_id"]: (r["subject"], r["time"], r["difference"], r["reference"]) for r in result["rows"]}
    assert got.keys() == expected.keys()
    for sample, row in expected.items():
        assert got[sample][:2] == row[:2] and got[sample][3] == row[3]
        assert got[sample][2] == pytest.approx(row[2], abs=1e-12)
    assert result["excluded"] == [{"id": "F0", "reason": "no value in column score"}]
    tsv = pd.read_csv(out, sep="\t", dtype={"#SampleID": str})
    assert list(tsv.columns) == ["#SampleID", "person", "week", "Difference", "Reference"]
    assert {s: d for s, d in zip(tsv["#SampleID"], tsv["Difference"], strict=True)} == pytest.approx(
        {s: row[2] for s, row in expected.items()}, abs=1e-9)

    code, stdout, err = cli("first-differences", path, "--metric", "score", "--subject", "person", "--time", "week",
                            "--baseline", "0", "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert sorted(result["left_out"]) == ["F", "G"] and "2 subject(s) left out" in err
    assert {r["sample_id"]: r["difference"] for r in result["rows"]} == pytest.approx({
        f"{p}{w}": score(frame, f"{p}{w}") - score(frame, f"{p}0")
        for p, weeks in WEEKS.items() if p not in "FG" for w in weeks[1:]}, abs=1e-12)


def test_first_differences_of_alpha_from_a_table(cli: CliRun, tmp_path: Path) -> None:
    _, meta_path = study(tmp_path)
    samples = [f"{p}{w}" for p, weeks in WEEKS.items() for w in weeks]
    counts = np.random.default_rng(2).poisson(8, size=(len(samples), 30))
    table_path = tmp_path / "table.biom"
    table_path.write_text(biom.Table(counts.T, [f"f{k}" for k in range(30)], samples).to_json("test"))
    code, stdout, err = cli("first-differences", table_path, "--metadata", meta_path, "--metric", "shannon",
                            "--subject", "person", "--time", "week", "--json")
    assert code == 0, err
    shannon = dict(zip(samples, sk_alpha("shannon", counts, ids=samples, base=2), strict=True))
    rows = json.loads(stdout)["rows"]
    assert {r["sample_id"]: r["difference"] for r in rows} == pytest.approx(
        {r["sample_id"]: shannon[r["sample_id"]] - shannon[r["reference"]] for r in rows}, abs=1e-9)
    assert len(rows) == 9  # A-C: 2 each, D-F: 1 each (F0 has a table row: shannon needs no score)


def test_first_distances_read_from_the_matrix(cli: CliRun, tmp_path: Path) -> None:
    frame, meta_path = study(tmp_path)
    ids = list(frame.index) + ["X1"]  # X1: in the matrix only
    points = np.random.default_rng(5).normal(size=(len(ids), 3))
    dm_path = tmp_path / "dm.tsv"
    DistanceMatrix(squareform(pdist(points)), ids).write(str(dm_path))
    dm = DistanceMatrix.read(str(dm_path))
    out = tmp_path / "dist.tsv"
    code, stdout, err = cli("first-distances", dm_path, "--metadata", meta_path, "--subject", "person", "--time",
                            "week", "-o", out, "--json")
    assert code == 0, err
    result = json.loads(stdout)
    expected = {f"{p}{w1}": dm[f"{p}{w0}", f"{p}{w1}"]
                for p, weeks in WEEKS.items() for w0, w1 in zip(weeks[:-1], weeks[1:], strict=False)}
    assert {r["sample_id"]: r["distance"] for r in result["rows"]} == pytest.approx(expected, abs=1e-12)
    assert {"id": "X1", "reason": "not in the metadata"} in result["excluded"]
    tsv = pd.read_csv(out, sep="\t")
    assert list(tsv.columns) == ["#SampleID", "person", "week", "Distance", "Reference"]
    assert dict(zip(tsv["#SampleID"], tsv["Distance"], strict=True)) == pytest.approx(expected, abs=1e-9)

    code, stdout, err = cli("first-distances", dm_path, "--metadata", meta_path, "--subject", "person", "--time",
                            "week", "--to-first", "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert result["left_out"] == []  # G's first time is 8: no later sample, no row
    assert {r["sample_id"]: r["distance"] for r in result["rows"]} == pytest.approx({
        f"{p}{w}": dm[f"{p}{weeks[0]}", f"{p}{w}"] for p, weeks in WEEKS.items() for w in weeks[1:]}, abs=1e-12)
    code, stdout, err = cli("first-distances", dm_path, "--metadata", meta_path, "--subject", "person", "--time",
                            "week", "--baseline", "4", "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert result["left_out"] == ["G"]
    assert {r["sample_id"]: r["distance"] for r in result["rows"]} == pytest.approx({
        f"{p}{w}": dm[f"{p}4", f"{p}{w}"] for p, weeks in WEEKS.items() for w in weeks if p != "G" and w != 4},
        abs=1e-12)


def test_pairwise_differences_equal_scipy_wilcoxon(cli: CliRun, tmp_path: Path) -> None:
    frame, path = study(tmp_path)
    code, stdout, err = cli("pairwise-differences", path, "--metric", "score", "--subject", "person", "--time",
                            "week", "--before", "0", "--after", "4", "--json")
    assert code == 0, err
    result = json.loads(stdout)
    diffs = [score(frame, f"{p}4") - score(frame, f"{p}0") for p in "ABCDE"]
    reference = wilcoxon(diffs)
    assert result["n_pairs"] == 5 and sorted(result["left_out"]) == ["F", "G"]
    assert result["statistic"] == pytest.approx(reference.statistic, abs=1e-12)
    assert result["p_value"] == pytest.approx(reference.pvalue, rel=1e-12)
    assert result["median_difference"] == pytest.approx(float(np.median(diffs)), abs=1e-12)
    code, stdout, err = cli("pairwise-differences", path, "--metric", "score", "--subject", "person", "--time",
                            "week", "--before", "0", "--after", "4")
    assert code == 0 and "5 subjects" in stdout and "2 subject(s) left out (not sampled at both 0 and 4)" in err


def test_non_numeric_time_is_one_line_exit_2(cli: CliRun, tmp_path: Path) -> None:
    path = tmp_path / "meta.tsv"
    path.write_text("id\tperson\tvisit\tscore\nA0\tA\tbaseline\t1\nA1\tA\tfollow-up\t2\n")
    dm_path = tmp_path / "dm.tsv"
    DistanceMatrix(np.array([[0.0, 1.0], [1.0, 0.0]]), ["A0", "A1"]).write(str(dm_path))
    for args in (("first-differences", path, "--metric", "score"), ("first-distances", dm_path, "--metadata", path),
                 ("pairwise-differences", path, "--metric", "score", "--before", "0", "--after", "1")):
        code, _, err = cli(*args, "--subject", "person", "--time", "visit")
        assert code == 2 and len(err.strip().splitlines()) == 1 and "visit" in err and "not numeric" in err


def test_wrong_options_are_one_line_exit_2(cli: CliRun, tmp_path: Path) -> None:
    _, path = study(tmp_path)
    code, _, err = cli("first-differences", path, "--metric", "person", "--subject", "person", "--time", "week")
    assert code == 2 and "'person' is not a numeric column" in err
    code, _, err = cli("pairwise-differences", path, "--metric", "nope", "--subject", "person", "--time", "week",
                       "--before", "0", "--after", "4")
    assert code == 2 and "no metadata column or alpha metric" in err
    dm_path = tmp_path / "dm.tsv"
    DistanceMatrix(np.zeros((1, 1)), ["A0"]).write(str(dm_path))
    code, _, err = cli("first-distances", dm_path, "--metadata", path, "--subject", "person", "--time", "week",
                       "--baseline", "0", "--to-first")
    assert code == 2 and "not both" in err
