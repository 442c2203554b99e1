"""Walk whole-account exports: Garmin Connect (zips of zips of FIT files) and Strava bulk exports.

A Garmin Connect export is a zip whose members include further zips (``DI_CONNECT/DI-Connect-Uploaded-Files/
UploadedFiles_0-_Part1.zip`` and so on) holding the original FIT files. A Strava bulk export is a zip with an
``activities.csv`` (one row per activity: name, type, perceived exertion, gear, and the ``Filename`` of its file)
and an ``activities/`` folder of ``.fit.gz``, ``.gpx.gz``, ``.tcx.gz`` and plain files.

:func:`iter_export` yields every leaf member of such a zip, at any nesting depth up to a limit, as an
:class:`ExportMember` with its bytes, or with the reason it was not read. Nothing is extracted: members are read
into memory, and only a large nested zip is spilled to an anonymous temporary file. With ``lazy=True`` a member
is not read at all until its consumer iterates :attr:`ExportMember.chunks` (the import pipeline does, and decides
from the first bytes what to keep), so memory stays bounded by one chunk however large the member.

Zip safety
----------
Archives come from users and the internet, so every limit is enforced on the bytes actually decompressed, not on
the sizes the zip headers claim (headers can lie):

* a member whose name is absolute (``/etc/passwd``, ``C:\\...``) or climbs out with ``..`` is skipped, never read;
* at most :attr:`ZipLimits.max_members` members in total, counted over all nested zips;
* at most :attr:`ZipLimits.max_total_bytes` decompressed bytes in total (a :class:`Budget` can be shared by
  several exports, e.g. all those of one import);
* each member is read in chunks and abandoned as soon as its decompressed size exceeds
  :attr:`ZipLimits.max_ratio` times its compressed size (a "zip bomb"), or the remaining total budget;
* a single file may be at most :attr:`ZipLimits.max_member_bytes` long;
* nested zips are expanded to :attr:`ZipLimits.max_depth` levels at most; one larger than
  :attr:`ZipLimits.spill_bytes` is spilled to a temporary file (deleted afterwards) rather than held in memory.

A member that breaks a per-member rule is skipped with the reason; breaking a whole-archive rule (member count,
total size) stops the walk with one skipped entry saying what was left unread.
"""

from __future__ import annotations

import csv
import io
import lzma
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, BinaryIO

from gutstride.errors import BadInputError

if TYPE_CHECKING:
    from gutstride.model.activity import Activity, ActivitySummary

#: Separator between an archive's path and a member's name in the labels of members (``export.zip!/a/b.fit``).
MEMBER_SEP = "!/"

_CHUNK = 1 << 20


@dataclass(frozen=True)
class ZipLimits:
    """Limits applied while walking an export (see the module docstring)."""

    max_members: int = 200_000
    max_total_bytes: int = 20 * 1024**3
    max_ratio: float = 200.0
    max_depth: int = 4
    #: Members smaller than this are never judged on their ratio (tiny text files compress "too well").
    ratio_floor_bytes: int = 1 << 20
    #: Largest single file read from an export (nested zips excepted: they are walked, not read whole).
    max_member_bytes: int = 1 << 30
    #: Nested zips larger than this are spilled to a temporary file instead of being held in memory.
    spill_bytes: int = 64 << 20


@dataclass
class ExportMember:
    """One leaf member of an export.

    ``label`` is the archive path and member names joined by ``!/``. ``data`` is the decompressed content, or
    ``None`` when the member was not read; then ``skip_reason`` says why. ``meta`` holds activity metadata joined
    from a Strava ``activities.csv`` (keys ``name``, ``sport``, ``perceived_exertion``, ``gear``,
    ``relative_effort``, ``strava_id``), empty when there is none. ``packed_size`` is the member's compressed size
    (used for progress). ``strava_rows`` is set on a Strava ``activities.csv`` itself: the number of its rows
    joined to files found in the export.
    """

    label: str
    data: bytes | None
    skip_reason: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    packed_size: int = 0
    strava_rows: int | None = None
    #: On a Strava ``activities.csv``: the activities of its rows that name no file (manual entries such as
    #: strength sessions), built from the list alone and without a stream; and how many rows name a file that
    #: is not in the export.
    strava_manual: list[Activity] = field(default_factory=list)
    strava_missing: int = 0
    #: In lazy mode: the member's decompressed content, chunk by chunk, with every limit applied (a limit hit
    #: raises :class:`~gutstride.errors.BadInputError`). Valid only until the walk moves on to the next member.
    chunks: Callable[[], Iterator[bytes]] | None = None


class Budget:
    """Counters shared by the outer zip and all nested zips (and by several exports, if given to each)."""

    def __init__(self, limits: ZipLimits) -> None:
        self.limits = limits
        self.members = 0
        self.bytes = 0
        #: Set when the total limit was hit while a lazy member was read; the walk stops at its next step.
        self.exhausted = ""


class _LimitExceeded(Exception):
    """A whole-archive limit was hit; the walk stops."""


def unsafe_member_reason(name: str) -> str | None:
    """Why the member ``name`` must not be read (absolute or climbing path), or ``None`` if it is safe."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        return f"unsafe member name {name!r}: absolute path"
    if ".." in PurePosixPath(norm).parts:
        return f"unsafe member name {name!r}: path traversal ('..')"
    return None


def is_zip(head: bytes) -> bool:
    """Whether ``head`` (the first bytes of a file) starts like a zip archive."""
    return head[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def iter_export(
    source: Path | bytes, label: str | None = None, limits: ZipLimits | None = None, lazy: bool = False,
    budget: Budget | None = None,
) -> Iterator[ExportMember]:
    """Yield every leaf member of the export zip ``source`` (a path or the zip's bytes).

    Nested ``.zip`` members are expanded recursively. Strava ``activities.csv`` rows are joined to the members
    named in their ``Filename`` column (see :func:`read_strava_csv`); the csv itself is yielded too, as a normal
    member, so it gets an import record. Raises :class:`~gutstride.errors.BadInputError` if ``source`` is not a
    readable zip. With ``lazy``, members come with :attr:`ExportMember.chunks` instead of ``data``. ``budget``
    (default: a new one from ``limits``) carries the member count and decompressed total across calls.
    """
    budget = budget or Budget(limits or ZipLimits())
    if label is None:
        label = str(source) if isinstance(source, Path) else "<zip>"
    handle: BinaryIO = open(source, "rb") if isinstance(source, Path) else io.BytesIO(source)  # noqa: SIM115
    with handle:
        try:
            yield from _walk(handle, label, budget, depth=0, lazy=lazy)
        except _LimitExceeded as exc:
            yield ExportMember(label, None, skip_reason=str(exc))


def _open_zip(handle: BinaryIO, label: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise BadInputError(f"{label}: not a readable zip archive ({exc})") from exc


def _walk(handle: BinaryIO, label: str, budget: Budget, depth: int, lazy: bool) -> Iterator[ExportMember]:
    limits = budget.limits
    if budget.exhausted:
        raise _LimitExceeded(budget.exhausted)
    with _open_zip(handle, label) as archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        budget.members += len(infos)
        if budget.members > limits.max_members:
            raise _LimitExceeded(
                f"too many members: more than {limits.max_members} files in the export; nothing more was read"
            )
        strava, manual = _strava_metadata(archive, infos, label, budget)
        found = sum(_strava_key(info.filename) in strava for info in infos)
        for info in infos:
            if budget.exhausted:
                raise _LimitExceeded(budget.exhausted)
            member_label = f"{label}{MEMBER_SEP}{info.filename}"
            unsafe = unsafe_member_reason(info.filename)
            if unsafe is not None:
                yield ExportMember(member_label, None, skip_reason=unsafe, packed_size=info.compress_size)
                continue
            if info.filename.startswith("__MACOSX/") or PurePosixPath(info.filename).name.startswith("._"):
                yield ExportMember(
                    member_label, None, skip_reason="macOS metadata (resource fork), not data",
                    packed_size=info.compress_size,
                )
                continue
            if info.flag_bits & 0x1:
                yield ExportMember(member_label, None, skip_reason="encrypted member", packed_size=info.compress_size)
                continue
            if info.filename.lower().endswith(".zip"):
                if depth + 1 >= limits.max_depth:
                    yield ExportMember(
                        member_label, None, skip_reason=f"zip nested deeper than {limits.max_depth} levels",
                        packed_size=info.compress_size,
                    )
                    continue
                yield from _walk_nested(archive, info, member_label, budget, depth + 1, lazy)
                continue
            meta = strava.get(_strava_key(info.filename), {})
            is_list = (strava or manual) and info.filename.lower() == "activities.csv"
            extra: dict[str, Any] = {"meta": meta, "packed_size": info.compress_size}
            if is_list:
                extra.update(strava_rows=found, strava_manual=manual, strava_missing=len(strava) - found)
            if lazy:
                def chunks(info: zipfile.ZipInfo = info) -> Iterator[bytes]:
                    return iter_member(archive, info, budget, max_bytes=limits.max_member_bytes)

                yield ExportMember(member_label, None, chunks=chunks, **extra)
                continue
            try:
                data = read_member(archive, info, budget, max_bytes=limits.max_member_bytes)
            except BadInputError as exc:
                yield ExportMember(member_label, None, skip_reason=str(exc), packed_size=info.compress_size)
                continue
            yield ExportMember(member_label, data, **extra)


def _walk_nested(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, budget: Budget, depth: int, lazy: bool
) -> Iterator[ExportMember]:
    """Walk a zip inside ``archive``: in memory if small, else spilled to a temporary file (bounded memory)."""
    skipped = ExportMember(label, None, packed_size=info.compress_size)
    with tempfile.SpooledTemporaryFile(max_size=budget.limits.spill_bytes, prefix="gutstride-") as spill:
        try:
            read_member(archive, info, budget, sink=spill)  # type: ignore[arg-type]
            spill.seek(0)
            head = spill.read(4)
            spill.seek(0)
            if not is_zip(head):
                skipped.skip_reason = "named .zip but not a zip archive"
                yield skipped
                return
            yield from _walk(spill, label, budget, depth, lazy)  # type: ignore[arg-type]
        except BadInputError as exc:
            skipped.skip_reason = str(exc)
            yield skipped


def read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget, sink: BinaryIO | None = None,
    max_bytes: int | None = None,
) -> bytes:
    """Read one member with caps on its decompressed size (see :func:`iter_member`).

    With a ``sink`` (a temporary file), the bytes go there and ``b""`` is returned, so memory stays bounded by one
    chunk. Hitting the total limit raises ``_LimitExceeded`` (the walk stops); any other cap ``BadInputError``.
    """
    chunks: list[bytes] = []
    try:
        for chunk in iter_member(archive, info, budget, max_bytes):
            if sink is None:
                chunks.append(chunk)
            else:
                sink.write(chunk)
    except BadInputError:
        if budget.exhausted:
            raise _LimitExceeded(budget.exhausted) from None
        raise
    return b"".join(chunks)


def iter_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget, max_bytes: int | None = None
) -> Iterator[bytes]:
    """One member's decompressed content in chunks, with caps: ratio, remaining total budget and ``max_bytes``.

    The caps are checked on the bytes actually produced by the decompressor, chunk by chunk, so a member whose
    header understates its size is still stopped. A cap raises :class:`~gutstride.errors.BadInputError`; for the
    total budget, ``budget.exhausted`` is set too, so the walk stops.
    """
    limits = budget.limits
    ratio_cap = max(limits.ratio_floor_bytes, int(info.compress_size * limits.max_ratio))
    remaining = limits.max_total_bytes - budget.bytes
    size = 0
    try:
        with archive.open(info) as stream:
            while True:
                chunk = stream.read(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > ratio_cap:
                    raise BadInputError(
                        f"compression ratio above {limits.max_ratio:g}:1 (possible zip bomb); member not read"
                    )
                if max_bytes is not None and size > max_bytes:
                    raise BadInputError(f"member larger than {max_bytes / 1024**2:g} MiB; not read")
                if size > remaining:
                    budget.bytes = limits.max_total_bytes
                    budget.exhausted = (
                        f"export exceeds {limits.max_total_bytes / 1024**3:g} GiB uncompressed; nothing more was read"
                    )
                    raise BadInputError(budget.exhausted)
                yield chunk
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError, zlib.error,
            lzma.LZMAError) as exc:
        raise BadInputError(f"unreadable zip member ({exc})") from exc
    finally:
        budget.bytes += size


# -- Strava ---------------------------------------------------------------------------------------------------

#: Strava's ``Activity Type`` values mapped onto :data:`gutstride.model.activity.SPORTS`.
STRAVA_SPORTS = {
    "run": "running", "trail run": "trail_running", "virtual run": "treadmill_running", "walk": "walking",
    "hike": "hiking", "ride": "cycling", "mountain bike ride": "cycling", "gravel ride": "cycling",
    "e-bike ride": "cycling", "virtual ride": "indoor_cycling", "swim": "swimming", "rowing": "rowing",
    "weight training": "strength", "yoga": "yoga", "workout": "cross_training", "crossfit": "cross_training",
    "elliptical": "cross_training", "alpine ski": "skiing", "backcountry ski": "skiing", "nordic ski": "skiing",
}


def _strava_key(name: str) -> str:
    return name.replace("\\", "/").lstrip("./").lower()


def _strava_metadata(
    archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], label: str, budget: Budget
) -> tuple[dict[str, dict[str, Any]], list[Activity]]:
    """The rows of a Strava ``activities.csv`` at the root of ``archive``: those naming a file, keyed by member name
    (lower case), and the activities of those naming none (see :func:`parse_strava_csv`)."""
    for info in infos:
        if info.filename.lower() == "activities.csv":
            try:
                text = read_member(archive, info, budget).decode("utf-8-sig", errors="replace")
            except BadInputError:
                return {}, []
            return parse_strava_csv(text)
    return {}, []


def read_strava_csv(text: str) -> dict[str, dict[str, Any]]:
    """The rows of a Strava ``activities.csv`` that name a file: ``{filename (lower case): metadata}``.

    See :func:`parse_strava_csv`.
    """
    return parse_strava_csv(text)[0]


#: How Strava writes ``Activity Date`` (in UTC), newest first; a date alone is not enough to place an activity.
STRAVA_DATE_FORMATS = ("%b %d, %Y, %I:%M:%S %p", "%d %b %Y, %H:%M:%S", "%Y-%m-%d %H:%M:%S")


def parse_strava_csv(text: str) -> tuple[dict[str, dict[str, Any]], list[Activity]]:
    """Parse a Strava ``activities.csv``: ``({filename (lower case): metadata}, manual activities)``.

    Metadata keys: ``name`` (Activity Name), ``sport`` (Activity Type mapped by :data:`STRAVA_SPORTS`, ``None``
    if unknown), ``strava_type`` (as written), ``perceived_exertion`` (Perceived Exertion, Strava's 1-10 scale),
    ``relative_effort`` (Strava's own heart-rate score; *not* a perceived exertion and kept apart), ``gear``
    (Activity Gear) and ``strava_id`` (Activity ID). The csv repeats some column names; the first is used.

    A row naming no file (a manual entry: a strength session logged by hand) becomes an
    :class:`~gutstride.model.activity.Activity` without a stream: sport, start (``Activity Date`` in UTC, with its
    time of day, one of :data:`STRAVA_DATE_FORMATS`), duration (the first ``Elapsed Time``, seconds), distance
    (the first ``Distance``, km), name, perceived exertion and gear. A manual row without a readable start or
    duration is left out (it cannot be placed in time).
    """
    from datetime import UTC, datetime

    from gutstride.model.activity import Activity, ActivitySummary, empty_stream

    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return {}, []
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        index.setdefault(name.strip().lower(), i)
    if "filename" not in index:
        return {}, []

    def cell(row: list[str], column: str) -> str | None:
        i = index.get(column)
        if i is None or i >= len(row):
            return None
        value = row[i].strip()
        return value or None

    def start(text: str | None) -> datetime | None:
        for fmt in STRAVA_DATE_FORMATS:
            try:
                return datetime.strptime(text or "", fmt).replace(tzinfo=UTC)
            except ValueError:
                continue
        return None

    out: dict[str, dict[str, Any]] = {}
    manual: list[Activity] = []
    try:
        for row in reader:
            strava_type = cell(row, "activity type")
            meta = {
                "name": cell(row, "activity name"),
                "sport": STRAVA_SPORTS.get((strava_type or "").lower()),
                "strava_type": strava_type,
                "perceived_exertion": _number(cell(row, "perceived exertion")),
                "relative_effort": _number(cell(row, "relative effort")),
                "gear": cell(row, "activity gear"),
                "strava_id": cell(row, "activity id"),
            }
            filename = cell(row, "filename")
            if filename:
                out[_strava_key(filename)] = meta
                continue
            began, elapsed = start(cell(row, "activity date")), _number(cell(row, "elapsed time"))
            if began is None or elapsed is None or elapsed < 0:
                continue
            km = _number(cell(row, "distance"))
            sport = STRAVA_SPORTS.get((strava_type or "").lower(), "other")
            summary = ActivitySummary(
                sport=sport, start_time=began, duration_s=elapsed,
                distance_m=km * 1000 if km is not None and km >= 0 else None, name=cell(row, "activity name"),
                perceived_exertion=_number(cell(row, "perceived exertion")), gear=cell(row, "activity gear"),
            )
            manual.append(Activity(summary, empty_stream(0)))
    except csv.Error:
        pass
    return out, manual


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        return None
    return value if value == value else None


def apply_strava_meta(summary: ActivitySummary, meta: dict[str, Any]) -> None:
    """Fill an activity summary from its ``activities.csv`` row: name, perceived exertion, gear, and the sport
    when the file itself did not say (``"other"``)."""
    if meta.get("name"):
        summary.name = meta["name"]
    if meta.get("perceived_exertion") is not None:
        summary.perceived_exertion = meta["perceived_exertion"]
    if meta.get("gear"):
        summary.gear = meta["gear"]
    if meta.get("sport") and summary.sport in (None, "other"):
        summary.sport = meta["sport"]
