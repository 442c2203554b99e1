"""What a file is when no reader takes it: one reason, shared by ``import``, ``inspect`` and ``alpha``.

:func:`describe` names what the first bytes look like, from real signatures: a Daylio mood diary (its
``full_date,date,weekday,time,mood`` header), a zip that is not an export, a PDF, an image, binary data or text.
:func:`refusal` turns it into the one sentence every command prints for a file gutstride does not read.
"""

from __future__ import annotations

from pathlib import PurePosixPath

#: Header cells of a Daylio export (``full_date,date,weekday,time,mood,activities,note_title,note``).
_DAYLIO = frozenset({"full_date", "weekday", "mood"})
#: Kinds that are known not to be data gutstride reads (as opposed to unknown text).
KNOWN_OTHER = ("a Daylio mood diary (CSV)", "a zip archive that is not an export", "a PDF document", "an image",
               "an Apple Health export (read it with gutstride import)")


def _first_line_cells(head: bytes) -> set[str]:
    text = head[:4096].decode("utf-8-sig", errors="ignore")
    line = text.split("\n", 1)[0].strip("\r")
    sep = "\t" if "\t" in line else ";" if line.count(";") > line.count(",") else ","
    return {cell.strip().strip('"').lower() for cell in line.split(sep)}


def describe(head: bytes, name: str) -> str:
    """A short description of what a file looks like (``"a Daylio mood diary (CSV)"``, ``"text, .csv file"``)."""
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return KNOWN_OTHER[1]
    if head[:4] == b"%PDF":
        return KNOWN_OTHER[2]
    if head[:3] == b"\xff\xd8\xff" or head[:8] == b"\x89PNG\r\n\x1a\n":
        return KNOWN_OTHER[3]
    if _first_line_cells(head) >= _DAYLIO:
        return KNOWN_OTHER[0]
    if b"<!DOCTYPE HealthData" in head[:4096] or b"<HealthData" in head[:4096]:
        return KNOWN_OTHER[4]
    suffix = PurePosixPath(name).suffix.lower()
    try:
        head[: max(0, len(head) - 3)].decode("utf-8")
    except UnicodeDecodeError:
        return f"binary data{f', {suffix} file' if suffix else ''}"
    return f"text{f', {suffix} file' if suffix else ''}"


def refusal(head: bytes, name: str) -> str:
    """The reason a file is not read: ``not a file gutstride reads (WHAT): not an activity file, ...``."""
    return (f"not a file gutstride reads ({describe(head, name)}): not an activity file, a microbiome table "
            "or a log")


def is_known_other(head: bytes, name: str) -> bool:
    """True when the file is recognisably something gutstride does not read (see :data:`KNOWN_OTHER`)."""
    return describe(head, name) in KNOWN_OTHER
