"""Reference cohort files: the JSON written by ``gutstride reference``, and the reference shipped with gutstride.

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
    text = resources.files("gutstride.ingest.microbiome").joinpath("data").joinpath(DEFAULT_REFERENCE).read_text()
    return ReferenceCohort.from_json(text, DEFAULT_REFERENCE)
