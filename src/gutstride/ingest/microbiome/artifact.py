"""QIIME 2 artifacts (``.qza``): read a member straight from the zip, after checking the artifact type.

The feature-table reader built on this is :mod:`gutstride.ingest.microbiome.qza`.

An artifact is a zip holding one top-level folder named by its UUID, with ``metadata.yaml`` (``uuid``, ``type``,
``format``) and the payload under ``data/`` (``feature-table.biom``, ``taxonomy.tsv``, ``tree.nwk``...). Nothing
is extracted to disk.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from gutstride.errors import BadInputError, MissingDataError, UnsupportedFormatError

#: The payload file of each artifact type family (the part before ``[``).
_PAYLOAD = {
    "FeatureTable": "feature-table.biom",
    "FeatureData": "taxonomy.tsv",
    "Phylogeny": "tree.nwk",
    "DistanceMatrix": "distance-matrix.tsv",
}

#: Refuse members larger than this when decompressed (protects against zip bombs).
MAX_MEMBER_BYTES = 4 * 1024**3

_TYPE_LINE = re.compile(r"^type:\s*(.+?)\s*$", re.MULTILINE)


def _artifact_root(names: list[str], source: str) -> str:
    roots = {n.split("/", 1)[0] for n in names if "/" in n}
    metas = [n for n in names if n.count("/") == 1 and n.endswith("/metadata.yaml")]
    if len(metas) != 1:
        raise BadInputError(
            f"{source}: not a QIIME 2 artifact: expected one <uuid>/metadata.yaml, found {len(metas)} "
            f"(top-level folders: {', '.join(sorted(roots)[:5]) or 'none'})"
        )
    return metas[0].split("/", 1)[0]


def read_qza_member(path: Path, allowed_types: tuple[str, ...]) -> tuple[str, str, bytes]:
    """Read the payload of a QIIME 2 artifact without extracting it.

    Parameters
    ----------
    path
        The ``.qza`` file.
    allowed_types
        Accepted semantic types, e.g. ``("FeatureTable[Frequency]",)`` or ``("Phylogeny[Rooted]",)``.

    Returns
    -------
    tuple
        ``(artifact_type, member_filename, content)``, e.g. ``("Phylogeny[Rooted]", "tree.nwk", b"(...);")``; the
        filename is relative to ``data/``.

    Raises
    ------
    BadInputError
        Not a zip, no ``<uuid>/metadata.yaml``, no ``type:`` line, or no payload file.
    UnsupportedFormatError
        The artifact's type is not one of ``allowed_types``.
    """
    path = Path(path)
    source = path.name
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BadInputError(f"{source}: not a readable QIIME 2 artifact (zip): {exc}") from exc
    with archive:
        infos = {info.filename: info for info in archive.infolist()}
        root = _artifact_root(list(infos), source)
        meta = archive.read(f"{root}/metadata.yaml").decode("utf-8", errors="replace")
        found = _TYPE_LINE.search(meta)
        if not found:
            raise BadInputError(f"{source}: {root}/metadata.yaml has no 'type:' line")
        artifact_type = found.group(1).strip("'\"")
        if artifact_type not in allowed_types:
            raise UnsupportedFormatError(
                f"{source}: artifact type {artifact_type} is not accepted here (expected {', '.join(allowed_types)})"
            )
        data_prefix = f"{root}/data/"
        payloads = [n for n in infos if n.startswith(data_prefix) and not n.endswith("/")]
        wanted = _PAYLOAD.get(artifact_type.split("[", 1)[0])
        member = data_prefix + wanted if wanted and data_prefix + wanted in infos else None
        if member is None and len(payloads) == 1:
            member = payloads[0]
        if member is None:
            raise BadInputError(
                f"{source}: no {wanted or 'payload'} under {data_prefix} "
                f"(found: {', '.join(n[len(data_prefix):] for n in payloads) or 'nothing'})"
            )
        if infos[member].file_size > MAX_MEMBER_BYTES:
            raise BadInputError(f"{source}: {member} is larger than {MAX_MEMBER_BYTES} bytes uncompressed")
        return artifact_type, member[len(data_prefix) :], archive.read(member)


def read_file_or_artifact(path: Path, allowed_types: tuple[str, ...]) -> tuple[bytes, str]:
    """The bytes of a plain file, or of the payload of a ``.qza`` artifact of one of ``allowed_types``.

    Returns the bytes and a source label for messages (``file`` or ``file.qza:member``).

    Raises
    ------
    MissingDataError
        No such file.
    BadInputError, UnsupportedFormatError
        The file cannot be read, or the artifact is not of an allowed type (see :func:`read_qza_member`).
    """
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"{path}: no such file")
    if path.suffix.lower() == ".qza":
        _, member, raw = read_qza_member(path, allowed_types)
        return raw, f"{path}:{member}"
    try:
        return path.read_bytes(), str(path)
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read: {exc.strerror}") from None
