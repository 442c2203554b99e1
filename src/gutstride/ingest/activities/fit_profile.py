"""Garmin's FIT profile, read as data from the installed ``garmin-fit-sdk`` package.

The profile (message numbers, field numbers, base types, scales, offsets, units and enumerations) is the one
Garmin publishes in ``garmin_fit_sdk.profile.Profile``; nothing of it is copied into gutstride. This module
only indexes it by number and by name, on first use.

The base-type table below is part of the FIT *protocol* (the binary layout), not of the profile: it gives, for
each base type number (the low 5 bits of the base type byte), the numpy type and the "invalid" sentinel
value that means "no value".

References
----------
Garmin FIT SDK, "FIT Protocol" and "FIT File Types" documentation (developer.garmin.com/fit/protocol).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

#: base type number -> (name, numpy type code without byte order, size in bytes, invalid raw value)
BASE_TYPES: dict[int, tuple[str, str, int, int | None]] = {
    0: ("enum", "u1", 1, 0xFF),
    1: ("sint8", "i1", 1, 0x7F),
    2: ("uint8", "u1", 1, 0xFF),
    3: ("sint16", "i2", 2, 0x7FFF),
    4: ("uint16", "u2", 2, 0xFFFF),
    5: ("sint32", "i4", 4, 0x7FFFFFFF),
    6: ("uint32", "u4", 4, 0xFFFFFFFF),
    7: ("string", "u1", 1, None),
    8: ("float32", "f4", 4, None),  # invalid is all bits set, a NaN
    9: ("float64", "f8", 8, None),
    10: ("uint8z", "u1", 1, 0),
    11: ("uint16z", "u2", 2, 0),
    12: ("uint32z", "u4", 4, 0),
    13: ("byte", "u1", 1, 0xFF),
    14: ("sint64", "i8", 8, 0x7FFFFFFFFFFFFFFF),
    15: ("uint64", "u8", 8, 0xFFFFFFFFFFFFFFFF),
    16: ("uint64z", "u8", 8, 0),
}
BASE_TYPE_BY_NAME = {v[0]: k for k, v in BASE_TYPES.items()}
STRING = 7
BYTE = 13


@dataclass(frozen=True)
class FieldInfo:
    """One profile field: raw value / scale - offset gives the value in ``units``."""

    num: int
    name: str
    base_type: int
    scale: float
    offset: float
    units: str


@dataclass(frozen=True)
class MessageInfo:
    """One profile message and its fields by field number."""

    num: int
    name: str
    fields: dict[int, FieldInfo]

    def field_num(self, name: str) -> int:
        """The field number of ``name`` (KeyError if the profile has no such field)."""
        return _field_nums(self.num)[name]


def _profile() -> dict[str, Any]:
    from garmin_fit_sdk.profile import Profile

    profile: dict[str, Any] = Profile
    return profile


def _first(value: Any, default: Any) -> Any:
    if isinstance(value, list):
        return value[0] if len(value) == 1 else default
    return value if value not in ("", None) else default


@cache
def message(num: int) -> MessageInfo | None:
    """The profile message with global number ``num``, or None if the profile does not define it.

    Fields with components (several scales) keep scale 1 and offset 0: their raw value is the bit field.
    """
    raw = _profile()["messages"].get(num)
    if raw is None:
        return None
    fields = {}
    for fnum, f in raw["fields"].items():
        fields[int(fnum)] = FieldInfo(
            num=int(fnum),
            name=f["name"],
            base_type=BASE_TYPE_BY_NAME.get(f["base_type"], BYTE),
            scale=float(_first(f["scale"], 1)),
            offset=float(_first(f["offset"], 0)),
            units=str(_first(f["units"], "")),
        )
    return MessageInfo(num=num, name=raw["name"], fields=fields)


@cache
def _field_nums(num: int) -> dict[str, int]:
    info = message(num)
    return {} if info is None else {f.name: n for n, f in info.fields.items()}


@cache
def message_num(name: str) -> int:
    """The global message number of a profile message name, e.g. ``"record"`` -> 20."""
    for num, raw in _profile()["messages"].items():
        if raw["name"] == name:
            return int(num)
    raise KeyError(name)


@cache
def _type_table(type_name: str) -> dict[int, str]:
    return {int(k): str(v) for k, v in _profile()["types"].get(type_name, {}).items()}


def enum_name(type_name: str, value: float | int | None) -> str | None:
    """The profile name of an enumerated value (``enum_name("sport", 1) == "running"``), None if unknown."""
    if value is None or not math.isfinite(value):
        return None
    return _type_table(type_name).get(int(value))


def enum_value(type_name: str, name: str) -> int:
    """The raw value of a profile enumeration name (KeyError if unknown)."""
    for k, v in _type_table(type_name).items():
        if v == name:
            return k
    raise KeyError(f"{type_name}.{name}")


def product_name(manufacturer: int | None, product: int | None) -> str | None:
    """The product name for a (manufacturer, product) pair, using the profile's product sub-fields.

    The profile's ``file_id.product`` field has sub-fields (``garmin_product``, ``favero_product``) chosen by
    the manufacturer's raw value; their enumerations give the names.
    """
    if product is None:
        return None
    raw = _profile()["messages"][0]["fields"][2]
    for sub in raw["sub_fields"]:
        if any(m["raw_value"] == manufacturer for m in sub["map"]):
            return _type_table(sub["type"]).get(int(product))
    return None
