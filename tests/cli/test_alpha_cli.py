"""``gutstride alpha``: the JSON contract, the tree and rarefaction options, errors as one line and exit 2."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from gutstride.cli import main

DATA = Path(__file__).parents[1] / "data" / "microbiome"
AG_DIR = DATA / "american-gut" / "AG_debug"
RICH = DATA / "biom-format-examples" / "rich_sparse_otu_table_hdf5.biom"


def run_here(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = 0
    try:
        main(["alpha", *map(str, args)])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_contract_matches_skbio(capsys: pytest.CaptureFixture[str]) -> None:
    from skbio.diversity import alpha_diversity as skbio_alpha

    code, out, _ = run_here(capsys, RICH, "--json")
    assert code == 0
    payload = json.loads(out)
    assert payload["dropped"] == []
    samples = payload["samples"]
    assert [s["id"] for s in samples] == [f"Sample{i}" for i in range(1, 7)]
    assert set(samples[0]) == {"id", "depth", "observed_features", "shannon", "simpson", "pielou_evenness", "chao1"}
    import biom

    table = biom.load_table(str(RICH))
    counts = table.matrix_data.T.toarray().astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shannon = skbio_alpha("shannon", counts, base=2).to_numpy()
    np.testing.assert_allclose([s["shannon"] for s in samples], shannon, rtol=1e-9)


def test_tree_and_rarefaction(capsys: pytest.CaptureFixture[str]) -> None:
    from skbio import TreeNode
    from skbio.diversity import alpha_diversity as skbio_alpha

    code, out, err = run_here(capsys, AG_DIR / "AG_100nt.biom.gz", "--tree", AG_DIR / "AG_100nt_gg13_8_97_pruned.tre",
                              "--rarefy", "5000", "--seed", "3", "--json")
    assert code == 0
    payload = json.loads(out)
    assert payload["dropped"] and "fewer than 5000 reads" in err
    assert all(s["depth"] == 5000 for s in payload["samples"])
    assert {s["id"] for s in payload["samples"]}.isdisjoint(payload["dropped"])
    assert all(s["faith_pd"] > 0 for s in payload["samples"])
    # the same rarefied table through scikit-bio's Faith PD
    from gutstride.analysis.microbiome.rarefy import rarefy
    from gutstride.ingest.microbiome.read import read_table

    rarefied, _ = rarefy(read_table(AG_DIR / "AG_100nt.biom.gz"), 5000, 3)
    keep = rarefied.data.toarray().sum(axis=0) > 0
    ids = [f for f, k in zip(rarefied.feature_ids, keep, strict=True) if k]
    tree = TreeNode.read(str(AG_DIR / "AG_100nt_gg13_8_97_pruned.tre")).shear(ids)
    expected = skbio_alpha("faith_pd", rarefied.data.toarray()[:, keep].astype(int)[:5], ids=rarefied.sample_ids[:5],
                           taxa=ids, tree=tree)
    np.testing.assert_allclose([s["faith_pd"] for s in payload["samples"][:5]], expected.to_numpy(), rtol=1e-6)


def test_rich_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_here(capsys, RICH)
    assert code == 0 and "Sample6" in out and "shannon" in out


def test_errors_are_one_line_with_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_here(capsys, DATA / "biom-format-examples" / "empty.biom", "--json")
    assert code == 2 and err.startswith("error: empty.biom") and "Traceback" not in err
    bad = tmp_path / "bad.tsv"
    bad.write_text("#OTU ID\tS1\nA\t4\nB\tx1\n")
    code, _, err = run_here(capsys, bad, "--json")
    assert code == 2 and "line 3, column 'S1'" in err
