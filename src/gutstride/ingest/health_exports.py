"""Route whole-account health exports (see :mod:`.bundle`) to their readers.

:func:`export_kind` recognises an export from its real signature, not its name:

* Apple Health: an ``export.zip`` whose ``export.xml`` starts like Apple Health's, or that ``export.xml`` itself;
* Google Fit (Takeout): ``Fit/All Sessions/*.json`` or ``Fit/Activities/*.tcx`` members;
* Runkeeper: a ``cardioActivities.csv`` member;
* Fitbit: ``exercise-N.json`` members.

Unzipped exports are found in a list of files by :func:`folder_exports` (the folder holding the signature files)
and read as one. :func:`read_export` opens an export and reads it in bounded memory: Apple's ``export.xml`` is
streamed through :class:`BoundedReader`, which stops at the zip-safety limits of
:class:`~gutstride.ingest.exports.ZipLimits` on the bytes actually decompressed; other members are read one at a
time under the same limits (:class:`~gutstride.ingest.container.ZipContainer`).
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from typing import IO

from gutstride.errors import BadInputError
from gutstride.ingest.bundle import ExportBundle
from gutstride.ingest.container import Container, FolderContainer, ZipContainer
from gutstride.ingest.exports import ZipLimits
from gutstride.ingest.fitbit import is_fitbit, read_fitbit
from gutstride.ingest.google_fit import is_google_fit, is_session_file, is_tcx_file, read_google_fit
from gutstride.ingest.runkeeper import is_runkeeper, read_runkeeper

#: Multi-file exports: kind -> (signature test on the file names, reader).
CONTAINER_KINDS: dict[str, tuple[Callable[[list[str]], bool], Callable[[Container, tzinfo], ExportBundle]]] = {
    "google-fit": (is_google_fit, lambda container, _zone: read_google_fit(container)),
    "runkeeper": (is_runkeeper, read_runkeeper),
    "fitbit": (is_fitbit, read_fitbit),
}


#: Fitbit's folders that hold ``exercise-N.json`` next to sibling folders of the same export.
FITBIT_FOLDERS = frozenset({"Physical Activity", "Global Export Data"})


def container_kind(names: list[str]) -> str | None:
    """The kind of multi-file export the file names hold, or None."""
    return next((kind for kind, (test, _) in CONTAINER_KINDS.items() if test(names)), None)


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
    """``"apple-health-zip"``, ``"apple-health-xml"``, a :data:`CONTAINER_KINDS` kind or None for a file
    (``head``: its first bytes)."""
    from gutstride.ingest.apple_health import export_member, sniff_apple_health

    if head[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(path) as archive:
                if export_member(archive) is not None:
                    return "apple-health-zip"
                return container_kind([info.filename for info in archive.infolist() if not info.is_dir()])
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError):
            return None
    if path.suffix.lower() == ".xml" and sniff_apple_health(head):
        return "apple-health-xml"
    return None


def folder_exports(files: list[Path]) -> dict[Path, str]:
    """Unzipped multi-file exports among ``files``: ``{root folder: kind}``.

    The root is the folder that holds ``cardioActivities.csv`` (Runkeeper), the ``Fit`` folder above
    ``All Sessions`` or ``Activities`` or their translations (Google Fit), or the folder holding
    ``exercise-N.json`` (Fitbit), or the one above it when that is one of Fitbit's own folders
    (:data:`FITBIT_FOLDERS`: heart-rate files then sit in a sibling folder).
    """
    roots: dict[Path, str] = {}
    for path in files:
        parent = path.parent
        if path.name == "cardioActivities.csv":
            roots.setdefault(parent, "runkeeper")
        elif is_session_file(path.as_posix()) or is_tcx_file(path.as_posix()):
            roots.setdefault(parent.parent, "google-fit")
        elif path.name.startswith("exercise-") and path.suffix == ".json":
            roots.setdefault(parent.parent if parent.name in FITBIT_FOLDERS else parent, "fitbit")
    return roots


def folder_digest(root: Path) -> str:
    """SHA-256 over the relative names and contents of the files of an unzipped export (its identity)."""
    digest = hashlib.sha256()
    container = FolderContainer(root)
    for name in container.names():
        digest.update(name.encode() + b"\0")
        with open(root / name, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def read_export(path: Path, kind: str, zone: tzinfo, limits: ZipLimits | None = None) -> ExportBundle:
    """Read the export at ``path`` (a zip, Apple's ``export.xml``, or a folder) of ``kind`` (from
    :func:`export_kind` or :func:`folder_exports`); ``zone`` is the time zone of local times."""
    from gutstride.ingest.apple_health import export_member, read_apple_health, route_files, route_members

    limits = limits or ZipLimits()
    if kind in CONTAINER_KINDS:
        reader = CONTAINER_KINDS[kind][1]
        if path.is_dir():
            return reader(FolderContainer(path), zone)
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise BadInputError(f"{path.name}: not a readable zip ({exc})") from None
        with archive:
            return reader(ZipContainer(archive, str(path), limits), zone)
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
