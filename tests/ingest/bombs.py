"""Decompression bombs built in milliseconds, for the memory tests (tests/ingest/test_memory_bounds.py and
bench/bench_memory.py).

Deflate data is made of blocks compressed with ``Z_FULL_FLUSH``: such a block does not refer to anything before
it, so one compressed block can be repeated any number of times to describe a huge content without ever
compressing it. The CRC-32 in the containers is left at 0: the readers must refuse a bomb long before they reach
its end, where the CRC would be checked.
"""

from __future__ import annotations

import random
import struct
import zlib
from pathlib import Path

MiB = 1 << 20


def _block(chunk: bytes) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    return comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)


def deflate_repeated(first: bytes, chunk: bytes, total: int) -> bytes:
    """Raw deflate data of ``first`` followed by ``chunk`` repeated until ``total`` bytes (about)."""
    n = max(0, (total - len(first)) // len(chunk))
    final = zlib.compressobj(1, zlib.DEFLATED, -15)
    return _block(first) + _block(chunk) * n + final.flush()


def pattern(ratio: float, size: int = MiB, seed: int = 1) -> bytes:
    """``size`` bytes that deflate about ``ratio``:1: random bytes (1:1), then zeros (about 1030:1)."""
    n_random = max(0, int(size / ratio - size / 1030))
    return random.Random(seed).randbytes(n_random) + bytes(size - n_random)


def gzip_bomb(first: bytes, chunk: bytes, total: int) -> bytes:
    """A gzip file whose content is ``first`` then ``chunk`` repeated up to ``total`` bytes."""
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    return header + deflate_repeated(first, chunk, total) + struct.pack("<II", 0, total & 0xFFFFFFFF)


def zip_bomb(members: dict[str, tuple[bytes, bytes, int]]) -> bytes:
    """A zip whose members are ``name: (first, chunk, total)`` deflated as in :func:`deflate_repeated`."""
    out = bytearray()
    central = bytearray()
    for name, (first, chunk, total) in members.items():
        data = deflate_repeated(first, chunk, total)
        size = len(first) + max(0, (total - len(first)) // len(chunk)) * len(chunk)
        offset = len(out)
        encoded = name.encode()
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, 0, len(data), size, len(encoded), 0)
        out += encoded + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, 0, len(data), size,
                               len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(out), 0)
    return bytes(out + central + end)


FIT_HEAD = bytes.fromhex("0e10d9070000000000002e464954") + bytes(2)  # 14-byte header claiming no data size
GPX_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="bomb" '
            b'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>\n')
TRKPT = b'<trkpt lat="47.1" lon="8.5"><ele>400</ele><time>2020-01-01T00:00:00Z</time></trkpt>\n'


def write_bombs(folder: Path, gib: float = 1.0) -> dict[str, str]:
    """Write one bomb of each kind into ``folder``; return ``{file name: what it is}``.

    * ``four-members.zip``: 4 FIT-looking members of ``gib`` GiB each at about 130:1 (under the 200:1 zip limit);
    * ``track.gpx.gz``: a GPX track that never ends, ``4 * gib`` GiB of track points;
    * ``zeros.zip``: one member of ``4 * gib`` GiB of zeros (about 1000:1);
    * ``fit-bomb-1.fit.gz`` ... ``-4``: FIT-looking gzip files of ``gib`` GiB each.
    """
    folder.mkdir(parents=True, exist_ok=True)
    size = int(gib * (1 << 30))
    loose = pattern(147)
    (folder / "four-members.zip").write_bytes(zip_bomb({f"m{i}.fit": (FIT_HEAD, loose, size) for i in range(4)}))
    (folder / "track.gpx.gz").write_bytes(gzip_bomb(GPX_HEAD, TRKPT * (MiB // len(TRKPT)), 4 * size))
    (folder / "zeros.zip").write_bytes(zip_bomb({"zeros.bin": (b"", bytes(MiB), min(4 * size, (4 << 30) - MiB))}))
    for i in range(1, 5):
        (folder / f"fit-bomb-{i}.fit.gz").write_bytes(gzip_bomb(FIT_HEAD, pattern(1000, seed=i), size))
    return {
        "four-members.zip": f"4 members of {gib:g} GiB at about 130:1",
        "track.gpx.gz": f"{4 * gib:g} GiB of GPX track points",
        "zeros.zip": f"{4 * gib:g} GiB of zeros",
        **{f"fit-bomb-{i}.fit.gz": f"{gib:g} GiB FIT-looking gzip" for i in range(1, 5)},
    }
