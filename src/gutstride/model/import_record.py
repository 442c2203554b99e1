"""The import record: what happened to one input file."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Status = Literal["ok", "partial", "error", "duplicate", "skipped"]
Kind = Literal["activity", "microbiome", "log", "unknown"]


@dataclass
class ImportRecord:
    """What happened to one input file.

    ``status`` is ``ok``; ``partial`` (data recovered up to a fault, ``message`` says which); ``error``
    (nothing recovered, ``message`` says why); ``duplicate`` (already in the workspace); or ``skipped``
    (not a file gutstride reads, with the reason). Nothing is dropped without a record.
    """

    path: str
    status: Status
    message: str = ""
    kind: Kind = "unknown"
    format: str | None = None
    sha256: str | None = None
    n_items: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
