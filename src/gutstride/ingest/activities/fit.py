"""FIT (Flexible and Interoperable Data Transfer) activity decoder.

The decoder works in two passes over the bytes:

1. **Scan.** A compiled loop (C, in ``_gutstride_native``, built at install) walks the record headers to find
   where every data message starts and which definition it uses. Definition messages stop the loop and are
   parsed in Python (once per distinct definition: files often repeat the same one).
2. **Decode.** For every distinct definition, all its data messages are taken at once as an (n, size) byte
   matrix (a strided view of the file when they are evenly spaced, else one gather), and each wanted field is a
   column slice viewed as the definition's base type and byte order. Invalid sentinels become NaN; scale and
   offset from Garmin's profile (see :mod:`gutstride.ingest.activities.fit_profile`) give physical values:
   ``value = raw / scale - offset``. Only the fields gutstride uses are decoded.

Protocol features covered: normal and compressed-timestamp record headers, little- and big-endian definitions,
developer fields (named through ``field_description`` messages), chained FIT files, header and file CRC
(the FIT CRC-16, computed eight bytes per step; a mismatch is a warning), and field sizes that are not a multiple of the
base type size (decoded as bytes, as the FIT SDK does).

Compressed timestamps: a header with bit 7 set carries a 5-bit time offset ``o``; with ``t`` the last full
timestamp seen, the message time is ``(t & ~0x1F) + o``, plus 32 when ``o < (t & 0x1F)`` (rollover).

``compressed_speed_distance`` (record field 8) packs speed (12 bits, scale 100) and distance (12 bits, scale 16,
accumulated modulo 4096) in three bytes.

References
----------
Garmin FIT SDK, "FIT Protocol" (file header, record headers, definition messages, CRC), developer.garmin.com.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime

import _gutstride_native as native
import numpy as np

from gutstride.errors import BadInputError
from gutstride.ingest.activities import fit_profile as prof
from gutstride.ingest.activities.fit_summary import FIT_EPOCH_S, MIN_DATE_TIME, map_sport
from gutstride.model.activity import Activity, ActivitySummary, DecodedFile, FileStatus, empty_stream

_SEMICIRCLE_DEG = 180.0 / 2**31

_FILE_ID, _SPORT, _SESSION, _LAP, _RECORD, _EVENT, _DEVICE_INFO, _ACTIVITY, _HRV = 0, 12, 18, 19, 20, 21, 23, 34, 78
_FIELD_DESCRIPTION = 206
_TIMESTAMP = 253

#: message number -> the profile field names decoded from it (the timestamp comes with every message)
_WANTED_FIELDS: dict[int, tuple[str, ...]] = {
    _FILE_ID: ("type", "manufacturer", "product", "product_name"),
    _DEVICE_INFO: ("device_index", "manufacturer", "product", "product_name"),
    _SPORT: ("sport", "sub_sport"),
    _SESSION: ("start_time", "total_elapsed_time", "total_timer_time", "total_distance", "avg_heart_rate",
               "max_heart_rate", "total_ascent", "sport", "sub_sport", "avg_temperature"),
    _LAP: ("start_time", "total_elapsed_time", "total_distance", "avg_heart_rate", "max_heart_rate"),
    _RECORD: ("position_lat", "position_long", "altitude", "heart_rate", "cadence", "distance", "speed", "power",
              "compressed_speed_distance", "temperature", "enhanced_speed", "enhanced_altitude"),
    _EVENT: ("event", "event_type"),
    _ACTIVITY: ("local_timestamp",),
    _HRV: ("time",),
    _FIELD_DESCRIPTION: ("developer_data_index", "field_definition_number", "fit_base_type_id", "field_name",
                         "scale", "offset"),
}


@functools.cache
def _wanted(num: int) -> dict[int, prof.FieldInfo]:
    """Field number -> profile field, for the fields decoded from message ``num`` (empty: not decoded)."""
    info = prof.message(num)
    if info is None or num not in _WANTED_FIELDS:
        return {}
    return {info.field_num(name): info.fields[info.field_num(name)] for name in _WANTED_FIELDS[num]}


# --------------------------------------------------------------------------------------------------- CRC

_CRC_NIBBLES = (0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
                0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400)


def _crc_tables() -> np.ndarray:
    """Tables for the FIT CRC-16, eight bytes per step ("slicing by 8").

    Row 0 folds the FIT protocol's two nibble steps per byte into one lookup: for a CRC ``c`` and a byte ``b``,
    ``crc(c, b) == (c >> 8) ^ T[0][(c ^ b) & 0xFF]`` (the CRC is linear and reflected). Row k is the effect of a
    byte followed by k zero bytes, ``T[k][i] = (T[k-1][i] >> 8) ^ T[0][T[k-1][i] & 0xFF]``, so eight bytes are
    folded with eight independent lookups.
    """
    tables = np.zeros((8, 256), dtype=np.int64)
    for byte in range(256):
        crc = 0
        for nibble in (byte & 0xF, byte >> 4):
            tmp = _CRC_NIBBLES[crc & 0xF]
            crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ _CRC_NIBBLES[nibble]
        tables[0, byte] = crc
    for k in range(1, 8):
        tables[k] = (tables[k - 1] >> 8) ^ tables[0][tables[k - 1] & 0xFF]
    return tables


_CRC_TABLES = _crc_tables()


def fit_crc(data: bytes | np.ndarray, start: int = 0, stop: int | None = None) -> int:
    """The FIT CRC-16 of ``data[start:stop]`` (the FIT protocol's CRC-16, initial value 0)."""
    buf = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes | bytearray) else data
    return int(native.fit_crc16(buf, start, len(buf) if stop is None else stop, _CRC_TABLES))


# --------------------------------------------------------------------------------------------------- scan

#: Why ``native.fit_scan`` stopped: the end, a definition message, an undefined local message type, a message cut
#: off, or its output arrays full. It walks the data messages from a position, recording each one's content
#: offset, definition id and compressed-timestamp offset (-1 for a normal header).
_SCAN_END, _SCAN_DEFINITION, _SCAN_UNDEFINED, _SCAN_TRUNCATED, _SCAN_FULL = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class _Definition:
    global_num: int
    big_endian: bool
    fields: tuple[tuple[int, int, int], ...]  # (field number, size, base type byte)
    dev_fields: tuple[tuple[int, int, int], ...]  # (field number, size, developer data index)

    @functools.cached_property
    def size(self) -> int:
        """Bytes of content in each data message."""
        return sum(s for _, s, _ in self.fields) + sum(s for _, s, _ in self.dev_fields)

    @functools.cached_property
    def layout(self) -> dict[int, tuple[int, int, int]]:
        """Field number -> (byte position in the message content, size, base type number); first one wins."""
        out: dict[int, tuple[int, int, int]] = {}
        pos = 0
        for num, size, base in self.fields:
            out.setdefault(num, (pos, size, base & 0x1F))
            pos += size
        return out

    def dev_layout(self) -> dict[tuple[int, int], tuple[int, int]]:
        """(developer data index, field number) -> (byte position, size)."""
        pos = sum(size for _, size, _ in self.fields)
        out: dict[tuple[int, int], tuple[int, int]] = {}
        for num, size, dev in self.dev_fields:
            out.setdefault((dev, num), (pos, size))
            pos += size
        return out


class _Fault(BadInputError):
    """A structural fault: decoding of the current FIT segment stops here."""


@dataclass
class _Segment:
    """The messages of one FIT file in a (possibly chained) FIT file."""

    off: np.ndarray  # byte position of each data message's content
    did: np.ndarray  # definition id of each data message
    cts: np.ndarray  # compressed-timestamp offset, -1 for a normal header
    fault: str | None = None


_CHUNK = 1 << 16


def _definition_end(data: bytes, pos: int, end: int) -> int:
    """Where the definition message at ``pos`` ends (a _Fault if it is cut off or corrupt)."""
    if pos + 6 > end:
        raise _Fault(f"definition message cut off at byte {pos}")
    if data[pos + 2] > 1:
        raise _Fault(f"corrupt definition message at byte {pos} (architecture byte {data[pos + 2]})")
    p = pos + 6 + 3 * data[pos + 5]
    if data[pos] & 0x20:
        if p + 1 > end:
            raise _Fault(f"definition message cut off at byte {pos}")
        p += 1 + 3 * data[p]
    if p > end:
        raise _Fault(f"definition message cut off at byte {pos}")
    return p


def _parse_definition(raw: bytes) -> _Definition:
    """A definition from its bytes after the record header (whose developer-data flag is implied by length)."""
    arch = raw[1]
    global_num = int.from_bytes(raw[2:4], "big" if arch else "little")
    nf = raw[4]
    fields = tuple((raw[i], raw[i + 1], raw[i + 2]) for i in range(5, 5 + 3 * nf, 3))
    dev_fields: tuple[tuple[int, int, int], ...] = ()
    if len(raw) > 5 + 3 * nf:
        nd = raw[5 + 3 * nf]
        dev_fields = tuple((raw[i], raw[i + 1], raw[i + 2]) for i in range(6 + 3 * nf, 6 + 3 * nf + 3 * nd, 3))
    return _Definition(global_num, bool(arch), fields, dev_fields)


def _scan_segment(data: bytes, buf: np.ndarray, start: int, end: int, defs: list[_Definition],
                  def_ids: dict[bytes, int]) -> _Segment:
    """Find every data message in ``data[start:end]``; definitions with the same bytes share one id."""
    sizes = np.full(16, -1, dtype=np.int64)
    ids = np.zeros(16, dtype=np.int64)
    chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    cap = max(16, min(_CHUNK, end - start))
    off, did, cts = np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(cap, np.int8)
    n, pos, fault = 0, start, None
    while True:
        n, pos, reason = native.fit_scan(buf, pos, end, sizes, ids, off, did, cts, n)
        if reason == _SCAN_FULL:
            chunks.append((off, did, cts))
            off, did, cts = np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(cap, np.int8)
            n = 0
        elif reason == _SCAN_DEFINITION:
            try:
                pos_next = _definition_end(data, pos, end)
            except _Fault as exc:
                fault = str(exc)
                break
            raw = data[pos + 1:pos_next]
            d_id = def_ids.get(raw)
            if d_id is None:  # a new layout (files often repeat the same definition many times)
                d_id = def_ids[raw] = len(defs)
                defs.append(_parse_definition(raw))
            local = data[pos] & 0xF
            ids[local] = d_id
            sizes[local] = defs[d_id].size
            pos = pos_next
        elif reason == _SCAN_UNDEFINED:
            fault = f"data message for undefined local message type at byte {pos}"
            break
        elif reason == _SCAN_TRUNCATED:
            fault = f"message cut off at byte {pos}"
            break
        else:
            break
    chunks.append((off[:n], did[:n], cts[:n]))
    return _Segment(np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks]),
                    np.concatenate([c[2] for c in chunks]), fault)


# --------------------------------------------------------------------------------------------------- decode

_GATHER_BYTES = 1 << 22


def _message_bytes(buf: np.ndarray, offs: np.ndarray, size: int) -> np.ndarray:
    """The content bytes of messages starting at ``offs``, as an (n, size) uint8 array.

    When the messages are evenly spaced (the usual run of records) this is a strided view of the file; otherwise
    one fancy index gathers them.
    """
    n = len(offs)
    if n > 1:
        step = int(offs[1] - offs[0])
        if step >= size and bool((np.diff(offs) == step).all()):
            return np.lib.stride_tricks.as_strided(buf[int(offs[0]):], shape=(n, size), strides=(step, 1),
                                                   writeable=False)
    out = np.empty((n, size), dtype=np.uint8)
    block = max(1, _GATHER_BYTES // max(size, 1))  # bounds the int64 index array to 8 * _GATHER_BYTES
    columns = np.arange(size)
    for first in range(0, n, block):
        out[first:first + block] = buf[offs[first:first + block, None] + columns]
    return out


def _raw_field(mat: np.ndarray, pos: int, size: int, base: int, big_endian: bool) -> np.ndarray:
    """Values of one field for all messages, as float64 (rows x elements); invalid -> NaN, no scaling.

    ``mat`` is the (n, message size) bytes. A size that is not a multiple of the base type size is read as bytes
    (as the FIT SDK does).
    """
    name, code, bsize, invalid = prof.BASE_TYPES.get(base, prof.BASE_TYPES[prof.BYTE])
    if size % bsize:
        name, code, bsize, invalid = prof.BASE_TYPES[prof.BYTE]
    typed = mat[:, pos:pos + size].view(np.dtype(code).newbyteorder(">" if big_endian else "<"))
    values = typed.astype(np.float64)
    if name == "byte":
        return values  # bytes carry no per-element sentinel; callers interpret them
    if invalid is not None:
        values[typed == invalid] = np.nan
    else:
        values[~np.isfinite(values)] = np.nan
    return values


def _string_field(data: bytes, offs: np.ndarray, pos: int, size: int) -> list[str | None]:
    out: list[str | None] = []
    for o in offs.tolist():
        text = data[o + pos:o + pos + size].split(b"\0", 1)[0].decode("utf-8", "replace").strip()
        out.append(text or None)
    return out


@dataclass
class _Table:
    """All data messages of one global message number in a segment, in file order."""

    rows: np.ndarray
    cols: dict[str, np.ndarray] = field(default_factory=dict)
    strings: dict[str, list[str | None]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.rows)

    def col(self, name: str) -> np.ndarray:
        """A 1-d column (first element of array fields), all NaN when absent."""
        values = self.cols.get(name)
        if values is None:
            return np.full(self.n, np.nan)
        return values[:, 0] if values.ndim == 2 else values

    def first(self, name: str) -> float | None:
        """The first valid value of a column, or None."""
        values = self.col(name)
        valid = values[np.isfinite(values)]
        return float(valid[0]) if len(valid) else None

    def string(self, name: str) -> str | None:
        return next((s for s in self.strings.get(name, []) if s), None)


def _merge(parts: list[_Table]) -> _Table:
    """Concatenate per-definition tables and restore file order; absent columns are NaN."""
    if len(parts) == 1:
        return parts[0]
    rows = np.concatenate([p.rows for p in parts])
    order = np.argsort(rows, kind="stable")
    out = _Table(rows[order])
    for name in {k for p in parts for k in p.cols}:
        width = max(p.cols[name].shape[1] if name in p.cols and p.cols[name].ndim == 2 else 1 for p in parts)
        pieces = []
        for p in parts:
            v = p.cols.get(name)
            block = np.full((p.n, width), np.nan)
            if v is not None:
                v2 = v if v.ndim == 2 else v[:, None]
                block[:, :v2.shape[1]] = v2
            pieces.append(block)
        merged = np.concatenate(pieces)[order]
        out.cols[name] = merged if width > 1 else merged[:, 0]
    for name in {k for p in parts for k in p.strings}:
        flat = [s for p in parts for s in p.strings.get(name, [None] * p.n)]
        out.strings[name] = [flat[i] for i in order.tolist()]
    return out


def _scaled(values: np.ndarray, info: prof.FieldInfo | None) -> np.ndarray:
    if info is None or (info.scale == 1 and info.offset == 0):
        return values
    return values / info.scale - info.offset


def _decode_segment(data: bytes, buf: np.ndarray, seg: _Segment, defs: list[_Definition]) -> dict[int, _Table]:
    """Decode the wanted messages of a segment into tables keyed by global message number."""
    n = len(seg.off)
    ts = np.full(n, -1, dtype=np.int64)
    order = np.argsort(seg.did, kind="stable")
    present, first = np.unique(seg.did[order], return_index=True)
    bounds = np.append(first, n)
    parts: dict[int, list[_Table]] = {}
    dev_parts: list[tuple[_Definition, np.ndarray, np.ndarray]] = []
    compressed = bool(n and (seg.cts >= 0).any())
    for k, d_id in enumerate(present.tolist()):
        definition = defs[d_id]
        wanted = _wanted(definition.global_num)
        if not wanted and not compressed:
            continue  # its timestamps matter only to resolve compressed timestamps
        rows = order[bounds[k]:bounds[k + 1]]
        offs = seg.off[rows]
        layout = definition.layout
        mat = _message_bytes(buf, offs, definition.size)
        if _TIMESTAMP in layout and layout[_TIMESTAMP][1] == 4:
            pos, size, base = layout[_TIMESTAMP]
            t = _raw_field(mat, pos, size, base, definition.big_endian)[:, 0]
            ts[rows] = np.where(np.isfinite(t), t, -1).astype(np.int64)
        if not wanted:
            continue
        table = _Table(rows)
        for fnum, finfo in wanted.items():
            if fnum not in layout or layout[fnum][1] == 0:
                continue
            pos, size, base = layout[fnum]
            if base == prof.STRING:
                table.strings[finfo.name] = _string_field(data, offs, pos, size)
                continue
            values = _raw_field(mat, pos, size, base, definition.big_endian)
            if base != prof.BYTE and size % prof.BASE_TYPES.get(base, prof.BASE_TYPES[prof.BYTE])[2] == 0:
                values = _scaled(values, finfo)
            table.cols[finfo.name] = values[:, 0] if values.shape[1] == 1 else values
        parts.setdefault(definition.global_num, []).append(table)
        if definition.global_num == _RECORD and definition.dev_fields:
            dev_parts.append((definition, rows, mat))
    if compressed:
        native.fit_resolve_compressed(ts, seg.cts)  # from the last full timestamp, as described above
    tables = {num: _merge(p) for num, p in parts.items()}
    for table in tables.values():
        t = ts[table.rows].astype(np.float64)
        t[t < 0] = np.nan
        table.cols["timestamp"] = t
    if dev_parts and _RECORD in tables:
        _add_developer_fields(tables, dev_parts)
    return tables


def _add_developer_fields(tables: dict[int, _Table],
                          dev_parts: list[tuple[_Definition, np.ndarray, np.ndarray]]) -> None:
    """Decode numeric developer fields of records into ``dev_<field_name>`` record columns."""
    desc = tables.get(_FIELD_DESCRIPTION)
    if desc is None:
        return
    described: dict[tuple[int, int], tuple[str, int, float, float]] = {}
    names = desc.strings.get("field_name", [None] * desc.n)
    for i, (dev, num, base, scale, offset) in enumerate(zip(
            desc.col("developer_data_index"), desc.col("field_definition_number"), desc.col("fit_base_type_id"),
            desc.col("scale"), desc.col("offset"), strict=True)):
        if np.isfinite(dev) and np.isfinite(num) and np.isfinite(base) and names[i]:
            scale = scale if np.isfinite(scale) and scale != 0 else 1.0
            offset = offset if np.isfinite(offset) else 0.0
            described[(int(dev), int(num))] = (str(names[i]), int(base) & 0x1F, float(scale), float(offset))
    record = tables[_RECORD]
    position = np.empty(int(record.rows.max()) + 1, dtype=np.int64)
    position[record.rows] = np.arange(record.n)
    for definition, rows, mat in dev_parts:
        for key, (pos, size) in definition.dev_layout().items():
            if key not in described:
                continue
            name, base, scale, offset = described[key]
            if base in (prof.STRING, prof.BYTE) or size != prof.BASE_TYPES.get(base, (0, 0, 0, 0))[2]:
                continue
            values = _raw_field(mat, pos, size, base, definition.big_endian)[:, 0] / scale - offset
            column = record.cols.setdefault(f"dev_{name}", np.full(record.n, np.nan))
            column[position[rows]] = values


# --------------------------------------------------------------------------------------------------- activity

def _expand_speed_distance(record: _Table) -> tuple[np.ndarray, np.ndarray]:
    """Speed (m/s) and distance (m) from ``compressed_speed_distance`` (NaN when absent or invalid)."""
    raw = record.cols.get("compressed_speed_distance")
    speed = np.full(record.n, np.nan)
    distance = np.full(record.n, np.nan)
    if raw is None or raw.ndim != 2 or raw.shape[1] < 3:
        return speed, distance
    b = raw[:, :3]
    valid = np.isfinite(b).all(axis=1) & ~(b == 255).all(axis=1)
    bi = np.where(np.isfinite(b), b, 0).astype(np.int64)
    speed_raw = bi[:, 0] | ((bi[:, 1] & 0x0F) << 8)
    dist_raw = (bi[:, 1] >> 4) | (bi[:, 2] << 4)
    speed[valid] = speed_raw[valid] / 100.0
    d = dist_raw[valid]
    if len(d):
        steps = np.diff(d) % 4096
        distance[valid] = (d[0] + np.concatenate([[0], np.cumsum(steps)])) / 16.0
    return speed, distance


def _prefer(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(first), first, second)


def _stream(record: _Table) -> dict[str, np.ndarray]:
    stream = empty_stream(record.n)
    csd_speed, csd_distance = _expand_speed_distance(record)
    time = record.col("timestamp")
    stream["time"] = time + FIT_EPOCH_S
    stream["hr"] = record.col("heart_rate")
    stream["speed"] = _prefer(_prefer(record.col("enhanced_speed"), record.col("speed")), csd_speed)
    stream["distance"] = _prefer(record.col("distance"), csd_distance)
    stream["cadence"] = record.col("cadence")
    stream["altitude"] = _prefer(record.col("enhanced_altitude"), record.col("altitude"))
    stream["temperature"] = record.col("temperature")
    stream["power"] = record.col("power")
    stream["lat"] = record.col("position_lat") * _SEMICIRCLE_DEG
    stream["lon"] = record.col("position_long") * _SEMICIRCLE_DEG
    for name, values in record.cols.items():
        if name.startswith("dev_"):
            stream[name] = values
    return stream


def _utc(fit_time: float | None) -> datetime | None:
    if fit_time is None or not np.isfinite(fit_time) or fit_time < MIN_DATE_TIME:
        return None
    return datetime.fromtimestamp(fit_time + FIT_EPOCH_S, tz=UTC)


def _device(tables: dict[int, _Table]) -> str | None:
    for num, index_ok in ((_FILE_ID, True), (_DEVICE_INFO, False)):
        table = tables.get(num)
        if table is None or table.n == 0:
            continue
        if not index_ok:
            creator = table.col("device_index") == 0
            if not creator.any():
                continue
            table = _Table(table.rows[creator], {k: v[creator] for k, v in table.cols.items()},
                           {k: [s for s, c in zip(v, creator, strict=True) if c] for k, v in table.strings.items()})
        manufacturer = table.first("manufacturer")
        maker = prof.enum_name("manufacturer", manufacturer)
        maker = None if maker == "development" else maker  # unregistered makers: the product name says it all
        product = table.string("product_name")
        if product is None:
            number = table.first("product")
            named = prof.product_name(None if manufacturer is None else int(manufacturer),
                                      None if number is None else int(number))
            product = named or (None if number is None else str(int(number)))
        text = " ".join(p for p in (maker, product) if p)
        if text:
            return text
    return None


def _sum_or_none(values: np.ndarray) -> float | None:
    valid = values[np.isfinite(values)]
    return float(valid.sum()) if len(valid) else None


#: Record gaps longer than this are pauses; slower than this (m/s) is standing still.
_PAUSE_GAP_S, _STANDING_SPEED = 10.0, 0.3


def _moving_time(time: np.ndarray, speed: np.ndarray) -> float:
    """Seconds moving, from the records: the sum of the intervals ``t[i] - t[i-1]`` of at most 10 s whose
    closing record shows a speed above 0.3 m/s (when no speed is recorded, every such interval counts)."""
    dt = np.diff(time)
    moving = np.isfinite(dt) & (dt > 0) & (dt <= _PAUSE_GAP_S)
    if np.isfinite(speed).any():
        moving &= speed[1:] > _STANDING_SPEED
    return float(dt[moving].sum())


def _summary(tables: dict[int, _Table], stream: dict[str, np.ndarray]) -> ActivitySummary:
    session = tables.get(_SESSION, _Table(np.zeros(0, np.int64)))
    sport_table = tables.get(_SPORT, _Table(np.zeros(0, np.int64)))
    durations = session.col("total_elapsed_time")
    main = int(np.argmax(np.where(np.isfinite(durations), durations, -1))) if session.n else 0
    sport_raw = float(session.col("sport")[main]) if session.n else None
    sub_raw = float(session.col("sub_sport")[main]) if session.n else None
    if sport_raw is None or not np.isfinite(sport_raw):
        sport_raw, sub_raw = sport_table.first("sport"), sport_table.first("sub_sport")
    sport_names = {prof.enum_name("sport", s) for s in session.col("sport") if np.isfinite(s)}
    sport = prof.enum_name("sport", sport_raw)
    sub_sport = "multisport" if len(sport_names) > 1 else prof.enum_name("sub_sport", sub_raw)
    time = stream["time"]
    valid_time = time[np.isfinite(time) & (time >= MIN_DATE_TIME + FIT_EPOCH_S)]
    hr = stream["hr"]
    hr_valid = hr[np.isfinite(hr) & (hr > 0)]
    summary = ActivitySummary(sport=map_sport(sport, prof.enum_name("sub_sport", sub_raw)),
                              sub_sport=sub_sport, n_records=len(time), n_hr=len(hr_valid))
    starts = session.col("start_time")
    start_fit = float(np.nanmin(starts)) if np.isfinite(starts).any() else None
    if start_fit is None and len(valid_time):
        start_fit = float(valid_time.min()) - FIT_EPOCH_S
    summary.start_time = _utc(start_fit)
    summary.duration_s = _sum_or_none(session.col("total_elapsed_time"))
    if summary.duration_s is None and len(valid_time):
        summary.duration_s = float(valid_time.max() - valid_time.min())
    summary.moving_time_s = _sum_or_none(session.col("total_timer_time"))
    if summary.moving_time_s is None and len(valid_time) > 1:
        summary.moving_time_s = _moving_time(time, stream["speed"])
    summary.distance_m = _sum_or_none(session.col("total_distance"))
    if summary.distance_m is None and np.isfinite(stream["distance"]).any():
        summary.distance_m = float(np.nanmax(stream["distance"]))
    avg = session.col("avg_heart_rate")
    ok = np.isfinite(avg) & np.isfinite(durations) & (durations > 0)
    if ok.any():
        summary.avg_hr = float(np.average(avg[ok], weights=durations[ok]))
    elif len(hr_valid):
        summary.avg_hr = float(hr_valid.mean())
    max_hr = session.col("max_heart_rate")
    if np.isfinite(max_hr).any():
        summary.max_hr = float(np.nanmax(max_hr))
    elif len(hr_valid):
        summary.max_hr = float(hr_valid.max())
    summary.ascent_m = _sum_or_none(session.col("total_ascent"))
    if summary.ascent_m is None:
        alt = stream["altitude"][np.isfinite(stream["altitude"])]
        if len(alt) > 1:
            summary.ascent_m = float(np.clip(np.diff(alt), 0, None).sum())
    temp = session.col("avg_temperature")
    if np.isfinite(temp).any():
        summary.avg_temp_c = float(np.nanmean(temp))
    elif np.isfinite(stream["temperature"]).any():
        summary.avg_temp_c = float(np.nanmean(stream["temperature"]))
    activity = tables.get(_ACTIVITY)
    if activity is not None:
        local, utc = activity.first("local_timestamp"), activity.first("timestamp")
        if local is not None and utc is not None and abs(local - utc) <= 16 * 3600:
            summary.local_offset_s = int(round(local - utc))
    summary.device = _device(tables)
    return summary


def _laps(tables: dict[int, _Table]) -> list[dict[str, object]]:
    lap = tables.get(_LAP)
    if lap is None:
        return []
    keys = ("total_elapsed_time", "total_distance", "avg_heart_rate", "max_heart_rate")
    columns = {k: lap.col(k) for k in keys}
    starts = lap.col("start_time")
    out: list[dict[str, object]] = []
    for i in range(lap.n):
        item: dict[str, object] = {"start_time": _utc(float(starts[i]))}
        for k in keys:
            item[k] = float(columns[k][i]) if np.isfinite(columns[k][i]) else None
        out.append(item)
    return out


def _events(tables: dict[int, _Table]) -> list[dict[str, object]]:
    """Event messages (timer start/stop, laps, alerts...) as time (UTC), event and event type, by profile name."""
    event = tables.get(_EVENT)
    if event is None:
        return []
    times, kinds, types = event.col("timestamp"), event.col("event"), event.col("event_type")
    out: list[dict[str, object]] = []
    def name(enum: str, value: float) -> str | int | None:  # the profile's name, else the raw number
        return None if not np.isfinite(value) else prof.enum_name(enum, int(value)) or int(value)

    for i in range(event.n):
        out.append({"time": _utc(float(times[i])), "event": name("event", kinds[i]),
                    "event_type": name("event_type", types[i])})
    return out


def _rr(tables: dict[int, _Table]) -> np.ndarray | None:
    hrv = tables.get(_HRV)
    if hrv is None or "time" not in hrv.cols:
        return None
    values = hrv.cols["time"].ravel()
    return values[np.isfinite(values)]


def _activity(tables: dict[int, _Table]) -> Activity:
    record = tables.get(_RECORD, _Table(np.zeros(0, np.int64)))
    stream = _stream(record)
    return Activity(summary=_summary(tables, stream), stream=stream, laps=_laps(tables), rr_intervals=_rr(tables),
                    events=_events(tables))


# --------------------------------------------------------------------------------------------------- file

@dataclass
class _Result:
    activities: list[Activity] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    n_messages: int = 0


def _header(data: bytes, start: int, result: _Result) -> tuple[int, int]:
    """Check the FIT header at ``start``; return (header size, claimed data size)."""
    avail = len(data) - start
    if avail < 12 or data[start] < 12:
        looks_fit = avail >= 1 and data[start] in (12, 14) and b".FIT".startswith(data[start + 8:start + 12])
        raise _Fault("truncated header" if looks_fit else "not a FIT file")
    if data[start + 8:start + 12] != b".FIT":
        raise _Fault("not a FIT file")
    size = data[start]
    if size > avail:
        raise _Fault("truncated header")
    data_size = int.from_bytes(data[start + 4:start + 8], "little")
    if size >= 14:
        claimed = int.from_bytes(data[start + 12:start + 14], "little")
        if claimed and claimed != fit_crc(data, start, start + 12):
            result.warnings.append(f"header CRC mismatch in FIT header at byte {start}")
    return size, data_size


def _decode(data: bytes) -> _Result:
    result = _Result()
    buf = np.frombuffer(data, dtype=np.uint8)
    defs: list[_Definition] = []
    def_ids: dict[bytes, int] = {}
    if not data:
        result.faults.append("not a FIT file: empty")
    start = 0
    while start < len(data):
        if start and not any(data[start:]):
            result.warnings.append(f"{len(data) - start} zero bytes of padding after the FIT data ignored")
            break
        try:
            header_size, data_size = _header(data, start, result)
        except _Fault as exc:
            where = f" at byte {start}" if start else ""
            result.faults.append(f"{exc}{where}" if not start else f"corrupt chained FIT header{where}: {exc}")
            break
        end = start + header_size + data_size
        seg = _scan_segment(data, buf, start + header_size, min(end, len(data)), defs, def_ids)
        result.n_messages += len(seg.off)
        tables = _decode_segment(data, buf, seg, defs)
        _collect(tables, result)
        if seg.fault:
            eof = "unexpected end of file: " if end > len(data) else ""
            result.faults.append(eof + seg.fault)
            break
        if end > len(data):
            result.faults.append(f"unexpected end of file: header claims {data_size} data bytes, "
                                 f"{len(data) - start - header_size} present")
            break
        if end + 2 > len(data):
            result.faults.append("unexpected end of file: file CRC missing")
            break
        claimed = int.from_bytes(data[end:end + 2], "little")
        if claimed != fit_crc(buf, start, end):
            result.warnings.append(f"file CRC mismatch in FIT file at byte {start}")
        start = end + 2
    return result


def _collect(tables: dict[int, _Table], result: _Result) -> None:
    """Add the segment's activity, or note what kind of FIT file it is."""
    file_id = tables.get(_FILE_ID)
    kind = prof.enum_name("file", file_id.first("type")) if file_id is not None else None
    has_records = _RECORD in tables and tables[_RECORD].n > 0
    if kind == "activity" or (kind is None and has_records):
        result.activities.append(_activity(tables))
    elif file_id is not None:
        result.kinds.append(kind or "unknown")


def read_fit(data: bytes, name: str = "") -> DecodedFile:
    """Decode a FIT file into activities.

    Parameters
    ----------
    data : bytes
        The whole file.
    name : str
        The file name, used only in messages.

    Returns
    -------
    DecodedFile
        ``format="fit"``; status ``"ok"``, ``"partial"`` (data recovered up to a fault, reason in
        ``message``) or ``"error"`` (nothing usable). CRC mismatches are ``warnings``. One
        :class:`~gutstride.model.activity.Activity` per activity FIT file in the chain; other FIT file
        types (settings, workout, ...) yield none and say so in ``message``.
    """
    prefix = f"{name}: " if name else ""
    result = _decode(bytes(data))
    if result.faults:
        usable = result.n_messages > 0
        status: FileStatus = "partial" if usable else "error"
        message = "; ".join(result.faults)
        if usable and not result.activities:
            message += "; " + _no_activity_message(result)
        return DecodedFile("fit", status, prefix + message, result.activities, result.warnings)
    if not result.activities:
        if result.n_messages == 0:
            return DecodedFile("fit", "error", prefix + "FIT file holds no messages", [], result.warnings)
        return DecodedFile("fit", "ok", prefix + _no_activity_message(result), [], result.warnings)
    return DecodedFile("fit", "ok", "", result.activities, result.warnings)


def _no_activity_message(result: _Result) -> str:
    kinds = ", ".join(dict.fromkeys(result.kinds)) or "unknown"
    return f"FIT file of type {kinds}: no activity"
