"""Where an athlete's files live: one small interface over a key space, with a local-folder implementation.

Every file gutstride keeps for an athlete sits under the athlete's prefix, ``athletes/<id>/``:

====================================  ===================================================================
key                                   what
====================================  ===================================================================
``athletes/<id>/streams/<a>.parquet``      per-sample stream of activity ``a``
``athletes/<id>/streams/<a>.rr.parquet``   its R-R intervals (HRV), when the file held any
``athletes/<id>/microbiome/<s>.parquet``   features of microbiome sample row ``s``
``athletes/<id>/uploads/<sha256>/<name>``  the original file an import read
====================================  ===================================================================

So an athlete's export reads one prefix and their erasure deletes one prefix. Keys use ``/`` whatever the
operating system; a key never starts with ``/`` and never holds ``..`` (checked), so a key cannot leave the root.
An S3-compatible implementation (``pyarrow.fs``) can take the same interface.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from gutstride.errors import BadInputError, MissingDataError


def checked_athlete_id(athlete_id: object) -> int:
    """``athlete_id`` as an int; a missing or malformed id is refused (:class:`MissingDataError`), never defaulted."""
    if isinstance(athlete_id, bool) or not isinstance(athlete_id, int):
        raise MissingDataError(f"no athlete given (athlete id {athlete_id!r})")
    return athlete_id


def athlete_prefix(athlete_id: int) -> str:
    """The key prefix of everything stored for ``athlete_id`` (``athletes/<id>/``)."""
    return f"athletes/{checked_athlete_id(athlete_id)}/"


class Storage(Protocol):
    """Files by key. Implementations: :class:`LocalStorage`."""

    def write_bytes(self, key: str, data: bytes) -> None: ...

    def put_file(self, key: str, path: Path) -> None: ...

    def read_bytes(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def local_path(self, key: str) -> Path: ...

    def list(self, prefix: str) -> list[str]: ...

    def delete(self, key: str) -> None: ...

    def delete_prefix(self, prefix: str) -> int: ...


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in parts[:-1]) or \
            parts[-1] in ("", ".", ".."):
        raise BadInputError(f"invalid storage key {key!r}")
    return key


class LocalStorage:
    """:class:`Storage` in a local folder. Writes go to a temporary file first and are renamed into place, so a
    reader never sees half a file, even after a crash."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def local_path(self, key: str) -> Path:
        """The file that holds ``key`` (it may not exist)."""
        return self.root.joinpath(*_check_key(key).split("/"))

    def _write_atomically(self, key: str, write: Callable[[Path], object]) -> None:
        target = self.local_path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        os.close(fd)
        try:
            write(Path(tmp))
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def write_bytes(self, key: str, data: bytes) -> None:
        self._write_atomically(key, lambda tmp: tmp.write_bytes(data))

    def put_file(self, key: str, path: Path) -> None:
        """Copy the file at ``path`` to ``key`` (in chunks: it may be large)."""
        self._write_atomically(key, lambda tmp: shutil.copyfile(path, tmp))

    def read_bytes(self, key: str) -> bytes:
        return self.local_path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self.local_path(key).is_file()

    def _walk(self, prefix: str) -> Iterator[Path]:
        base = self.root.joinpath(*[p for p in prefix.split("/") if p])
        if base.is_dir():
            yield from (p for p in base.rglob("*") if p.is_file())

    def list(self, prefix: str) -> list[str]:
        """Every key under ``prefix`` (a folder-like prefix ending in ``/``), sorted."""
        return sorted(p.relative_to(self.root).as_posix() for p in self._walk(prefix))

    def delete(self, key: str) -> None:
        self.local_path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> int:
        """Delete every key under ``prefix``; return how many files were removed."""
        if not prefix.endswith("/"):
            raise BadInputError(f"a prefix to delete must end with '/', not {prefix!r}")
        n = sum(1 for _ in self._walk(prefix))
        base = self.root.joinpath(*[p for p in prefix.split("/") if p])
        if base.is_dir():
            shutil.rmtree(base)
        return n
