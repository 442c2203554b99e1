"""Reference cohorts: build one from a cohort table, read one written by ``gutstride reference``, or the shipped one.

The shipped reference, ``data/reference_ag_fecal.json``, summarises 143 faecal samples of the American Gut Project
(``tests/data/microbiome/american-gut``); ``tests/analysis/microbiome/test_reference.py`` rebuilds it from them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from gutstride.analysis.microbiome.reference import ReferenceCohort
from gutstride.errors import BadInputError, MissingDataError

DEFAULT_REFERENCE = "reference_ag_fecal.json"


def read_reference(path: Path) -> ReferenceCohort:
    """A reference cohort from a file written by ``gutstride reference``."""
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{path}: cannot read ({exc})") from None
    return ReferenceCohort.from_json(text, str(path))


def load_default_reference() -> ReferenceCohort:
    """The reference shipped with gutstride: American Gut Project faecal samples (see its ``origin``)."""
    text = resources.files("gutstride.services").joinpath("data").joinpath(DEFAULT_REFERENCE).read_text()
    return ReferenceCohort.from_json(text, DEFAULT_REFERENCE)


def build_reference_file(table_path: Path, output: Path, name: str, origin: str, metadata: Path | None = None,
                         where: list[str] | None = None, host_column: str | None = None) -> ReferenceCohort:
    """Build a reference cohort from the table at ``table_path`` (samples chosen by ``where`` on ``metadata``) and
    write it as JSON to ``output``."""
    from gutstride.analysis.microbiome.reference import build_reference
    from gutstride.ingest.microbiome.cohort import cohort_subset
    from gutstride.ingest.microbiome.read import read_table

    cohort, hosts = cohort_subset(read_table(table_path), metadata, where or [], host_column)
    ref = build_reference(cohort, name, origin, hosts)
    output.write_text(ref.to_json(), encoding="utf-8")
    return ref
