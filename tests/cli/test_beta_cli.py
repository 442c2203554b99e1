"""``gutstride beta`` and ``gutstride permanova``: files in, scikit-bio's numbers out, user errors exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import biom
import numpy as np
import pytest
import skbio
from skbio.diversity import beta_diversity as sk_beta
from skbio.stats.distance import permanova as sk_permanova

if TYPE_CHECKING:
    from conftest import CliRun  # the type of the ``cli`` fixture in tests/conftest.py



AG = Path(__file__).resolve().parents[1] / "data" / "microbiome" / "american-gut" / "AG_debug"
TREE = AG / "AG_100nt_gg13_8_97_pruned.tre"



@pytest.fixture(scope="module")
def small_table(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray, list[str], list[str]]:
    """30 American Gut samples as BIOM JSON, plus two features that are not in the tree."""
    full = biom.load_table(str(AG / "AG_100nt.biom.gz"))
    sub = full.filter(list(full.ids())[:30], axis="sample", inplace=False)
    sub.filter(lambda values, _id, _md: values.sum() > 0, axis="observation", inplace=True)
    counts = sub.matrix_data.toarray()  # features x samples
    extra = np.zeros((2, counts.shape[1]))
    extra[0, :10] = 7
    extra[1, 5] = 3
    features = [str(f) for f in sub.ids("observation")] + ["not-in-tree-1", "not-in-tree-2"]
    samples = [str(s) for s in sub.ids()]
    table = biom.Table(np.vstack([counts, extra]), features, samples)
    path = tmp_path_factory.mktemp("beta") / "table.biom"
    path.write_text(table.to_json("gutstride tests"))
    return path, np.vstack([counts, extra]).T, samples, features


def test_beta_braycurtis_writes_skbio_readable_matrix(
    cli: CliRun, tmp_path: Path, small_table: tuple[Path, np.ndarray, list[str], list[str]]
) -> None:
    path, counts, samples, _ = small_table
    out = tmp_path / "bc.tsv"
    code, _, err = cli("beta", str(path), "--metric", "braycurtis", "-o", str(out))
    assert code == 0, err
    written = skbio.DistanceMatrix.read(str(out))
    assert list(written.ids) == samples
    np.testing.assert_allclose(written.data, sk_beta("braycurtis", counts, ids=samples).data, atol=1e-6)


def test_beta_unifrac_warns_about_missing_features(
    cli: CliRun, tmp_path: Path, small_table: tuple[Path, np.ndarray, list[str], list[str]]
) -> None:
    path, counts, samples, features = small_table
    out = tmp_path / "wu.tsv"
    code, _, err = cli("beta", path, "--metric", "weighted_unifrac", "--tree", TREE, "--float32", "-o", out)
    assert code == 0, err
    share = counts[:, -2:].sum() / counts.sum()
    assert f"warning: 2 of {len(features)} features are not in the tree" in err
    assert f"{share:.2%}" in err
    tree = skbio.TreeNode.read(str(TREE))
    ref = sk_beta("weighted_unifrac", counts[:, :-2], ids=samples, taxa=features[:-2], tree=tree)
    np.testing.assert_allclose(skbio.DistanceMatrix.read(str(out)).data, ref.data, atol=1e-6)


def test_unifrac_without_tree_is_a_one_line_error(
    cli: CliRun, tmp_path: Path, small_table: tuple[Path, np.ndarray, list[str], list[str]]
) -> None:
    path = small_table[0]
    code, out, err = cli("beta", str(path), "--metric", "unweighted_unifrac", "-o", str(tmp_path / "x.tsv"))
    assert code == 2
    assert err.strip().count("\n") == 0 and "--tree" in err
    assert not (tmp_path / "x.tsv").exists()
    code, _, err = cli("beta", str(path), "--metric", "manhattan", "-o", str(tmp_path / "x.tsv"))
    assert code == 2 and "unknown metric" in err


def species_table(path: Path, names: list[str]) -> np.ndarray:
    """A 4-sample species table as TSV (one row per species), as profilers write it; returns samples x species."""
    counts = np.array([[30.0, 0.0, 5.0], [2.0, 40.0, 1.0], [10.0, 10.0, 10.0], [0.0, 3.0, 60.0]])
    lines = ["#OTU ID\t" + "\t".join(f"p{k}" for k in range(4))]
    lines += [name + "\t" + "\t".join(str(v) for v in counts[:, j]) for j, name in enumerate(names)]
    path.write_text("\n".join(lines) + "\n")
    return counts


@pytest.mark.parametrize("metric", ["unweighted_unifrac", "weighted_unifrac"])
def test_underscored_species_match_the_tree_tips(cli: CliRun, tmp_path: Path,
                                                 metric: str) -> None:
    """Issue 17, defect 1: tip ``Methanobrevibacter_smithii`` keeps its underscore and matches the table."""
    names = ["Methanobrevibacter_smithii", "Bacteroides_fragilis", "Akkermansia_muciniphila"]
    counts = species_table(tmp_path / "species.tsv", names)
    (tmp_path / "tree.nwk").write_text(
        "((Methanobrevibacter_smithii:0.4,'Bacteroides_fragilis':0.7):0.2,Akkermansia_muciniphila:1.1);\n")
    out = tmp_path / "dm.tsv"
    code, _, err = cli("beta", str(tmp_path / "species.tsv"), "--metric", metric, "--tree",
                       str(tmp_path / "tree.nwk"), "-o", str(out))
    assert code == 0, err
    assert "not in the tree" not in err
    reference = sk_beta(metric, counts, ids=[f"p{k}" for k in range(4)], taxa=names,
                        tree=skbio.TreeNode.read(str(tmp_path / "tree.nwk"), convert_underscores=False))
    np.testing.assert_allclose(skbio.DistanceMatrix.read(str(out)).data, reference.data, rtol=0, atol=1e-12)


def test_no_feature_in_the_tree_is_a_one_line_error_and_no_file(cli: CliRun,
                                                                  tmp_path: Path) -> None:
    species_table(tmp_path / "species.tsv", ["Methanobrevibacter_smithii", "Bacteroides_fragilis", "Akkermansia"])
    (tmp_path / "tree.nwk").write_text("(('Methanobrevibacter smithii':0.4,x:0.7):0.2,y:1.1);\n")
    out = tmp_path / "dm.tsv"
    code, _, err = cli("beta", str(tmp_path / "species.tsv"), "--metric", "weighted_unifrac", "--tree",
                       str(tmp_path / "tree.nwk"), "-o", str(out))
    assert code == 2
    assert err.strip().count("\n") == 0 and "none of the table's 3 features is a tip of the tree" in err
    assert not out.exists()


def test_permanova_json_matches_skbio_and_lists_exclusions(
    cli: CliRun, tmp_path: Path, small_table: tuple[Path, np.ndarray, list[str], list[str]]
) -> None:
    path, counts, samples, _ = small_table
    dm_path = tmp_path / "bc.tsv"
    assert cli("beta", str(path), "--metric", "braycurtis", "-o", str(dm_path))[0] == 0
    metadata = tmp_path / "metadata.tsv"
    lines = ["sample-id\tgroup\tsite", "#q2:types\tcategorical\tcategorical"]
    lines += [f"{s}\t{'ab'[k % 2]}\t{'xyz'[k % 3]}" for k, s in enumerate(samples[1:])]  # first sample missing
    lines += [f"{samples[1]}-extra\ta\tx"]
    lines[3] = f"{samples[2]}\t\tx"  # an empty value
    metadata.write_text("\n".join(lines) + "\n")
    code, out, err = cli("permanova",
        str(dm_path),
        str(metadata),
        "--column",
        "group",
        "--seed",
        "4",
        "--permutations",
        "99",
        "--json",
    )
    assert code == 0, err
    result = json.loads(out)
    assert {"test_statistic", "p_value", "sample_size", "number_of_groups", "permutations", "method", "column"} <= set(
        result
    )
    assert result["method"] == "PERMANOVA" and result["column"] == "group" and result["permutations"] == 99
    excluded = {row["id"]: row["reason"] for row in result["excluded"]}
    assert excluded == {
        samples[0]: "not in the metadata",
        samples[2]: "no value in column group",
        f"{samples[1]}-extra": "not in the distance matrix",
    }
    kept = [k for k in range(len(samples)) if k not in (0, 2)]
    grouping = ["ab"[(k - 1) % 2] for k in kept]
    dm = skbio.DistanceMatrix.read(str(dm_path)).filter([samples[k] for k in kept])
    theirs = sk_permanova(dm, grouping, permutations=0)
    assert result["test_statistic"] == pytest.approx(theirs["test statistic"], rel=1e-9)
    assert result["sample_size"] == len(kept) and result["number_of_groups"] == 2
    code, out, err = cli("permanova", str(dm_path), str(metadata), "--column", "group", "--strata", "site")
    assert code == 0 and "PERMANOVA on group" in out
    code, _, err = cli("permanova", str(dm_path), str(metadata), "--column", "nope", "--json")
    assert code == 2 and "no column 'nope'" in err
