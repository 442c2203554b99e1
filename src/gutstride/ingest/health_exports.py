"""Route whole-account health exports (Apple Health; see :mod:`.bundle`) to their readers.

:func:`export_kind` recognises an export from its real signature, not its name: an ``export.zip`` whose
``export.xml`` starts like Apple Health's, or that ``export.xml`` itself. :func:`read_export` opens it and reads
it in bounded memory: a zip member is streamed through :class:`BoundedReader`, which stops at the zip-safety
limits of :class:`~gutstride.ingest.exports.ZipLimits` on the bytes actually decompressed.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import IO

from gutstride.errors import BadInputError
from gutstride.ingest.bundle import ExportBundle
from gutstride.ingest.exports import ZipLimits


class BoundedReader:
    """A read-only stream that raises :class:`BadInputError` once more than ``max_bytes`` were read."""

    def __init__(self, raw: IO[bytes], max_bytes: int, what: str) -> None:
        self.raw = raw
        self.max_bytes = max_bytes
        self.what = what
        self.done = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        self.done += len(chunk)
        if self.done > self.max_bytes:
            raise BadInputError(
                f"{self.what}: more than {self.max_bytes / 1024**3:.3g} GiB decompressed (zip-safety limit); not read"
            )
        return chunk


def export_kind(path: Path, head: bytes) -> str | None:
    """``"apple-health-zip"``, ``"apple-health-xml"`` or None for a file (``head``: its first bytes)."""
    from gutstride.ingest.apple_health import export_member, sniff_apple_health

    if head[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(path) as archive:
                return "apple-health-zip" if export_member(archive) is not None else None
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            return None
    if path.suffix.lower() == ".xml" and sniff_apple_health(head):
        return "apple-health-xml"
    return None


def read_export(path: Path, kind: str, limits: ZipLimits | None = None) -> ExportBundle:
    """Read the export at ``path`` of ``kind`` (from :func:`export_kind`)."""
    from gutstride.ingest.apple_health import export_member, read_apple_health, route_files, route_members

    limits = limits or ZipLimits()
    if kind == "apple-health-xml":
        with open(path, "rb") as handle:
            return read_apple_health(handle, route_files(path))
    if kind == "apple-health-zip":
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise BadInputError(f"{path.name}: not a readable zip ({exc})") from None
        with archive:
            info = export_member(archive)
            if info is None:
                raise BadInputError(f"{path.name}: no Apple Health export.xml inside")
            cap = min(limits.max_total_bytes, max(limits.ratio_floor_bytes, int(info.compress_size * limits.max_ratio)))
            with archive.open(info) as raw:
                return read_apple_health(BoundedReader(raw, cap, info.filename), route_members(archive))
    raise BadInputError(f"{path.name}: unknown export kind {kind!r}")
