"""A whole-account export as a set of named files, whether it arrived as a zip or was unzipped into a folder.

Readers of multi-file exports (Google Fit Takeout, Runkeeper, Fitbit) take a :class:`Container`: ``names`` are
POSIX paths relative to the export's root, ``read(name)`` returns one file's bytes. A zip member is read with the
zip-safety limits of :mod:`gutstride.ingest.exports` (ratio, size and total budget on the bytes decompressed).
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath
from typing import Protocol

from gutstride.errors import BadInputError
from gutstride.ingest.exports import Budget, ZipLimits, read_member, unsafe_member_reason


class Container(Protocol):
    """Named files of one export."""

    label: str

    def names(self) -> list[str]: ...

    def read(self, name: str) -> bytes: ...


class FolderContainer:
    """The files under a folder (hidden ones left out), named relative to it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.label = str(root)
        self._names = sorted(
            p.relative_to(root).as_posix() for p in root.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
        )

    def names(self) -> list[str]:
        return list(self._names)

    def read(self, name: str) -> bytes:
        try:
            return (self.root / name).read_bytes()
        except OSError as exc:
            raise BadInputError(f"{name}: cannot read ({exc.strerror or exc})") from None


class ZipContainer:
    """The safe members of an open zip archive."""

    def __init__(self, archive: zipfile.ZipFile, label: str, limits: ZipLimits | None = None) -> None:
        self.archive = archive
        self.label = label
        self.budget = Budget(limits or ZipLimits())
        self._infos = {
            info.filename: info for info in archive.infolist()
            if not info.is_dir() and unsafe_member_reason(info.filename) is None
            and not info.filename.startswith("__MACOSX/")
        }

    def names(self) -> list[str]:
        return sorted(self._infos)

    def read(self, name: str) -> bytes:
        return read_member(self.archive, self._infos[name], self.budget, max_bytes=self.budget.limits.max_member_bytes)


def base_name(name: str) -> str:
    """The file name of a container path (``Takeout/Fit/All Sessions/x.json`` -> ``x.json``)."""
    return PurePosixPath(name).name
