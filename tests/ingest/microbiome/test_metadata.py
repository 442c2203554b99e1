"""Sample metadata from QIIME 2, R and spreadsheets: every layout gives the same ids, values and column types."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gutstride.errors import BadInputError, MissingDataError
from gutstride.ingest.microbiome.metadata import parse_metadata, read_metadata, read_sample_metadata

AG = Path(__file__).resolve().parents[2] / "data" / "microbiome" / "american-gut" / "AG_debug"

FRAME = pd.DataFrame(
    {"VO2_max": [41.5, 55.0, 38.25, 60.0], "Groupe": ["athlete", "sedentary, office", "athlete", "sedentary"]},
    index=pd.Index(["S1", "S2", "S3", "S4"], name="sample-id"),
)


def r_write_table(frame: pd.DataFrame, sep: str = " ") -> str:
    """What R's ``write.table(df)`` writes: quoted strings, a header without a cell above the row names."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    writer.writerow(list(frame.columns))
    for sample, row in frame.iterrows():
        writer.writerow([sample, *row.tolist()])
    return out.getvalue()


def layouts(frame: pd.DataFrame) -> dict[str, str]:
    q2 = frame.to_csv(sep="\t", lineterminator="\n").splitlines()
    q2.insert(1, "#q2:types\t" + "\t".join("numeric" if c == "VO2_max" else "categorical" for c in frame.columns))
    return {
        "qiime2": "\n".join(q2) + "\n",
        "csv": frame.to_csv(lineterminator="\n"),
        "write.csv": frame.rename_axis(None).to_csv(quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n"),
        "write.table": r_write_table(frame),
        "write.table-tab": r_write_table(frame, "\t"),
        "semicolon": frame.to_csv(sep=";", lineterminator="\r\n"),
    }


@pytest.mark.parametrize("layout", list(layouts(FRAME)))
def test_every_layout_reads_the_same(tmp_path: Path, layout: str) -> None:
    path = tmp_path / f"{layout}.txt"
    path.write_text(layouts(FRAME)[layout])
    meta = read_metadata(path)
    assert meta.columns == ["VO2_max", "Groupe"]
    assert list(meta.values) == list(FRAME.index)
    assert meta.types == {"VO2_max": "numeric", "Groupe": "categorical"}
    for sample, row in FRAME.iterrows():
        assert meta.numeric(sample, "VO2_max") == row["VO2_max"]
        assert meta.values[sample]["Groupe"] == row["Groupe"]


def test_q2_types_override_inference_and_are_checked() -> None:
    text = "id\tweek\tscore\n#q2:types\tcategorical\tnumeric\nA\t1\t2.5\nB\t2\t\n"
    meta = parse_metadata(text, "m.tsv")
    assert meta.types == {"week": "categorical", "score": "numeric"}
    assert meta.values["B"] == {"week": "2"}
    with pytest.raises(BadInputError, match="declared numeric but holds 'x'"):
        parse_metadata("id\tscore\n#q2:types\tnumeric\nA\tx\n", "m.tsv")
    with pytest.raises(BadInputError, match="unknown type 'float'"):
        parse_metadata("id\tscore\n#q2:types\tfloat\nA\t1\n", "m.tsv")


def test_id_column_and_r_missing_values() -> None:
    text = "run,subject,BMI\nr1,P1,22.5\nr2,P2,NA\n"
    meta = parse_metadata(text, "m.csv", id_column="subject")
    assert list(meta.values) == ["P1", "P2"] and meta.columns == ["run", "BMI"]
    assert meta.values["P2"] == {"run": "r2"} and meta.is_numeric("BMI")
    with pytest.raises(MissingDataError, match="no id column 'nope'"):
        parse_metadata(text, "m.csv", id_column="nope")


def test_american_gut_mapping_file() -> None:
    columns, values = read_sample_metadata(AG / "AG_100nt.txt")
    lines = [line for line in (AG / "AG_100nt.txt").read_text().splitlines()[1:] if line.strip()]
    assert "EXERCISE_FREQUENCY" in columns and list(values) == [line.split("\t")[0] for line in lines]
    first = next(iter(values.values()))
    assert first["BODY_SITE"] == "UBERON:feces"


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty file"), ("id\tx\nA\t1\nA\t2\n", "more than once"), ("id\tx\nA\t1\t2\t3\n", "has 4 cells")],
)
def test_bad_files(text: str, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        parse_metadata(text, "m.tsv")


cells = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), max_size=8).map(str.strip)


@settings(max_examples=60, deadline=None)
@given(
    ids=st.lists(st.from_regex(r"[A-Za-z][A-Za-z0-9._-]{0,8}", fullmatch=True), min_size=1, max_size=6, unique=True),
    numbers=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=6, max_size=6),
    words=st.lists(cells.filter(lambda s: s not in ("", "NA") and not s.startswith("#")), min_size=6, max_size=6),
    layout=st.sampled_from(["qiime2", "csv", "write.csv", "write.table", "write.table-tab", "semicolon"]),
)
def test_round_trip_of_random_frames(ids: list[str], numbers: list[float], words: list[str], layout: str) -> None:
    frame = pd.DataFrame(
        {"VO2_max": numbers[: len(ids)], "Groupe": words[: len(ids)]}, index=pd.Index(ids, name="sample-id")
    )
    meta = parse_metadata(layouts(frame)[layout], layout)
    assert list(meta.values) == ids
    for sample, row in frame.iterrows():
        assert meta.numeric(sample, "VO2_max") == pytest.approx(row["VO2_max"], rel=1e-12, abs=1e-300)
        assert meta.values[sample]["Groupe"] == row["Groupe"]
    assert meta.is_numeric("VO2_max")


def test_extra_missing_markers_make_a_column_numeric() -> None:
    text = "#SampleID\tAGE\tSEX\nA\t32.0\tfemale\nB\tno_data\tNone\nC\t0.5\tmale\n"
    assert parse_metadata(text, "m.txt").types["AGE"] == "categorical"
    meta = parse_metadata(text, "m.txt", missing=("no_data", "None"))
    assert meta.types == {"AGE": "numeric", "SEX": "categorical"} and meta.values["B"] == {}


PIECES = [*'ab1.,;\t "#\n\r\x00', "NA", "#q2:types", "numeric"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=80).map("".join))
def test_any_text_gives_metadata_or_a_gutstride_error(text: str) -> None:
    from gutstride.errors import GutstrideError

    try:
        meta = parse_metadata(text, "fuzz.txt")
    except GutstrideError:
        return
    assert all(set(values) <= set(meta.columns) for values in meta.values.values())
    assert set(meta.types) == set(meta.columns)
