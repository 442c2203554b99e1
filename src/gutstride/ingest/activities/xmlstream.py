"""Safe, streaming XML for the GPX and TCX readers.

Safety. Entities can only be declared in the document type declaration, which must come before the root element.
:func:`end_events` first runs defusedxml's ``iterparse`` (defaults: entity declarations and external entity
references forbidden) up to the start of the root element, so every declaration in the prolog has been seen by
defusedxml; any entity declaration (billion laughs, external entities, parameter entities) raises
:class:`UnsafeXml`. Only then is the whole document streamed with the standard library's C-accelerated
``iterparse``: with no entity declared, there is nothing to expand and nothing external to fetch (a reference to
an undeclared entity is a well-formedness error). The defused parser's Python callbacks would otherwise cost
about 2 us per element, most of the time of a GPX read.

Leading bytes. Strava writes TCX and GPX files with spaces before the ``<?xml`` declaration, which XML forbids
(the declaration must be the first thing in the document); :func:`document_start` skips ASCII whitespace and UTF-8
byte order marks before the first ``<``, so those files read like any other.

Faults. ``iterparse`` yields every element completed before a well-formedness fault (truncated file, bad byte),
then raises :class:`xml.etree.ElementTree.ParseError`; :func:`fault_message` turns it into a reason for a
"partial" status. Callers clear elements once used, so memory stays bounded by one track point.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Literal
from xml.etree.ElementTree import Element, ParseError
from xml.etree.ElementTree import iterparse as fast_iterparse

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse as defused_iterparse

UNSAFE_XML_MESSAGE = "unsafe XML (entity declarations are not allowed)"


#: What the parser raises on malformed input: a well-formedness error, absurd nesting, an unknown or invalid
#: declared encoding.
XML_FAULTS = (ParseError, RecursionError, LookupError, UnicodeError)


class UnsafeXml(Exception):
    """The XML declares entities or refers to external ones; nothing of it is used."""


def local_name(tag: str) -> str:
    """``{namespace}Name`` or ``prefix:Name`` -> ``name`` (lower case)."""
    return tag.rpartition("}")[2].rpartition(":")[2].lower()


def check_prolog(stream: io.BytesIO) -> None:
    """Run defusedxml over the prolog, up to the start of the root element; raise UnsafeXml on entities.

    A fault in the prolog itself is left for the main parse to report.
    """
    try:
        for _event in defused_iterparse(stream, events=("start",)):
            return
    except DefusedXmlException as exc:
        raise UnsafeXml(UNSAFE_XML_MESSAGE) from exc
    except XML_FAULTS:
        return


_LEADING = b" \t\r\n"
_UTF8_BOM = b"\xef\xbb\xbf"


def document_start(data: bytes) -> int:
    """Offset of the first byte after any leading ASCII whitespace and UTF-8 byte order marks (in any order).

    A UTF-16 document (starting with its BOM) is left as it is: offset 0.
    """
    start = 0
    while True:
        while start < len(data) and data[start] in _LEADING:
            start += 1
        if data.startswith(_UTF8_BOM, start):
            start += len(_UTF8_BOM)
            continue
        return start


def end_events(data: bytes, events: tuple[Literal["start", "end"], ...] = ("end",)) -> Iterator[tuple[str, Element]]:
    """``(event, element)`` at the end (or also start) of each element; raises UnsafeXml first when unsafe.

    Leading whitespace and byte order marks are skipped (:func:`document_start`).
    """
    start = document_start(data)
    stream = io.BytesIO(data)
    stream.seek(start)
    check_prolog(stream)
    stream.seek(start)
    return fast_iterparse(stream, events=events)


def fault_message(exc: BaseException) -> str:
    """A one-line reason for one of :data:`XML_FAULTS`."""
    if isinstance(exc, ParseError):
        line, column = exc.position
        reason = str(exc).split(":")[0]
        return f"XML broken at line {line}, column {column}: {reason}"
    if isinstance(exc, RecursionError):
        return "XML nested too deeply"
    if isinstance(exc, LookupError):
        return f"XML declares an unknown encoding ({exc})"
    return f"XML text cannot be decoded ({exc})"


def child_text(elem: Element, name: str) -> str | None:
    """Stripped text of the first direct child whose local name is ``name`` (lower case), or None."""
    for child in elem:
        if isinstance(child.tag, str) and local_name(child.tag) == name:
            return (child.text or "").strip() or None
    return None


def to_float(text: str | None) -> float | None:
    """``text`` as a float, or None when absent, empty or not a number."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None
