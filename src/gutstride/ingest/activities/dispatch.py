"""Route one activity file to its reader: gunzip if needed, sniff the format, decode.

Sniffing looks at the content first and uses the file name only as a tie-breaker:

* FIT: the 4 bytes ".FIT" at offset 8 of the header;
* GPX / TCX: the root element of an XML document (``<gpx`` / ``<TrainingCenterDatabase``, any prefix), found in
  the first few kilobytes after the XML declaration, comments and doctype;
* CSV summary: a first line whose headers name a start time and a sport or duration
  (:func:`summary_csv.looks_like_summary_header`);
* otherwise, a ``.fit``/``.gpx``/``.tcx`` name is trusted so the reader can say what is wrong with the file.

Gzip (``\\x1f\\x8b`` magic) is decompressed first, refusing output above :data:`MAX_DECOMPRESSED` bytes.

An activity without an absolute start time (a FIT file holding only relative timestamps, such as a device's
ANT-FS dump) is kept, but the file's status becomes "partial" (:mod:`gutstride.ingest.activities.undated`): it cannot be
placed in time, so the time-based analyses leave it out.
"""

from __future__ import annotations

import re
import zlib
from datetime import tzinfo

from gutstride.ingest.activities.summary_csv import looks_like_summary_header
from gutstride.ingest.activities.undated import undated_status
from gutstride.model.activity import DecodedFile

#: Largest activity file read (after gzip decompression): 64 MiB. The largest real activity files are far
#: smaller (a day of 1-second records is about 4 MB as FIT and 25 MB as GPX), and decoding one of this size
#: stays within a few hundred MB, which keeps an import's memory bounded however large or hostile its input.
MAX_ACTIVITY_BYTES = 64 << 20
#: Largest decompressed size accepted from a .gz activity file.
MAX_DECOMPRESSED = MAX_ACTIVITY_BYTES
GZIP_MAGIC = b"\x1f\x8b"
NOT_ACTIVITY = "not an activity file (FIT, GPX, TCX or CSV summary)"
_SNIFF_BYTES = 4096
_XML_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?(gpx|TrainingCenterDatabase)\b")
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def _strip_gz_name(name: str) -> str:
    return name[:-3] if name.lower().endswith(".gz") else name


def _xml_text(head: bytes) -> bytes:
    """The head as ASCII-compatible bytes (UTF-16 with a BOM is narrowed for sniffing)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", "ignore").encode("utf-8", "ignore")
    return head[3:] if head.startswith(_BOMS[0]) else head


def sniff_activity_format(head: bytes, name: str) -> str | None:
    """"fit", "gpx", "tcx" or "csv" from the first bytes of a file (at least 4 KiB if the file has them) and its
    name; None when it is not an activity file. A gzip head is not decompressed here: pass the decompressed head.
    """
    if len(head) >= 12 and head[8:12] == b".FIT":
        return "fit"
    text = _xml_text(head[:_SNIFF_BYTES])
    from gutstride.ingest.activities.xmlstream import document_start

    stripped = text[document_start(text):]
    if stripped.startswith(b"<"):
        match = _XML_ROOT.search(text)
        if match:
            return "gpx" if match.group(1) == b"gpx" else "tcx"
    else:
        first_line = text.split(b"\n", 1)[0].decode("utf-8", "replace").strip("\r")
        if any(sep in first_line for sep in ",;\t") and looks_like_summary_header(first_line):
            return "csv"
    suffix = _strip_gz_name(name).lower().rsplit(".", 1)[-1] if "." in name else ""
    if suffix in ("fit", "gpx", "tcx") and not (suffix == "fit" and stripped.startswith(b"<")):
        return suffix
    return None


def gunzip_bounded(data: bytes, limit: int = MAX_DECOMPRESSED) -> bytes:
    """Decompress gzip data (several members allowed), refusing output above ``limit`` bytes.

    Raises ValueError with the reason when the output would be too large or the data is corrupt.
    """
    out = bytearray()
    rest = data
    while rest:
        decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
        pending = rest
        try:
            while True:
                chunk = decomp.decompress(pending, limit + 1 - len(out))
                out += chunk
                if len(out) > limit:
                    raise ValueError(f"gzip content larger than the {limit} byte limit: refused")
                if decomp.eof:
                    break
                pending = decomp.unconsumed_tail
                if not chunk and not pending:
                    raise ValueError("truncated gzip data")
        except zlib.error as exc:
            raise ValueError(f"corrupt gzip data ({exc})") from exc
        rest = decomp.unused_data
        if not rest.startswith(GZIP_MAGIC):
            break  # trailing bytes after the last member are ignored, as gzip(1) does
    return bytes(out)


def decode_activity(data: bytes, name: str, zone: tzinfo | None = None) -> DecodedFile:
    """Decode one activity file (FIT, GPX, TCX or CSV summary, optionally gzipped) of any origin.

    ``zone`` is the time zone of local times written without an offset (CSV summaries); by default the
    machine's. Never raises for bad content: the reason is in the returned :class:`DecodedFile` (status "error").
    """
    if data[:2] == GZIP_MAGIC:
        try:
            data = gunzip_bounded(data)
        except ValueError as exc:
            return DecodedFile(format="unknown", status="error", message=str(exc))
        name = _strip_gz_name(name)
    fmt = sniff_activity_format(data[:_SNIFF_BYTES], name)
    if fmt == "fit":
        from gutstride.ingest.activities.fit import read_fit

        decoded = read_fit(data, name)
    elif fmt == "gpx":
        from gutstride.ingest.activities.gpx import read_gpx

        decoded = read_gpx(data, name)
    elif fmt == "tcx":
        from gutstride.ingest.activities.tcx import read_tcx
        from gutstride.ingest.activities.tcx_segments import is_google_fit_tcx, merge_segments

        decoded = read_tcx(data, name)
        if is_google_fit_tcx(data):
            decoded = merge_segments(decoded)
    elif fmt == "csv":
        from gutstride.ingest.activities.summary_csv import read_summary_csv

        decoded = read_summary_csv(data, name, zone)
    else:
        from gutstride.ingest.identify import describe, is_known_other

        head = data[:_SNIFF_BYTES]
        message = f"{NOT_ACTIVITY}: {describe(head, name)}" if is_known_other(head, name) else NOT_ACTIVITY
        return DecodedFile(format="unknown", status="error", message=message)
    return _mark_undated(decoded)


def _mark_undated(decoded: DecodedFile) -> DecodedFile:
    """Make ``decoded`` "partial" with :data:`UNDATED` when any of its activities has no start time."""
    undated = sum(activity.summary.start_time is None for activity in decoded.activities)
    status, decoded.message = undated_status(decoded.status, decoded.message, undated, len(decoded.activities))
    decoded.status = status  # type: ignore[assignment]
    return decoded
