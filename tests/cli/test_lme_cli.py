"""``gutstride lme``: statsmodels MixedLM's numbers, from metadata alone or alpha diversity merged from a table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import biom
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from skbio.diversity import alpha_diversity as sk_alpha

if TYPE_CHECKING:
    from conftest import CliRun  # the type of the ``cli`` fixture in tests/conftest.py





def study_frame(seed: int = 3, subjects: int = 12, weeks: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(subjects):
        group = "training" if p % 2 else "control"
        intercept, slope = rng.normal(0, 0.5), rng.normal(0, 0.1)
        for week in range(weeks):
            effect = 0.15 * week if group == "training" else 0.0
            shannon = 5 + intercept + (slope + effect) * week / max(week, 1) * week + rng.normal(0, 0.3)
            rows.append({"sample": f"P{p}-w{week}", "subject": f"P{p}", "week": week, "group": group,
                         "score": shannon})
    return pd.DataFrame(rows).set_index("sample")


def check_against_statsmodels(result: dict, frame: pd.DataFrame, formula: str, re_formula: str | None) -> None:
    fit = smf.mixedlm(formula, frame, groups=frame["subject"], re_formula=re_formula).fit()
    ci = fit.conf_int()
    assert [row["term"] for row in result["fixed_effects"]] == list(fit.fe_params.index)
    for row in result["fixed_effects"]:
        name = row["term"]
        assert row["estimate"] == pytest.approx(fit.fe_params[name], rel=1e-6, abs=1e-9)
        assert row["std_error"] == pytest.approx(fit.bse_fe[name], rel=1e-6)
        assert row["z"] == pytest.approx(fit.tvalues[name], rel=1e-6, abs=1e-9)
        assert row["p_value"] == pytest.approx(fit.pvalues[name], rel=1e-6, abs=1e-12)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.loc[name, 0], ci.loc[name, 1]), rel=1e-6)
    assert result["n_observations"] == fit.nobs and result["n_groups"] == frame["subject"].nunique()
    assert result["converged"] == fit.converged
    assert result["random_effects"]["residual_variance"] == pytest.approx(fit.scale, rel=1e-6)


def test_lme_on_metadata_equals_statsmodels(cli: CliRun, tmp_path: Path) -> None:
    frame = study_frame()
    path = tmp_path / "meta.tsv"
    with_missing = frame.copy().astype(object)
    with_missing.loc["P0-w0", "score"] = ""  # left out and listed
    with_missing.to_csv(path, sep="\t", index_label="sample-id")
    code, out, err = cli("lme", str(path), "--formula", "score ~ week * group", "--subject", "subject",
                         "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["excluded"] == [{"id": "P0-w0", "reason": "no value in column score"}]
    check_against_statsmodels(result, frame.drop(index="P0-w0"), "score ~ week * group", None)
    code, out, err = cli("lme", str(path), "--formula", "score ~ week", "--subject", "subject",
                         "--random-slope", "week", "--json")
    assert code == 0, err
    result = json.loads(out)
    check_against_statsmodels(result, frame.drop(index="P0-w0"), "score ~ week", "~week")
    assert set(result["random_effects"]["covariance"]) == {"Group", "week"}
    code, out, _ = cli("lme", str(path), "--formula", "score ~ week", "--subject", "subject")
    assert code == 0 and "week" in out and "subjects" in out


def test_lme_on_alpha_from_a_table(cli: CliRun, tmp_path: Path) -> None:
    frame = study_frame(seed=9, subjects=10, weeks=3)
    rng = np.random.default_rng(1)
    counts = rng.poisson(rng.gamma(0.6, 20, size=(len(frame), 40)))
    samples = list(frame.index)
    table = biom.Table(counts.T, [f"f{k}" for k in range(40)], samples)
    table_path = tmp_path / "table.biom"
    table_path.write_text(table.to_json("test"))
    meta_path = tmp_path / "meta.csv"
    frame.drop(columns="score").drop(index=samples[0]).to_csv(meta_path)
    code, out, err = cli("lme", str(table_path), "--metadata", str(meta_path), "--formula",
                         "shannon ~ week + group", "--subject", "subject", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["excluded"] == [{"id": samples[0], "reason": "not in the metadata"}]
    reference = frame.drop(columns="score").copy()
    reference["shannon"] = sk_alpha("shannon", counts, ids=samples, base=2).to_numpy()
    check_against_statsmodels(result, reference.drop(index=samples[0]), "shannon ~ week + group", None)


def test_lme_errors(cli: CliRun, tmp_path: Path) -> None:
    path = tmp_path / "meta.tsv"
    study_frame().to_csv(path, sep="\t")
    code, _, err = cli("lme", str(path), "--formula", "score ~ week", "--subject", "nobody")
    assert code == 2 and "no subject column 'nobody'" in err
    code, _, err = cli("lme", str(path), "--formula", "week", "--subject", "subject")
    assert code == 2 and "needs a response" in err


def test_lm_with_covariates_equals_statsmodels_ols(cli: CliRun, tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    n = 40
    frame = pd.DataFrame({"AGE": rng.integers(20, 70, n).astype(float), "SEX": rng.choice(["female", "male"], n),
                          "EXERCISE": rng.choice(["Daily", "Never", "Rarely"], n)},
                         index=[f"s{k}" for k in range(n)])
    frame["shannon"] = 5 + 0.01 * frame["AGE"] + rng.normal(0, 0.4, n)
    written = frame.astype(object)
    written.loc["s0", "AGE"] = "no_data"  # an American Gut missing marker
    path = tmp_path / "meta.tsv"
    written.to_csv(path, sep="\t", index_label="#SampleID")
    code, out, err = cli("lm", str(path), "--formula", "shannon ~ AGE + SEX + EXERCISE", "--missing",
                         "no_data", "--json")
    assert code == 0, err
    result = json.loads(out)
    fit = smf.ols("shannon ~ AGE + SEX + EXERCISE", frame.drop(index="s0")).fit()
    assert [r["term"] for r in result["fixed_effects"]] == list(fit.params.index)
    for row in result["fixed_effects"]:
        assert row["estimate"] == pytest.approx(fit.params[row["term"]], rel=1e-9)
        assert row["t"] == pytest.approx(fit.tvalues[row["term"]], rel=1e-9)
        assert row["p_value"] == pytest.approx(fit.pvalues[row["term"]], rel=1e-9)
    assert result["r2"] == pytest.approx(fit.rsquared) and result["n_observations"] == n - 1
    assert result["excluded"] == [{"id": "s0", "reason": "no value in column AGE"}]


def test_differential_command(cli: CliRun, tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    n, m = 30, 12
    counts = rng.poisson(20, size=(n, m)).astype(float)
    samples = [f"s{k}" for k in range(n)]
    groups = ["athlete" if k % 2 else "sedentary" for k in range(n)]
    counts[1::2, 0] += 100
    table_path = tmp_path / "t.biom"
    table_path.write_text(biom.Table(counts.T, [f"f{k}" for k in range(m)], samples).to_json("test"))
    meta = tmp_path / "m.tsv"
    meta.write_text("id\tgroup\n" + "".join(f"{s}\t{g}\n" for s, g in zip(samples, groups, strict=True)))
    out = tmp_path / "da.tsv"
    code, stdout, err = cli("differential", str(table_path), "--metadata", str(meta), "--formula", "group",
                            "-o", str(out), "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert "relative to the other features" in result["caveat"] and result["sample_size"] == n
    top = result["results"][0]
    assert top["feature"] == "f0" and top["estimate"] < 0 and top["q_value"] < 1e-6
    assert len(pd.read_csv(out, sep="\t")) == m


def test_lm_lists_samples_dropped_by_rarefaction(cli: CliRun, tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    n = 20
    counts = rng.poisson(30, size=(n, 15)).astype(float)
    counts[0] = 0
    counts[0, 0] = 5  # 5 reads: below the depth
    samples = [f"s{k}" for k in range(n)]
    table_path = tmp_path / "t.biom"
    table_path.write_text(biom.Table(counts.T, [f"f{k}" for k in range(15)], samples).to_json("test"))
    meta = tmp_path / "m.csv"
    meta.write_text("id,AGE\n" + "".join(f"{s},{20 + k}\n" for k, s in enumerate(samples)))
    code, out, err = cli("lm", str(table_path), "--metadata", str(meta), "--rarefy", "100", "--formula",
                         "shannon ~ AGE", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["excluded"] == [{"id": "s0", "reason": "fewer than 100 reads (rarefaction)"}]
    assert result["n_observations"] == n - 1


def test_differential_with_subject_fits_mixed_models(cli: CliRun, tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    subjects, visits, m = 10, 3, 8
    n = subjects * visits
    samples = [f"s{k}" for k in range(n)]
    person = [f"p{k // visits}" for k in range(n)]
    week = [k % visits for k in range(n)]
    counts = rng.poisson(np.exp(3 + rng.normal(0, 0.5, (subjects, m))[np.arange(n) // visits])).astype(float)
    table_path = tmp_path / "t.biom"
    table_path.write_text(biom.Table(counts.T, [f"f{k}" for k in range(m)], samples).to_json("test"))
    meta = tmp_path / "m.tsv"
    meta.write_text("id\tperson\tweek\n" + "".join(f"{s}\t{p}\t{w}\n" for s, p, w in zip(samples, person, week,
                                                                                          strict=True)))
    code, stdout, err = cli("differential", str(table_path), "--metadata", str(meta), "--formula", "week",
                            "--subject", "person", "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert result["subject"] == "person" and "MixedLM" in result["method"]
    assert "relative to the other features" in result["caveat"]
    values = np.log(counts + 0.5) - np.log(counts + 0.5).mean(axis=1, keepdims=True)
    row = next(r for r in result["results"] if r["feature"] == "f2")
    frame = pd.DataFrame({"y": values[:, 2], "week": np.asarray(week, float), "person": person})
    fit = smf.mixedlm("y ~ week", frame, groups=frame["person"]).fit()
    assert row["estimate"] == pytest.approx(fit.params["week"], rel=1e-8)
    assert row["p_value"] == pytest.approx(fit.pvalues["week"], rel=1e-8)
    assert row["converged"] == bool(fit.converged) and row["subjects"] == subjects
    code, _, err = cli("differential", str(table_path), "--metadata", str(meta), "--formula", "week",
                       "--subject", "nobody")
    assert code == 2 and "nobody" in err


def test_differential_ancombc_equals_skbio_and_refuses_where_it_does_not_apply(cli: CliRun, tmp_path: Path) -> None:
    from skbio.stats.composition import ancombc as sk_ancombc

    rng = np.random.default_rng(6)
    n, m = 30, 10
    counts = rng.poisson(25, size=(n, m)).astype(float)
    samples = [f"s{k}" for k in range(n)]
    groups = ["athlete" if k % 2 else "sedentary" for k in range(n)]
    counts[1::2, 0] *= 6
    table_path = tmp_path / "t.biom"
    table_path.write_text(biom.Table(counts.T, [f"f{k}" for k in range(m)], samples).to_json("test"))
    meta = tmp_path / "m.tsv"
    meta.write_text("id\tgroup\tperson\n" + "".join(f"{s}\t{g}\tp{k // 2}\n"
                                                    for k, (s, g) in enumerate(zip(samples, groups, strict=True))))
    out = tmp_path / "da.tsv"
    code, stdout, err = cli("differential", str(table_path), "--metadata", str(meta), "--formula", "group",
                            "--method", "ancombc", "-o", str(out), "--json")
    assert code == 0, err
    result = json.loads(stdout)
    frame = pd.DataFrame({"group": groups}, index=samples)
    expected = sk_ancombc(pd.DataFrame(counts + 1, index=samples, columns=[f"f{k}" for k in range(m)]), frame,
                          "group", p_adjust="bh").result
    for row in result["results"]:
        assert row["estimate"] == pytest.approx(expected.loc[(row["feature"], row["term"]), "Log(FC)"], rel=1e-12)
        assert row["q_value"] == pytest.approx(expected.loc[(row["feature"], row["term"]), "qvalue"], rel=1e-12)
    assert result["results"][0]["feature"] == "f0" and result["results"][0]["method"] == "ancombc"
    assert list(pd.read_csv(out, sep="\t").columns) == ["feature", "term", "estimate", "std_error", "z", "p_value",
                                                         "q_value", "n", "method"]
    code, _, err = cli("differential", str(table_path), "--metadata", str(meta), "--formula", "group",
                       "--method", "ancombc", "--subject", "person")
    assert code == 2 and "--subject" in err and len(err.strip().splitlines()) == 1
    relative = tmp_path / "rel.biom"
    relative.write_text(biom.Table((counts / counts.sum(axis=1, keepdims=True)).T, [f"f{k}" for k in range(m)],
                                   samples).to_json("test"))
    code, _, err = cli("differential", str(relative), "--metadata", str(meta), "--formula", "group",
                       "--method", "ancombc")
    assert code == 2 and "counts" in err and len(err.strip().splitlines()) == 1
