"""``gutstride cohort``: tiles on a 2-worker Dask LocalCluster give the in-memory PERMANOVA and scikit-bio's F."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import skbio
import zarr
from skbio.stats.distance import permanova as sk_permanova
from skbio.stats.distance import permdisp as sk_permdisp
from skbio.stats.ordination import pcoa as sk_pcoa
from statsmodels.stats.multitest import multipletests

from gutstride.analysis.design import design_terms
from gutstride.analysis.microbiome.beta import beta_diversity
from gutstride.analysis.microbiome.permanova import permanova_formula
from gutstride.ingest.microbiome.metadata import parse_metadata
from gutstride.model.feature_table import FeatureTable
from gutstride.report.cohort import COHORT_WRITERS
from gutstride.services.cohort import CohortOptions, run_cohort

if TYPE_CHECKING:
    from conftest import CliRun  # the type of the ``cli`` fixture in tests/conftest.py

N = 46


@pytest.fixture(scope="module")
def cohort() -> tuple[FeatureTable, str]:
    rng = np.random.default_rng(21)
    counts = rng.poisson(rng.gamma(0.5, 30, size=(N, 35)))
    counts[:, 0] += np.arange(N) % 3 * 20  # a group effect
    ids = [f"S{k}" for k in range(N)]
    table = FeatureTable(sp.csr_matrix(counts.astype(float)), ids, [f"f{k}" for k in range(35)])
    lines = ["sample-id\tgroup\tVO2_max\tsubject"]
    lines += [f"S{k}\t{'abc'[k % 3]}\t{40 + (k * 7) % 23}\tP{k // 2}" for k in range(2, N)]  # S0, S1 left out
    lines += ["ghost\ta\t50\tP99"]
    return table, "\n".join(lines) + "\n"


def test_cohort_on_two_workers_equals_in_memory(
    tmp_path: Path, cohort: tuple[FeatureTable, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import gutstride.services.cohort

    monkeypatch.setattr(gutstride.services.cohort, "_READ_VALUES", 100)  # PCoA reads split each chunk row in 4
    table, meta_text = cohort
    meta = parse_metadata(meta_text, "meta.tsv")
    common = {"metric": "braycurtis", "formula": "VO2_max + group", "permutations": 99, "seed": 4,
              "strata": "subject"}
    local = run_cohort(table, meta, tmp_path / "local", CohortOptions(**common, tile=13, workers=0), COHORT_WRITERS)
    dask = run_cohort(table, meta, tmp_path / "dask",
                      CohortOptions(**common, tile=7, workers=2, processes=False, memory_limit="1GiB"), COHORT_WRITERS)
    assert dask["run"]["workers"] == 2 and dask["run"]["tiles"] == 28 and local["run"]["tiles"] == 10
    assert dask["run"]["dashboard"].startswith("http://") and dask["run"]["dashboard"].endswith("/status")  # bokeh
    for ours, theirs in zip(local["terms"], dask["terms"], strict=True):
        assert ours["f"] == pytest.approx(theirs["f"], rel=1e-10)
        assert ours["p_value"] == theirs["p_value"]
    kept = [f"S{k}" for k in range(2, N)]
    rows = [table.sample_ids.index(s) for s in kept]
    sub = FeatureTable(table.data[rows], kept, table.feature_ids)
    dm, _, _ = beta_diversity(sub, "braycurtis")
    frame = pd.DataFrame({"VO2_max": [meta.numeric(s, "VO2_max") for s in kept],
                          "group": [meta.values[s]["group"] for s in kept]})
    strata = [meta.values[s]["subject"] for s in kept]
    memory = permanova_formula(dm, design_terms(frame, "VO2_max + group"), permutations=99, seed=4, strata=strata)
    for ours, theirs in zip(dask["terms"], memory["terms"], strict=True):
        assert ours["f"] == pytest.approx(theirs["f"], rel=1e-10)
        assert ours["sum_of_squares"] == pytest.approx(theirs["sum_of_squares"], rel=1e-10)
        assert ours["p_value"] == theirs["p_value"]
    stored = zarr.open_array(str(tmp_path / "dask" / "distance" / "braycurtis.zarr"), mode="r")
    assert stored.dtype == np.float32 and stored.attrs["sample_ids"] == kept
    np.testing.assert_allclose(stored[:], dm, atol=1e-6)
    out = tmp_path / "dask"
    excluded = pd.read_csv(out / "excluded.tsv", sep="\t")
    assert dict(zip(excluded["id"], excluded["reason"], strict=True)) == {
        "S0": "not in the metadata", "S1": "not in the metadata", "ghost": "not in the table"}
    assert len(pd.read_csv(out / "alpha.tsv", sep="\t")) == N
    assert list(pd.read_csv(out / "permanova.tsv", sep="\t")["term"]) == ["VO2_max", "group", "Residual", "Total"]
    run = json.loads((out / "run.json").read_text())
    assert run["options"]["seed"] == 4 and run["versions"]["dask"] and run["timings"]["tiles_s"] > 0
    assert "PERMANOVA" in (out / "methods.md").read_text()
    ordination = skbio.OrdinationResults.read(str(out / "pcoa" / "braycurtis.tsv"))
    exact = sk_pcoa(skbio.DistanceMatrix(dm, kept), dimensions=3)
    np.testing.assert_allclose(ordination.eigvals.to_numpy()[:3], exact.eigvals.to_numpy(), rtol=1e-5)
    np.testing.assert_allclose(ordination.proportion_explained.to_numpy()[:3],
                               exact.proportion_explained.to_numpy(), rtol=1e-5)
    html = (out / "summary.html").read_text()
    assert "<svg" in html and "<script" not in html and "http" not in html.replace("http://www.w3.org", "")


def test_one_categorical_column_equals_skbio(tmp_path: Path, cohort: tuple[FeatureTable, str]) -> None:
    table, meta_text = cohort
    meta = parse_metadata(meta_text, "meta.tsv")
    options = CohortOptions(metric="braycurtis", column="group", permutations=0, tile=20, workers=0, float64=True)
    result = run_cohort(table, meta, tmp_path, options, COHORT_WRITERS)
    kept = [f"S{k}" for k in range(2, N)]
    stored = zarr.open_array(str(tmp_path / "distance" / "braycurtis.zarr"), mode="r")
    theirs = sk_permanova(skbio.DistanceMatrix(stored[:], kept), [meta.values[s]["group"] for s in kept],
                          permutations=0)
    assert stored.dtype == np.float64
    assert result["terms"][0]["f"] == pytest.approx(theirs["test statistic"], rel=1e-10)
    groups = [meta.values[s]["group"] for s in kept]
    ordination = skbio.OrdinationResults.read(str(tmp_path / "pcoa" / "braycurtis.tsv"))
    disp = sk_permdisp(ordination, groups, permutations=0)
    assert result["permdisp"]["f"] == pytest.approx(disp["test statistic"], rel=1e-6)
    assert pd.read_csv(tmp_path / "permdisp.tsv", sep="\t")["f"][0] == pytest.approx(disp["test statistic"])


def test_cli_cohort_in_process(tmp_path: Path, cohort: tuple[FeatureTable, str],
                               capsys: pytest.CaptureFixture[str]) -> None:
    import biom

    from gutstride.cli import main

    table, meta_text = cohort
    path = tmp_path / "table.biom"
    path.write_text(biom.Table(table.data.toarray().T, table.feature_ids, table.sample_ids).to_json("test"))
    meta = tmp_path / "meta.tsv"
    meta.write_text(meta_text)
    try:
        main(["cohort", str(path), "--metadata", str(meta), "--column", "VO2_max", "--metric", "jaccard",
              "--permutations", "19", "--seed", "1", "--workers", "0", "--tile", "16", "-o", str(tmp_path / "o"),
              "--json"])
    except SystemExit as exc:
        assert not exc.code
    result = json.loads(capsys.readouterr().out)
    assert [t["term"] for t in result["terms"]] == ["VO2_max"] and result["terms"][0]["df"] == 1
    assert result["sample_size"] == N - 2 and (tmp_path / "o" / "distance" / "jaccard.zarr").is_dir()


def test_thread_workers_run_whatever_this_process_holds(tmp_path: Path, cohort: tuple[FeatureTable, str]) -> None:
    """Thread workers (``processes=False``) share this process: a per-worker memory limit measured the whole
    process, paused the workers for good once the process held more than the limit, and the run waited forever
    (seen in CI, where the test process had grown past 1 GiB). The limit is for worker processes only."""
    import threading

    table, meta_text = cohort
    meta = parse_metadata(meta_text, "meta.tsv")
    ballast = np.ones(300 * 2**20 // 8)  # 300 MiB held by this process, beyond the 256 MiB limit below
    done: dict[str, object] = {}

    def run() -> None:
        done["result"] = run_cohort(table, meta, tmp_path, CohortOptions(
            metric="braycurtis", column="group", permutations=9, tile=20, workers=2, processes=False,
            memory_limit="256MiB"), COHORT_WRITERS)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=120)
    assert ballast.sum() > 0
    assert not thread.is_alive(), "the cohort run on thread workers never finished"
    assert done["result"]["run"]["workers"] == 2  # type: ignore[index]


def test_pairwise_from_tiles_equals_skbio_per_pair(
    tmp_path: Path, cohort: tuple[FeatureTable, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """pairwise.tsv: each pair's PERMANOVA from the stored tiles (2 thread workers) is scikit-bio's on the pair's
    sub-matrix (F, and p for the same seed); q is Benjamini-Hochberg's; one pass per pair gives the same table."""
    import gutstride.services.cohort

    table, meta_text = cohort
    meta = parse_metadata(meta_text, "meta.tsv")
    common = {"metric": "braycurtis", "column": "group", "permutations": 99, "seed": 5, "float64": True}
    dask = run_cohort(table, meta, tmp_path / "dask",
                      CohortOptions(**common, tile=7, workers=2, processes=False), COHORT_WRITERS)
    monkeypatch.setattr(gutstride.services.cohort, "_PAIR_LABELS", 1)  # every pair in its own pass
    local = run_cohort(table, meta, tmp_path / "local", CohortOptions(**common, tile=13, workers=0), COHORT_WRITERS)
    kept = [f"S{k}" for k in range(2, N)]
    stored = zarr.open_array(str(tmp_path / "dask" / "distance" / "braycurtis.zarr"), mode="r")[:]
    dm = skbio.DistanceMatrix(stored, kept)
    groups = pd.Series({s: meta.values[s]["group"] for s in kept})
    frame = pd.read_csv(tmp_path / "dask" / "pairwise.tsv", sep="\t")
    assert list(frame.columns) == ["Group 1", "Group 2", "Sample size", "Permutations", "pseudo-F", "p-value",
                                   "q-value"]
    assert [tuple(r) for r in frame[["Group 1", "Group 2"]].to_numpy()] == [("a", "b"), ("a", "c"), ("b", "c")]
    for row, ours in zip(frame.to_dict("records"), local["pairwise"], strict=True):
        pair = groups[groups.isin([row["Group 1"], row["Group 2"]])]
        theirs = sk_permanova(dm.filter(list(pair.index)), list(pair), permutations=99, seed=5)
        assert row["Sample size"] == theirs["sample size"] and row["Permutations"] == 99
        assert row["pseudo-F"] == pytest.approx(theirs["test statistic"], rel=1e-10)
        assert row["p-value"] == theirs["p-value"]
        assert ours["pseudo_f"] == pytest.approx(row["pseudo-F"], rel=1e-10) and ours["p_value"] == row["p-value"]
    assert list(frame["q-value"]) == pytest.approx(list(multipletests(frame["p-value"], method="fdr_bh")[1]))
    assert dask["run"]["workers"] == 2 and "pairwise.tsv" in (tmp_path / "dask" / "methods.md").read_text()


def test_pairwise_within_strata_equals_the_in_memory_pairwise(
    tmp_path: Path, cohort: tuple[FeatureTable, str]
) -> None:
    from gutstride.analysis.microbiome.permanova import pairwise_permanova

    table, meta_text = cohort
    meta = parse_metadata(meta_text, "meta.tsv")
    result = run_cohort(table, meta, tmp_path, CohortOptions(
        metric="jaccard", column="group", strata="subject", permutations=49, seed=2, tile=9, workers=0,
        float64=True), COHORT_WRITERS)
    kept = [f"S{k}" for k in range(2, N)]
    stored = zarr.open_array(str(tmp_path / "distance" / "jaccard.zarr"), mode="r")[:]
    memory = pairwise_permanova(stored, [meta.values[s]["group"] for s in kept], 49, 2,
                                [meta.values[s]["subject"] for s in kept])
    for ours, theirs in zip(result["pairwise"], memory, strict=True):
        assert ours["pseudo_f"] == pytest.approx(theirs["pseudo_f"], rel=1e-10)
        assert {k: v for k, v in ours.items() if k != "pseudo_f"} == {k: v for k, v in theirs.items()
                                                                       if k != "pseudo_f"}


def _explicit_aitchison(table: FeatureTable, kept: list[str]) -> skbio.DistanceMatrix:
    """The Aitchison matrix written out: scikit-bio's robust CLR (zeros stay 0) and scipy's Euclidean distances."""
    from scipy.spatial.distance import pdist, squareform
    from skbio.stats.composition import rclr

    counts = table.data.toarray()[[table.sample_ids.index(s) for s in kept]]
    return skbio.DistanceMatrix(squareform(pdist(np.nan_to_num(rclr(counts), nan=0.0))), kept)


def test_aitchison_needs_no_matrix_and_equals_the_tiles(
    tmp_path: Path, cohort: tuple[FeatureTable, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Euclidean shortcut on 2 thread workers (labellings in batches) gives the F of the tiles of the explicit
    matrix and, the permutations being the same, the same p-values; no distance store is written."""
    import gutstride.services.cohort

    table, meta_text = cohort
    meta = parse_metadata(meta_text, "meta.tsv")
    monkeypatch.setattr(gutstride.services.cohort, "_FORM_VALUES", 35 * 3 * 7)  # 7 labellings per batch
    common = {"metric": "aitchison", "formula": "VO2_max + group", "strata": "subject", "permutations": 99,
              "seed": 4}
    shortcut = run_cohort(table, meta, tmp_path / "shortcut",
                          CohortOptions(**common, tile=7, workers=2, processes=False), COHORT_WRITERS)
    tiles = run_cohort(table, meta, tmp_path / "tiles",
                       CohortOptions(**common, tile=13, workers=0, float64=True, write_distances=True), COHORT_WRITERS)
    assert not (tmp_path / "shortcut" / "distance").exists() and shortcut["run"]["distance_store"] is None
    assert tiles["run"]["distance_store"] == "distance/aitchison.zarr"
    assert shortcut["run"]["statistics_from"].startswith("CLR coordinates")
    assert tiles["run"]["statistics_from"] == "distance tiles"
    assert "Euclidean" in (tmp_path / "shortcut" / "methods.md").read_text()
    assert json.loads((tmp_path / "shortcut" / "run.json").read_text())["statistics_from"].startswith("CLR")
    for ours, theirs in zip(shortcut["terms"], tiles["terms"], strict=True):
        assert ours["f"] == pytest.approx(theirs["f"], rel=1e-9)
        assert ours["sum_of_squares"] == pytest.approx(theirs["sum_of_squares"], rel=1e-9)
        assert ours["p_value"] == theirs["p_value"]
    kept = [f"S{k}" for k in range(2, N)]
    explicit = _explicit_aitchison(table, kept)
    stored = zarr.open_array(str(tmp_path / "tiles" / "distance" / "aitchison.zarr"), mode="r")[:]
    np.testing.assert_allclose(stored, explicit.data, rtol=1e-9, atol=1e-9)
    assert shortcut["total"]["sum_of_squares"] == pytest.approx((explicit.data ** 2).sum() / (2 * len(kept)),
                                                                rel=1e-12)


def test_aitchison_shortcut_equals_skbio_with_pairwise_and_permdisp(
    tmp_path: Path, cohort: tuple[FeatureTable, str]
) -> None:
    table, meta_text = cohort
    meta = parse_metadata(meta_text, "meta.tsv")
    common = {"metric": "aitchison", "column": "group", "permutations": 99, "seed": 5, "workers": 0}
    shortcut = run_cohort(table, meta, tmp_path / "shortcut", CohortOptions(**common, tile=11), COHORT_WRITERS)
    tiles = run_cohort(table, meta, tmp_path / "tiles", CohortOptions(**common, tile=20, float64=True,
                                                                     write_distances=True), COHORT_WRITERS)
    kept = [f"S{k}" for k in range(2, N)]
    groups = [meta.values[s]["group"] for s in kept]
    explicit = _explicit_aitchison(table, kept)
    theirs = sk_permanova(explicit, groups, permutations=99, seed=5)
    assert shortcut["terms"][0]["f"] == pytest.approx(theirs["test statistic"], rel=1e-9)
    assert shortcut["terms"][0]["p_value"] == theirs["p-value"]
    for ours, other in zip(shortcut["pairwise"], tiles["pairwise"], strict=True):
        assert ours["pseudo_f"] == pytest.approx(other["pseudo_f"], rel=1e-9)
        assert {k: v for k, v in ours.items() if k != "pseudo_f"} == {k: v for k, v in other.items()
                                                                       if k != "pseudo_f"}
    assert len(pd.read_csv(tmp_path / "shortcut" / "pairwise.tsv", sep="\t")) == 3
    exact = sk_pcoa(explicit, dimensions=3)
    ordination = skbio.OrdinationResults.read(str(tmp_path / "shortcut" / "pcoa" / "aitchison.tsv"))
    np.testing.assert_allclose(ordination.eigvals.to_numpy()[:3], exact.eigvals.to_numpy(), rtol=1e-6)
    disp = sk_permdisp(ordination, groups, permutations=99, seed=5)
    assert shortcut["permdisp"]["f"] == pytest.approx(disp["test statistic"], rel=1e-6)
    assert shortcut["permdisp"]["f"] == pytest.approx(tiles["permdisp"]["f"], rel=1e-6)


def test_aitchison_shortcut_refuses_proportional_samples(tmp_path: Path) -> None:
    from gutstride.errors import BadInputError

    rows = np.array([[1.0, 2.0, 4.0]] * 6) * np.arange(1, 7)[:, None]  # every sample proportional to the first
    table = FeatureTable(sp.csr_matrix(rows), [f"S{k}" for k in range(6)], ["f0", "f1", "f2"])
    meta = parse_metadata("id\tgroup\n" + "".join(f"S{k}\t{'ab'[k % 2]}\n" for k in range(6)), "meta.tsv")
    with pytest.raises(BadInputError, match="every aitchison distance"):
        run_cohort(table, meta, tmp_path, CohortOptions(metric="aitchison", column="group", permutations=9,
                                                        workers=0), COHORT_WRITERS)


def test_cli_aitchison_writes_the_store_only_when_asked(
    tmp_path: Path, cohort: tuple[FeatureTable, str], cli: CliRun
) -> None:
    import biom

    table, meta_text = cohort
    path = tmp_path / "table.biom"
    path.write_text(biom.Table(table.data.toarray().T, table.feature_ids, table.sample_ids).to_json("test"))
    meta = tmp_path / "meta.tsv"
    meta.write_text(meta_text)
    common = ("cohort", path, "--metadata", meta, "--column", "group", "--metric", "aitchison", "--permutations",
              "9", "--workers", "0")
    code, out, err = cli(*common, "-o", tmp_path / "a")
    assert code == 0, err
    assert "CLR coordinates" in out and "pairwise.tsv" in out and not (tmp_path / "a" / "distance").exists()
    code, out, err = cli(*common, "--write-distances", "-o", tmp_path / "b")
    assert code == 0, err
    assert "distance tiles" in out and "distance/aitchison.zarr" in out
    code, _, err = cli("beta", "--from-zarr", tmp_path / "b" / "distance" / "aitchison.zarr", "-o", tmp_path / "dm")
    assert code == 0 and skbio.DistanceMatrix.read(str(tmp_path / "dm")).shape == (N - 2, N - 2)


def test_summary_page_shows_the_pairwise_table(tmp_path: Path, cohort: tuple[FeatureTable, str]) -> None:
    table, meta_text = cohort
    meta = parse_metadata(meta_text, "meta.tsv")
    result = run_cohort(table, meta, tmp_path, CohortOptions(metric="aitchison", column="group", permutations=9,
                                                             workers=0), COHORT_WRITERS)
    html = (tmp_path / "summary.html").read_text()
    assert "Pairwise PERMANOVA" in html and html.count("<tr><td>a</td><td>b</td>") == 1
    assert f"{result['pairwise'][0]['pseudo_f']:.4g}" in html and "Euclidean shortcut" in html


@pytest.mark.parametrize("metric", ["braycurtis", "aitchison"])
def test_a_pair_of_fewer_than_three_samples_has_no_test(
    tmp_path: Path, cohort: tuple[FeatureTable, str], metric: str
) -> None:
    from gutstride.analysis.microbiome.permanova import pairwise_permanova

    table, _ = cohort
    labels = ["x", "y"] + ["ab"[k % 2] for k in range(N - 2)]  # x and y: one sample each
    meta = parse_metadata("id\tgroup\n" + "".join(f"S{k}\t{g}\n" for k, g in enumerate(labels)), "meta.tsv")
    result = run_cohort(table, meta, tmp_path, CohortOptions(metric=metric, column="group", permutations=19, seed=3,
                                                             tile=10, workers=0, float64=True), COHORT_WRITERS)
    rows = {(r["group1"], r["group2"]): r for r in result["pairwise"]}
    assert len(rows) == 6 and np.isnan(rows[("x", "y")]["p_value"]) and np.isnan(rows[("x", "y")]["q_value"])
    dm, _, _ = beta_diversity(table, metric)
    for ours, theirs in zip(result["pairwise"], pairwise_permanova(dm, labels, 19, 3), strict=True):
        assert ours["pseudo_f"] == pytest.approx(theirs["pseudo_f"], rel=1e-9, nan_ok=True)
        assert ours["p_value"] == pytest.approx(theirs["p_value"], nan_ok=True)
        assert ours["q_value"] == pytest.approx(theirs["q_value"], nan_ok=True)


def test_a_rerun_leaves_no_file_of_the_earlier_run(tmp_path: Path, cohort: tuple[FeatureTable, str]) -> None:
    """A store, permdisp.tsv and pairwise.tsv the new run does not write would describe the earlier run."""
    table, meta_text = cohort
    meta = parse_metadata(meta_text, "meta.tsv")
    common = {"metric": "aitchison", "permutations": 0, "workers": 0}
    run_cohort(table, meta, tmp_path, CohortOptions(**common, column="group", write_distances=True), COHORT_WRITERS)
    (tmp_path / "distance" / "notes.zarr").mkdir()  # not a store gutstride wrote: kept
    assert (tmp_path / "distance" / "aitchison.zarr").is_dir() and (tmp_path / "pairwise.tsv").is_file()
    run_cohort(table, meta, tmp_path, CohortOptions(**common, column="VO2_max"), COHORT_WRITERS)
    assert not (tmp_path / "distance" / "aitchison.zarr").exists() and (tmp_path / "distance" / "notes.zarr").is_dir()
    assert not (tmp_path / "pairwise.tsv").exists() and not (tmp_path / "permdisp.tsv").exists()


def test_labellings_do_not_depend_on_the_draw_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    import gutstride.analysis.cohort
    from gutstride.analysis.cohort import labellings
    from gutstride.analysis.microbiome.permanova import permutation_batches

    strata = list("aabbbcccc") + ["a"]
    whole = np.vstack(list(permutation_batches(10, 7, 3, strata, 7)))
    monkeypatch.setattr(gutstride.analysis.cohort, "_DRAW_VALUES", 10)  # one permutation per batch
    drawn = labellings(10, 7, 3, strata)
    assert drawn.dtype == np.int32 and drawn.shape == (8, 10)
    np.testing.assert_array_equal(drawn[0], np.arange(10))
    np.testing.assert_array_equal(drawn[1:], whole)
